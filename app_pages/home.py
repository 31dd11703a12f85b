"""Home: what the Adversarial Playground is for, the loop it closes, and the theory behind it, live.

Only NumPy-backed modules are imported here, so the page paints before TensorFlow is ever loaded.
"""

import streamlit as st

from app_pages import script
from app_pages.ui import classroom, export
from playground import plots, theory
from playground.i18n import N_, _, ngettext

classroom.apply("home")

# Streamlit's own theme would restyle the figures; the shared white layout lives in playground.plots.
CHART = export.CHART

REGIME_BOX = {
    "converges": st.success,
    "converges with oscillation": st.info,
    "oscillates forever": st.warning,
    "diverges": st.error,
}
# The headline of each regime, a whole sentence each (the regime's name is a code, never shown as it is).
REGIME_HEADLINE = {
    "converges": N_("**With $\\alpha = {alpha:.2f}$ descent converges.**"),
    "converges with oscillation": N_("**With $\\alpha = {alpha:.2f}$ descent converges with oscillation.**"),
    "oscillates forever": N_("**With $\\alpha = {alpha:.2f}$ descent oscillates forever.**"),
    "diverges": N_("**With $\\alpha = {alpha:.2f}$ descent diverges.**"),
}


def intro() -> None:
    st.title(_("Adversarial Playground"))
    st.markdown(_(
        "Build a small neural network, watch it learn, then try to fool it. This app is for students and "
        "lecturers who want to *see* how networks learn and why a change to an image too small for a "
        "human to notice can flip the answer. Everything runs on your own network: the one you train is "
        "the one you attack and the one you defend."
    ))
    steps = st.columns(3)
    with steps[0].container(border=True):
        st.markdown(_("#### :material/model_training: 1 · Build & Train"))
        st.markdown(_(
            "Choose layers, activations, loss and optimiser, then train live on 2-D toy data while the "
            "decision boundary, the neurons and the loss curves move."
        ))
        st.page_link(script("build_and_train"), label=_("Open Build & Train"), icon=":material/arrow_forward:")
    with steps[1].container(border=True):
        st.markdown(_("#### :material/bolt: 2 · Attack"))
        st.markdown(_(
            "Attack that same network with FGSM, then with stronger iterative attacks, and watch the "
            "perturbation heatmaps and the class probabilities flip."
        ))
        st.page_link(script("attack"), label=_("Open Attack"), icon=":material/arrow_forward:")
    with steps[2].container(border=True):
        st.markdown(_("#### :material/shield: 3 · Defend"))
        st.markdown(_(
            "Switch defences on (input transforms, adversarial training, randomized smoothing) and see "
            "honestly whether they hold, including against attacks that see through them."
        ))
        st.page_link(script("defend"), label=_("Open Defend"), icon=":material/arrow_forward:")


def section(title: str, intro: str) -> tuple:
    """A theory section: its title, then its controls (under ``intro``) left and its figure right."""
    st.subheader(title)
    left, right = st.columns([2, 3], gap="large")
    left.markdown(intro)
    return left, right


def neuron_section() -> None:
    left, right = section(
        _("One neuron"),
        _("A neuron multiplies each input by a weight, adds them up with a bias, and passes the sum through an "
          "activation. Training changes only the weights and the bias; move them and watch the output.")
    )
    with left:
        inputs, weights = st.columns(2)
        x = [inputs.slider(_("Input $x_{i}$").format(i=i), -2.0, 2.0, value, 0.1, key=f"home_neuron_x{i}")
             for i, value in ((1, 1.0), (2, -0.5))]
        w = [weights.slider(_("Weight $w_{i}$").format(i=i), -3.0, 3.0, value, 0.1, key=f"home_neuron_w{i}")
             for i, value in ((1, 1.5), (2, 1.0))]
        bias = st.slider(_("Bias $b$"), -3.0, 3.0, 0.0, 0.1, key="home_neuron_bias")
        name = st.segmented_control(_("Activation $f$"), list(theory.ACTIVATIONS), default="sigmoid", required=True,
                                    format_func=lambda key: theory.ACTIVATIONS[key].name, key="home_neuron_f")
        z, output = theory.neuron(x, w, bias, name)
    with right:
        st.plotly_chart(plots.neuron_figure(x, w, bias, z, output, activation=theory.ACTIVATIONS[name].name),
                        key="home_neuron_figure", **CHART)
        st.latex(rf"\begin{{aligned}} z &= w_1 x_1 + w_2 x_2 + b \\ &= {w[0]:.2f}\cdot{x[0]:.2f} + ({w[1]:.2f})"
                 rf"\cdot({x[1]:.2f}) + ({bias:.2f}) = {z:.2f} \end{{aligned}}")
        st.latex(rf"f(z) = {output:.3f}")


