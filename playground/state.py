"""Page configurations <-> URL query parameters.

Every setting of a page is declared once, as a field of that page's frozen dataclass, with its ``Codec``
(type and range or choices), default, label, help and unit in the field's metadata (``settings``). That one
declaration drives the URL codec, the page's widget, the classroom's
``<name>_hide`` flag and the exported JSON, so they can never drift apart. A shared link reproduces the page
(seeds included); a value that fails to parse falls back to its default and yields a notice the page shows;
unknown keys are ignored.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from playground import assets, attacks, data, features, image_models, training
from playground.data import custom
from playground.defences import (
    DEFEND_ATTACKS,
    MAX_STACK,
    SAMPLES,
    THREAT_LABELS,
    THREATS,
    TRANSFORMS,
    Stack,
    Transform,
    adversarial_training,
    detector,
    smoothing,
)
from playground.defences import get as get_transform
from playground.i18n import N_, _
from playground.models import ACTIVATIONS, MAX_HIDDEN_LAYERS, MAX_NEURONS


class Codec:
    """Turns one field's value into a query string and back; ``parse`` raises ValueError when invalid.

    ``expected`` says, in the session's language, what a valid value is (for the URL's notices).
    """

    expected: str = ""

    def parse(self, text: str) -> Any:
        raise NotImplementedError

    def format(self, value: Any) -> str:
        return str(value)

    def shareable(self, value: Any) -> bool:
        """Whether ``value`` fits in a link; a value that does not is left out of the URL (``to_query``)."""
        return True


@dataclass(frozen=True)
class IntRange(Codec):
    low: int
    high: int

    @property
    def expected(self) -> str:
        return _("a whole number from {low} to {high}").format(low=self.low, high=self.high)

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
        return _("a number from {low:g} to {high:g}").format(low=self.low, high=self.high)

    def parse(self, text: str) -> float:
        value = float(text)
        if not (math.isfinite(value) and self.low <= value <= self.high):
            raise ValueError(text)
        return value

    def format(self, value: float) -> str:
        return f"{value:.12g}"  # enough digits that a shared link reproduces the value exactly


@dataclass(frozen=True)
class Choice(Codec):
    """One of ``options``; ``labels`` holds the words a widget shows for them (default: the option itself)."""

    options: tuple[str, ...]
    labels: Mapping[str, str] | None = field(default=None, compare=False)

    @property
    def expected(self) -> str:
        return _("one of {options}").format(options=", ".join(self.options))

    def label(self, option: str) -> str:
        """The words for ``option``, in the session's language."""
        return _((self.labels or {}).get(option, option))

    def parse(self, text: str) -> str:
        if text not in self.options:
            raise ValueError(text)
        return text


@dataclass(frozen=True)
class FloatChoice(Codec):
    options: tuple[float, ...]

    @property
    def expected(self) -> str:
        return _("one of {options}").format(options=", ".join(f"{o:g}" for o in self.options))

    def parse(self, text: str) -> float:
        value = float(text)
        if value not in self.options:
            raise ValueError(text)
        return value

    def format(self, value: float) -> str:
        return f"{value:g}"


@dataclass(frozen=True)
class Flag(Codec):
    @property
    def expected(self) -> str:
        return _("true or false")

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
        return _("{low} to {high} comma-separated values, each {item}").format(
            low=self.min_len, high=self.max_len, item=self.item.expected)

    def parse(self, text: str) -> tuple:
        values = tuple(self.item.parse(part) for part in text.split(",")) if text else ()
        if not self.min_len <= len(values) <= self.max_len or (self.unique and len(set(values)) < len(values)):
            raise ValueError(text)
        return values

    def format(self, value: Sequence) -> str:
        return ",".join(self.item.format(v) for v in value)


@dataclass(frozen=True)
class PointsCodec(Codec):
    """A student's own 2-D points, compressed (``data.custom.encode``); "" is none. A link holds at most
    ``MAX_URL_POINTS``: more are left out of it, and the page says so."""

    @property
    def expected(self) -> str:
        return _("points as the app writes them (at most {limit})").format(limit=custom.MAX_URL_POINTS)

    def parse(self, text: str) -> custom.Points:
        return custom.decode(text) if text else ()

    def format(self, value: custom.Points) -> str:
        return custom.encode(value, regression=custom.is_regression(value)) if value else ""

    def shareable(self, value: custom.Points) -> bool:
        return len(value) <= custom.MAX_URL_POINTS


