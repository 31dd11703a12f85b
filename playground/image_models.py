"""Image classifiers for 28x28 grey-scale images: an architecture registry, bundled models and uploads.

Every model built here takes ``(n, 28, 28, 1)`` images in [0, 1] and returns 10 **logits** (no softmax), so
attacks take their gradients from the logits. Uploaded models are loaded in Keras' safe mode only, and a
softmax at their output is reported (``has_softmax_output``) rather than hidden.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras

from playground import assets, training
from playground.attacks.base import has_softmax_output as has_softmax_output  # the one check, re-exported
from playground.i18n import N_, _

INPUT_SHAPE = (28, 28, 1)
N_CLASSES = 10
MAX_MLP_LAYERS = 3
MAX_MLP_WIDTH = 512
# Caps on an uploaded .keras archive: the bundled CNN is ~0.25 MB, so these leave room for any reasonable
# MNIST model while refusing a zip bomb before Keras extracts anything.
MAX_UPLOAD_BYTES = 50 * 2**20
MAX_UNPACKED_BYTES = 200 * 2**20

# What the bundled models were trained with (``python -m playground.build_assets build``), and what the Attack
# page's "train from scratch" and the ``images`` benchmark use: Adam at 1e-3 reaches 98% on MNIST in about
# one epoch with the default CNN.
TRAIN_CONFIG = training.TrainConfig(optimizer="adam", learning_rate=1e-3, batch_size=128)
# Train metrics are measured on this many training images: all 60k would cost as much as a third of an epoch.
TRAIN_EVAL_SIZE = 5000


@dataclass(frozen=True)
class ImageModelSpec:
    """The structure of an image classifier.

    Attributes:
        architecture: a key of ``ARCHITECTURES``.
        hidden: widths of the hidden Dense layers of the ``"mlp"`` architecture (1 to ``MAX_MLP_LAYERS``
            layers of 1 to ``MAX_MLP_WIDTH`` units); the other architectures have a fixed shape.
        seed: seeds every initializer, so a spec always yields the same initial weights.

    Example:

    >>> spec = ImageModelSpec("mlp", hidden=(256, 128), seed=3)
    >>> build_image_model(spec).output_shape
    (None, 10)
    """

    architecture: str = "cnn"
    hidden: tuple[int, ...] = (128,)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"Expected architecture in {list(ARCHITECTURES)}. Received: architecture={self.architecture!r}"
            )
        if not isinstance(self.hidden, tuple) or not 1 <= len(self.hidden) <= MAX_MLP_LAYERS:
            raise ValueError(
                f"Expected hidden to be a tuple of 1 to {MAX_MLP_LAYERS} layer widths. Received: hidden={self.hidden!r}"
            )
        if any(not isinstance(w, int) or not 1 <= w <= MAX_MLP_WIDTH for w in self.hidden):
            raise ValueError(f"Expected widths from 1 to {MAX_MLP_WIDTH}. Received: hidden={self.hidden!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"Expected an integer seed >= 0. Received: seed={self.seed!r}")


def _initializer(spec: ImageModelSpec, index: int) -> keras.initializers.Initializer:
    # One seed per layer: the same seed on every layer would give equal-shaped layers identical weights.
    return keras.initializers.GlorotUniform(seed=spec.seed * 101 + index)


def _logits(spec: ImageModelSpec, h: keras.KerasTensor, index: int) -> keras.KerasTensor:
    return keras.layers.Dense(N_CLASSES, kernel_initializer=_initializer(spec, index), name="logits")(h)


def _softmax_regression(spec: ImageModelSpec, inputs: keras.KerasTensor) -> keras.KerasTensor:
    return _logits(spec, keras.layers.Flatten(name="flatten")(inputs), 0)


def _mlp(spec: ImageModelSpec, inputs: keras.KerasTensor) -> keras.KerasTensor:
    h = keras.layers.Flatten(name="flatten")(inputs)
    for index, width in enumerate(spec.hidden):
        h = keras.layers.Dense(
            width, activation="relu", kernel_initializer=_initializer(spec, index), name=f"hidden_{index + 1}"
        )(h)
    return _logits(spec, h, len(spec.hidden))


def _cnn(spec: ImageModelSpec, inputs: keras.KerasTensor) -> keras.KerasTensor:
    # 16 and 32 filters rather than the textbook 32 and 64: on 2 CPU cores a first layer of 32 filters makes
    # a training step 4-5x slower (oneDNN), while this size still reaches 98% on MNIST within one epoch.
    h = keras.layers.Conv2D(16, 3, activation="relu", kernel_initializer=_initializer(spec, 0), name="conv_1")(inputs)
    h = keras.layers.MaxPooling2D(name="pool_1")(h)
    h = keras.layers.Conv2D(32, 3, activation="relu", kernel_initializer=_initializer(spec, 1), name="conv_2")(h)
    h = keras.layers.MaxPooling2D(name="pool_2")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    h = keras.layers.Dense(64, activation="relu", kernel_initializer=_initializer(spec, 2), name="hidden_1")(h)
    return _logits(spec, h, 3)


@dataclass(frozen=True)
class Architecture:
    """A registry entry: the UI's label, ``builder(spec, inputs) -> logits`` and a one-line description."""

    label: str
    builder: Callable[[ImageModelSpec, keras.KerasTensor], keras.KerasTensor]
    description: str