SOFTMAX_CLASSES = ("3", "5", "8")  # three digits a network often confuses


def softmax_section() -> None:
    left, right = section(
        _("Softmax and cross-entropy, for more than two classes"),
        _("With several classes the network outputs one score per class, a *logit*. Softmax turns the scores "
          "into probabilities that add up to 1, and the loss is minus the log of the true class's probability.")
    )
    with left:
        columns = st.columns(3)
        logits = [column.slider(_("Logit of {name}").format(name=name), -5.0, 5.0, value, 0.1,
                                key=f"home_softmax_{name}")
                  for column, name, value in zip(columns, SOFTMAX_CLASSES, (2.0, 1.0, -1.0), strict=True)]
        label = st.segmented_control(_("True class $y$"), range(len(SOFTMAX_CLASSES)), default=0, required=True,
                                     format_func=lambda k: SOFTMAX_CLASSES[k], key="home_softmax_label")
        probabilities = theory.softmax(logits)
        loss = theory.cross_entropy(logits, label)
        st.caption(_("Only differences between logits matter: adding the same number to all three changes nothing. "
                     "The attacks on the Attack page climb this loss for a digit's true class."))
    with right:
        st.plotly_chart(plots.softmax_figure(logits, probabilities, SOFTMAX_CLASSES, label),
                        key="home_softmax_figure", **CHART)
        st.latex(r"\mathrm{softmax}(z)_k = \frac{e^{z_k}}{\sum_j e^{z_j}}")
        st.latex(rf"L = -\log \mathrm{{softmax}}(z)_y = -\log {probabilities[label]:.3f} = {loss:.3f}")


# A 2-2-1 network small enough to follow by hand; the student steps it with gradient descent.
BACKPROP_X = (1.0, 0.5)
BACKPROP_START = {"w1": ((0.5, -0.3), (0.8, 0.2)), "b1": (0.0, 0.1), "w2": (1.0, -1.2), "b2": 0.2}
BACKPROP_KEY = "home_backprop_weights"


def _backprop_step(rate: float, y: float) -> None:
    weights = st.session_state[BACKPROP_KEY]
    step = theory.backprop_221(BACKPROP_X, y, **weights)
    st.session_state[BACKPROP_KEY] = {"w1": step.w1 - rate * step.dw1, "b1": step.b1 - rate * step.db1,
                                      "w2": step.w2 - rate * step.dw2, "b2": step.b2 - rate * step.db2}
    st.session_state["home_backprop_steps"] = st.session_state.get("home_backprop_steps", 0) + 1


def _backprop_reset() -> None:
    st.session_state[BACKPROP_KEY] = dict(BACKPROP_START)
    st.session_state["home_backprop_steps"] = 0


def _vector(values) -> str:
    return r"\begin{bmatrix}" + r"\\".join(f"{v:+.3f}" for v in values) + r"\end{bmatrix}"


def backprop_section() -> None:
    st.session_state.setdefault(BACKPROP_KEY, dict(BACKPROP_START))
    left, right = section(
        _("Backpropagation: the chain rule, step by step"),
        _("To learn, the network needs to know how much each weight is to blame for the loss. Backpropagation "
          "works that out from the output back to the input, multiplying one local slope per layer.")
    )
    with left:
        y = st.segmented_control(_("True label $y$"), [1, 0], default=1, required=True, key="home_backprop_y")
        rate = st.slider(_("Learning rate $\\alpha$"), 0.1, 5.0, 1.0, 0.1, key="home_backprop_rate")
        buttons = st.columns(2)
        buttons[0].button(_("Take one step"), icon=":material/skip_next:", on_click=_backprop_step, args=(rate, y),
                          key="home_backprop_go", width="stretch")
        buttons[1].button(_("Reset"), icon=":material/restart_alt:", on_click=_backprop_reset,
                          key="home_backprop_reset", width="stretch")
        step = theory.backprop_221(BACKPROP_X, y, **st.session_state[BACKPROP_KEY])
        st.caption(_("Steps taken: {steps}. Each step moves every weight against its gradient, so the loss on this "
                     "example falls.").format(steps=st.session_state.get("home_backprop_steps", 0)))
    with right:
        st.plotly_chart(plots.backprop_figure(step), key="home_backprop_figure", **CHART)
    forward, backward = st.columns(2, gap="large")
    with forward:
        st.markdown(_("**Forward pass**, input to output"))
        st.latex(rf"z^{{(1)}} = W_1 x + b_1 = {_vector(step.z1)}")
        st.latex(rf"h = \sigma(z^{{(1)}}) = {_vector(step.h)}")
        st.latex(rf"z^{{(2)}} = w_2 \cdot h + b_2 = {step.z2:+.3f}")
        st.latex(rf"p = \sigma(z^{{(2)}}) = {step.p:.3f}")
        st.latex(rf"L = -[y \log p + (1 - y)\log(1 - p)] = {step.loss:.3f}")
    with backward:
        st.markdown(_("**Backward pass**, output to input: each line reuses the one above"))
        dz2, dz1 = r"\frac{\partial L}{\partial z^{(2)}}", r"\frac{\partial L}{\partial z^{(1)}}"
        dh = r"\frac{\partial L}{\partial h}"
        st.latex(rf"{dz2} = p - y = {step.dz2:+.3f}")
        st.latex(rf"\frac{{\partial L}}{{\partial w_2}} = {dz2}\, h = {_vector(step.dw2)}")
        st.latex(rf"{dh} = {dz2}\, w_2 = {_vector(step.dh)}")
        st.latex(rf"{dz1} = {dh} \odot \sigma'(z^{{(1)}}) = {_vector(step.dz1)}")
        st.latex(rf"\frac{{\partial L}}{{\partial W_1}} = {dz1}\, x^\top, \quad x = {_vector(step.x)}")


