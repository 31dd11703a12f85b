"""AppTest checks of the Defend page: every tab runs, the threat table follows the defence stack and the threat
model, bad URLs fall back with a notice, and the settings round-trip through the URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_runs import settle

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "app_pages/defend.py"
# A small, fast evaluation: 20 images, FGSM, 2 EOT draws.
QUICK = {"n": "20", "attack": "fgsm", "samples": "2"}


def open_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(PAGE)
    settle(at.run())
    assert not at.exception, [e.message for e in at.exception]
    return at


def threat_table(at: AppTest) -> dict[str, dict[str, str]]:
    """Rows of the threat table by defence, each {column: cell}."""
    (table,) = at.table
    frame = table.value
    return {row["Defence"]: dict(row) for _, row in frame.iterrows()}


def test_the_transform_tab_lays_out_no_defence_and_the_median_filter_side_by_side():
    at = open_page(QUICK)
    rows = threat_table(at)
    assert list(rows) == ["No defence", "Median filter"]
    assert set(rows["Median filter"]) == {"Defence", "Clean", "Defence-unaware", "▶ BPDA", "EOT"}
    assert rows["Median filter"]["EOT"].endswith("(= BPDA: nothing random to average)")
    verdicts = [m.value for m in (*at.warning, *at.info) if "Median filter" in m.value]
    assert len(verdicts) == 1 and "once the attack knows about it" in verdicts[0]


def test_stacking_a_random_defence_adds_rows_and_a_real_eot_column():
    at = open_page(QUICK)
    at.multiselect(key="def_defences").set_value(["median", "noise"])
    settle(at.run())
    assert not at.exception
    rows = threat_table(at)
    assert list(rows) == ["No defence", "Median filter", "Random noise", "All together"]
    # A figure of its own with its 95% interval, not "(= BPDA: ...)".
    assert re.fullmatch(r"[\d.]+% \(\d+–\d+%\)", rows["Random noise"]["EOT"]), rows["Random noise"]["EOT"]
    assert at.query_params["defences"] == "median,noise"


def test_the_threat_model_marks_its_column_and_reaches_the_url():
    at = open_page(QUICK)
    at.radio(key="def_threat").set_value("eot")
    settle(at.run())
    assert "▶ EOT" in threat_table(at)["No defence"]
    assert at.query_params["threat"] == "eot"


def test_absurd_urls_fall_back_with_notices_and_the_page_still_works():
    at = open_page(QUICK | {"defences": "jpeg,median,blur,noise,bit_depth", "quality": "0", "sigma": "0",
                            "cert_n": "0", "samples": "99", "tab": "nope"})
    notices = " ".join(w.value for w in at.warning)
    for key in ("defences", "quality", "sigma", "cert_n", "samples", "tab"):
        assert f"Ignored URL parameter {key}=" in notices
    assert list(threat_table(at)) == ["No defence", "Median filter"]  # the defaults
    assert "0 to 4 comma-separated values" in notices  # the cap is stated


@pytest.mark.parametrize("eps", ["0", "0.005"])
def test_any_eps_the_url_accepts_opens_the_page(eps):
    # The codec takes 0-0.5; the slider once started at 0.01, and /defend?eps=0 crashed.
    at = open_page(QUICK | {"eps": eps})
    assert not at.exception and list(threat_table(at)) == ["No defence", "Median filter"]


def test_no_defence_at_all_is_allowed():
    at = open_page(QUICK | {"defences": ""})
    assert list(threat_table(at)) == ["No defence"]


@pytest.mark.parametrize("tab", ["training", "smoothing", "detector"])
def test_every_tab_opens_from_the_url(tab):
    at = open_page({"tab": tab})
    assert at.query_params["tab"] == tab
    assert not at.error


@pytest.mark.parametrize("model", ["adversarial", "smoothed"])
def test_the_robust_bundled_models_are_selectable(model):
    at = open_page(QUICK | {"model": model})
    caption = " ".join(c.value for c in at.sidebar.caption)
    assert {"adversarial": "adversarial training", "smoothed": "Gaussian noise"}[model] in caption
    assert "Median filter" in threat_table(at)


@pytest.mark.parametrize(("tab", "says"), [("smoothing", "certifies the bundled CNN trained on Gaussian noise"),
                                          ("training", "compares the standard and the adversarially trained")])
def test_the_sidebar_names_the_model_the_open_tab_uses(tab, says):
    # It once named the sidebar's choice beside a tab that certified the noise-trained model.
    at = open_page({"tab": tab, "model": "adversarial"})
    assert not at.sidebar.radio, "a model choice the tab ignores"
    assert says in " ".join(c.value for c in at.sidebar.caption)
    assert at.query_params["model"] == "adversarial"  # kept for the tabs that use it


def test_fashion_mnist_works():
    at = open_page(QUICK | {"dataset": "fashion_mnist"})
    assert at.query_params["dataset"] == "fashion_mnist"
    assert list(threat_table(at)) == ["No defence", "Median filter"]
