"""Page configurations <-> URL query parameters.

Every setting of a page is declared once, as a field of that page's frozen dataclass with a ``Codec`` in
its metadata. The codec drives parsing, validation and writing, so the URL, the defaults and the widgets
can never drift apart. A shared link reproduces the page (seeds included); a value that fails to parse
falls back to its default and yields a notice the page shows; unknown keys are ignored.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from playground import assets, attacks, data, features, image_models, training
from playground.defences import (
    DEFEND_ATTACKS,
    MAX_STACK,
    SAMPLES,
    THREATS,
    TRANSFORMS,
    Stack,
    Transform,
    adversarial_training,
    detector,
    smoothing,
)
from playground.defences import get as get_transform
from playground.models import ACTIVATIONS, MAX_HIDDEN_LAYERS, MAX_NEURONS


class Codec:
    """Turns one field's value into a query string and back; ``parse`` raises ValueError when invalid."""

    expected: str = ""

    def parse(self, text: str) -> Any:
        raise NotImplementedError

    def format(self, value: Any) -> str:
        return str(value)


@dataclass(frozen=True)
class IntRange(Codec):
    low: int
    high: int

    @property
    def expected(self) -> str:
        return f"a whole number from {self.low} to {self.high}"

    def parse(self, text: str) -> int:
        value = int(text)
        if not self.low <= value <= self.high:
            raise ValueError(text)
        return value


@dataclass(frozen=True)
class FloatRange(Codec):
    low: float
    high: float

    @property
    def expected(self) -> str:
        return f"a number from {self.low:g} to {self.high:g}"

    def parse(self, text: str) -> float:
        value = float(text)
        if not (math.isfinite(value) and self.low <= value <= self.high):
            raise ValueError(text)
        return value

    def format(self, value: float) -> str:
        return f"{value:.12g}"  # enough digits that a shared link reproduces the value exactly


@dataclass(frozen=True)
class Choice(Codec):
    options: tuple[str, ...]

    @property
    def expected(self) -> str:
        return "one of " + ", ".join(self.options)

    def parse(self, text: str) -> str:
        if text not in self.options:
            raise ValueError(text)
        return text


@dataclass(frozen=True)
class FloatChoice(Codec):
    options: tuple[float, ...]

    @property
    def expected(self) -> str:
        return "one of " + ", ".join(f"{o:g}" for o in self.options)

    def parse(self, text: str) -> float:
        value = float(text)
        if value not in self.options:
            raise ValueError(text)
        return value

    def format(self, value: float) -> str:
        return f"{value:g}"


@dataclass(frozen=True)
class Flag(Codec):
    expected: str = "true or false"

    def parse(self, text: str) -> bool:
        lowered = text.lower()
        if lowered not in ("true", "false", "1", "0"):
            raise ValueError(text)
        return lowered in ("true", "1")

    def format(self, value: bool) -> str:
        return "true" if value else "false"


@dataclass(frozen=True)
class ListOf(Codec):
    """A comma-separated list of ``item`` values with ``min_len``..``max_len`` entries ("" is empty)."""

    item: Codec
    min_len: int
    max_len: int
    unique: bool = False

    @property
    def expected(self) -> str:
        return f"{self.min_len} to {self.max_len} comma-separated values, each {self.item.expected}"

    def parse(self, text: str) -> tuple:
        values = tuple(self.item.parse(part) for part in text.split(",")) if text else ()
        if not self.min_len <= len(values) <= self.max_len or (self.unique and len(set(values)) < len(values)):
            raise ValueError(text)
        return values

    def format(self, value: Sequence) -> str:
        return ",".join(self.item.format(v) for v in value)


def _param(codec: Codec, default: Any) -> Any:
    return field(default=default, metadata={"codec": codec})


Config = TypeVar("Config")


def bounds(config: Any, name: str) -> tuple[Any, Any]:
    """The ``(low, high)`` of a numeric setting's codec, for its widget: the range is declared once, here."""
    codec = next(f.metadata["codec"] for f in dataclasses.fields(config) if f.name == name)
    if not isinstance(codec, IntRange | FloatRange):
        raise ValueError(f"Expected a numeric setting. Received: {name!r} with {type(codec).__name__}")
    return codec.low, codec.high


def to_query(config: Any) -> dict[str, str]:
    """All of a config's fields as query parameters."""
    return {f.name: f.metadata["codec"].format(getattr(config, f.name)) for f in dataclasses.fields(config)}