BRAIN_COMPARISON = {
    "": [N_("What it does"), N_("Where the analogy holds"), N_("Where it breaks")],
    N_("Biological neuron"): [
        N_("Dendrites collect signals from thousands of synapses; the cell fires a spike when its membrane voltage "
           "crosses a threshold."),
        N_("Synapses are stronger or weaker, excitatory or inhibitory, like weights of either sign; firing depends "
           "on the summed input."),
        N_("It speaks in spikes over time, not numbers; it learns by local rules (no known backpropagation), and "
           "one neuron's dendrites already compute non-linear functions."),
    ],
    N_("Artificial neuron"): [
        N_("Multiplies each input by a weight, adds a bias and passes the sum through an activation."),
        N_("The activation plays the threshold's part, and a layer of neurons is a population responding to one "
           "input."),
        N_("It is a single formula trained by gradient descent on the whole network's error, which brains are not "
           "known to compute."),
    ],
}


def brain_section() -> None:
    st.subheader(_("A biological neuron and an artificial one"))
    st.markdown(_("The artificial neuron was inspired by the biological one (McCulloch and Pitts, 1943), but it is a "
                  "sketch of it, not a model: compare them honestly."))
    st.table({_(column): [_(cell) for cell in cells] for column, cells in BRAIN_COMPARISON.items()}, hide_index=True)


def activations_section() -> None:
    left, right = section(
        _("Activation functions"),
        _("Each neuron takes a weighted sum of its inputs, $z = w^\\top x + b$, and passes it through a "
          "non-linear activation. Without one, any stack of layers collapses into a single linear map.")
    )
    with left:
        name = st.segmented_control(
            _("Activation"),
            list(theory.ACTIVATIONS),
            default="sigmoid",
            required=True,
            format_func=lambda key: theory.ACTIVATIONS[key].name,
            key="home_activation",
        )
        show_derivative = st.toggle(_("Show the derivative"), value=True, key="home_activation_derivative")
        activation = theory.get_activation(name)
        st.latex(activation.formula)
        if show_derivative:
            st.latex(activation.derivative_formula)
        st.caption(_(
            "Backpropagation multiplies these derivatives layer by layer. Where they are near zero the "
            "gradient vanishes and learning stalls: sigmoid and tanh saturate for large $|x|$, and ReLU is "
            "flat for every negative input."
        ))
    x, y, dy = theory.activation_curve(name, x_min=-6.0, x_max=6.0)
    right.plotly_chart(plots.activation_figure(x, y, dy if show_derivative else None, name=activation.name), **CHART)


