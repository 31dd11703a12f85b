"""Command line: ``python -m playground attack`` prints a model's accuracy under one attack at several budgets.

Example::

    python -m playground attack --dataset mnist --attack pgd --eps 0.05 0.1 0.2 --n 1000 --param steps=40

Results go to stdout (a table, or JSON with ``--json``); warnings and errors go to stderr. Bad input exits with
code 2 and one line on stderr, the last one (TensorFlow's start-up log may come before it: TF 2.21 writes it
before ``TF_CPP_MIN_LOG_LEVEL`` is read).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from pathlib import Path

from playground import assets  # NumPy only: --help and argument errors stay instant, before TF loads

EXIT_BAD_INPUT = 2
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class BadInput(Exception):
    """Input the user can fix: reported as one line on stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        # argparse would print its whole usage block; one line that points to --help is easier to read.
        raise BadInput(f"{message} (see `{self.prog} --help`)")


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite eps >= 0, received {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, received {text}")
    return value


def _assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected name=value, received {text!r}")
    return name.strip(), value.strip()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m playground", description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    attack = commands.add_parser(
        "attack",
        help="accuracy of a model under an attack, per eps",
        description="Evaluates a model on the first N test images under one attack at each eps.",
    )
    attack.add_argument("--dataset", choices=assets.DATASETS, default="mnist")
    # Like --attack: the architecture registry loads TensorFlow, so a wrong name is answered with the list.
    attack.add_argument(
        "--model",
        default=None,
        help="a bundled architecture trained on --dataset (e.g. cnn; an unknown name lists them), or a path to a "
        ".keras file (loaded in safe mode; 28x28x1 images in, 10 logits out). Default: the small CNN",
    )
    attack.add_argument(
        "--surrogate",
        default=None,
        help="a transfer attack: craft the adversarial images on this model (a bundled architecture or a .keras "
        "file, as for --model) and score them on --model, which the attacker never queries",
    )
    # The names come from the attack registry, which loads TensorFlow: a wrong one is answered with the list.
    attack.add_argument("--attack", default="fgsm", help="a registered attack, e.g. fgsm, pgd or autoattack (an "
                        "unknown name lists them all). Default: fgsm")
    attack.add_argument("--eps", type=_non_negative, nargs="+", default=[0.1], metavar="EPS", help="budgets")
    attack.add_argument("--n", type=_positive_int, default=10_000, help="the first N test images. Default: 10000")
    attack.add_argument(
        "--param",
        type=_assignment,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another parameter of the attack, e.g. --param steps=20 --param step_size=0.01 (repeatable)",
    )
    attack.add_argument("--batch-size", type=_positive_int, default=500, help="images per attack call. Default: 500")
    attack.add_argument(
        "--data-dir", default=None, help="folder with mnist/ and fashion/ IDX .gz files (default: $PLAYGROUND_DATA_DIR)"
    )
    attack.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def parse_params(spec, assignments: list[tuple[str, str]]) -> dict[str, object]:
    """Converts ``name=value`` strings by the types of the attack's declared parameters."""
    declared = {p.name: p for p in spec.params if p.name != "eps"}
    params: dict[str, object] = {}
    for name, raw in assignments:
        if name == "eps":
            raise BadInput("--param eps: give budgets with --eps")
        if name not in declared:
            raise BadInput(f"--param {name}: {spec.name} has no such parameter; it has {sorted(declared)}")
        default, choices = declared[name].default, declared[name].choices
        try:
            if isinstance(default, bool):  # before int: bool is an int subclass
                if raw.lower() not in _TRUE | _FALSE:
                    raise ValueError
                value: object = raw.lower() in _TRUE
            elif isinstance(default, int):
                value = int(raw)
            elif isinstance(default, float) or default is None:  # None: a number that follows eps unless set
                value = float(raw)
            else:
                value = raw
        except ValueError:
            raise BadInput(
                f"--param {name}: expected a value of type {type(default or 0.0).__name__}, received {raw!r}"
            ) from None
        if choices and value not in choices:
            raise BadInput(f"--param {name}: expected one of {list(choices)}, received {raw!r}")
        params[name] = value
    return params


def load_model(dataset: str, model: str | None):
    """A bundled architecture's model for ``dataset`` (the default one if ``model`` is None), else the .keras
    file at ``model``; and its description."""
    from playground import image_models

    model = model or image_models.DEFAULT_ARCHITECTURE
    if model in image_models.ARCHITECTURES:
        return image_models.load_bundled_model(dataset, model), f"bundled {dataset} {model}"
    path = Path(model)
    if not path.is_file():
        raise BadInput(
            f"--model {model}: no such file; expected a .keras file or one of {list(image_models.ARCHITECTURES)}"
        )
    try:
        return image_models.load_uploaded_model(path.read_bytes()), str(path)
    except ValueError as err:
        raise BadInput(f"--model {model}: {err}") from None


