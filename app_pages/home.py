"""Home: what the Adversarial Playground is for, the loop it closes, and the theory behind it, live.

Only NumPy-backed modules are imported here, so the page paints before TensorFlow is ever loaded.
"""

import streamlit as st

from app_pages import script
from app_pages.ui import classroom, export
from playground import plots, theory

classroom.apply("home")

# Streamlit's own theme would restyle the figures; the shared white layout lives in playground.plots.
CHART = export.CHART

REGIME_BOX = {
    "converges": st.success,
    "converges with oscillation": st.info,
    "oscillates forever": st.warning,
    "diverges": st.error,
}


def intro() -> None:
    st.title("Adversarial Playground")
    st.markdown(
        "Build a small neural network, watch it learn, then try to fool it. This app is for students and "
        "lecturers who want to *see* how networks learn and why a change to an image too small for a "
        "human to notice can flip the answer. Everything runs on your own network: the one you train is "
        "the one you attack and the one you defend."
    )
    steps = st.columns(3)
    with steps[0].container(border=True):
        st.markdown("#### :material/model_training: 1 · Build & Train")
        st.markdown(
            "Choose layers, activations, loss and optimiser, then train live on 2-D toy data while the "
            "decision boundary, the neurons and the loss curves move."
        )
        st.page_link(script("build_and_train"), label="Open Build & Train", icon=":material/arrow_forward:")
    with steps[1].container(border=True):
        st.markdown("#### :material/bolt: 2 · Attack")
        st.markdown(
            "Attack that same network with FGSM, then with stronger iterative attacks, and watch the "
            "perturbation heatmaps and the class probabilities flip."
        )
        st.page_link(script("attack"), label="Open Attack", icon=":material/arrow_forward:")
    with steps[2].container(border=True):
        st.markdown("#### :material/shield: 3 · Defend")
        st.markdown(
            "Switch defences on (input transforms, adversarial training, randomized smoothing) and see "
            "honestly whether they hold, including against attacks that see through them."
        )
        st.page_link(script("defend"), label="Open Defend", icon=":material/arrow_forward:")


def activations_section() -> None:
    st.subheader("Activation functions")
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.markdown(
            "Each neuron takes a weighted sum of its inputs, $z = w^\\top x + b$, and passes it through a "
            "non-linear activation. Without one, any stack of layers collapses into a single linear map."
        )
        name = st.segmented_control(
            "Activation",
            list(theory.ACTIVATIONS),
            default="sigmoid",
            required=True,
            format_func=lambda key: theory.ACTIVATIONS[key].name,
            key="home_activation",
        )
        show_derivative = st.toggle("Show the derivative", value=True, key="home_activation_derivative")
        activation = theory.get_activation(name)
        st.latex(activation.formula)
        if show_derivative:
            st.latex(activation.derivative_formula)
        st.caption(
            "Backpropagation multiplies these derivatives layer by layer. Where they are near zero the "
            "gradient vanishes and learning stalls: sigmoid and tanh saturate for large $|x|$, and ReLU is "
            "flat for every negative input."
        )
    x, y, dy = theory.activation_curve(name, x_min=-6.0, x_max=6.0)
    right.plotly_chart(plots.activation_figure(x, y, dy if show_derivative else None, name=activation.name), **CHART)