ARCHITECTURES: dict[str, Architecture] = {
    "softmax": Architecture(
        N_("Softmax regression"),
        _softmax_regression,
        N_("One Dense layer from the 784 pixels to 10 logits: a linear model (about 92% on MNIST, 85% on Fashion)."),
    ),
    "mlp": Architecture(
        "MLP",
        _mlp,
        N_("1-3 fully connected ReLU layers over the flattened pixels (about 98% on MNIST, 88% on Fashion)."),
    ),
    "cnn": Architecture(
        N_("Small CNN"),
        _cnn,
        N_("Conv(16, 3x3), pool, Conv(32, 3x3), pool, Dense(64), 10 logits (about 99% on MNIST, 90% on Fashion)."),
    ),
}
DEFAULT_ARCHITECTURE = "cnn"


def build_image_model(spec: ImageModelSpec) -> keras.Model:
    """Builds the classifier described by ``spec`` with freshly seeded weights; it returns logits.

    Args:
        spec: the architecture, the MLP's hidden widths and the initializer seed.

    Returns:
        An uncompiled ``keras.Model`` mapping ``(n, 28, 28, 1)`` images to ``(n, 10)`` logits.

    Example:

    >>> model = build_image_model(ImageModelSpec("softmax"))
    >>> model(np.zeros((2, 28, 28, 1), "float32")).shape
    TensorShape([2, 10])
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    logits = ARCHITECTURES[spec.architecture].builder(spec, inputs)
    return keras.Model(inputs, logits, name=f"{spec.architecture}_classifier")


def image_trainer(images, spec: ImageModelSpec | None = None, *, seed: int = 0) -> training.Trainer:
    """A new image classifier (``spec``, default the small CNN) and its trainer on ``images`` (a
    ``data.ImageSet``), with ``TRAIN_CONFIG``: the one recipe of the bundled models, the Attack page's "train
    from scratch" and the ``images`` benchmark. ``seed`` fixes the batch order."""
    model = build_image_model(spec if spec is not None else ImageModelSpec(DEFAULT_ARCHITECTURE))
    return training.Trainer(model, images.x_train, images.y_train, images.x_test, images.y_test, TRAIN_CONFIG,
                            seed=seed, train_eval_size=TRAIN_EVAL_SIZE)


