"""Input-transform defences: squeeze, filter, compress or jitter the image before the classifier sees it.

Each transform is a small frozen dataclass whose fields are its parameters, declared once (as
``playground.attacks.base.Param``) so the UI builds its controls from them. Every transform has two
implementations of the same map:

- ``apply(x, rng)``: NumPy/Pillow, the reference; it is what the defended system runs;
- ``tf_apply(x, seed)``: TensorFlow, usable inside a ``tf.function``, which the defence-aware attacks
  (BPDA, EOT in ``threat_models``) differentiate or pass gradients straight through.

Images are float32 NHWC in [0, 1]. Randomness comes only from the explicit ``rng`` (a NumPy ``Generator``) or
``seed`` (a stateless TF seed, two integers), never from global state, so the same seed gives the same output.
Both implementations agree exactly for the deterministic transforms; the noise transform draws from NumPy's
and TF's generators respectively, so it agrees in distribution only.

``TRANSFORMS`` maps names to the transform classes (``TRANSFORMS["jpeg"](quality=30)``); ``Stack`` chains up
to ``MAX_STACK`` of them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import tensorflow as tf
from PIL import Image

from playground.attacks.base import Param
from playground.i18n import N_

MAX_STACK = 4  # each transform costs a pass over the batch at every step of a defence-aware attack
# Gaussian kernels stop at 4 sigma, as scipy.ndimage.gaussian_filter does (truncate=4.0): the tail beyond
# holds < 1e-4 of the weight.
BLUR_TRUNCATE = 4.0


def check_images(x: np.ndarray) -> np.ndarray:
    """Validates a batch of images and returns it as float32 (a copy only if the dtype changes).

    Raises:
        ValueError: unless ``x`` is a non-empty, finite NHWC batch within [0, 1].
    """
    x = np.asarray(x)
    if x.ndim != 4 or x.size == 0:
        raise ValueError(f"Expected a non-empty NHWC batch of images. Received: shape={x.shape}")
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError("Expected finite pixel values. Received: NaN or infinity")
    if x.min() < -1e-6 or x.max() > 1 + 1e-6:
        raise ValueError(f"Expected pixel values in [0, 1]. Received: range [{x.min():g}, {x.max():g}]")
    return x


def _symmetric_index(n: int, before: int, after: int) -> np.ndarray:
    """Indices into an axis of length ``n`` padded by half-sample symmetric reflection (``d c b a | a b c d``).

    This is scipy.ndimage's ``mode="reflect"`` and NumPy's ``np.pad(mode="symmetric")``. Indices rather than
    ``tf.pad`` because they extend periodically to pads longer than the axis (a sigma=3 blur on a small image),
    and both implementations share them.
    """
    m = np.arange(-before, n + after) % (2 * n)
    return np.where(m < n, m, 2 * n - 1 - m)


def _pad_indices(shape: tuple[int, ...], before: int, after: int) -> tuple[np.ndarray, np.ndarray]:
    return _symmetric_index(shape[1], before, after), _symmetric_index(shape[2], before, after)


@dataclass(frozen=True)
class Transform:
    """One configured input transform; subclasses declare their parameters as fields and in ``params``.

    Class attributes:
        name: the registry key.
        label: the UI's name.
        summary: one line for the UI on what it does and why it might help.
        reference: where it comes from.
        params: the declared parameters, one per dataclass field, with the UI's ranges; values outside a
            range are rejected.
        randomised: whether the output depends on ``rng``/``seed``.
        straight_through: whether defence-aware attacks pass the gradient straight through this transform
            (BPDA with ``g(x) = x``, Athalye et al. 2018) instead of differentiating ``tf_apply``: for
            transforms whose gradient is useless (zero almost everywhere) or missing (no TF implementation).
            Measured on the bundled MNIST CNN, differentiating the median filter and the blur finds far more
            adversarial examples than passing straight through them, so those are differentiated.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    summary: ClassVar[str]
    reference: ClassVar[str]
    params: ClassVar[tuple[Param, ...]]
    randomised: ClassVar[bool] = False
    straight_through: ClassVar[bool] = False

    def __post_init__(self) -> None:
        for param in self.params:
            param.check(getattr(self, param.name))

    def apply(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """The transform in NumPy/Pillow; ``rng`` is needed only if ``randomised``.

        Args:
            x: images, NHWC in [0, 1]; not modified.
            rng: the source of randomness for a randomised transform.

        Returns:
            The transformed images, float32, same shape, in [0, 1].

        Raises:
            ValueError: for images that are not a finite NHWC batch in [0, 1], or a missing ``rng``.
        """
        x = check_images(x)
        if self.randomised and not isinstance(rng, np.random.Generator):
            raise ValueError(
                f"Expected rng to be a numpy.random.Generator for the randomised {self.label}. Received: rng={rng!r}"
            )
        return self._numpy(x, rng)

    def tf_apply(self, x: tf.Tensor, seed: tf.Tensor | None = None) -> tf.Tensor:
        """The same transform in TensorFlow, for use inside a ``tf.function``.

        Args:
            x: images, a float32 NHWC tensor in [0, 1] with a known height and width.
            seed: a stateless seed (shape ``(2,)``, int32 or int64), needed only if ``randomised``.

        Returns:
            The transformed images, a float32 tensor of the same shape.
        """
        if self.randomised and seed is None:
            raise ValueError(f"Expected a stateless seed for the randomised {self.label}. Received: seed=None")
        return self._tf(tf.convert_to_tensor(x, tf.float32), seed)

    def _numpy(self, x: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        raise NotImplementedError

    def _tf(self, x: tf.Tensor, seed: tf.Tensor | None) -> tf.Tensor:
        raise NotImplementedError


_BITS = Param(
    "bits", 1, min=1, max=8, step=1, help=N_("Bits kept per pixel: 8 is the original image, 1 is black and white."),
    label=N_("Bits per pixel"),
)


@dataclass(frozen=True)
class BitDepth(Transform):
    """Bit-depth reduction (Xu, Evans & Qi 2018, "Feature squeezing"): ``round(x * (2^b - 1)) / (2^b - 1)``.

    Example:

    ```python
    BitDepth(bits=1).apply(x)  # every pixel becomes 0 or 1
    ```
    """

    name: ClassVar[str] = "bit_depth"
    label: ClassVar[str] = N_("Bit-depth reduction")
    summary: ClassVar[str] = N_(
        "Rounds every pixel to one of 2^bits levels, erasing perturbations smaller than a step."
    )
    reference: ClassVar[str] = "Xu, Evans & Qi 2018, Feature Squeezing: Detecting Adversarial Examples (NDSS)"
    params: ClassVar[tuple[Param, ...]] = (_BITS,)
    # Rounding is a staircase: its gradient is zero almost everywhere, the textbook shattered gradient.
    straight_through: ClassVar[bool] = True

    bits: int = _BITS.default

    def _numpy(self, x, rng):
        levels = 2**self.bits - 1
        return (np.round(x * levels) / levels).astype(np.float32)

    def _tf(self, x, seed):
        levels = float(2**self.bits - 1)
        return tf.round(x * levels) / levels


_SIZE = Param(
    "size", 2, min=2, max=5, step=1, help=N_("Side of the square window, in pixels."), label=N_("Window size")
)


@dataclass(frozen=True)
class MedianFilter(Transform):
    """Median filter over a ``size`` x ``size`` window per channel (Xu, Evans & Qi 2018, "Feature squeezing").

    Borders are padded by half-sample reflection and, as in ``scipy.ndimage.median_filter`` (which Xu et al.
    used; Pillow rejects even sizes), the window of output pixel ``i`` spans ``i - size // 2`` to
    ``i - size // 2 + size - 1``, and an even count of values takes the upper of the two middle ones
    (rank ``size**2 // 2``). So a 2x2 window reaches up and left, and one bright pixel among four is removed.

    Example:

    ```python
    MedianFilter(size=2).apply(x)
    ```
    """

    name: ClassVar[str] = "median"
    label: ClassVar[str] = N_("Median filter")
    summary: ClassVar[str] = N_("Replaces each pixel by the median of its window, removing isolated specks.")
    reference: ClassVar[str] = "Xu, Evans & Qi 2018, Feature Squeezing: Detecting Adversarial Examples (NDSS)"
    params: ClassVar[tuple[Param, ...]] = (_SIZE,)

    size: int = _SIZE.default

    def _windows(self) -> tuple[int, int, int]:
        before = self.size // 2
        return before, self.size - 1 - before, self.size**2 // 2

    def _numpy(self, x, rng):
        before, after, rank = self._windows()
        rows, cols = _pad_indices(x.shape, before, after)
        padded = x[:, rows][:, :, cols]
        windows = np.lib.stride_tricks.sliding_window_view(padded, (self.size, self.size), axis=(1, 2))
        windows = windows.reshape(*x.shape, self.size**2)
        return np.partition(windows, rank, axis=-1)[..., rank]

    def _tf(self, x, seed):
        before, after, rank = self._windows()
        rows, cols = _pad_indices(tuple(x.shape), before, after)
        padded = tf.gather(tf.gather(x, rows, axis=1), cols, axis=2)
        height, width = x.shape[1:3]
        # Stack the size**2 shifted copies on a new axis: output pixel (i, j) sees padded (i + a, j + b).
        shifted = [padded[:, a : a + height, b : b + width, :] for a in range(self.size) for b in range(self.size)]
        windows = tf.stack(shifted, axis=-1)
        # The sort routes each output's gradient to the one input pixel it selected, as max-pooling does.
        return tf.sort(windows, axis=-1)[..., rank]


_QUALITY = Param(
    "quality", 75, min=10, max=95, step=5,
    help=N_("JPEG quality: lower discards more detail (and more perturbation)."), label=N_("Quality"),
)


@dataclass(frozen=True)
class JPEG(Transform):
    """JPEG compression and decompression through Pillow (Guo, Rana, Cissé & van der Maaten 2018, "Countering
    adversarial images using input transformations"; Dziugaite et al. 2016).

    Pixels are rounded to 8 bits, encoded at ``quality`` (1 channel as greyscale, 3 as RGB) and decoded.
    There is no TensorFlow version: ``tf_apply`` runs Pillow through ``tf.numpy_function``, which has no
    gradient (and cannot be saved with a model), so defence-aware attacks pass the gradient straight through
    it (BPDA).

    Example:

    ```python
    JPEG(quality=30).apply(x)
    ```
    """

    name: ClassVar[str] = "jpeg"
    label: ClassVar[str] = N_("JPEG compression")
    summary: ClassVar[str] = N_("Compresses and decompresses the image, discarding the high-frequency detail.")
    reference: ClassVar[str] = (
        "Guo, Rana, Cissé & van der Maaten 2018, Countering Adversarial Images using Input Transformations (ICLR)"
    )
    params: ClassVar[tuple[Param, ...]] = (_QUALITY,)
    straight_through: ClassVar[bool] = True

    quality: int = _QUALITY.default

    def _numpy(self, x, rng):
        modes = {1: "L", 3: "RGB"}
        if x.shape[-1] not in modes:
            raise ValueError(f"Expected 1 or 3 channels for JPEG. Received: shape={x.shape}")
        pixels = np.round(np.clip(x, 0.0, 1.0) * 255).astype(np.uint8)
        out = np.empty_like(x)
        for i, image in enumerate(pixels):
            buffer = io.BytesIO()
            Image.fromarray(image.squeeze(-1) if x.shape[-1] == 1 else image, modes[x.shape[-1]]).save(
                buffer, format="JPEG", quality=self.quality
            )
            decoded = np.asarray(Image.open(buffer), np.float32) / 255.0
            out[i] = decoded.reshape(x.shape[1:])
        return out

    def _tf(self, x, seed):
        out = tf.numpy_function(lambda images: self._numpy(images, None), [x], tf.float32, stateful=False)
        return tf.ensure_shape(out, x.shape)


_SIGMA_BLUR = Param(
    "sigma", 1.0, min=0.5, max=3.0, step=0.1, help=N_("Width of the blur, in pixels."), label=N_("Blur width σ")
)


@dataclass(frozen=True)
class GaussianBlur(Transform):
    """Gaussian blur with standard deviation ``sigma`` pixels, a low-pass filter against high-frequency
    perturbations (as a baseline in Guo et al. 2018 and Xu et al. 2018).

    The kernel is truncated at ``4 * sigma`` and normalised, borders are reflected (half-sample), as in
    ``scipy.ndimage.gaussian_filter``; with that border the mean of every image is preserved exactly.

    Example:

    ```python
    GaussianBlur(sigma=1.0).apply(x)
    ```
    """

    name: ClassVar[str] = "blur"
    label: ClassVar[str] = N_("Gaussian blur")
    summary: ClassVar[str] = N_("Averages each pixel with its neighbours, smoothing away fine-grained noise.")
    reference: ClassVar[str] = (
        "Guo, Rana, Cissé & van der Maaten 2018, Countering Adversarial Images using Input Transformations (ICLR)"
    )
    params: ClassVar[tuple[Param, ...]] = (_SIGMA_BLUR,)

    sigma: float = _SIGMA_BLUR.default

    def kernel(self) -> np.ndarray:
        """The normalised 1-D kernel, of length ``2 * round(4 * sigma) + 1``."""
        radius = int(BLUR_TRUNCATE * self.sigma + 0.5)
        t = np.arange(-radius, radius + 1, dtype=np.float64)
        k = np.exp(-0.5 * (t / self.sigma) ** 2)
        return (k / k.sum()).astype(np.float32)

    def _numpy(self, x, rng):
        k = self.kernel()
        radius = len(k) // 2
        rows, cols = _pad_indices(x.shape, radius, radius)
        height, width = x.shape[1:3]
        padded = x[:, rows]
        x = sum(k[j] * padded[:, j : j + height] for j in range(len(k)))
        padded = x[:, :, cols]
        return sum(k[j] * padded[:, :, j : j + width] for j in range(len(k))).astype(np.float32)

    def _tf(self, x, seed):
        k = self.kernel()
        radius = len(k) // 2
        rows, cols = _pad_indices(tuple(x.shape), radius, radius)
        channels = x.shape[-1]
        # Separable: a vertical then a horizontal depthwise convolution over the reflected border.
        vertical = tf.constant(np.tile(k.reshape(-1, 1, 1, 1), (1, 1, channels, 1)))
        horizontal = tf.constant(np.tile(k.reshape(1, -1, 1, 1), (1, 1, channels, 1)))
        x = tf.nn.depthwise_conv2d(tf.gather(x, rows, axis=1), vertical, [1, 1, 1, 1], "VALID")
        return tf.nn.depthwise_conv2d(tf.gather(x, cols, axis=2), horizontal, [1, 1, 1, 1], "VALID")


_SIGMA_NOISE = Param(
    "sigma", 0.1, min=0.01, max=0.5, step=0.01,
    help=N_("Standard deviation of the added noise (pixels are in [0, 1])."), label=N_("Noise σ"),
)


@dataclass(frozen=True)
class GaussianNoise(Transform):
    """Random Gaussian noise, clipped to [0, 1]: a randomised defence that hopes to drown the perturbation
    (the randomisation family Athalye, Carlini & Wagner 2018 defeat with Expectation over Transformation).

    The only randomised transform: ``apply`` draws from ``rng``, ``tf_apply`` from the stateless ``seed``.

    Example:

    ```python
    GaussianNoise(sigma=0.1).apply(x, np.random.default_rng(0))
    ```
    """

    name: ClassVar[str] = "noise"
    label: ClassVar[str] = N_("Random noise")
    summary: ClassVar[str] = N_("Adds fresh random noise to every input, so each query sees a different image.")
    reference: ClassVar[str] = (
        "Athalye, Carlini & Wagner 2018, Obfuscated Gradients Give a False Sense of Security (ICML), §4.3 and §5.3"
    )
    params: ClassVar[tuple[Param, ...]] = (_SIGMA_NOISE,)
    randomised: ClassVar[bool] = True
    # Adding noise has the identity as its gradient; only the clip differs, and it zeroes the gradient of every
    # pixel the draw pushes out of [0, 1] (about half of MNIST's black background per draw), which makes
    # single-draw gradients needlessly sparse. The straight-through gradient keeps them.
    straight_through: ClassVar[bool] = True

    sigma: float = _SIGMA_NOISE.default

    def _numpy(self, x, rng):
        return np.clip(x + self.sigma * rng.standard_normal(x.shape, dtype=np.float32), 0.0, 1.0)

    def _tf(self, x, seed):
        return tf.clip_by_value(x + self.sigma * tf.random.stateless_normal(tf.shape(x), seed), 0.0, 1.0)


# Registry order is the UI's order: deterministic squeezers first, the randomised one last.
TRANSFORMS: dict[str, type[Transform]] = {
    cls.name: cls for cls in (BitDepth, MedianFilter, JPEG, GaussianBlur, GaussianNoise)
}


def get(name: str) -> type[Transform]:
    """The transform class registered as ``name``; call it with parameter values to configure it.

    Raises:
        ValueError: for an unknown name, listing the known ones.

    Example:

    ```python
    get("jpeg")(quality=30)
    ```
    """
    if name not in TRANSFORMS:
        raise ValueError(f"Expected a transform name in {names()}. Received: name={name!r}")
    return TRANSFORMS[name]


def names() -> list[str]:
    return list(TRANSFORMS)


@dataclass(frozen=True)
class Stack:
    """Up to ``MAX_STACK`` transforms applied in order; the empty stack is no defence.

    Args:
        transforms: the configured transforms, first applied first.

    Raises:
        ValueError: for more than ``MAX_STACK`` transforms or an entry that is not a ``Transform``.

    Example:

    ```python
    stack = Stack.of(BitDepth(bits=3), GaussianNoise(sigma=0.05))
    x_defended = stack.apply(x, np.random.default_rng(0))
    ```
    """

    transforms: tuple[Transform, ...] = ()

    def __post_init__(self) -> None:
        transforms = tuple(self.transforms)
        for t in transforms:
            if not isinstance(t, Transform):
                raise ValueError(f"Expected Transform instances in a stack. Received: {t!r}")
        if len(transforms) > MAX_STACK:
            raise ValueError(
                f"Expected at most {MAX_STACK} transforms in a stack. Received: {len(transforms)} "
                f"({', '.join(t.name for t in transforms)})"
            )
        object.__setattr__(self, "transforms", transforms)

    @classmethod
    def of(cls, *transforms: Transform | Iterable[Transform]) -> Stack:
        """A stack from transforms given one by one or as one iterable."""
        if len(transforms) == 1 and not isinstance(transforms[0], Transform):
            return cls(tuple(transforms[0]))
        return cls(transforms)

    @property
    def randomised(self) -> bool:
        return any(t.randomised for t in self.transforms)

    def __len__(self) -> int:
        return len(self.transforms)

    def apply(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Applies each transform's NumPy version in order; ``rng`` is needed if any is randomised.

        Raises:
            ValueError: as ``Transform.apply``.
        """
        x = check_images(x)
        for t in self.transforms:
            x = t.apply(x, rng)
        return x

    def tf_apply(self, x: tf.Tensor, seed: tf.Tensor | None = None, *, bpda: bool = False) -> tf.Tensor:
        """Applies each transform's TF version in order, inside or outside a ``tf.function``.

        Transform ``i`` draws with ``tf.random.experimental.stateless_fold_in(seed, i)``, so two randomised
        transforms never share noise.

        Args:
            x: images, a float32 NHWC tensor in [0, 1] with a known height and width.
            seed: a stateless seed (shape ``(2,)``), needed if the stack is randomised.
            bpda: pass the gradient straight through every transform marked ``straight_through``
                (``x + stop_gradient(t(x) - x)``: the forward pass is ``t(x)``, the backward pass the identity).
                This is BPDA with ``g(x) = x`` (Athalye, Carlini & Wagner 2018, §4.1).

        Returns:
            The transformed images, a float32 tensor.
        """
        x = tf.convert_to_tensor(x, tf.float32)
        for i, t in enumerate(self.transforms):
            out = t.tf_apply(x, None if seed is None else tf.random.experimental.stateless_fold_in(seed, i))
            x = x + tf.stop_gradient(out - x) if bpda and t.straight_through else out
        return x
