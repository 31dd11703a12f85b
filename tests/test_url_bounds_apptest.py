"""Every numeric URL setting of every page, at its declared low and high value and just outside them: the page
builds without an exception, a value inside reaches the widget and stays in the page's link, and a value outside
is refused with a notice (the widget's range is the codec's)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import PAGES
from playground import state

APP = str(Path(__file__).resolve().parents[1] / "app.py")
CONFIGS = {"build_and_train": state.TrainPageConfig, "attack": state.AttackPageConfig,
           "defend": state.DefendPageConfig}
QUICK = {"defend": {"attack": "fgsm", "n": "10", "samples": "1"}}  # keep the queued evaluation small
DEFEND_TABS = {"train_eps": "training", "train_sigma": "training", "train_epochs": "training",
               "train_steps": "training", "sigma": "smoothing", "cert_n": "smoothing", "n0": "smoothing",
               "detect_eps": "detector", "detect_n": "detector"}


def _cases():
    for page, config_type in CONFIGS.items():
        for name, declared in state.settings(config_type).items():
            codec = declared.codec
            if not isinstance(codec, state.IntRange | state.FloatRange):
                continue
            nudge = 1 if isinstance(codec, state.IntRange) else 1e-3 * max(1.0, abs(codec.high - codec.low))
            for label, value, inside in (("low", codec.low, True), ("high", codec.high, True),
                                         ("below", codec.low - nudge, False), ("above", codec.high + nudge, False)):
                yield pytest.param(page, name, codec.format(value), inside, id=f"{page}-{name}-{label}")


@pytest.mark.parametrize(("page", "name", "value", "inside"), list(_cases()))
def test_each_setting_at_and_beyond_its_bounds_builds_the_page(page, name, value, inside):
    at = AppTest.from_file(APP, default_timeout=120)
    query = QUICK.get(page, {}) | {name: value}
    if page == "defend":
        query["tab"] = DEFEND_TABS.get(name, "transforms")
    for key, text in query.items():
        at.query_params[key] = text
    at.switch_page(PAGES[page].script)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    notices = [w.value for w in at.warning if f"Ignored URL parameter {name}=" in w.value]
    assert bool(notices) != inside, notices
    if inside:  # the widget took the value, and the page's link keeps it
        assert at.query_params[name] == value, (at.query_params[name], value)
