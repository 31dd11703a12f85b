"""Small widget helpers shared by the pages: URL-seeded widget state and controls built from declarations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from app_pages.ui import classroom
from playground import state
from playground.attacks.base import Param
from playground.i18n import _

Config = TypeVar("Config")
SEEDS = "widget_seeds"  # session state: each seeded widget's seed, until the user changes the widget


def url_config(prefix: str, config_type: type[Config]) -> Config:
    """A page's config: from the URL on this session's first visit, else the last one the page saved.

    Notices about ignored URL values stay, as warnings, until the user changes a setting: the page also reruns
    by itself (heavy work that finished), and that must not wipe them.
    """
    if prefix + "config" not in st.session_state:
        query = st.query_params.to_dict()
        st.session_state[prefix + "config"] = state.from_query(config_type, query)[0]
        st.session_state[prefix + "url_query"] = query
    config = st.session_state[prefix + "config"]
    query = st.session_state.get(prefix + "url_query")
    # Read again on each run rather than stored: the notices then follow a switch of language.
    from_url, notices = state.from_query(config_type, query) if query is not None else (None, [])
    if notices and config == from_url:
        for notice in notices:
            st.warning(notice, icon=":material/link_off:")
    else:
        st.session_state.pop(prefix + "url_query", None)
    return config


def save_config(prefix: str, config: Any) -> None:
    """Remembers the page's config for this session and mirrors it in the URL, so the link reproduces it."""
    st.session_state[prefix + "config"] = config
    classroom.set_query(state.to_query(config))  # keeps lesson, presenter and *_hide in the URL


def seed_widget(key: str, value: Any) -> str:
    """Gives a widget its starting value, and sends it again with the widget until the user changes it.

    A value written to session state reaches the browser only with that run's widget. A busy browser can skip
    to the next run's copy before it draws the first (the page reruns by itself when heavy work ends), and a
    copy without the value shows the widget's own default: a shared link opened with quality 10, not its 30.
    So the seed goes with every copy while the value is still the seed. Once the user has moved the widget,
    the browser holds the value and must keep it: a value sent back would overwrite the user's newer one
    (60 fast ε presses ended at 0.285, not 0.3).
    """
    seeds = st.session_state.setdefault(SEEDS, {})
    if key not in st.session_state:
        seeds[key] = st.session_state[key] = value
    elif key in seeds:
        if _same(st.session_state[key], seeds[key]):
            st.session_state[key] = seeds[key]
        else:
            del seeds[key]
    return key


def _same(a: Any, b: Any) -> bool:
    """Equal values, where a widget may give back as a tuple what was seeded as a list."""
    return (list(a) if isinstance(a, tuple) else a) == (list(b) if isinstance(b, tuple) else b)


def part_key(prefix: str, name: str, part: object) -> str:
    """The key of one of several widgets that together set the setting ``name``; its hide flag finds them all."""
    return f"{prefix}{name}{classroom.PART}{part}"


def control(prefix: str, config: Any, name: str, *, widget: Callable | None = None, **options: Any) -> Any:
    """The widget of one declared page setting (``state.settings``): its label, unit, help, range or choices and
    key (``prefix + name``) come from the declaration; the URL's ``<name>_hide`` flag finds it by that key.

    ``widget`` replaces the default kind (a toggle, a selectbox, a multiselect, a select-slider or a slider) by
    one that takes the same arguments, e.g. ``st.number_input`` or ``st.segmented_control``; a numeric setting
    given ``options=`` (presets) takes a select-slider, and a choice given ``options=`` offers only those. The
    config's value is the starting value; ``options``
    go to the widget (``step``, ``disabled``, ``format_func``, ...).
    """
    declared = state.setting(config, name)
    codec = declared.codec
    start = getattr(config, name)
    key = seed_widget(prefix + name, list(start) if isinstance(start, tuple) else start)
    common = dict(key=key, help=_(declared.help) or None) | options
    if isinstance(codec, state.Flag):
        return (widget or st.toggle)(declared.caption, **common)
    if isinstance(codec, state.ListOf) and isinstance(codec.item, state.Choice):
        codec, widget = codec.item, widget or st.multiselect
    if isinstance(codec, state.Choice):  # options=: those of its choices that fit the page as it stands
        choices = list(common.pop("options", codec.options))
        return (widget or st.selectbox)(declared.caption, choices, **dict(format_func=codec.label) | common)
    if isinstance(codec, state.FloatChoice):
        return (widget or st.select_slider)(declared.caption, list(codec.options),
                                            **dict(format_func=lambda v: f"{v:g}") | common)
    if isinstance(codec, state.IntRange | state.FloatRange):
        if "options" in options:  # presets within the range, for a select-slider
            return widget(declared.caption, **common)
        caption = declared.caption
        # A box does not show its range, as a slider does; a seed's (0 to 999,999) would only crowd the label.
        if widget is st.number_input and not declared.unit and codec.high - codec.low < 100_000:
            caption += f" ({codec.low:g}–{codec.high:g})"
        return (widget or st.slider)(caption, codec.low, codec.high, **common)
    raise ValueError(f"Expected a setting with a widget of its own. Received: {name!r} ({type(codec).__name__})")


def param_control(param: Param, *, key: str, initial: Any = None, disabled: bool = False) -> Any:
    """The widget for one declared attack parameter: a toggle, a choice, or a slider within its bounds.

    ``initial`` (e.g. a value from the URL) replaces the declared default as the starting value.
    """
    if initial is None or (param.choices and initial not in param.choices):
        initial = param.default
    elif param.min is not None and param.max is not None and not isinstance(param.default, bool | str):
        initial = min(max(initial, param.min), param.max)  # a URL value may not fit this attack's range
    seed_widget(key, initial)
    label, tip = _(param.label), _(param.help) or None
    if isinstance(param.default, bool):
        return st.toggle(label, key=key, help=tip, disabled=disabled)
    if param.choices:
        return st.selectbox(
            label, param.choices, key=key, help=tip, disabled=disabled,
            format_func=lambda choice: _(param.choice_label(choice)),
        )
    if param.default is None:
        # Follows the other settings unless set (the step size follows ε); the presets span its declared range.
        presets = [v for v in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5) if param.min <= v <= param.max]
        return st.select_slider(
            label, [None, *presets], key=key, help=tip, disabled=disabled,
            format_func=lambda value: _(param.auto) if value is None else f"{value:g}",
        )
    integral = isinstance(param.default, int)
    cast = int if integral else float
    return st.slider(
        label,
        min_value=cast(param.min),
        max_value=cast(param.max),
        step=cast(param.step) if param.step else None,
        format=None if integral else "%.3f",
        key=key,
        help=tip,
        disabled=disabled,
    )