def losses_section() -> None:
    left, right = section(
        _("Loss functions"),
        _("The loss scores one prediction against the true label $y$. The network outputs a logit $z$; "
          "the predicted probability of class 1 is $p = \\sigma(z)$. Training lowers the loss; an attack "
          "raises it.")
    )
    with left:
        for loss in theory.LOSSES.values():
            st.latex(loss.formula)
        target = st.segmented_control(_("True label $y$"), [1, 0], default=1, required=True, key="home_loss_target")
        axis_names = {"probability": _("probability p"), "logit": _("logit z")}
        over = st.segmented_control(
            _("Plot against"),
            list(theory.LOSS_AXES),
            default="probability",
            required=True,
            format_func=axis_names.get,
            key="home_loss_axis",
        )
        p_wrong = theory.confidently_wrong(target=target)
        costs = {key: float(loss.of_probability(p_wrong, target)) for key, loss in theory.LOSSES.items()}
        st.markdown(
            # The percentage goes in through a gap: "99 % s" would read to gettext as a %-format placeholder.
            _("A prediction {confidence} sure of the wrong class ($p = {p:.2f}$ for $y = {y}$) costs **{mse:.2f}** "
              "in squared error but **{cross_entropy:.2f}** in cross-entropy.")
            .format(confidence="99 %", p=p_wrong, y=target, mse=costs["mse"], cross_entropy=costs["cross_entropy"])
        )
        st.caption(_(
            "Squared error can never exceed 1, so it flattens out (and its gradient fades) exactly where "
            "the model is most wrong. Cross-entropy grows without bound, linearly in the logit, so "
            "confident mistakes are punished hardest. The attacks later climb this same cross-entropy."
        ))
    x, curves = theory.loss_curves(target=target, over=over)
    right.plotly_chart(
        plots.loss_figure(
            x,
            {_(theory.LOSSES[key].name): values for key, values in curves.items()},
            x_title=_("predicted probability p") if over == "probability" else _("logit z"),
            highlight_x=theory.confidently_wrong(target=target, over=over),
            highlight_y={_(theory.LOSSES[key].name): cost for key, cost in costs.items()},
            highlight_label=_("{confidence} sure, wrong").format(confidence="99 %"),
        ),
        **CHART,
    )


def gradient_descent_section() -> None:
    st.subheader(_("Gradient descent"))
    # Wider plot column than the other sections: this figure has two panels.
    left, right = st.columns([1, 2], gap="large")
    with left:
        st.markdown(_(
            "Training repeats one update: step each weight a little way downhill, against the gradient "
            "of the loss. The learning rate $\\alpha$ sets the step length."
        ))
        st.latex(r"w \leftarrow w - \alpha \, \frac{\partial L}{\partial w}")
        surface_key = st.segmented_control(
            _("Loss surface"),
            list(theory.SURFACES),
            default="quadratic",
            required=True,
            format_func=lambda key: _(theory.SURFACES[key].name),
            key="home_gd_surface",
        )
        surface = theory.get_surface(surface_key)
        st.latex(surface.formula)
        alpha = st.slider(_("Learning rate $\\alpha$"), 0.01, 1.1, 0.1, 0.01, key="home_gd_alpha")
        steps = st.slider(_("Steps"), 1, 50, 20, key="home_gd_steps")
        trajectory = theory.gradient_descent(surface_key, learning_rate=alpha, steps=steps)
        regime = theory.regime(surface_key, alpha)
        factors = ", ".join(f"{r:.2f}" for r in theory.step_factors(surface_key, alpha))
        message = _(
            "{headline} Each step multiplies the distance to the minimum by $r = 1 - 2\\alpha c$ per weight, "
            "where $c$ is the number in front of that weight's square in $L(w)$ (its curvature): $r = {factors}$. "
            "$|r| < 1$ converges, $r < 0$ overshoots to the other side, $|r| > 1$ diverges."
        ).format(headline=_(REGIME_HEADLINE[regime]).format(alpha=alpha), factors=factors)
        if trajectory.diverged:
            taken = len(trajectory.losses) - 1
            message = ngettext("{message} Stopped after {n} step: the loss passed $10^{{12}}$.",
                               "{message} Stopped after {n} steps: the loss passed $10^{{12}}$.",
                               taken).format(message=message, n=taken)
        REGIME_BOX[regime](message)
    axes, landscape = theory.surface_landscape(surface_key, trajectory.weights)
    right.plotly_chart(plots.gradient_descent_figure(axes, landscape, trajectory.weights, trajectory.losses), **CHART)


def closing() -> None:
    st.markdown(_(
        "**Same gradient, two uses.** Training moves the *weights* down the loss; an adversarial attack "
        "such as FGSM moves the *input* up it, by a step $\\varepsilon$ too small to see:"
    ))
    st.latex(
        r"w \leftarrow w - \alpha\,\nabla_{w} L(w; x, y)"
        r"\qquad\qquad x' = x + \varepsilon \cdot \operatorname{sign}\bigl(\nabla_{x} L(w; x, y)\bigr)"
    )


intro()
st.divider()
st.header(_("The theory"))
neuron_section()
st.divider()
activations_section()
st.divider()
losses_section()
st.divider()
softmax_section()
st.divider()
backprop_section()
st.divider()
gradient_descent_section()
st.divider()
brain_section()
st.divider()
closing()