@dataclass(frozen=True)
class Setting:
    """One page setting as declared: its codec, default, and what its widget says."""

    name: str
    codec: Codec
    default: Any
    label: str  # plain words, with the symbol where there is one: "Perturbation size ε"
    help: str = ""
    unit: str = ""  # shown after the label: "Noise (%)"
    hideable: bool = True  # ?<name>_hide=true may hide its widgets
    # A label that joins two declared names, "Median filter: Window size": the two, each translated where shown.
    parts: tuple[str, str] | None = None

    @property
    def caption(self) -> str:
        """The widget's label, in the session's language: the label, with the unit in brackets."""
        if self.parts:
            label = _("{transform}: {parameter}").format(transform=_(self.parts[0]), parameter=_(self.parts[1]))
        else:
            label = _(self.label)
        return _("{label} ({unit})").format(label=label, unit=_(self.unit)) if self.unit else label


def declare(codec: Codec, default: Any, label: str, *, help: str = "", unit: str = "", hideable: bool = True,
            parts: tuple[str, str] | None = None) -> Any:
    """A config field that declares one setting (see ``Setting``). Mark ``label``, ``help`` and ``unit`` with
    ``N_``: the widget translates them."""
    return field(default=default, metadata={
        "setting": dict(codec=codec, label=label, help=help, unit=unit, hideable=hideable, parts=parts),
    })


def _declared(param: attacks.base.Param, *, label: str | None = None, unit: str = "",
              parts: tuple[str, str] | None = None) -> Any:
    """A URL field for an engine parameter, with the range, default, label and help the engine declares."""
    codec = IntRange(param.min, param.max) if isinstance(param.default, int) else FloatRange(param.min, param.max)
    return declare(codec, param.default, label or param.label, help=param.help, unit=unit, parts=parts)


Config = TypeVar("Config")


def settings(config: Any) -> dict[str, Setting]:
    """A page config's (or config type's) settings, by name, in declaration order."""
    return {f.name: Setting(f.name, default=f.default, **f.metadata["setting"]) for f in dataclasses.fields(config)}


def setting(config: Any, name: str) -> Setting:
    try:
        return settings(config)[name]
    except KeyError:
        raise ValueError(f"Expected a setting of {type(config).__name__}. Received: {name!r}") from None


def bounds(config: Any, name: str) -> tuple[Any, Any]:
    """The ``(low, high)`` of a numeric setting's codec, for its widget: the range is declared once, here."""
    codec = setting(config, name).codec
    if not isinstance(codec, IntRange | FloatRange):
        raise ValueError(f"Expected a numeric setting. Received: {name!r} with {type(codec).__name__}")
    return codec.low, codec.high


def to_query(config: Any) -> dict[str, str]:
    """A config's fields as query parameters: all of them, but a value too large for a link."""
    return {name: s.codec.format(value) for name, s in settings(config).items()
            if s.codec.shareable(value := getattr(config, name))}


def from_query(config_type: type[Config], query: Mapping[str, str | Sequence[str]]) -> tuple[Config, list[str]]:
    """Builds a config from query parameters; invalid values fall back to defaults.

    Returns:
        The config and a list of human-readable notices: one per ignored value, plus the config type's
        ``consistency_notices`` for values that parsed but do not fit together.
    """
    values: dict[str, Any] = {}
    notices: list[str] = []
    for name, declared in settings(config_type).items():
        if name not in query:
            continue
        raw = query[name]
        text = raw if isinstance(raw, str) else (raw[-1] if raw else "")
        try:
            values[name] = declared.codec.parse(text.strip())
        except (ValueError, TypeError):
            notices.append(
                _("Ignored URL parameter {name}={value!r}: expected {expected}. Using the default, {default}.")
                .format(name=name, value=text[:40], expected=declared.codec.expected,
                        default=declared.codec.format(declared.default))
            )
    config = config_type(**values)
    return config, notices + config.consistency_notices(values)


# The speed setting's words; the page's control shows experiment.SPEEDS' labels, which give the rates too.
SPEED_LABELS = {"slow": N_("Slow"), "normal": N_("Normal"), "fast": N_("Fast"), "max": N_("Max")}