def from_query(config_type: type[Config], query: Mapping[str, str | Sequence[str]]) -> tuple[Config, list[str]]:
    """Builds a config from query parameters; invalid values fall back to defaults.

    Returns:
        The config and a list of human-readable notices: one per ignored value, plus the config type's
        ``consistency_notices`` for values that parsed but do not fit together.
    """
    values: dict[str, Any] = {}
    notices: list[str] = []
    for f in dataclasses.fields(config_type):
        if f.name not in query:
            continue
        raw = query[f.name]
        text = raw if isinstance(raw, str) else (raw[-1] if raw else "")
        codec: Codec = f.metadata["codec"]
        try:
            values[f.name] = codec.parse(text.strip())
        except (ValueError, TypeError):
            notices.append(
                f"Ignored URL parameter {f.name}={text[:40]!r}: expected {codec.expected}. "
                f"Using the default, {codec.format(f.default)}."
            )
    config = config_type(**values)
    return config, notices + config.consistency_notices(values)


@dataclass(frozen=True)
class TrainPageConfig:
    """Every setting of the Build & Train page."""

    dataset: str = _param(Choice(tuple(data.DATASETS)), "circle")
    samples: int = _param(IntRange(100, 2000), 500)
    noise: int = _param(IntRange(0, 50), 0)  # percent
    train_percent: int = _param(IntRange(10, 90), 50)
    data_seed: int = _param(IntRange(0, 999_999), 1)
    blobs: int = _param(IntRange(data.MIN_BLOBS, data.MAX_BLOBS), 3)
    features: tuple[str, ...] = _param(ListOf(Choice(tuple(features.FEATURES)), 1, 7, unique=True), ("x1", "x2"))
    layers: tuple[int, ...] = _param(ListOf(IntRange(1, MAX_NEURONS), 0, MAX_HIDDEN_LAYERS), (4, 2))
    activations: tuple[str, ...] = _param(ListOf(Choice(tuple(ACTIVATIONS)), 0, MAX_HIDDEN_LAYERS), ("tanh", "tanh"))
    init_seed: int = _param(IntRange(0, 999_999), 0)
    loss: str = _param(Choice(tuple(training.LOSSES)), "cross_entropy")
    optimizer: str = _param(Choice(tuple(training.OPTIMIZERS)), "adam")
    lr: float = _param(FloatRange(training.MIN_LEARNING_RATE, training.MAX_LEARNING_RATE), 0.03)
    batch: int = _param(IntRange(training.MIN_BATCH_SIZE, training.MAX_BATCH_SIZE), 10)
    reg: str = _param(Choice(tuple(training.REGULARIZATIONS)), "none")
    reg_rate: float = _param(FloatRange(0.0, training.MAX_REGULARIZATION_RATE), 0.0)
    speed: str = _param(Choice(("slow", "normal", "fast", "max")), "normal")
    show_test: bool = _param(Flag(), False)
    discretize: bool = _param(Flag(), False)
    # Adversarial training in the live trainer, and the attack lens (distances in the data's units: [-6, 6]^2).
    adv_train: bool = _param(Flag(), False)
    adv_eps: float = _param(FloatRange(0.05, 3.0), 0.5)
    lens: bool = _param(Flag(), False)
    lens_attack: str = _param(Choice(("fgsm", "pgd")), "fgsm")
    lens_norm: str = _param(Choice(("inf", "2")), "inf")
    lens_eps: float = _param(FloatRange(0.0, 3.0), 0.5)
    lens_steps: int = _param(IntRange(1, 50), 10)

    def __post_init__(self) -> None:
        # One activation per layer: a short list is padded with tanh, a long one trimmed.
        acts = tuple(self.activations[: len(self.layers)])
        object.__setattr__(self, "activations", acts + ("tanh",) * (len(self.layers) - len(acts)))

    def consistency_notices(self, given: Mapping[str, Any]) -> list[str]:
        """Notices for values that parsed but do not fit together (``given``: the parsed URL values)."""
        if "activations" in given and len(given["activations"]) != len(self.layers):
            return [
                f"The URL gave {len(given['activations'])} activations for {len(self.layers)} hidden layers; "
                "extra ones were dropped and missing ones are tanh."
            ]
        return []