def losses_section() -> None:
    st.subheader("Loss functions")
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.markdown(
            "The loss scores one prediction against the true label $y$. The network outputs a logit $z$; "
            "the predicted probability of class 1 is $p = \\sigma(z)$. Training lowers the loss; an attack "
            "raises it."
        )
        for loss in theory.LOSSES.values():
            st.latex(loss.formula)
        target = st.segmented_control("True label $y$", [1, 0], default=1, required=True, key="home_loss_target")
        over = st.segmented_control(
            "Plot against",
            list(theory.LOSS_AXES),
            default="probability",
            required=True,
            format_func={"probability": "probability p", "logit": "logit z"}.get,
            key="home_loss_axis",
        )
        p_wrong = theory.confidently_wrong(target=target)
        costs = {key: float(loss.of_probability(p_wrong, target)) for key, loss in theory.LOSSES.items()}
        st.markdown(
            f"A prediction 99 % sure of the wrong class ($p = {p_wrong:.2f}$ for $y = {target}$) costs "
            f"**{costs['mse']:.2f}** in squared error but **{costs['cross_entropy']:.2f}** in cross-entropy."
        )
        st.caption(
            "Squared error can never exceed 1, so it flattens out (and its gradient fades) exactly where "
            "the model is most wrong. Cross-entropy grows without bound, linearly in the logit, so "
            "confident mistakes are punished hardest. The attacks later climb this same cross-entropy."
        )
    x, curves = theory.loss_curves(target=target, over=over)
    right.plotly_chart(
        plots.loss_figure(
            x,
            {theory.LOSSES[key].name: values for key, values in curves.items()},
            x_title="predicted probability p" if over == "probability" else "logit z",
            highlight_x=theory.confidently_wrong(target=target, over=over),
            highlight_y={theory.LOSSES[key].name: cost for key, cost in costs.items()},
            highlight_label="99 % sure, wrong",
        ),
        **CHART,
    )


def gradient_descent_section() -> None:
    st.subheader("Gradient descent")
    # Wider plot column than the other sections: this figure has two panels.
    left, right = st.columns([1, 2], gap="large")
    with left:
        st.markdown(
            "Training repeats one update: step each weight a little way downhill, against the gradient "
            "of the loss. The learning rate $\\alpha$ sets the step length."
        )
        st.latex(r"w \leftarrow w - \alpha \, \frac{\partial L}{\partial w}")
        surface_key = st.segmented_control(
            "Loss surface",
            list(theory.SURFACES),
            default="quadratic",
            required=True,
            format_func=lambda key: theory.SURFACES[key].name,
            key="home_gd_surface",
        )
        surface = theory.get_surface(surface_key)
        st.latex(surface.formula)
        alpha = st.slider("Learning rate $\\alpha$", 0.01, 1.1, 0.1, 0.01, key="home_gd_alpha")
        steps = st.slider("Steps", 1, 50, 20, key="home_gd_steps")
        trajectory = theory.gradient_descent(surface_key, learning_rate=alpha, steps=steps)
        regime = theory.regime(surface_key, alpha)
        factors = ", ".join(f"{r:.2f}" for r in theory.step_factors(surface_key, alpha))
        message = (
            f"**With $\\alpha = {alpha:.2f}$ descent {regime}.** Each step multiplies the distance to the "
            f"minimum by $r = 1 - 2\\alpha c$ per weight: $r = {factors}$. "
            "$|r| < 1$ converges, $r < 0$ overshoots to the other side, $|r| > 1$ diverges."
        )
        if trajectory.diverged:
            message += f" Stopped after {len(trajectory.losses) - 1} steps: the loss passed $10^{{12}}$."
        REGIME_BOX[regime](message)
    axes, landscape = theory.surface_landscape(surface_key, trajectory.weights)
    right.plotly_chart(plots.gradient_descent_figure(axes, landscape, trajectory.weights, trajectory.losses), **CHART)


def closing() -> None:
    st.markdown(
        "**Same gradient, two uses.** Training moves the *weights* down the loss; an adversarial attack "
        "such as FGSM moves the *input* up it, by a step $\\varepsilon$ too small to see:"
    )
    st.latex(
        r"w \leftarrow w - \alpha\,\nabla_{w} L(w; x, y)"
        r"\qquad\qquad x' = x + \varepsilon \cdot \operatorname{sign}\bigl(\nabla_{x} L(w; x, y)\bigr)"
    )


intro()
st.divider()
st.header("The theory")
activations_section()
st.divider()
losses_section()
st.divider()
gradient_descent_section()
st.divider()
closing()