@dataclass(frozen=True)
class TrainPageConfig:
    """Every setting of the Build & Train page."""

    problem: str = declare(Choice(tuple(data.PROBLEMS), data.PROBLEMS), "classification", N_("Problem type"),
                           help=N_("Classification: each point has a class. Regression: each point has a number, and "
                                   "the network predicts it (as TensorFlow Playground's)."))
    dataset: str = declare(Choice((*data.DATASETS, custom.NAME), {k: d.label for k, d in data.DATASETS.items()}
                                  | {custom.NAME: custom.LABEL}), "circle", N_("Dataset"))
    points: tuple[tuple[float, float, int], ...] = declare(  # custom.Points, written out for ruff (RUF009)
        PointsCodec(), (), N_("Your points"), hideable=False,
        help=N_("Click on the plane to add a point of the chosen class; click on a point to remove it."),
    )
    point_class: int = declare(IntRange(0, custom.MAX_LABEL), 0, N_("Class of a new point"))
    point_value: float = declare(FloatRange(-1.0, 1.0), 1.0, N_("Value of a new point"),
                                 help=N_("Regression: the number a point placed by a click carries."))
    samples: int = declare(IntRange(100, 2000), 500, N_("Samples"))
    noise: int = declare(IntRange(0, 50), 0, N_("Noise"), unit="%")
    train_percent: int = declare(IntRange(10, 90), 50, N_("Training data"), unit="%")
    data_seed: int = declare(IntRange(0, 999_999), 1, N_("Data seed"))
    blobs: int = declare(IntRange(data.MIN_BLOBS, data.MAX_BLOBS), 3, N_("Classes"))
    features: tuple[str, ...] = declare(ListOf(Choice(tuple(features.FEATURES)), 1, 7, unique=True), ("x1", "x2"),
                                       N_("Inputs"))
    layers: tuple[int, ...] = declare(ListOf(IntRange(1, MAX_NEURONS), 0, MAX_HIDDEN_LAYERS), (4, 2),
                                     N_("Hidden layers"))
    activations: tuple[str, ...] = declare(ListOf(Choice(tuple(ACTIVATIONS), ACTIVATIONS), 0, MAX_HIDDEN_LAYERS),
                                          ("tanh", "tanh"), N_("Activation"))
    init_seed: int = declare(IntRange(0, 999_999), 0, N_("Initialiser seed"))
    loss: str = declare(Choice(tuple(training.LOSSES), {k: v.label for k, v in training.LOSSES.items()}),
                       "cross_entropy", N_("Loss"))
    optimizer: str = declare(Choice(tuple(training.OPTIMIZERS), {k: v.label for k, v in training.OPTIMIZERS.items()}),
                            "adam", N_("Optimiser"))
    lr: float = declare(FloatRange(training.MIN_LEARNING_RATE, training.MAX_LEARNING_RATE), 0.03, N_("Learning rate"))
    batch: int = declare(IntRange(training.MIN_BATCH_SIZE, training.MAX_BATCH_SIZE), 10, N_("Batch size"))
    reg: str = declare(Choice(tuple(training.REGULARIZATIONS), training.REGULARIZATIONS), "none", N_("Regularisation"))
    reg_rate: float = declare(FloatRange(0.0, training.MAX_REGULARIZATION_RATE), 0.0, N_("Regularisation rate"))
    speed: str = declare(Choice(("slow", "normal", "fast", "max"), SPEED_LABELS), "normal", N_("Speed"),
                        unit=N_("epochs per second"),
                        help=N_("Slow lets a class watch the boundary form; Max trains as fast as this machine can."))
    show_test: bool = declare(Flag(), False, N_("Show test data"))
    discretize: bool = declare(Flag(), False, N_("Discretise output"))
    # Adversarial training in the live trainer, and the attack lens (distances in the data's units: [-6, 6]^2).
    adv_train: bool = declare(
        Flag(), False, N_("Adversarial training"),
        help=N_("Half of every batch's loss is on FGSM points from a random start in the L∞ ε-box around each point "
                "(Goodfellow et al. 2015; Wong et al. 2020). Watch the boundary move away from the data."),
    )
    adv_eps: float = declare(FloatRange(0.05, 3.0), 0.5, N_("Adversarial ε"), unit=N_("plane units"))
    lens: bool = declare(
        Flag(), False, N_("Attack lens"),
        help=N_("Attack the network in the plane: arrows, ε-balls, the points that cross, and the minimum-ε map."),
    )
    lens_attack: str = declare(Choice(("fgsm", "pgd"), {"fgsm": "FGSM", "pgd": "PGD"}), "fgsm", N_("Attack"))
    lens_norm: str = declare(Choice(("inf", "2"), {"inf": N_("L∞ (square)"), "2": N_("L2 (disc)")}), "inf",
                             N_("Norm"))
    lens_eps: float = declare(FloatRange(0.0, 3.0), 0.5, "ε",
                               unit=N_("in the plane's units; it spans −6 to 6"))
    lens_steps: int = declare(IntRange(1, 50), 10, N_("PGD steps"))

    def __post_init__(self) -> None:
        # One activation per layer: a short list is padded with tanh, a long one trimmed.
        acts = tuple(self.activations[: len(self.layers)])
        object.__setattr__(self, "activations", acts + ("tanh",) * (len(self.layers) - len(acts)))
        # The problem type decides which datasets, losses and points fit: what does not is replaced.
        if self.dataset != custom.NAME and data.DATASETS[self.dataset].problem != self.problem:
            object.__setattr__(self, "dataset", data.datasets_for(self.problem)[0])
        if training.LOSSES[self.loss].problem != self.problem:
            object.__setattr__(self, "loss", training.DEFAULT_LOSSES[self.problem])
        if self.points and custom.is_regression(self.points) != self.regression:
            object.__setattr__(self, "points", ())

    @property
    def regression(self) -> bool:
        return self.problem == "regression"

    def consistency_notices(self, given: Mapping[str, Any]) -> list[str]:
        """Notices for values that parsed but do not fit together (``given``: the parsed URL values)."""
        notices = []
        if "activations" in given and len(given["activations"]) != len(self.layers):
            notices.append(
                _("The URL gave {activations} activations for {layers} hidden layers; extra ones were dropped and "
                  "missing ones are tanh.").format(activations=len(given["activations"]), layers=len(self.layers))
            )
        # Whole sentences for each problem type, as the words around it differ from one language to another.
        unfit = {
            ("dataset", False): _("The URL's dataset {value!r} is not for a classification: using {used}. Choose "
                                  "Regression as the problem type to use it."),
            ("dataset", True): _("The URL's dataset {value!r} is not for a regression: using {used}. Choose "
                                 "Classification as the problem type to use it."),
            ("loss", False): _("The URL's loss {value!r} is not for a classification: using {used}. Choose "
                               "Regression as the problem type to use it."),
            ("loss", True): _("The URL's loss {value!r} is not for a regression: using {used}. Choose "
                              "Classification as the problem type to use it."),
        }
        for name in ("dataset", "loss"):
            if name in given and given[name] != getattr(self, name):
                used = setting(self, name).codec.label(getattr(self, name))
                notices.append(unfit[name, self.regression].format(value=given[name], used=used))
        if given.get("points") and not self.points:
            notices.append(_("The URL's points are not for a regression, so they were left out.") if self.regression
                           else _("The URL's points are not for a classification, so they were left out."))
        return notices


