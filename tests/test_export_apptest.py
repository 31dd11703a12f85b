"""The Export panel (app_pages/ui/export.py): its buttons render, heavy files are built only on click, and what they
would download is right (standalone HTML, a loadable .keras, the page's JSON)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from app_pages.ui import export
from playground import attacks, experiment, snippets, state
from tests.app_runs import live_metrics, settle

ROOT = Path(__file__).resolve().parents[1]


def panel_app() -> None:
    import plotly.graph_objects as go
    import streamlit as st

    from app_pages.ui import export
    from playground import experiment, snippets, state

    config = state.TrainPageConfig(dataset="xor")
    exp = experiment.ToyExperiment.create(config)
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    st.plotly_chart(fig, key="chart", **export.CHART)
    export.export_panel(
        "t_",
        config=config,
        snippet=snippets.train_snippet(config, 3),
        snippet_file="build_and_train.py",
        model=exp.trainer.model,
        figures=[("Loss & accuracy", fig), ("Built on click", lambda: fig)],
        note="A note.",
    )


@pytest.fixture(scope="module")
def at() -> AppTest:
    at = AppTest.from_function(panel_app, default_timeout=60)
    at.run()
    assert not at.exception
    at.session_state["t_open"] = True  # as a click on the closed panel does
    at.run()
    assert not at.exception
    return at


def test_a_closed_panel_sends_nothing_but_its_header():
    at = AppTest.from_function(panel_app, default_timeout=60)
    at.run()
    assert [e.label for e in at.expander] == ["Export"]
    assert not at.get("download_button") and not at.code


def buttons(at: AppTest) -> dict[str, object]:
    return {b.proto.label: b.proto for b in at.get("download_button")}


def test_the_panel_offers_every_download(at):
    assert [e.label for e in at.expander] == ["Export"]
    assert set(buttons(at)) == {
        "Settings (.json)", "Model (.keras)", "Loss & accuracy (.html)", "Built on click (.html)",
        "Script (build_and_train.py)",
    }
    assert at.code[0].value == snippets.train_snippet(state.TrainPageConfig(dataset="xor"), 3).rstrip("\n")
    assert any(c.value == "A note." for c in at.caption)


def test_heavy_files_are_built_on_click_and_no_button_reruns_the_page(at):
    found = buttons(at)
    for label in ("Model (.keras)", "Loss & accuracy (.html)", "Built on click (.html)"):
        assert found[label].deferred_file_id and not found[label].url, label
    for label in ("Settings (.json)", "Script (build_and_train.py)"):
        assert found[label].url.endswith((".json", ".py")), label
    assert all(proto.ignore_rerun for proto in found.values())


def test_the_chart_shows_only_the_png_button():
    config = export.CHART["config"]
    assert config["displayModeBar"] == "hover" and config["toImageButtonOptions"]["format"] == "png"
    assert "toImage" not in config["modeBarButtonsToRemove"]
    assert {"zoom2d", "pan2d", "autoScale2d", "resetScale2d"} <= set(config["modeBarButtonsToRemove"])


def test_figure_html_is_standalone():
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[4, 5, 6], name="the-trace-name"))
    for source in (fig, lambda: fig):
        html = export.figure_html(source)
        assert html.lstrip().lower().startswith("<!doctype html>") and "the-trace-name" in html
        assert '<script src="https://cdn.plot.ly' not in html and len(html) > 1_000_000  # plotly.js is inside


def test_model_bytes_load_back_with_the_same_weights(tmp_path):
    exp = experiment.ToyExperiment.create(state.TrainPageConfig())
    exp.trainer.run_epochs(1)
    path = tmp_path / "model.keras"
    path.write_bytes(export.model_bytes(exp.trainer.model))
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    for a, b in zip(loaded.get_weights(), exp.trainer.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_file_stems_are_safe():
    assert export.file_stem("Loss & accuracy") == "loss_accuracy"
    assert export.file_stem("Accuracy vs ε (BPDA)") == "accuracy_vs_bpda"
    assert export.file_stem("ε") == "export"


def test_the_settings_json_is_the_pages():
    config = state.AttackPageConfig(eps=0.3)
    document = json.loads(snippets.config_json(config))
    assert document["page"] == "attack" and document["config"]["eps"] == 0.3


def test_model_file_name_is_the_pages():
    assert export.model_file_name(state.DefendPageConfig()) == "defend_model.keras"
    assert export.model_file_name() == "playground_model.keras"


def test_importing_the_module_leaves_tensorflow_unloaded():
    """The Home page takes CHART from here and must paint before TensorFlow's multi-second import."""
    code = "import sys, app_pages.ui.export; print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# The pages' panels. They activate once a page calls export.export_panel (the lead wires them in).
APP = str(ROOT / "app.py")


def _wired(*files: str) -> pytest.MarkDecorator:
    wired = all("export.export_panel(" in (ROOT / f).read_text(encoding="utf-8") for f in files)
    return pytest.mark.skipif(not wired, reason=f"{', '.join(files)} does not show the Export panel yet")


def open_page(page: str, config, export_key: str) -> AppTest:
    """``page`` with ``config`` in its URL and its Export panel open (``export_key``: the panel's expander)."""
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in state.to_query(config).items():
        at.query_params[key] = value
    at.session_state[export_key] = True
    settle(at.switch_page(page).run())
    assert not at.exception
    return at


@_wired("app_pages/build_and_train.py")
def test_build_and_train_exports_the_script_of_the_epochs_shown():
    config = state.TrainPageConfig(dataset="xor", layers=(5,), activations=("relu",))
    at = open_page("app_pages/build_and_train.py", config, "bt_export_open")
    for _ in range(2):
        next(b for b in at.button if b.label == "Step").click()
        at.run()
    assert not at.exception
    assert live_metrics(at)["Epoch"] == "2"
    assert {"Settings (.json)", "Model (.keras)", "Script (build_and_train.py)"} <= set(buttons(at))
    assert [c.value for c in at.code if c.language == "python"] == [snippets.train_snippet(config, 2).rstrip("\n")]


@_wired("app_pages/attack.py")
def test_attack_exports_the_script_of_the_attack_shown():
    config = state.AttackPageConfig(attack="pgd", eps=0.2, image=3)
    at = open_page("app_pages/attack.py", config, "atk_export_open")
    at.slider(key="atk_steps__pgd").set_value(5).run()
    assert not at.exception
    assert {"Settings (.json)", "Class probabilities (.html)"} <= set(buttons(at))
    params = {p.name: p.default for p in attacks.get("pgd").params} | {"eps": 0.2, "steps": 5}
    expected = snippets.attack_snippet(config, params).rstrip("\n")
    assert [c.value for c in at.code if c.language == "python"] == [expected]


@_wired("app_pages/ui/defend_transforms.py")
def test_defend_exports_the_script_of_the_table_shown():
    config = state.DefendPageConfig(attack="fgsm", n=20)
    at = open_page("app_pages/defend.py", config, "def_tf_export_open")
    assert {"Settings (.json)", "Model (.keras)", "Script (defend_transforms.py)"} <= set(buttons(at))
    assert [c.value for c in at.code if c.language == "python"] == [snippets.defend_snippet(config).rstrip("\n")]