def load_bundled_model(dataset: str, architecture: str, variant: str = "standard") -> keras.Model:
    """Loads a pretrained model shipped in ``assets/models`` (made by ``python -m playground.build_assets build``).

    Args:
        dataset: one of ``assets.DATASETS`` (``"mnist"``, ``"fashion_mnist"``).
        architecture: a key of ``ARCHITECTURES``.
        variant: ``"standard"``, or a robust CNN variant (``assets.VARIANTS``: ``"fast_at"``, ``"gaussian"``,
            made by ``python -m playground.build_assets build-variants``).

    Returns:
        A fresh, uncompiled model returning logits; each call loads a new copy, so a session may train it.

    Raises:
        ValueError: for an unknown dataset, architecture or variant.
        FileNotFoundError: if the asset has not been built.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"Expected architecture in {list(ARCHITECTURES)}. Received: architecture={architecture!r}")
    path = assets.model_path(dataset, architecture, variant)
    if not path.is_file():
        raise FileNotFoundError(
            f"Expected the bundled model {path}. Received: no such file; build it with `python -m playground.assets "
            "build --data-dir <folder with the IDX files>`."
        )
    return keras.saving.load_model(path, safe_mode=True, compile=False)


def load_uploaded_model(raw: bytes) -> keras.Model:
    """Loads a user's ``.keras`` model in safe mode and checks that it classifies 28x28x1 images into 10 classes.

    Safe mode refuses to deserialize Python code (``Lambda`` layers with bytecode), so an uploaded file can
    describe a network but cannot run code on the server. A softmax output is accepted; call
    ``has_softmax_output`` to warn that attacks should take gradients from logits.

    Args:
        raw: the bytes of a file saved with ``model.save("name.keras")``, at most ``MAX_UPLOAD_BYTES``.

    Returns:
        The loaded, uncompiled model.

    Raises:
        ValueError: if the bytes are not a loadable ``.keras`` archive, need unsafe deserialization, or the
            model does not map ``(None, 28, 28, 1)`` inputs to ``(None, 10)`` outputs.

    Example:

    >>> model = load_uploaded_model(Path("my_model.keras").read_bytes())  # doctest: +SKIP
    """
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ValueError(_("Expected a file of at most {limit} MB. Received: {size} bytes").format(
            limit=MAX_UPLOAD_BYTES // 2**20, size=len(raw)))
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as err:
        raise ValueError(
            _("Expected a Keras .keras file (a zip archive written by model.save). Received: {size} bytes that "
              "are not a zip archive").format(size=len(raw))
        ) from err
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ValueError(
            _("Expected at most {limit} MB once unpacked. Received: an archive of {size} bytes").format(
                limit=MAX_UNPACKED_BYTES // 2**20, size=unpacked)
        )
    if "config.json" not in {member.filename for member in members}:
        raise ValueError(_("Expected a Keras .keras archive with a config.json. Received: a zip archive without one"))
    with tempfile.TemporaryDirectory() as folder:
        # Keras reads .keras archives from a path, and picks its loader by the ".keras" suffix.
        path = Path(folder) / "upload.keras"
        path.write_bytes(raw)
        try:
            model = keras.saving.load_model(path, safe_mode=True, compile=False)
        # Keras reports a bad archive with many exception types (ValueError, TypeError, KeyError, OSError
        # from h5py ...); all of them mean the same thing to the user.
        except Exception as err:
            raise ValueError(
                _("Expected a .keras model that Keras can load in safe mode. Received: a file it rejected "
                  "({kind}: {error})").format(kind=type(err).__name__, error=err)
            ) from err
    _check_signature(model)
    return model


def _check_signature(model: keras.Model) -> None:
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError) as err:
        raise ValueError(
            _("Expected a model with a defined input, e.g. built from keras.Input{shape}. "
              "Received: a {kind} whose input is unknown").format(shape=(None, *INPUT_SHAPE), kind=type(model).__name__)
        ) from err
    input_shapes = [tuple(t.shape) for t in inputs or []]
    if input_shapes != [(None, *INPUT_SHAPE)]:
        raise ValueError(
            _("Expected one input of shape {shape} (28x28 grey-scale images, NHWC). "
              "Received: input shape(s) {received}").format(shape=(None, *INPUT_SHAPE), received=input_shapes)
        )
    output_shapes = [tuple(t.shape) for t in outputs or []]
    if output_shapes != [(None, N_CLASSES)]:
        raise ValueError(
            _("Expected one output of shape {shape} (one logit per class). "
              "Received: output shape(s) {received}").format(shape=(None, N_CLASSES), received=output_shapes)
        )