@dataclass(frozen=True)
class AttackPageConfig:
    """The shareable settings of the Attack page (attack-specific parameters use their declared defaults)."""

    dataset: str = declare(Choice(tuple(data.DATASET_LABELS), data.DATASET_LABELS), "mnist", N_("Dataset"))
    model: str = declare(
        Choice(tuple(image_models.ARCHITECTURES), {k: a.label for k, a in image_models.ARCHITECTURES.items()}),
        image_models.DEFAULT_ARCHITECTURE, N_("Architecture"),
    )
    image: int = declare(IntRange(0, assets.SAMPLE_SIZE - 1), 0, N_("Test image"),  # an index into the bundled sample
                         unit=f"0–{assets.SAMPLE_SIZE - 1}")
    attack: str = declare(Choice(tuple(attacks.names()), {n: attacks.get(n).label for n in attacks.names()}), "fgsm",
                         N_("Attack"))
    eps: float = _declared(attacks.base.EPS)
    norm: str = declare(Choice(attacks.base.NORMS, attacks.base.NORM_LABELS), "inf", attacks.base.NORM.label)
    true_labels: bool = declare(Flag(), False, N_("Attack the true label"),
                               help=N_("Off (default): attack the model's own prediction, which avoids label leaking."))
    targeted: bool = declare(Flag(), False, N_("Targeted"))
    target: int = declare(IntRange(0, 9), 0, N_("Target class"))

    def consistency_notices(self, given: Mapping[str, Any]) -> list[str]:
        return []


DEFENCES_LABEL = N_("Defences, applied in this order (at most 4)")  # MAX_STACK, written out for the catalogue
# The Defend page's model kinds, and the bundled CNN variant (assets.VARIANTS) behind each.
DEFEND_VARIANTS = {"standard": "standard", "adversarial": "fast_at", "smoothed": "gaussian"}
DEFEND_MODELS = tuple(DEFEND_VARIANTS)
DEFEND_TABS = ("transforms", "training", "smoothing", "detector")
# URL key of each transform's single parameter.
TRANSFORM_KEYS = {"bit_depth": "bits", "median": "median", "jpeg": "quality", "blur": "blur", "noise": "noise"}


