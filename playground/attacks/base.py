"""What every attack shares: parameter declarations, the registry, argument checks and the gradient step.

Attacks are pure functions with one signature, ``attack(model, x, y=None, *, eps, ..., clip=(0.0, 1.0))``,
over NumPy arrays (batch first; images NHWC in [0, 1]). They never modify ``x``. Gradients are taken from
the model's logits. ``y=None`` attacks the model's own predictions, which avoids label leaking
(Kurakin et al. 2017). Each attack declares its parameters once, and the UI builds its controls from that.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from playground.compiled import per_model

# The step core, re-exported: every attack steps through base.
from playground.gradient_steps import normalized_step as normalized_step
from playground.gradient_steps import project as project
from playground.gradient_steps import projected_step as projected_step
from playground.i18n import N_

NORMS = ("inf", "2")
NORM_LABELS = {"inf": "L∞", "2": "L2"}


@dataclass(frozen=True)
class Param:
    """One tunable parameter of an attack, as the UI shows it.

    ``label`` is what a student reads: plain words, with the paper's symbol after them ("Perturbation size ε").
    ``name`` is the keyword the attack function takes. A number whose ``default`` is None follows the other
    settings unless it is set; ``auto`` says how (e.g. the step size follows ε: "2.5·ε/steps"), and
    ``min``/``max`` bound the values it may be set to.
    """

    name: str
    default: float | int | bool | str | None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    help: str = ""
    choices: tuple[str, ...] = ()
    auto: str = ""
    label: str = field(kw_only=True)

    def choice_label(self, choice: str) -> str:
        """What the UI shows for one of ``choices`` (a norm's symbol; any other choice as it is)."""
        return NORM_LABELS.get(choice, choice) if self.name == "norm" else choice

    def check(self, value: object) -> None:
        """Raises ValueError unless ``value`` is a finite number in ``[min, max]`` (a whole one if the default is)."""
        if isinstance(self.default, int) and not isinstance(self.default, bool):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not self.min <= value <= self.max:
                raise ValueError(
                    f"Expected {self.name} an integer in [{self.min:g}, {self.max:g}]. Received: {self.name}={value!r}"
                )
        elif (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
            or not self.min <= value <= self.max
        ):
            raise ValueError(f"Expected {self.name} in [{self.min:g}, {self.max:g}]. Received: {self.name}={value!r}")


@dataclass(frozen=True)
class AttackSpec:
    """A registered attack: the function, its declared parameters and where it comes from."""

    name: str
    label: str
    fn: Callable[..., np.ndarray]
    params: tuple[Param, ...]
    summary: str
    reference: str
    fixed_norm: str | None = None  # the budget's norm for an attack without a norm parameter (C&W L2)
    # The most images per call, where one call takes minutes (AutoAttack): progress and Stop come between calls.
    max_batch: int | None = None

    def batch(self, batch_size: int) -> int:
        """Images per call for a caller that would attack ``batch_size`` at a time."""
        return min(batch_size, self.max_batch or batch_size)

    def defaults(self) -> dict[str, object]:
        return {p.name: p.default for p in self.params}

    def budget_norm(self, params: dict | None = None) -> str:
        """The norm that ``eps`` is measured in, with ``params`` applied: ``"inf"`` or ``"2"``."""
        norm = (self.defaults() | (params or {})).get("norm", self.fixed_norm)
        if norm not in NORMS:
            raise ValueError(f"Expected {self.name}'s norm in {NORMS}. Received: norm={norm!r}")
        return str(norm)

    def __call__(self, model: keras.Model, x: np.ndarray, y: np.ndarray | None = None, **params) -> np.ndarray:
        return self.fn(model, x, y, **(self.defaults() | params))

    def __repr__(self) -> str:
        args = ", ".join(f"{p.name}={p.default!r}" for p in self.params)
        return f"{self.label}({args})"


_REGISTRY: dict[str, AttackSpec] = {}


def register(spec: AttackSpec) -> AttackSpec:
    _REGISTRY[spec.name] = spec
    return spec


def get(name: str) -> AttackSpec:
    """The registered attack called ``name``.

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    if name not in _REGISTRY:
        raise ValueError(f"Expected an attack name in {names()}. Received: name={name!r}")
    return _REGISTRY[name]


def names() -> list[str]:
    return list(_REGISTRY)


def check_inputs(
    x: np.ndarray, y: np.ndarray | None, *, eps: float, norm: str, clip: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray | None]:
    """Validates the arguments every attack takes; returns float32 copies of ``x`` and int ``y``.

    Raises:
        ValueError: naming the argument, what was expected and what was received.
    """
    if norm not in NORMS:
        raise ValueError(f"Expected norm in {NORMS}. Received: norm={norm!r}")
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"Expected eps >= 0. Received: eps={eps}")
    if len(clip) != 2 or not clip[0] < clip[1]:
        raise ValueError(f"Expected clip=(low, high) with low < high. Received: clip={clip}")
    x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"Expected a non-empty batch x of rank >= 2. Received: shape={x.shape}")
    x = x.astype(np.float32, copy=True)
    if not np.all(np.isfinite(x)):
        raise ValueError("Expected finite values in x. Received: NaN or infinity")
    if x.min() < clip[0] - 1e-6 or x.max() > clip[1] + 1e-6:
        raise ValueError(f"Expected x within clip={clip}. Received: range [{x.min():g}, {x.max():g}]")
    if y is not None:
        y = np.asarray(y)
        if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"Expected y as {len(x)} integer labels. Received: shape={y.shape}, dtype={y.dtype}")
        y = y.astype(np.int64)
    return x, y


def check_targeted(y: np.ndarray | None, targeted: bool) -> None:
    """Checks the ``targeted`` flag; a targeted attack needs its target classes in ``y``.

    Raises:
        ValueError: if ``targeted`` is not a bool, or is True while ``y`` is None.
    """
    if not isinstance(targeted, bool | np.bool_):
        raise ValueError(f"Expected targeted to be True or False. Received: targeted={targeted!r}")
    if targeted and y is None:
        raise ValueError("Expected y to hold the target classes when targeted=True. Received: y=None")


STEP_FACTOR = 2.5  # Madry et al. 2018: steps of 2.5·ε/steps reach the ball's edge from anywhere inside it


def step_schedule(*, eps: float, step_size: float | None, steps: int) -> float:
    """The step size of an iterative attack: ``step_size``, or 2.5·ε/steps for None, so that every ε is reached.

    Raises:
        ValueError: unless ``step_size`` is None or finite and > 0, and ``steps`` is an integer >= 1.
    """
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"Expected an integer steps >= 1. Received: steps={steps!r}")
    if step_size is None:
        return STEP_FACTOR * float(eps) / int(steps)
    if not isinstance(step_size, numbers.Real) or not np.isfinite(step_size) or step_size <= 0:
        raise ValueError(f"Expected step_size None (2.5·ε/steps) or finite and > 0. Received: step_size={step_size!r}")
    return float(step_size)


EPS = Param(
    "eps",
    0.1,
    min=0.0,
    max=0.5,
    step=0.005,
    help=N_("The budget: how far each pixel may move in total (L∞). For L2, budgets are larger, ~1-3 on MNIST."),
    label=N_("Perturbation size ε"),
)
NORM = Param("norm", "inf", help=N_("How the size of the perturbation is measured."), choices=NORMS, label=N_("Norm"))
STEP_SIZE = Param(
    "step_size",
    None,
    min=0.001,
    max=0.1,
    step=0.001,
    help=N_("How far each step moves. By default 2.5·ε/steps (Madry et al. 2018), so the steps can reach the edge "
            "of any ε-ball; a fixed small step cannot reach a large ε."),
    auto=N_("2.5·ε/steps"),
    label=N_("Step size α"),
)


def check_seed(seed: int | None) -> None:
    """Raises ValueError unless ``seed`` is None or an integer >= 0."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"Expected seed None or an integer >= 0. Received: seed={seed!r}")


def resolve_seed(seed: int | None) -> int:
    """``seed`` checked, or a fresh one for None, drawn from a private generator: seed=None must not read or
    advance any global random state."""
    check_seed(seed)
    return int(np.random.default_rng().integers(2**62)) if seed is None else int(seed)


def has_softmax_output(model: keras.Model) -> bool:
    """Whether ``model`` outputs probabilities (a softmax) instead of logits.

    Read from the layer that makes the output, looking inside nested models: a ``Softmax`` layer, or any layer
    whose activation is the softmax (``Dense(activation="softmax")``, ``Activation("softmax")``). It runs no
    forward pass, so it costs a black-box attack no query (Square counts every one).
    """
    layer = model
    while isinstance(layer, keras.Model) and getattr(layer, "layers", None):
        layer = layer.layers[-1]
    activation = getattr(layer, "activation", None)
    return isinstance(layer, keras.layers.Softmax) or getattr(activation, "__name__", "") == "softmax"


def check_model(model: keras.Model, y: np.ndarray | None) -> None:
    """Warns if ``model`` ends in a softmax; raises if a label in ``y`` is not one of its classes.

    Attacks differentiate the cross-entropy of logits. On probabilities the softmax is applied twice, which
    flattens the gradient: the attack then looks weaker than it is, so the user is told rather than misled.
    Models without declared outputs (subclassed, unbuilt) skip both checks.

    Raises:
        ValueError: if ``y`` holds a class index outside ``[0, number of model outputs)``.
    """
    if has_softmax_output(model):
        warnings.warn(
            f"The model {model.name!r} outputs probabilities (a softmax), but attacks expect logits; gradients "
            "of the doubly-softmaxed loss are flattened and the attack will look weaker than it is.",
            stacklevel=3,
        )
    outputs = getattr(model, "outputs", None)
    if y is None or not outputs or outputs[0].shape[-1] is None:
        return
    n_classes = int(outputs[0].shape[-1])
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(
            f"Expected labels y in [0, {n_classes}) for a model with {n_classes} outputs. "
            f"Received: y in [{y.min()}, {y.max()}]"
        )


def labels_or_predictions(model: keras.Model, x: tf.Tensor, y: np.ndarray | None) -> tf.Tensor:
    """The labels to attack: ``y`` if given, else the model's own predictions (no label leaking)."""
    if y is not None:
        return tf.constant(y, tf.int64)
    return tf.argmax(logits_of(model, x), axis=-1)


@per_model
def logits_of(model, x):
    return model(x, training=False)


@per_model
def loss_gradient(model, x, y):
    """Per-example gradient of the cross-entropy on the logits, and the per-example loss."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=model(x, training=False))
    return tape.gradient(loss, x), loss


