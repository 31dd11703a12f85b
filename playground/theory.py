"""The theory behind training, as plain NumPy: one neuron, activations, losses, softmax and cross-entropy,
backpropagation through a 2-2-1 network, and gradient descent.

The Home page draws these curves on every rerun, so this module stays pure NumPy: importing TensorFlow here
would cost seconds before the first paint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from playground.i18n import N_

# Loss values beyond this are called divergence; stopping there keeps float64 finite and plots readable.
DIVERGENCE_LOSS = 1e12
MAX_STEPS = 1000
MAX_POINTS = 100_000


# --------------------------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """An activation function and its derivative, both elementwise over arrays.

    Attributes:
        name: Display name.
        formula: LaTeX of the function.
        derivative_formula: LaTeX of its derivative.
        output: The function itself.
        derivative: Its derivative with respect to the input.
    """

    name: str
    formula: str
    derivative_formula: str
    output: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray], np.ndarray]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid 1 / (1 + e^-x), computed without overflow for large |x|."""
    x = np.asarray(x, dtype=np.float64)
    # exp(-|x|) never overflows; the two branches are the same function rearranged.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_derivative(x: np.ndarray) -> np.ndarray:
    """Derivative of the sigmoid, sigma(x)(1 - sigma(x))."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent."""
    return np.tanh(np.asarray(x, dtype=np.float64))


def tanh_derivative(x: np.ndarray) -> np.ndarray:
    """Derivative of tanh, 1 - tanh^2(x)."""
    return 1.0 - tanh(x) ** 2


def relu(x: np.ndarray) -> np.ndarray:
    """Rectified linear unit max(0, x)."""
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def relu_derivative(x: np.ndarray) -> np.ndarray:
    """Derivative of ReLU: 1 for x > 0, else 0 (the convention at x = 0, as in Keras and TF Playground)."""
    return (np.asarray(x, dtype=np.float64) > 0).astype(np.float64)


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(
        name="Sigmoid",
        formula=r"\sigma(x) = \frac{1}{1 + e^{-x}}",
        derivative_formula=r"\sigma'(x) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr)",
        output=sigmoid,
        derivative=sigmoid_derivative,
    ),
    "tanh": Activation(
        name="Tanh",
        formula=r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
        derivative_formula=r"\tanh'(x) = 1 - \tanh^2(x)",
        output=tanh,
        derivative=tanh_derivative,
    ),
    "relu": Activation(
        name="ReLU",
        formula=r"\mathrm{ReLU}(x) = \max(0,\, x)",
        derivative_formula=r"\mathrm{ReLU}'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}",
        output=relu,
        derivative=relu_derivative,
    ),
}


def get_activation(name: str) -> Activation:
    """Look up an activation in `ACTIVATIONS`.

    Args:
        name: A key of `ACTIVATIONS`, e.g. "relu".

    Returns:
        The registered `Activation`.

    Raises:
        ValueError: If the name is not registered.
    """
    return ACTIVATIONS[_check_choice("name", name, ACTIVATIONS)]


