"""AppTest checks of the Attack page: it runs with the bundled CNN, ε drives the perturbation, every attack and
dataset works, bad URLs fall back with a notice, and the many-images run fills its table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from playground import attacks
from tests.app_runs import settle

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "app_pages/attack.py"
VERDICT = re.compile(r"^### :(?:red|green)\[(Fooled|Not fooled)\]: (.+) → (.+)$")
# Fewer steps for the slow attacks, still enough to fool the CNN on image 0 (minimum-norm attacks return the
# input unchanged when they fail, e.g. C&W with 50 steps in one round).
QUICK = {
    "atk_steps__cw_l2": 100,
    "atk_binary_search_steps__cw_l2": 1,
    "atk_steps__pgd": 5,
    "atk_steps__bim": 5,
    "atk_steps__mi_fgsm": 5,
}


def open_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(PAGE)
    settle(at.run())
    assert not at.exception
    return at


def run(at: AppTest) -> None:
    settle(at.run())
    assert not at.exception


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def verdict(at: AppTest) -> tuple[str, str, str]:
    """(outcome, clean class, adversarial class) from the verdict heading."""
    found = [match.groups() for m in at.markdown if (match := VERDICT.match(m.value))]
    assert len(found) == 1, f"expected one verdict, found {found}"
    return found[0]


@pytest.fixture(scope="module")
def at() -> AppTest:
    return open_page()


def test_page_runs_with_the_bundled_cnn(at):
    caption = next(c.value for c in at.sidebar.caption if "clean accuracy" in c.value)
    accuracy = float(re.search(r"\*\*([\d.]+)%\*\*", caption).group(1))
    assert accuracy >= 98.0, caption
    assert verdict(at) == ("Not fooled", "7", "7")  # image 0 is a 7; ε = 0.1 does not flip it
    assert at.query_params["attack"] == "fgsm" and at.query_params["eps"] == "0.1"


def test_default_fgsm_moves_pixels_by_exactly_eps(at):
    assert at.slider(key="atk_eps__fgsm").value == pytest.approx(0.1)
    assert metric(at, "L∞ ‖δ‖") == "0.100"
    assert float(metric(at, "L2 ‖δ‖")) > 0


def test_eps_slider_drives_the_perturbation(at):
    l2_before = float(metric(at, "L2 ‖δ‖"))
    at.slider(key="atk_eps__fgsm").set_value(0.25)
    run(at)
    assert metric(at, "L∞ ‖δ‖") == "0.250"
    assert float(metric(at, "L2 ‖δ‖")) > l2_before
    assert at.query_params["eps"] == "0.25"
    assert verdict(at)[0] == "Fooled"  # image 0 flips from ε ≈ 0.2 with the bundled CNN

    at.slider(key="atk_eps__fgsm").set_value(0.0)
    run(at)
    assert metric(at, "L∞ ‖δ‖") == "0.000"
    assert verdict(at) == ("Not fooled", "7", "7")


def test_a_moved_slider_is_never_sent_back_to_the_browser():
    """A seeded widget carries its seed on every run until the user moves it (a slow browser may draw a later
    run first); after that the browser's value is the newer one, and a value sent back would overwrite it
    while the user is still moving it."""
    at = open_page({"eps": "0.15"})
    eps = "atk_eps__fgsm"
    run(at)  # a run the browser did not start by moving ε, as when heavy work ends
    assert at.slider(key=eps).proto.set_value and at.slider(key=eps).value == pytest.approx(0.15)

    at.slider(key=eps).set_value(0.2)
    run(at)
    assert not at.slider(key=eps).proto.set_value
    run(at)
    assert not at.slider(key=eps).proto.set_value
    assert at.slider(key=eps).value == pytest.approx(0.2) and metric(at, "L∞ ‖δ‖") == "0.200"


@pytest.mark.parametrize("name", attacks.names())
def test_every_registered_attack_runs(at, name):
    for key, value in QUICK.items():
        at.session_state[key] = value
    bounded = any(p.name == "eps" for p in attacks.get(name).params)
    if bounded:
        at.session_state[f"atk_eps__{name}"] = 0.1
    at.selectbox(key="atk_attack").set_value(name)
    run(at)
    assert at.query_params["attack"] == name
    assert not at.error, [e.value for e in at.error]
    assert verdict(at)[1] == "7"
    linf = float(metric(at, "L∞ ‖δ‖"))
    assert linf > 0, f"{name} did not perturb the image"
    if bounded:
        assert linf <= 0.1 + 5e-4, f"{name} left the ε-ball"
    for param in attacks.get(name).params:  # each control reads as its declaration's plain label
        assert widget_label(at, f"atk_{param.name}__{name}") == param.label


def test_square_shows_the_queries_it_spent_against_its_budget(at):
    at.session_state["atk_eps__square"] = 0.3
    at.session_state["atk_queries__square"] = 500
    at.selectbox(key="atk_attack").set_value("square")
    run(at)
    (line,) = [c.value for c in at.caption if c.value.startswith("Square read only the model's scores")]
    spent = int(re.search(r"scores: ([\d,]+) of its 500 queries", line).group(1).replace(",", ""))
    assert 1 <= spent <= 500
    assert ("stopping at the first one that fooled" in line) == (verdict(at)[0] == "Fooled")


def test_the_network_trained_here_can_be_the_transfer_surrogate():
    from app_pages.ui.image_model_picker import ChosenModel
    from playground import image_models

    at = AppTest.from_file(APP, default_timeout=120)
    trained = image_models.load_bundled_model("mnist", "softmax")  # stands in for one trained on the page
    at.session_state["model_trained"] = ChosenModel(trained, lambda: "your Softmax regression (1 epoch)", 0.9, "mnist")
    at.switch_page(PAGE)
    settle(at.run())
    surrogate = at.selectbox(key="atk_tr_surrogate")
    assert surrogate.options[-1] == "your Softmax regression (1 epoch)"  # the options as the user reads them
    at.selectbox(key="atk_dataset").set_value("fashion_mnist")  # trained on MNIST: no surrogate for Fashion
    settle(at.run())
    assert not any(o.startswith("your ") for o in at.selectbox(key="atk_tr_surrogate").options)


def widget_label(at, key: str) -> str:
    for kind in ("slider", "select_slider", "selectbox", "toggle"):
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            return found[0].label
    raise AssertionError(f"no widget keyed {key}")


@pytest.mark.parametrize("name", ["fgsm", "pgd"])
def test_targeted_attack_reaches_the_chosen_class(name):
    # At ε = 0.3, untargeted FGSM turns image 0 (a 7) into a 2, and PGD mostly does too (its random start is
    # unseeded); aimed at 3, both reach 3 (PGD for 40 of 40 seeds, checked with the engine).
    at = open_page({"attack": name, "eps": "0.3"})
    assert verdict(at)[:2] == ("Fooled", "7")
    if name == "fgsm":
        assert verdict(at)[2] == "2"
    at.toggle(key="atk_targeted").set_value(True)
    run(at)
    at.selectbox(key="atk_target").set_value(3)
    run(at)
    assert verdict(at) == ("Fooled", "7", "3")
    assert at.query_params["targeted"] == "true" and at.query_params["target"] == "3"


def test_targeting_the_clean_class_is_not_a_success():
    at = open_page({"image": "3", "eps": "0", "targeted": "true", "target": "0"})  # image 3 is a 0
    assert metric(at, "L∞ ‖δ‖") == "0.000"
    assert verdict(at)[0] == "Not fooled"


def test_garbage_query_gives_notices_and_defaults():
    at = open_page({"eps": "banana", "attack": "nope", "image": "99999"})
    notices = " ".join(w.value for w in at.warning)
    for name in ("eps", "attack", "image"):
        assert f"Ignored URL parameter {name}=" in notices
    assert at.selectbox(key="atk_attack").value == "fgsm"
    assert at.slider(key="atk_eps__fgsm").value == pytest.approx(0.1)
    assert at.number_input(key="atk_image").value == 0
    assert metric(at, "L∞ ‖δ‖") == "0.100"


def test_url_settings_are_honoured():
    at = open_page({"attack": "pgd", "eps": "0.15", "image": "3", "dataset": "fashion_mnist"})
    assert not at.warning
    assert at.selectbox(key="atk_attack").value == "pgd"
    assert at.slider(key="atk_eps__pgd").value == pytest.approx(0.15)
    assert at.number_input(key="atk_image").value == 3
    assert at.selectbox(key="atk_dataset").value == "fashion_mnist"


def test_fashion_mnist(at):
    at.selectbox(key="atk_dataset").set_value("fashion_mnist")  # trained on MNIST: no surrogate for Fashion
    run(at)
    caption = next(c.value for c in at.sidebar.caption if "clean accuracy" in c.value)
    assert float(re.search(r"\*\*([\d.]+)%\*\*", caption).group(1)) >= 85.0, caption
    assert at.query_params["dataset"] == "fashion_mnist"
    assert verdict(at)[1] == "Ankle boot"  # the first Fashion-MNIST test image
    at.selectbox(key="atk_dataset").set_value("mnist")
    run(at)
    assert verdict(at)[1] == "7"


def _percent(cell: str) -> float:
    """The figure of a cell such as "95.0% (76.4–99.1%)"."""
    return float(cell.split("%")[0])


def test_many_images_run_fills_the_accuracy_table():
    at = open_page()
    at.number_input(key="atk_rb_n").set_value(20)
    at.multiselect(key="atk_rb_eps_inf").set_value([0.0, 0.3])
    run(at)
    assert not at.dataframe, "no table before Run"
    next(b for b in at.button if b.label == "Run").click()
    run(at)
    table = at.dataframe[0].value
    assert list(table.columns) == ["attack", "L∞ ε=0", "L∞ ε=0.3"]
    assert list(table["attack"]) == ["FGSM", "PGD"]
    assert all(re.fullmatch(r"[\d.]+% \([\d.]+–[\d.]+%\)", cell) for cell in table["L∞ ε=0.3"]), table
    assert any("95% Wilson interval over the 20 images" in c.value for c in at.caption)
    clean = [_percent(v) for v in table["L∞ ε=0"]]
    attacked = [_percent(v) for v in table["L∞ ε=0.3"]]
    assert clean[0] == clean[1] >= 90.0, "at ε = 0 both attacks leave the images alone"
    assert all(a < c - 30 for a, c in zip(attacked, clean, strict=True)), table
    assert any("upper bound" in m.value for m in at.markdown)


def test_minimum_norm_attacks_get_their_own_l2_budgets():
    at = open_page()
    at.number_input(key="atk_rb_n").set_value(20)
    at.multiselect(key="atk_rb_attacks").set_value(["pgd", "deepfool"])
    run(at)
    at.multiselect(key="atk_rb_eps_inf").set_value([0.1])
    at.multiselect(key="atk_rb_eps_2").set_value([0.0, 3.0])
    next(b for b in at.button if b.label == "Run").click()
    run(at)
    linf, l2 = (table.value for table in at.dataframe)
    assert list(linf["attack"]) == ["PGD"] and list(linf.columns) == ["attack", "L∞ ε=0.1"]
    assert list(l2["attack"]) == ["DeepFool"] and list(l2.columns) == ["attack", "L2 ε=0", "L2 ε=3"]
    # Minimal L2 perturbations on MNIST are about 1.3-1.6: a budget of 3 lets DeepFool fool nearly everything.
    assert _percent(l2["L2 ε=3"][0]) < _percent(l2["L2 ε=0"][0]) - 50, l2


def test_thorough_adds_autoattack_which_is_never_weaker_than_pgd():
    at = open_page()
    at.number_input(key="atk_rb_n").set_value(20)
    at.multiselect(key="atk_rb_attacks").set_value(["pgd"])
    at.segmented_control(key="atk_rb_strength").set_value("Thorough")
    settle(at.run())
    at.multiselect(key="atk_rb_eps_inf").set_value([0.1])
    next(b for b in at.button if b.label == "Run").click()
    run(at)
    table = at.dataframe[0].value
    assert list(table["attack"]) == ["PGD", "AutoAttack (thorough)"]
    pgd, thorough = (_percent(cell) for cell in table["L∞ ε=0.1"])
    assert thorough <= pgd, table


def test_many_images_tab_works_while_no_image_is_uploaded():
    at = open_page()
    at.segmented_control(key="atk_image__source").set_value("Upload")
    run(at)
    assert any(i.value.startswith("Upload or draw") for i in at.info)
    assert any(b.label == "Run" for b in at.button)


def test_same_settings_give_the_same_pgd_result():
    at = open_page({"attack": "pgd", "eps": "0.1"})
    first = metric(at, "L2 ‖δ‖"), metric(at, "mean |δ|")
    run(at)
    assert (metric(at, "L2 ‖δ‖"), metric(at, "mean |δ|")) == first