@dataclass(frozen=True)
class AttackPageConfig:
    """The shareable settings of the Attack page (attack-specific parameters use their declared defaults)."""

    dataset: str = _param(Choice(tuple(data.DATASET_LABELS)), "mnist")
    model: str = _param(Choice(tuple(image_models.ARCHITECTURES)), image_models.DEFAULT_ARCHITECTURE)
    image: int = _param(IntRange(0, assets.SAMPLE_SIZE - 1), 0)  # an index into the bundled test sample
    attack: str = _param(Choice(tuple(attacks.names())), "fgsm")
    eps: float = _param(FloatRange(0.0, 0.5), 0.1)
    norm: str = _param(Choice(("inf", "2")), "inf")
    true_labels: bool = _param(Flag(), False)
    targeted: bool = _param(Flag(), False)
    target: int = _param(IntRange(0, 9), 0)

    def consistency_notices(self, given: Mapping[str, Any]) -> list[str]:
        return []


# The Defend page's model kinds, and the bundled CNN variant (assets.VARIANTS) behind each.
DEFEND_VARIANTS = {"standard": "standard", "adversarial": "fast_at", "smoothed": "gaussian"}
DEFEND_MODELS = tuple(DEFEND_VARIANTS)
DEFEND_TABS = ("transforms", "training", "smoothing", "detector")
# URL key of each transform's single parameter.
TRANSFORM_KEYS = {"bit_depth": "bits", "median": "median", "jpeg": "quality", "blur": "blur", "noise": "noise"}


def _declared(param: attacks.base.Param) -> Any:
    """A URL field for a declared parameter, with its declared range and default."""
    codec = IntRange(param.min, param.max) if isinstance(param.default, int) else FloatRange(param.min, param.max)
    return _param(codec, param.default)


def _transform_param(name: str) -> Any:
    """A URL field for a transform's one declared parameter."""
    (param,) = get_transform(name).params
    return _declared(param)


@dataclass(frozen=True)
class DefendPageConfig:
    """The shareable settings of the Defend page: the model, the defence stack and the attack it faces."""

    tab: str = _param(Choice(DEFEND_TABS), "transforms")
    dataset: str = _param(Choice(tuple(data.DATASET_LABELS)), "mnist")
    model: str = _param(Choice(DEFEND_MODELS), "standard")
    defences: tuple[str, ...] = _param(ListOf(Choice(tuple(TRANSFORMS)), 0, MAX_STACK, unique=True), ("median",))
    bits: int = _transform_param("bit_depth")
    median: int = _transform_param("median")
    quality: int = _transform_param("jpeg")
    blur: float = _transform_param("blur")
    noise: float = _transform_param("noise")
    threat: str = _param(Choice(tuple(THREATS)), "bpda")
    attack: str = _param(Choice(tuple(DEFEND_ATTACKS)), "pgd")
    eps: float = _param(FloatRange(0.0, 0.5), 0.1)
    n: int = _param(IntRange(10, 1000), 100)
    samples: int = _param(IntRange(SAMPLES.min, SAMPLES.max), SAMPLES.default)
    preset: str = _param(Choice(tuple(adversarial_training.PRESETS)), "fast")
    train_eps: float = _declared(adversarial_training.EPS)
    train_sigma: float = _declared(adversarial_training.SIGMA)
    train_epochs: int = _declared(adversarial_training.EPOCHS)
    train_steps: int = _declared(adversarial_training.PGD_STEPS)
    sigma: float = _param(FloatRange(smoothing.SIGMA.min, smoothing.SIGMA.max), 0.25)
    cert_n: int = _param(IntRange(smoothing.N.min, smoothing.N.max), smoothing.N.default)
    n0: int = _declared(smoothing.N0)
    detect_eps: float = _declared(detector.EPS)
    detect_n: int = _declared(detector.N_ATTACKED)
    detect_attacks: tuple[str, ...] = _param(
        ListOf(Choice(detector.DEFAULT_ATTACKS), 0, len(detector.DEFAULT_ATTACKS), unique=True),
        detector.DEFAULT_ATTACKS,
    )
    alpha: float = _param(FloatChoice(smoothing.ALPHAS), smoothing.ALPHA.default)

    def consistency_notices(self, given: Mapping[str, Any]) -> list[str]:
        return []

    def stack(self) -> Stack:
        """The chosen transforms, in order, with their parameters."""
        return Stack.of(*(self.transform(name) for name in self.defences))

    def transform(self, name: str) -> Transform:
        """One transform with this config's setting of its parameter."""
        cls = get_transform(name)
        return cls(**{cls.params[0].name: getattr(self, TRANSFORM_KEYS[name])})
