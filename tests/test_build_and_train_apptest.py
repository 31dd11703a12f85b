"""AppTest checks of the Build & Train page: it runs, Step trains, and settings reset the net only when they should."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_runs import live_metrics, live_view_data

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "app_pages/build_and_train.py"


def open_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)




def click(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click()
    at.run()  # a panel button reruns only the panel and the export
    assert not at.exception
    # AppTest then holds only those fragments' elements, where the browser keeps the rest of the page: a whole
    # run brings the sidebar back for the next step (it trains nothing, so the figures stay as they were).
    at.run()
    assert not at.exception


@pytest.fixture(scope="module")
def at() -> AppTest:
    return open_page()


def test_page_runs_and_shows_a_fresh_network(at):
    assert live_metrics(at)["Epoch"] == "0"
    assert {b.label for b in at.button} >= {"Step", "Reset", "Regenerate"}
    shown = live_view_data(at)
    assert shown["can_play"] and not shown["playing"], "the live view offers Play"
    assert shown["live"].startswith("/api/live/")


def test_step_then_learning_rate_keeps_weights_but_structure_resets(at):
    click(at, "Step")
    assert live_metrics(at)["Epoch"] == "1"
    at.select_slider(key="bt_lr").set_value(0.1).run()
    assert not at.exception
    assert live_metrics(at)["Epoch"] == "1", "a new learning rate must not reset the network"
    at.number_input(key="bt_layers__neurons_0").set_value(6).run()
    assert not at.exception
    assert live_metrics(at)["Epoch"] == "0", "a new layer width starts a new network"
    assert at.query_params["layers"] == "6,2"


def test_reset_restores_the_same_initial_weights(at):
    before = live_metrics(at)["Train loss"]
    click(at, "Step")
    assert live_metrics(at)["Train loss"] != before
    click(at, "Reset")
    assert live_metrics(at)["Epoch"] == "0"
    assert live_metrics(at)["Train loss"] == before


def test_regenerate_draws_a_new_seed(at):
    seed = at.number_input(key="bt_data_seed").value
    click(at, "Regenerate")
    assert at.number_input(key="bt_data_seed").value != seed
    assert at.query_params["data_seed"] == str(at.number_input(key="bt_data_seed").value)


def test_garbage_query_gives_notices_and_defaults():
    at = open_page({"lr": "1e999", "batch": "zero", "features": "x1,x1", "layers": "40"})
    notices = " ".join(w.value for w in at.warning)
    for name in ("lr", "batch", "features", "layers"):
        assert f"Ignored URL parameter {name}=" in notices
    assert live_metrics(at)["Epoch"] == "0"


def test_zero_layers_is_a_linear_model():
    at = open_page({"layers": "", "activations": ""})
    assert at.number_input(key="bt_layers__depth").value == 0
    assert any("linear model" in c.value for c in at.caption)
    click(at, "Step")
    assert live_metrics(at)["Epoch"] == "1"


def test_every_dataset_builds(at):
    for dataset in ("circle", "xor", "gauss", "spiral", "moons", "blobs"):
        at.selectbox(key="bt_dataset").set_value(dataset).run()
        assert not at.exception, dataset
        assert live_metrics(at)["Epoch"] == "0"


def test_selecting_a_neuron_shows_its_map_large():
    at = open_page()
    charts_before = len(at.get("plotly_chart"))
    at.selectbox(key="bt_inspect").set_value((1, 0)).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == charts_before + 1


def test_the_attack_lens_reads_robust_accuracy_and_maps_the_minimum_eps():
    at = open_page({"lens": "true", "lens_eps": "0.8", "dataset": "moons"})
    for _ in range(3):
        click(at, "Step")
    clean = float(metric(at, "Clean accuracy").rstrip("%"))
    robust = float(metric(at, "Robust accuracy").rstrip("%"))
    assert robust <= clean
    assert re.match(r"^\d+ of \d+$", metric(at, "Pushed across the boundary"))
    assert any("Bisection on ε" in c.value for c in at.caption)  # a hidden layer: the map is searched, not exact
    assert len(at.table) == 1 and list(at.table[0].value["FGSM on"]) == ["Cross-entropy", "Mean squared error", "Hinge"]


def test_a_linear_network_gets_the_exact_minimum_eps_map():
    at = open_page({"lens": "true", "layers": "", "activations": ""})
    assert any(c.value.startswith("Exact: the network is linear") for c in at.caption)


def test_lens_settings_and_adversarial_training_round_trip_through_the_url():
    at = open_page({"lens": "true", "lens_attack": "pgd", "lens_norm": "2", "lens_eps": "1.5", "adv_train": "true"})
    assert at.query_params["lens_attack"] == "pgd" and at.query_params["lens_norm"] == "2"
    assert at.query_params["lens_eps"] == "1.5" and at.query_params["adv_train"] == "true"
    assert at.session_state["bt_live"].experiment.trainer.config.adversarial_eps == 0.5
    at.toggle(key="bt_adv_train").set_value(False).run()
    assert at.session_state["bt_live"].experiment.trainer.config.adversarial_eps == 0.0


def test_switching_to_regression_offers_its_datasets_and_losses_and_trains():
    at = open_page()
    at.segmented_control(key="bt_problem").set_value("regression").run()
    assert not at.exception
    assert at.selectbox(key="bt_dataset").value == "plane"
    assert at.selectbox(key="bt_dataset").options == ["Plane", "Sum of Gaussians", "Your own points"]
    assert at.selectbox(key="bt_loss").value == "squared_error"
    assert at.selectbox(key="bt_loss").options == ["Mean squared error", "Huber (δ = 0.25)"]
    assert live_view_data(at)["regression"] is True
    assert any("watch its predicted value take shape" in caption.value for caption in at.caption)
    assert list(live_metrics(at)) == ["Epoch", "Train loss", "Test loss"]  # a value has no accuracy
    start = float(live_metrics(at)["Test loss"])
    for _ in range(3):
        click(at, "Step")
    assert live_metrics(at)["Epoch"] == "3"
    assert float(live_metrics(at)["Test loss"]) < start
    at.segmented_control(key="bt_problem").set_value("classification").run()
    assert (at.selectbox(key="bt_dataset").value, at.selectbox(key="bt_loss").value) == ("circle", "cross_entropy")
    assert "Test accuracy" in live_metrics(at)
