"""AppTest smoke tests for the Home page, run through the real router (Home is its default page).

The router is needed because `st.page_link` to the trainer only resolves inside `st.navigation`.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


@pytest.fixture
def home() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    return at


def _text(at: AppTest) -> str:
    parts = [at.title, at.header, at.subheader, at.markdown, at.latex, at.caption]
    return "\n".join(element.value for part in parts for element in part)


def test_home_renders_intro_loop_and_theory(home):
    text = _text(home)
    assert "Adversarial Playground" in text
    for phrase in ("1 · Build & Train", "2 · Attack", "3 · Defend", "The theory"):
        assert phrase in text
    links = {link.proto.label: link.proto.page for link in home.get("page_link")}
    assert links == {"Open Build & Train": "build_and_train", "Open Attack": "attack", "Open Defend": "defend"}
    for section in ("Activation functions", "Loss functions", "Gradient descent"):
        assert section in text
    assert r"w \leftarrow w - \alpha" in text
    assert len(home.get("plotly_chart")) == 3


def test_activation_controls(home):
    home.segmented_control(key="home_activation").set_value("relu").run()
    assert not home.exception
    assert any(r"\mathrm{ReLU}'(x)" in latex.value for latex in home.latex)
    home.toggle(key="home_activation_derivative").set_value(False).run()
    assert not home.exception
    assert not any("'(x)" in latex.value for latex in home.latex)


def test_loss_controls(home):
    assert "**0.98** in squared error but **4.61** in cross-entropy" in _text(home)
    home.segmented_control(key="home_loss_target").set_value(0).run()
    home.segmented_control(key="home_loss_axis").set_value("logit").run()
    assert not home.exception
    assert "$p = 0.99$ for $y = 0$" in _text(home)


@pytest.mark.parametrize(
    ("alpha", "regime"),
    [(0.1, "converges"), (0.7, "converges with oscillation"), (1.0, "oscillates forever"), (1.1, "diverges")],
)
def test_learning_rate_slider_names_the_regime(home, alpha, regime):
    home.slider(key="home_gd_alpha").set_value(alpha).run()
    assert not home.exception
    boxes = [*home.success, *home.info, *home.warning, *home.error]
    assert len(boxes) == 1
    assert f"descent {regime}.**" in boxes[0].value


def test_bowl_surface_and_divergence(home):
    home.segmented_control(key="home_gd_surface").set_value("bowl").run()
    home.slider(key="home_gd_alpha").set_value(1.1).run()
    home.slider(key="home_gd_steps").set_value(50).run()
    assert not home.exception
    assert "descent diverges" in home.error[0].value
    assert "Stopped after" in home.error[0].value


def test_home_does_not_import_tensorflow():
    # A fresh interpreter: in this one another test may already have imported TensorFlow.
    code = (
        "import sys; from streamlit.testing.v1 import AppTest; "
        f"at = AppTest.from_file({APP!r}, default_timeout=30).run(); "
        "assert not at.exception, at.exception; print('tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False"