def activation_curve(
    name: str, *, x_min: float = -5.0, x_max: float = 5.0, num: int = 201
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample an activation and its derivative on an even grid.

    Args:
        name: A key of `ACTIVATIONS`.
        x_min: Left end of the grid.
        x_max: Right end of the grid; must exceed `x_min`.
        num: Number of grid points, at least 2.

    Returns:
        `(x, y, dy)`: the grid, the activation and its derivative, each of shape `(num,)`.

    Raises:
        ValueError: On an unknown name or an empty or inverted grid.

    Example:
        >>> x, y, dy = activation_curve("tanh", num=5)
    """
    activation = get_activation(name)
    x = _grid("x", x_min, x_max, num)
    return x, activation.output(x), activation.derivative(x)


# --------------------------------------------------------------------------------------------------------
# Losses for one binary prediction
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loss:
    """A loss for one binary prediction, written both over the probability p and over the logit z.

    Attributes:
        name: Display name (marked for translation: show it with ``_()``).
        formula: LaTeX of the loss for a target y and a predicted probability p.
        of_probability: `(p, target) -> loss`, p in [0, 1].
        of_logit: `(z, target) -> loss` with p = sigma(z).
    """

    name: str
    formula: str
    of_probability: Callable[[np.ndarray, float], np.ndarray]
    of_logit: Callable[[np.ndarray, float], np.ndarray]


# Cross-entropy is infinite at a certain wrong p; clipping keeps it finite, like Keras' epsilon.
_PROBABILITY_EPS = 1e-7


def mse(p: np.ndarray, target: float) -> np.ndarray:
    """Squared error (y - p)^2 of a predicted probability; it never exceeds 1 for p, y in [0, 1]."""
    target = _check_target(target)
    return (target - np.asarray(p, dtype=np.float64)) ** 2


def binary_cross_entropy(p: np.ndarray, target: float) -> np.ndarray:
    """Binary cross-entropy -(y log p + (1 - y) log(1 - p)), with p clipped to [1e-7, 1 - 1e-7]."""
    target = _check_target(target)
    p = np.clip(np.asarray(p, dtype=np.float64), _PROBABILITY_EPS, 1.0 - _PROBABILITY_EPS)
    return -(target * np.log(p) + (1.0 - target) * np.log1p(-p))


def mse_of_logit(z: np.ndarray, target: float) -> np.ndarray:
    """Squared error of sigma(z): it saturates as the logit moves far to the wrong side."""
    return mse(sigmoid(z), target)


def binary_cross_entropy_of_logit(z: np.ndarray, target: float) -> np.ndarray:
    """Cross-entropy straight from the logit, max(z, 0) - z*y + log(1 + e^-|z|): exact for any z."""
    target = _check_target(target)
    z = np.asarray(z, dtype=np.float64)
    return np.maximum(z, 0.0) - z * target + np.log1p(np.exp(-np.abs(z)))


LOSSES: dict[str, Loss] = {
    "mse": Loss(
        name=N_("Mean squared error"),
        formula=r"L_{\mathrm{MSE}} = (y - p)^2",
        of_probability=mse,
        of_logit=mse_of_logit,
    ),
    "cross_entropy": Loss(
        name=N_("Cross-entropy"),
        formula=r"L_{\mathrm{CE}} = -y \log p - (1 - y)\log(1 - p)",
        of_probability=binary_cross_entropy,
        of_logit=binary_cross_entropy_of_logit,
    ),
}

LOSS_AXES = ("probability", "logit")


def loss_curves(
    *, target: float, over: str = "probability", num: int = 401, logit_range: float = 8.0
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every registered loss for one target, over the predicted probability or the logit.

    Args:
        target: The true label y, in [0, 1] (0 and 1 are the usual classes).
        over: "probability" samples p in [0.001, 0.999]; "logit" samples z in [-logit_range, logit_range].
        num: Number of grid points, at least 2.
        logit_range: Half-width of the logit grid; must be > 0.

    Returns:
        `(x, curves)`: the grid and a dict from loss key to loss values, each of shape `(num,)`.

    Raises:
        ValueError: On a target outside [0, 1], an unknown axis or a bad grid.

    Example:
        >>> p, curves = loss_curves(target=1)
        >>> bool(curves["cross_entropy"][0] > curves["mse"][0])  # confident and wrong
        True
    """
    target = _check_target(target)
    over = _check_choice("over", over, LOSS_AXES)
    if over == "probability":
        # The ends are left out: cross-entropy is infinite at a certain wrong answer.
        x = _grid("p", 1e-3, 1.0 - 1e-3, num)
        return x, {key: loss.of_probability(x, target) for key, loss in LOSSES.items()}
    if not logit_range > 0:
        raise ValueError(f"Expected logit_range > 0. Received: logit_range={logit_range}")
    x = _grid("z", -logit_range, logit_range, num)
    return x, {key: loss.of_logit(x, target) for key, loss in LOSSES.items()}


def confidently_wrong(*, target: float, over: str = "probability", confidence: float = 0.99) -> float:
    """Where a prediction sits that is `confidence` sure of the class opposite to the target.

    Args:
        target: The true label y, in [0, 1]; the wrong class is the one further from it.
        over: "probability" returns p, "logit" returns z = log(p / (1 - p)).
        confidence: How sure the wrong prediction is, in (0.5, 1).

    Returns:
        The probability or logit of that prediction.

    Raises:
        ValueError: On a target outside [0, 1], an unknown axis or a confidence outside (0.5, 1).

    Example:
        >>> round(confidently_wrong(target=1), 6)
        0.01
    """
    target = _check_target(target)
    over = _check_choice("over", over, LOSS_AXES)
    if not 0.5 < confidence < 1.0:
        raise ValueError(f"Expected confidence in (0.5, 1). Received: confidence={confidence}")
    p = 1.0 - confidence if target >= 0.5 else confidence
    return p if over == "probability" else float(np.log(p / (1.0 - p)))


# --------------------------------------------------------------------------------------------------------
# One neuron; softmax and cross-entropy; backpropagation through a 2-2-1 network
# --------------------------------------------------------------------------------------------------------


def neuron(inputs: Sequence[float], weights: Sequence[float], bias: float, activation: str) -> tuple[float, float]:
    """One artificial neuron: the weighted sum ``z = w · x + b`` and its activation; returns ``(z, output)``."""
    x, w = np.asarray(inputs, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    if x.shape != w.shape or x.ndim != 1:
        raise ValueError(f"Expected as many weights as inputs. Received: inputs={x.shape}, weights={w.shape}")
    z = float(x @ w + bias)
    return z, float(get_activation(activation).output(np.asarray(z)))


def softmax(logits: Sequence[float]) -> np.ndarray:
    """Probabilities ``e^{z_k} / sum_j e^{z_j}``, computed after subtracting the largest logit (no overflow)."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def cross_entropy(logits: Sequence[float], label: int) -> float:
    """Multi-class cross-entropy ``-log softmax(z)_y`` of one prediction, via log-sum-exp (finite for any logits)."""
    z = np.asarray(logits, dtype=np.float64)
    if not 0 <= label < len(z):
        raise ValueError(f"Expected a label in [0, {len(z) - 1}]. Received: label={label}")
    top = z.max()
    return float(top + np.log(np.exp(z - top).sum()) - z[label])


@dataclass(frozen=True)
class Backprop:
    """One forward and backward pass of a 2-2-1 network: sigmoid hidden layer, sigmoid output, binary
    cross-entropy. Every intermediate value is kept so that a page can show the chain rule step by step.

    Forward: ``z1 = W1 x + b1``, ``h = sigmoid(z1)``, ``z2 = w2 · h + b2``, ``p = sigmoid(z2)``,
    ``loss = -[y log p + (1 - y) log(1 - p)]``. Backward, by the chain rule: ``dz2 = p - y``,
    ``dw2 = dz2 h``, ``db2 = dz2``, ``dh = dz2 w2``, ``dz1 = dh sigmoid'(z1)``, ``dW1 = dz1 x^T``, ``db1 = dz1``.
    """

    x: np.ndarray  # (2,)
    y: float
    w1: np.ndarray  # (2, 2): row j holds hidden neuron j's weights
    b1: np.ndarray  # (2,)
    w2: np.ndarray  # (2,)
    b2: float
    z1: np.ndarray
    h: np.ndarray
    z2: float
    p: float
    loss: float
    dz2: float
    dw2: np.ndarray
    db2: float
    dh: np.ndarray
    dz1: np.ndarray
    dw1: np.ndarray
    db1: np.ndarray


def backprop_221(x: Sequence[float], y: float, w1, b1, w2, b2: float) -> Backprop:
    """The forward pass, the loss and every gradient of the 2-2-1 network in ``Backprop``.

    Example:
        >>> step = backprop_221([1.0, 0.5], 1.0, [[0.5, -0.3], [0.8, 0.2]], [0.0, 0.1], [1.0, -1.2], 0.2)
        >>> step.dw1.shape
        (2, 2)
    """
    x, w1, b1, w2 = (np.asarray(v, dtype=np.float64) for v in (x, w1, b1, w2))
    if x.shape != (2,) or w1.shape != (2, 2) or b1.shape != (2,) or w2.shape != (2,):
        raise ValueError(f"Expected a 2-2-1 network. Received: x={x.shape}, w1={w1.shape}, b1={b1.shape}, "
                         f"w2={w2.shape}")
    y = float(_check_target(y))
    z1 = w1 @ x + b1
    h = sigmoid(z1)
    z2 = float(w2 @ h + b2)
    p = float(sigmoid(np.asarray(z2)))
    loss = float(binary_cross_entropy_of_logit(np.asarray(z2), y))
    dz2 = p - y  # d loss / d z2 for a sigmoid output with cross-entropy: the two derivatives cancel to this
    dh = dz2 * w2
    dz1 = dh * sigmoid_derivative(z1)
    return Backprop(x=x, y=y, w1=w1, b1=b1, w2=w2, b2=float(b2), z1=z1, h=h, z2=z2, p=p, loss=loss, dz2=dz2,
                    dw2=dz2 * h, db2=dz2, dh=dh, dz1=dz1, dw1=np.outer(dz1, x), db1=dz1)


# --------------------------------------------------------------------------------------------------------
# Gradient descent on a quadratic bowl
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Surface:
    """A quadratic loss surface L(w) = sum_i c_i (w_i - m_i)^2, the simplest place to watch gradient descent.

    Attributes:
        name: Display name (marked for translation: show it with ``_()``).
        formula: LaTeX of L(w).
        center: The minimum m, shape `(dim,)`.
        curvature: The positive weights c, shape `(dim,)`; plain descent diverges once alpha > 1 / max(c).
        start: A default starting point, shape `(dim,)`.
    """

    name: str
    formula: str
    center: tuple[float, ...]
    curvature: tuple[float, ...]
    start: tuple[float, ...]

    @property
    def dim(self) -> int:
        """Number of weights."""
        return len(self.center)

    def loss(self, w: np.ndarray) -> np.ndarray:
        """L(w) for points of shape `(..., dim)`; returns shape `(...)`."""
        w = np.asarray(w, dtype=np.float64)
        return np.sum(np.asarray(self.curvature) * (w - np.asarray(self.center)) ** 2, axis=-1)

    def gradient(self, w: np.ndarray) -> np.ndarray:
        """dL/dw for points of shape `(..., dim)`; returns the same shape."""
        w = np.asarray(w, dtype=np.float64)
        return 2.0 * np.asarray(self.curvature) * (w - np.asarray(self.center))


SURFACES: dict[str, Surface] = {
    "quadratic": Surface(
        name=N_("1-D quadratic"),
        formula=r"L(w) = (w - 2)^2",
        center=(2.0,),
        curvature=(1.0,),
        start=(-2.0,),
    ),
    # Twice as steep along w2: that direction alone sets the largest stable alpha, and zig-zags first.
    "bowl": Surface(
        name=N_("2-D bowl"),
        formula=r"L(w) = (w_1 - 2)^2 + 2\,(w_2 + 1)^2",
        center=(2.0, -1.0),
        curvature=(1.0, 2.0),
        start=(-2.0, 1.5),
    ),
}


@dataclass(frozen=True)
class Trajectory:
    """The iterates of gradient descent.

    Attributes:
        weights: Iterates w_0 ... w_T, shape `(T + 1, dim)`.
        losses: L(w_t), shape `(T + 1,)`.
        diverged: True if the run stopped early because the loss exceeded `DIVERGENCE_LOSS`.
    """

    weights: np.ndarray
    losses: np.ndarray
    diverged: bool


def get_surface(name: str) -> Surface:
    """Look up a loss surface in `SURFACES`.

    Args:
        name: A key of `SURFACES`, e.g. "quadratic".

    Returns:
        The registered `Surface`.

    Raises:
        ValueError: If the name is not registered.
    """
    return SURFACES[_check_choice("name", name, SURFACES)]


def gradient_descent(
    surface: str = "quadratic",
    *,
    learning_rate: float,
    steps: int,
    start: Sequence[float] | np.ndarray | None = None,
) -> Trajectory:
    """Run plain gradient descent w <- w - alpha * dL/dw on a registered surface.

    Args:
        surface: A key of `SURFACES`.
        learning_rate: The step size alpha, > 0.
        steps: Number of updates, in [0, `MAX_STEPS`].
        start: Starting point of length `dim`; defaults to the surface's own start.

    Returns:
        The `Trajectory`. It is shorter than `steps + 1` only if the loss blew past `DIVERGENCE_LOSS`.

    Raises:
        ValueError: On an unknown surface, alpha <= 0, a bad step count or a start of the wrong length.

    Example:
        >>> gradient_descent("quadratic", learning_rate=0.5, steps=1, start=[0.0]).weights[-1]
        array([2.])
    """
    spec = get_surface(surface)
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"Expected learning_rate > 0. Received: learning_rate={learning_rate}")
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"Expected steps to be an int in [0, {MAX_STEPS}]. Received: steps={steps!r}")
    w = np.asarray(spec.start if start is None else start, dtype=np.float64)
    if w.shape != (spec.dim,) or not np.all(np.isfinite(w)):
        raise ValueError(
            f"Expected start to be {spec.dim} finite number(s) for surface {surface!r}. Received: start={start!r}"
        )

    weights, losses = [w], [float(spec.loss(w))]
    diverged = False
    for _ in range(steps):
        w = w - learning_rate * spec.gradient(w)
        weights.append(w)
        losses.append(float(spec.loss(w)))
        if losses[-1] > DIVERGENCE_LOSS:
            diverged = True
            break
    return Trajectory(weights=np.stack(weights), losses=np.asarray(losses), diverged=diverged)


def step_factors(surface: str, learning_rate: float) -> np.ndarray:
    """Per-weight factor r = 1 - 2alphac by which each step scales the distance to the minimum.

    On a quadratic this says everything: |r| < 1 converges, r < 0 flips sides (oscillates), |r| > 1 diverges.

    Args:
        surface: A key of `SURFACES`.
        learning_rate: The step size alpha.

    Returns:
        Array of shape `(dim,)`.

    Raises:
        ValueError: On an unknown surface.
    """
    spec = get_surface(surface)
    return 1.0 - 2.0 * learning_rate * np.asarray(spec.curvature, dtype=np.float64)


def regime(surface: str, learning_rate: float) -> str:
    """Name what descent with this alpha does on the surface.

    Args:
        surface: A key of `SURFACES`.
        learning_rate: The step size alpha.

    Returns:
        One of "converges", "converges with oscillation", "oscillates forever", "diverges".

    Raises:
        ValueError: On an unknown surface.
    """
    factors = step_factors(surface, learning_rate)
    largest = float(np.max(np.abs(factors)))
    if np.isclose(largest, 1.0):
        return "oscillates forever" if np.any(factors < 0) else "converges"
    if largest > 1.0:
        return "diverges"
    return "converges with oscillation" if np.any(factors < 0) else "converges"


def surface_landscape(
    surface: str, points: np.ndarray | None = None, *, num: int = 200, margin: float = 0.15
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Sample the loss on a grid wide enough to show the minimum and the given points.

    Args:
        surface: A key of `SURFACES`.
        points: Points to keep in view, shape `(n, dim)` (e.g. `Trajectory.weights`); None shows the
            minimum and the default start.
        num: Grid points per axis, at least 2.
        margin: Extra room on each side, as a fraction of the span.

    Returns:
        `(axes, values)`. 1-D: `axes == (w,)` and `values` has shape `(num,)`. 2-D: `axes == (w1, w2)`
        and `values[i, j] = L(w1[j], w2[i])`, the row-is-y layout of Plotly contours.

    Raises:
        ValueError: On an unknown surface, points of the wrong shape or a bad `num`.
    """
    spec = get_surface(surface)
    anchors = np.array([spec.center, spec.start], dtype=np.float64)
    if points is not None:
        points = np.asarray(points, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != spec.dim:
            raise ValueError(f"Expected points of shape (n, {spec.dim}). Received: points.shape={points.shape}")
        anchors = np.concatenate([anchors, points[np.all(np.isfinite(points), axis=1)]])
    lo, hi = anchors.min(axis=0), anchors.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1.0)
    bounds = zip(lo - pad, hi + pad, strict=True)
    axes = tuple(_grid(f"w{i + 1}", a, b, num) for i, (a, b) in enumerate(bounds))
    if spec.dim == 1:
        return axes, spec.loss(axes[0][:, None])
    w1, w2 = np.meshgrid(axes[0], axes[1])
    return axes, spec.loss(np.stack([w1, w2], axis=-1))


# --------------------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------------------


def _check_choice(arg: str, value: str, options: Sequence[str] | dict[str, object]) -> str:
    if value not in options:
        raise ValueError(f"Expected {arg} to be one of {list(options)}. Received: {arg}={value!r}")
    return value


def _check_target(target: float) -> float:
    if (
        isinstance(target, bool)
        or not isinstance(target, int | float | np.integer | np.floating)
        or not (0.0 <= target <= 1.0)
    ):
        raise ValueError(f"Expected target in [0, 1]. Received: target={target!r}")
    return float(target)


def _grid(arg: str, lo: float, hi: float, num: int) -> np.ndarray:
    if isinstance(num, bool) or not isinstance(num, int | np.integer) or not 2 <= num <= MAX_POINTS:
        raise ValueError(f"Expected num to be an int in [2, {MAX_POINTS}]. Received: num={num!r}")
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"Expected finite {arg}_min < {arg}_max. Received: {arg}_min={lo}, {arg}_max={hi}")
    return np.linspace(lo, hi, num)
