"""Exports of an experiment: its page config as JSON, and a short script that reruns it headless.

The scripts are what a student pastes into a file next to the ``playground`` package: plain code over its public
API (no Streamlit), with the page's settings written out as literals, printing the numbers the page shows in the
page's own format. Same settings and seeds give the same numbers (``tests/test_snippets.py`` checks it).

Example:

```python
from playground import snippets
from playground.state import TrainPageConfig

print(snippets.train_snippet(TrainPageConfig(dataset="xor"), epochs=50))
```
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import json
import textwrap
from collections.abc import Mapping
from typing import Any

from playground import assets, attacks, defences, state

# The page each config type belongs to (the "page" field of the exported JSON).
PAGES: dict[str, type] = {
    "build_and_train": state.TrainPageConfig,
    "attack": state.AttackPageConfig,
    "defend": state.DefendPageConfig,
}
JSON_FORMAT = 1
# As on the Attack and Defend pages: the same settings give the same random starts, on every rerun and link.
ATTACK_SEED = 0
DEFEND_SEED = 0

_RUN_NOTE = "Run it from the folder that holds the `playground` package (the Adversarial Playground checkout):"
_WIDTH = 88  # docstring text width: readable in the page's code box


def plain(value: Any) -> Any:
    """``value`` with NumPy scalars turned into Python ones (tuples and lists kept), so ``repr`` is a literal.

    NumPy 2 writes ``repr(np.float64(0.1))`` as ``np.float64(0.1)``, which a snippet could not use.
    """
    if isinstance(value, tuple | list):
        return type(value)(plain(v) for v in value)
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if type(value) not in (bool, int, float, str, type(None)) and hasattr(value, "item"):
        return value.item()
    return value


def page_of(config: Any) -> str:
    """The page name of a config (a key of ``PAGES``)."""
    for page, config_type in PAGES.items():
        if type(config) is config_type:
            return page
    raise ValueError(f"Expected a config of type {[t.__name__ for t in PAGES.values()]}. Received: {type(config)}")


def config_json(config: Any, *, created: dt.datetime | None = None) -> str:
    """A page config as JSON: the page, every field with its real type, and the URL query that reproduces it."""
    document = {
        "format": JSON_FORMAT,
        "page": page_of(config),
        "config": plain(dataclasses.asdict(config)),
        "query": state.to_query(config),
        "created": (created or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def config_from_json(text: str) -> Any:
    """The config that ``config_json`` wrote (JSON lists become the dataclass's tuples).

    Raises:
        ValueError: for an unknown page or a field the config type does not have.
    """
    document = json.loads(text)
    page = document.get("page")
    if page not in PAGES:
        raise ValueError(f"Expected page in {list(PAGES)}. Received: page={page!r}")
    config_type = PAGES[page]
    known = {f.name for f in dataclasses.fields(config_type)}
    values = document.get("config", {})
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"Expected fields of {config_type.__name__}. Received unknown fields: {unknown}")
    return config_type(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def literal(value: Any) -> str:
    """``value`` as Python source, strings in double quotes (the style ``ruff format`` writes)."""
    value = plain(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid Python string literal
    if isinstance(value, tuple):
        items = ", ".join(literal(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _config_literal(config: Any) -> str:
    """``Config(\\n    field=value,\\n    ...\\n)`` with every field written out."""
    fields = "".join(f"    {f.name}={literal(getattr(config, f.name))},\n" for f in dataclasses.fields(config))
    return f"{type(config).__name__}(\n{fields})"


def _call(function: str, positional: list[str], keywords: Mapping[str, Any]) -> str:
    """``function(a, b, k=v, ...)`` on one line, or one argument per line if that is too long."""
    arguments = positional + [f"{k}={literal(v)}" for k, v in keywords.items()]
    line = f"{function}({', '.join(arguments)})"
    if len(line) <= 100:
        return line
    return f"{function}(\n" + "".join(f"    {a},\n" for a in arguments) + ")"


def _header(title: str, filename: str, text: str) -> str:
    """The script's docstring: what it does, and how to run it."""
    body = "\n\n".join(textwrap.fill(part, _WIDTH) for part in (text, _RUN_NOTE))
    return f'"""{title}\n\n{body}\n\n    python {filename}\n"""\n'


def train_snippet(config: state.TrainPageConfig, epochs: int, *, filename: str = "build_and_train.py") -> str:
    """A script that trains the Build & Train experiment of ``config`` for ``epochs`` epochs and prints the
    page's metrics (epoch, train loss, test loss, and a classification's test accuracy) after each one."""
    if epochs < 0:
        raise ValueError(f"Expected epochs >= 0. Received: epochs={epochs}")
    header = _header(
        f"Build & Train, headless: the page's experiment, trained for {epochs} epochs.",
        filename,
        "Exported from Adversarial Playground. The same settings and seeds give the same data, initial weights "
        "and batches, so the numbers match the page's. Settings changed while the page was training are not "
        "replayed: this trains with the ones below from the start.",
    )
    return f"""{header}
from playground.experiment import ToyExperiment
from playground.state import TrainPageConfig

config = {_config_literal(config)}
EPOCHS = {epochs}

experiment = ToyExperiment.create(config)  # the data and the freshly initialised network, from the seeds
trainer = experiment.trainer
trainer.run_epochs(EPOCHS)

# One line per epoch (epoch 0 is before training), as the page's metrics show them.
for record in trainer.history:
    line = f"Epoch {{record.epoch:,}} | Train loss {{record.train_loss:.4f}} | Test loss {{record.test_loss:.4f}}"
    if not trainer.regression:  # a predicted value has no accuracy
        line += f" | Test accuracy {{record.test_accuracy:.1%}}"
    print(line)
if trainer.diverged:
    print(trainer.diverged)
"""


def attack_parameters(config: state.AttackPageConfig, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The keyword arguments the Attack page passes to the attack for ``config``.

    Args:
        config: the page's config; its ``eps`` and ``norm`` apply if the attack declares them.
        params: the page's current values of the attack's declared parameters (e.g. steps moved on a slider),
            which the config does not hold; ``None`` uses the declared defaults.
    """
    spec = attacks.get(config.attack)
    values = spec.defaults()
    values |= {name: getattr(config, name) for name in ("eps", "norm") if name in values}
    values |= {k: v for k, v in (params or {}).items() if k in values}
    signature = inspect.signature(spec.fn).parameters
    if "seed" in signature:
        values["seed"] = ATTACK_SEED
    if config.targeted and "targeted" in signature:
        values["targeted"] = True
    return plain(values)


def attack_snippet(
    config: state.AttackPageConfig,
    params: Mapping[str, Any] | None = None,
    *,
    model_file: str | None = None,
    filename: str = "attack.py",
) -> str:
    """A script that runs the Attack page's single-image attack and prints its verdict and perturbation sizes.

    Args:
        config: the page's config: dataset, architecture, image index in the bundled sample, attack, eps, norm,
            labels.
        params: the page's values of the attack's other parameters (see ``attack_parameters``).
        model_file: a ``.keras`` file to load instead of the bundled model (a model trained or uploaded on the
            page: save it with the page's download button under this name).
    """
    spec = attacks.get(config.attack)
    keywords = attack_parameters(config, params)
    targeted = bool(keywords.get("targeted"))
    index = min(config.image, assets.SAMPLE_SIZE - 1)
    if model_file is None:
        arguments = f"{literal(config.dataset)}, {literal(config.model)}"
        model_lines = [f"model = image_models.load_bundled_model({arguments})  # outputs logits"]
    else:
        model_lines = [
            "# The model downloaded from the page, loaded in Keras' safe mode and checked (28x28x1 in, 10 logits out).",
            f"model = image_models.load_uploaded_model(Path({literal(model_file)}).read_bytes())",
        ]
    if targeted:
        label_lines = [f"labels = np.array([{config.target}])  # targeted: the class to reach"]
    elif config.true_labels:
        label_lines = [f"labels = y_all[{index}:{index + 1}]  # the true label"]
    else:
        label_lines = ["labels = None  # attack the model's own prediction (avoids label leaking)"]
    exported = getattr(attacks, spec.name, None) is spec.fn
    function = f"attacks.{spec.name}" if exported else f"attacks.get({literal(spec.name)})"
    success = "adv_class != clean_class"
    if targeted:
        success += f" and adv_class == {config.target}  # a target equal to the clean class is no success"
    imports = (["from pathlib import Path", ""] if model_file is not None else []) + (
        ["import numpy as np", ""] if targeted else []
    )
    header = _header(
        f"Attack, headless: {spec.label} on image #{index} of the bundled {config.dataset} test sample.",
        filename,
        "Exported from Adversarial Playground. It prints the verdict and the perturbation sizes the page shows.",
    )
    body = [
        *imports,
        "from playground import assets, attacks, evaluation, image_models",
        "",
        *model_lines,
        f"x_all, y_all, class_names = assets.load_sample({literal(config.dataset)})  # the first 1000 test images",
        f"x = x_all[{index}:{index + 1}]  # image #{index}, as a batch of one",
        *label_lines,
        "",
        f"x_adv = {_call(function, ['model', 'x', 'labels'], keywords)}",
        "",
        "clean_class = int(evaluation.predict(model, x).argmax())",
        "adv_class = int(evaluation.predict(model, x_adv).argmax())",
        f"fooled = {success}",
        "stats = evaluation.perturbation_stats(x, x_adv)",
        """print(f"{'Fooled' if fooled else 'Not fooled'}: {class_names[clean_class]} → {class_names[adv_class]}")""",
        """print(f"L∞ ‖δ‖ {stats.linf:.3f} | L2 ‖δ‖ {stats.l2:.3f} | mean |δ| {stats.mean_abs:.4f}")""",
    ]
    return header + "\n" + "\n".join(body) + "\n"


def defend_snippet(
    config: state.DefendPageConfig, *, model_file: str | None = None, filename: str = "defend.py"
) -> str:
    """A script that builds the Defend page's input-transform table: no defence, each transform and the stack,
    under the defence-unaware, BPDA and EOT threat models (``defences.compare_threats``).

    Args:
        config: the page's config (its transforms tab: model kind, stack, attack, eps, n, EOT samples).
        model_file: a ``.keras`` file to load instead of the bundled model of the config's kind.
    """
    stack = config.stack()
    for transform in stack.transforms:
        if getattr(defences, type(transform).__name__, None) is not type(transform):
            raise ValueError(f"Expected a transform exported by playground.defences. Received: {transform!r}")
    # Sorted as isort/ruff do: CONSTANT names, then Classes, then functions.
    names = {type(t).__name__ for t in stack.transforms} | {"Stack", "compare_threats"}
    names = sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    if model_file is None:
        variant = state.DEFEND_VARIANTS[config.model]
        arguments = ", ".join(literal(a) for a in (config.dataset, "cnn", variant))
        model_lines = [f"model = image_models.load_bundled_model({arguments})"]
    else:
        model_lines = [
            "# The model downloaded from the page, loaded in Keras' safe mode and checked (28x28x1 in, 10 logits out).",
            f"model = image_models.load_uploaded_model(Path({literal(model_file)}).read_bytes())",
        ]
    params = plain(defences.DEFEND_ATTACKS[config.attack].params)
    transforms = ", ".join(repr(t) for t in stack.transforms)
    keywords = {"attack": config.attack, "eps": config.eps, "params": params, "samples": config.samples}
    attack_label = defences.DEFEND_ATTACKS[config.attack].label
    header = _header(
        f"Defend, headless: {attack_label} at eps = {config.eps:g} against input transforms, three threat models.",
        filename,
        "Exported from Adversarial Playground. It prints the page's table: robust accuracy (correct clean and "
        "attacked; an upper bound) against the true labels on "
        f"the first {config.n} images of the bundled {config.dataset} test sample.",
    )
    body = [
        *(["from pathlib import Path", ""] if model_file is not None else []),
        "from playground import assets, image_models",
        f"from playground.defences import {', '.join(names)}",
        "",
        *model_lines,
        f"x, y, class_names = assets.load_sample({literal(config.dataset)})  # the first 1000 official test images",
        f"x, y = x[:{config.n}], y[:{config.n}]",
        f"stack = Stack.of({transforms})  # applied in this order",
        "",
        f"rows = {_call('compare_threats', ['model', 'stack', 'x', 'y'], keywords | {'seed': DEFEND_SEED})}",
        "",
        f'print(" | ".join({literal(["Defence", "Clean", *defences.THREAT_LABELS.values()])}))',
        "for row in rows:",
        f"    accuracies = [row.clean] + [row.robust[threat] for threat in {literal(tuple(defences.THREAT_LABELS))}]",
        """    print(" | ".join([row.label] + [f"{a:.1%}" for a in accuracies]))""",
    ]
    return header + "\n" + "\n".join(body) + "\n"