def _transformdeclare(name: str) -> Any:
    """A URL field for a transform's one declared parameter."""
    cls = get_transform(name)
    (param,) = cls.params
    return _declared(param, label=f"{cls.label}: {param.label}", parts=(cls.label, param.label))


@dataclass(frozen=True)
class DefendPageConfig:
    """The shareable settings of the Defend page: the model, the defence stack and the attack it faces."""

    # Hiding the tab would hide its content: a lesson sets it, a URL flag cannot hide it.
    tab: str = declare(Choice(DEFEND_TABS), "transforms", N_("Tab"), hideable=False)
    dataset: str = declare(Choice(tuple(data.DATASET_LABELS), data.DATASET_LABELS), "mnist", N_("Dataset"))
    model: str = declare(
        Choice(DEFEND_MODELS, {"standard": N_("Standard"), "adversarial": N_("Adversarially trained"),
                               "smoothed": N_("Smoothed")}),
        "standard", N_("Defended model"),
        help=N_("Standard: plain training. Adversarially trained: trained on attacks (bundled, or yours from the "
                "Adversarial training tab). Smoothed: a noise-trained base classifier; the transforms tab attacks the "
                "base classifier, the Smoothing tab certifies the smoothed one."),
    )
    defences: tuple[str, ...] = declare(
        ListOf(Choice(tuple(TRANSFORMS), {n: get_transform(n).label for n in TRANSFORMS}), 0, MAX_STACK, unique=True),
        ("median",), DEFENCES_LABEL,
        help=N_("Each one costs a pass over the batch at every step of a defence-aware attack, hence the cap."),
    )
    bits: int = _transformdeclare("bit_depth")
    median: int = _transformdeclare("median")
    quality: int = _transformdeclare("jpeg")
    blur: float = _transformdeclare("blur")
    noise: float = _transformdeclare("noise")
    threat: str = declare(Choice(tuple(THREATS), THREAT_LABELS), "bpda", N_("Threat model for the curve"))
    attack: str = declare(
        Choice(tuple(DEFEND_ATTACKS), {k: a.label for k, a in DEFEND_ATTACKS.items()}), "pgd", N_("Attack"),
        help=N_("Quick (PGD-20) takes seconds; Thorough (AutoAttack: APGD-CE, APGD-T and the gradient-free Square "
                "attack, Croce & Hein 2020) takes minutes but is what a verdict should rest on."),
    )
    eps: float = _declared(attacks.base.EPS, unit="L∞")
    n: int = declare(IntRange(10, 1000), 100, N_("Images"),
                     help=N_("From the bundled test sample; more is slower and more precise."))
    samples: int = _declared(SAMPLES)
    preset: str = declare(
        Choice(tuple(adversarial_training.PRESETS), {k: p.label for k, p in adversarial_training.PRESETS.items()}),
        "fast", N_("Recipe"),
    )
    train_eps: float = _declared(adversarial_training.EPS, unit="L∞")
    train_sigma: float = _declared(adversarial_training.SIGMA)
    train_epochs: int = _declared(adversarial_training.EPOCHS)
    train_steps: int = _declared(adversarial_training.PGD_STEPS)
    sigma: float = _declared(smoothing.SIGMA)
    cert_n: int = _declared(smoothing.N)
    n0: int = _declared(smoothing.N0)
    detect_eps: float = _declared(detector.EPS, unit="L∞; FGSM, PGD")
    detect_n: int = _declared(detector.N_ATTACKED)
    detect_attacks: tuple[str, ...] = declare(
        ListOf(Choice(detector.DEFAULT_ATTACKS, {n: attacks.get(n).label for n in detector.DEFAULT_ATTACKS}), 0,
               len(detector.DEFAULT_ATTACKS), unique=True),
        detector.DEFAULT_ATTACKS, N_("Attacks"),
    )
    alpha: float = declare(FloatChoice(smoothing.ALPHAS), smoothing.ALPHA.default, smoothing.ALPHA.label,
                          help=smoothing.ALPHA.help)

    def consistency_notices(self, given: Mapping[str, Any]) -> list[str]:
        return []

    def stack(self) -> Stack:
        """The chosen transforms, in order, with their parameters."""
        return Stack.of(*(self.transform(name) for name in self.defences))

    def transform(self, name: str) -> Transform:
        """One transform with this config's setting of its parameter."""
        cls = get_transform(name)
        return cls(**{cls.params[0].name: getattr(self, TRANSFORM_KEYS[name])})
