"""Every hideable setting of every page has a widget that its ``<name>_hide`` flag finds.

The classroom finds a setting's widgets by key alone (``prefix + name``, or ``prefix + name + "__" + part``), so
a widget keyed any other way would leave its hide flag hiding nothing. Each page is opened with the settings that
show its optional widgets (a multi-class dataset, the lens, your own points for each problem type, a targeted
attack, each Defend tab).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import PAGES
from app_pages.ui import classroom
from playground import state
from playground.defences import MAX_STACK

APP = str(Path(__file__).resolve().parents[1] / "app.py")
WIDGETS = ("button", "multiselect", "number_input", "radio", "segmented_control", "select_slider", "selectbox",
           "slider", "toggle")
PAGES_UNDER_TEST = {  # page -> (config type, key prefix, the queries that together show every widget)
    "build_and_train": (state.TrainPageConfig, "bt_", [{"dataset": "blobs", "lens": "true"}, {"dataset": "custom"},
                                                        {"problem": "regression", "dataset": "custom"}]),
    "attack": (state.AttackPageConfig, "atk_", [{"attack": "pgd", "targeted": "true"}]),
    "defend": (state.DefendPageConfig, "def_", [
        *({"tab": "transforms", "attack": "fgsm", "n": "10", "samples": "1",
           "defences": ",".join(list(state.TRANSFORM_KEYS)[start:start + MAX_STACK])}
          for start in range(0, len(state.TRANSFORM_KEYS), MAX_STACK)),
        {"tab": "training", "preset": "madry"},
        {"tab": "training", "preset": "gaussian"},
        {"tab": "smoothing"},
        {"tab": "detector"},
    ]),
}


def widget_keys(page: str, query: dict[str, str]) -> set[str]:
    at = AppTest.from_file(APP, default_timeout=120)
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page(PAGES[page].script)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return {widget.key for kind in WIDGETS for widget in getattr(at, kind) if widget.key}


@pytest.mark.parametrize("page", list(PAGES_UNDER_TEST))
def test_every_hideable_setting_has_a_widget_its_hide_flag_finds(page):
    config_type, prefix, queries = PAGES_UNDER_TEST[page]
    keys = set().union(*(widget_keys(page, query) for query in queries))
    found = {
        name for name, declared in state.settings(config_type).items()
        if declared.hideable and any(key == prefix + name or key.startswith(prefix + name + classroom.PART)
                                     for key in keys)
    }
    hideable = {name for name, declared in state.settings(config_type).items() if declared.hideable}
    assert found == hideable, f"no widget keyed for {sorted(hideable - found)}"