def load_test_set(dataset: str, data_dir: str | None, n: int):
    """The first ``n`` test images and labels, from the full test set or else the bundled sample (said on stderr)."""
    from playground import data

    try:
        images = data.load_images(dataset, data_dir=data_dir)
        x, y, source = images.x_test, images.y_test, "test set"
    except data.DataUnavailableError as err:
        x, y, _ = assets.load_sample(dataset)
        source = "bundled sample"
        print(f"warning: using the bundled {len(x)}-image sample of the test set instead: {err}", file=sys.stderr)
    if n > len(x):
        print(f"warning: --n {n} exceeds the {len(x)} images available; using all {len(x)}", file=sys.stderr)
    return x[:n], y[:n], source


def _show_progress(fraction: float, message: str) -> None:
    print(f"\r{fraction:6.1%}  {message}", end="", file=sys.stderr, flush=True)


def run_attack(args: argparse.Namespace) -> dict[str, object]:
    """Evaluates the model as ``args`` say; returns the report as plain values."""
    from playground import attacks, evaluation, image_models

    try:
        spec = attacks.get(args.attack)
    except ValueError:
        raise BadInput(f"--attack {args.attack}: unknown attack; expected one of {attacks.names()}") from None
    params = parse_params(spec, args.param)
    model, model_name = load_model(args.dataset, args.model)
    surrogate, surrogate_name = load_model(args.dataset, args.surrogate) if args.surrogate else (None, None)
    if image_models.has_softmax_output(model if surrogate is None else surrogate):  # the model attacked
        print(
            "warning: the model outputs probabilities (a softmax); attacks need logits and will look weaker than "
            "they are",
            file=sys.stderr,
        )
    x, y, source = load_test_set(args.dataset, args.data_dir, args.n)
    # A live progress line only for a person watching; redirected stderr (logs, tests) stays clean.
    interactive = sys.stderr.isatty()
    norm = spec.budget_norm(params)
    curve = evaluation.robustness_curve(
        model,
        x,
        y,
        spec.name,
        args.eps,
        norm=norm,
        params=params,
        batch_size=args.batch_size,
        progress=_show_progress if interactive else None,
        crafted_on=surrogate,
    )
    if interactive:
        print(file=sys.stderr)
    return {
        "dataset": args.dataset,
        "model": model_name,
        "crafted_on": surrogate_name or model_name,  # another model: a transfer attack
        "attack": spec.name,
        # A number left to follow eps (the step size) shows its rule, e.g. "2.5·ε/steps".
        "params": {
            p.name: (spec.defaults() | params)[p.name] if (p.name in params or p.default is not None) else p.auto
            for p in spec.params
            if p.name != "eps"
        },
        "scoring": evaluation.SCORING,
        "data": source,
        "n": len(x),
        "clean_accuracy": curve.clean_accuracy,
        "results": [
            {
                "eps": eps,
                "norm": norm,
                "robust_accuracy": score.value,
                "robust_accuracy_95ci": list(score.interval),
                "upper_bound": True,
                "success_rate": success,
                "median_linf": _number(linf),
                "median_l2": _number(l2),
                "seconds": seconds,
            }
            for eps, score, success, linf, l2, seconds in zip(
                curve.eps,
                curve.robust,
                curve.success_rate,
                curve.median_linf,
                curve.median_l2,
                curve.seconds,
                strict=True,
            )
        ],
    }


def _number(value: float) -> float | None:
    """JSON has no NaN: a median over no successes is null."""
    return None if value != value else value


def format_table(report: dict[str, object]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in report["params"].items())
    norm = {"inf": "L-inf", "2": "L2"}[report["results"][0]["norm"]] if report["results"] else ""
    target = report["model"]
    if report["crafted_on"] != target:
        target = f"{target} (a transfer attack: crafted on {report['crafted_on']})"
    lines = [
        f"{report['attack']}({params}) on {target}, first {report['n']} images of the {report['dataset']} "
        f"{report['data']}",
        f"clean accuracy: {report['clean_accuracy']:.4f}",
        f"robust accuracy: {report['scoring']}; an upper bound (a stronger attack can only lower it)",
        f"{norm + ' eps':>9} {'robust acc':>10} {'95% interval':>15} {'fooled':>7} {'med L-inf':>9} {'med L2':>7} "
        f"{'seconds':>8}",
    ]
    for r in report["results"]:
        low, high = r["robust_accuracy_95ci"]
        linf = "-" if r["median_linf"] is None else f"{r['median_linf']:.4f}"
        l2 = "-" if r["median_l2"] is None else f"{r['median_l2']:.3f}"
        lines.append(
            f"{r['eps']:>9g} {r['robust_accuracy']:>10.4f} {f'{low:.4f}-{high:.4f}':>15} {r['success_rate']:>7.1%} "
            f"{linf:>9} {l2:>7} {r['seconds']:>8.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from playground.data import DataUnavailableError

    try:
        args = build_parser().parse_args(argv)
        # Keras prints progress (e.g. "Downloading data from ...") on stdout, which must carry only the result.
        with contextlib.redirect_stdout(sys.stderr):
            report = run_attack(args)
    # ValueError is the engine's contract for bad arguments (eps, labels, parameter values); the rest name a
    # missing file or dataset. Anything else is a bug and keeps its traceback.
    except (BadInput, ValueError, FileNotFoundError, DataUnavailableError) as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)  # one line, whatever the message
        return EXIT_BAD_INPUT
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
