"""Small widget helpers shared by the pages: URL-seeded widget state and controls built from declarations."""

from __future__ import annotations

from typing import Any

import streamlit as st

from playground.attacks.base import Param

NORM_LABELS = {"inf": "L∞", "2": "L2"}


def seed_widget(key: str, value: Any) -> str:
    """Gives a widget its starting value once (Streamlit drops the state of widgets it did not render)."""
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def param_control(param: Param, *, key: str, initial: Any = None, disabled: bool = False) -> Any:
    """The widget for one declared attack parameter: a toggle, a choice, or a slider within its bounds.

    ``initial`` (e.g. a value from the URL) replaces the declared default as the starting value.
    """
    if initial is None or (param.choices and initial not in param.choices):
        initial = param.default
    elif param.min is not None and param.max is not None and not isinstance(param.default, bool | str):
        initial = min(max(initial, param.min), param.max)  # a URL value may not fit this attack's range
    seed_widget(key, initial)
    if isinstance(param.default, bool):
        return st.toggle(param.name.replace("_", " "), key=key, help=param.help, disabled=disabled)
    if param.choices:
        return st.selectbox(
            param.name.replace("_", " "), param.choices, key=key, help=param.help, disabled=disabled,
            format_func=lambda choice: NORM_LABELS.get(choice, choice) if param.name == "norm" else choice,
        )  # fmt: skip
    integral = isinstance(param.default, int)
    cast = int if integral else float
    return st.slider(
        param.name.replace("_", " "),
        min_value=cast(param.min),
        max_value=cast(param.max),
        step=cast(param.step) if param.step else None,
        format=None if integral else "%.3f",
        key=key,
        help=param.help,
        disabled=disabled,
    )
