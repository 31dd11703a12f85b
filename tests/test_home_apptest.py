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
    for section in ("One neuron", "Activation functions", "Loss functions", "Softmax and cross-entropy",
                    "Backpropagation", "Gradient descent", "A biological neuron and an artificial one"):
        assert section in text
    assert r"w \leftarrow w - \alpha" in text
    assert len(home.get("plotly_chart")) == 6  # neuron, activation, loss, softmax, 2-2-1 network, descent


def _formulas(home) -> list[str]:
    """The page's LaTeX as written (Streamlit wraps each in $$ … $$)."""
    return [latex.value.strip().removeprefix("$$").removesuffix("$$").strip() for latex in home.latex]


def test_the_neuron_shows_its_weighted_sum_with_the_numbers(home):
    home.slider(key="home_neuron_w1").set_value(-2.0)
    home.slider(key="home_neuron_bias").set_value(0.5)
    home.segmented_control(key="home_neuron_f").set_value("relu").run()
    assert not home.exception
    sums = [formula for formula in _formulas(home) if "z &= w_1 x_1" in formula]
    assert sums and sums[0].endswith("= -2.00 \\end{aligned}")  # -2·1 + 1·(-0.5) + 0.5
    assert "f(z) = 0.000" in _formulas(home)  # ReLU of a negative sum


def test_softmax_loss_follows_the_true_class(home):
    def loss() -> float:
        (line,) = [formula for formula in _formulas(home) if "mathrm{softmax}(z)_y" in formula]
        return float(line.rsplit("=", 1)[1])

    assert loss() == pytest.approx(0.349, abs=1e-3)  # logits 2, 1, -1 with the first class true
    home.segmented_control(key="home_softmax_label").set_value(2).run()
    assert loss() == pytest.approx(3.349, abs=1e-3)


def test_a_backprop_step_lowers_the_loss_on_its_example(home):
    def loss() -> float:
        (line,) = [formula for formula in _formulas(home) if formula.startswith("L = -[y")]
        return float(line.rsplit("=", 1)[1])

    before = loss()
    home.button(key="home_backprop_go").click().run()
    after = loss()
    assert after < before
    assert "Steps taken: 1." in _text(home)
    home.button(key="home_backprop_reset").click().run()
    assert loss() == before


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
