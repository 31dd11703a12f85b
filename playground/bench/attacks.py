"""``python -m playground.bench attacks``: our FGSM and PGD against ART 1.20.1 on the MNIST test set."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

# Ratios of median wall times. The ART ratios are taken with ART at ATTACK_BATCH_SIZE, the batch size ours runs at.
ATTACK_TARGETS = {
    "art_over_ours_fgsm": ">= 2.0",
    "art_over_ours_pgd20": ">= 2.0",
    "pgd20_over_20_fgsm": "<= 1.0",
    "fgsm_over_forward": "<= 2.6",
    "slider_to_image_ms_median": "<= 300",
}
ATTACK_EPS, PGD_STEP_SIZE, PGD_STEPS = 0.1, 0.01, 20
ATTACK_BATCH_SIZE = 500  # evaluation.robustness_curve's default
ART_DEFAULT_BATCH_SIZE = 32  # what FastGradientMethod and ProjectedGradientDescent use unless told otherwise
ART_VERSION = "1.20.1"


def _difference(ours, theirs) -> dict[str, float]:
    """How far two batches of images are apart: the largest |difference|, and the shares of pixels and images
    that are not bit-identical."""
    import numpy as np

    diff = np.abs(ours - theirs).reshape(len(ours), -1)
    return {
        "max_abs_diff": float(diff.max()),
        "fraction_pixels_differ": float((diff > 0).mean()),
        "fraction_images_identical": float((diff.max(axis=1) == 0).mean()),
    }


def _relative_gradient_where(model, x, labels, differ) -> float | None:
    """The largest |loss gradient| at the pixels marked in ``differ``, relative to the largest of its image.

    Float32 gradients carry round-off of about 1e-7 of their largest entry; a pixel whose gradient is below
    that is a zero gradient whose sign is noise, and two correct implementations may step either way there.
    """
    import numpy as np

    from playground import evaluation

    rows = np.flatnonzero(differ.reshape(len(differ), -1).any(axis=1))
    if len(rows) == 0:
        return None
    gradient = np.abs(evaluation.input_gradient(model, x[rows], labels[rows]))
    largest = gradient.reshape(len(rows), -1).max(axis=1).reshape(-1, *[1] * (x.ndim - 1))
    return float((gradient / largest)[differ[rows]].max())


def art_classifier(model):
    """ART's estimator around the MNIST ``model`` (logits, inputs in [0, 1]), as every ART contender here uses it.

    Raises:
        ImportError: if ART is not installed (it is an optional benchmark dependency).
    """
    import keras
    from art.estimators.classification import TensorFlowV2Classifier

    return TensorFlowV2Classifier(
        model=model,
        nb_classes=10,
        input_shape=(28, 28, 1),
        loss_object=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        clip_values=(0.0, 1.0),
    )


def mnist_setup(n: int, data_dir: str | None, batch_size: int = ATTACK_BATCH_SIZE):
    """The attack suite's set-up: the first ``n`` MNIST test images (from ``data_dir``, default
    ``$PLAYGROUND_DATA_DIR``), the bundled default CNN, and its own predictions as labels.

    Returns:
        ``(x, model, labels)``.
    """
    import numpy as np

    from playground import data, evaluation, image_models

    x = np.asarray(data.load_images("mnist", data_dir=data_dir).x_test[:n])
    model = image_models.load_bundled_model("mnist", image_models.DEFAULT_ARCHITECTURE)
    labels = evaluation.predict(model, x, batch_size=batch_size).argmax(-1)
    return x, model, labels


def _art_attacks(model, batch_size: int) -> dict[str, Callable]:
    """ART's FGSM and PGD-20 over ``model`` at ``batch_size``, as ``run(x, y)`` functions by name.

    Raises:
        ImportError: if ART is not installed (it is an optional benchmark dependency).
    """
    import numpy as np
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent

    classifier = art_classifier(model)
    fgsm = FastGradientMethod(classifier, norm=np.inf, eps=ATTACK_EPS, batch_size=batch_size)
    # num_random_init=0 starts at x, as our random_start=False does; verbose=False drops the tqdm bar.
    pgd = ProjectedGradientDescent(
        classifier,
        norm=np.inf,
        eps=ATTACK_EPS,
        eps_step=PGD_STEP_SIZE,
        max_iter=PGD_STEPS,
        num_random_init=0,
        batch_size=batch_size,
        verbose=False,
    )
    return {"fgsm": fgsm.generate, "pgd20": pgd.generate}


def _ratios(seconds: dict[str, float]) -> dict[str, float]:
    """The target ratios (see ``ATTACK_TARGETS``) from seconds per run."""
    ratios = {
        "pgd20_over_20_fgsm": seconds["pgd20"] / (PGD_STEPS * seconds["fgsm"]),
        "fgsm_over_forward": seconds["fgsm"] / seconds["forward"],
    }
    if "art_fgsm" in seconds:
        ratios["art_over_ours_fgsm"] = seconds["art_fgsm"] / seconds["fgsm"]
        ratios["art_over_ours_pgd20"] = seconds["art_pgd20"] / seconds["pgd20"]
    return {name: round(value, 3) for name, value in ratios.items()}


def attack_figures(
    *, n: int = 10_000, data_dir: str | None = None, batch_size: int = ATTACK_BATCH_SIZE, repeats: int = 3
) -> dict[str, object]:
    """Times our FGSM, PGD-20 and a forward pass against ART's FGSM and PGD-20 on the same model and images.

    The bundled MNIST CNN attacks the first ``n`` test images at eps 0.1 (PGD: step 0.01, 20 steps, no random
    start). Both libraries get the model's own predictions as labels, so their images can be compared bit for
    bit. Our attacks are called on batches of ``batch_size``, as ``evaluation.robustness_curve`` calls them, and
    ART runs at that batch size too; the headline ratios use that matched run. ART at its default batch size is
    timed as well, for reference (its PGD once, as it takes minutes).

    Every contender is warmed up on one batch (which traces our ``tf.function``s), then all run in turn,
    ``repeats`` rounds: the machine is shared, and taking turns gives each the same share of a neighbour's load.

    Returns:
        The median and the best seconds per run, the target ratios from the medians (and from the best runs),
        how far the images of both libraries differ, and the load average before and after.
    """
    import sys

    import keras
    import numpy as np
    import tensorflow as tf

    from playground import attacks, evaluation

    load_before = os.getloadavg()[0]
    x, model, labels = mnist_setup(n, data_dir, batch_size)

    def batched(attack, **params):
        def run(xs, ys):
            return np.concatenate(
                [
                    attack(model, xs[i : i + batch_size], ys[i : i + batch_size], **params)
                    for i in range(0, len(xs), batch_size)
                ]
            )

        return run

    def note(message: str) -> None:
        print(f"[attacks] {message}", file=sys.stderr, flush=True)

    contenders = {
        "forward": lambda xs, ys: evaluation.predict(model, xs, batch_size=batch_size),
        "fgsm": batched(attacks.fgsm, eps=ATTACK_EPS),
        "pgd20": batched(attacks.pgd, eps=ATTACK_EPS, step_size=PGD_STEP_SIZE, steps=PGD_STEPS, random_start=False),
    }
    figures: dict[str, object] = {"images": len(x), "batch_size": batch_size, "repeats": repeats}
    try:
        art_matched = _art_attacks(model, batch_size)
        art_default = _art_attacks(model, ART_DEFAULT_BATCH_SIZE)
    except ImportError as err:
        note(f"ART is not installed ({err}); timing ours only. To compare: pip install -r requirements-bench.txt")
        figures["art"] = "not installed: pip install -r requirements-bench.txt"
    else:
        import art

        if art.__version__ != ART_VERSION:
            note(f"ART {art.__version__} is installed; the targets were set against {ART_VERSION}")
        figures["art_version"] = art.__version__
        contenders |= {
            "art_fgsm": art_matched["fgsm"],
            "art_pgd20": art_matched["pgd20"],
            f"art_fgsm_batch_{ART_DEFAULT_BATCH_SIZE}": art_default["fgsm"],
        }

    for name, run in contenders.items():
        note(f"warm-up: {name}")
        run(x[:batch_size], labels[:batch_size])
        if len(x) % batch_size:  # a smaller last batch is a new input shape: trace it before timing too
            run(x[-(len(x) % batch_size) :], labels[-(len(x) % batch_size) :])
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    images = {}
    for round_ in range(repeats):
        for name, run in contenders.items():
            note(f"round {round_ + 1}/{repeats}: {name}")
            started = time.perf_counter()
            images[name] = run(x, labels)
            samples[name].append(time.perf_counter() - started)
    if "art" not in figures:
        name = f"art_pgd20_batch_{ART_DEFAULT_BATCH_SIZE}_one_run"
        note(f"{name} (minutes)")
        started = time.perf_counter()
        art_default["pgd20"](x, labels)
        samples[name] = [time.perf_counter() - started]

    median = {name: statistics.median(times) for name, times in samples.items()}
    figures |= {
        "seconds_median": {name: round(value, 3) for name, value in median.items()},
        "seconds_best": {name: round(min(times), 3) for name, times in samples.items()},
        **_ratios(median),
        "ratios_from_best_runs": _ratios({name: min(times) for name, times in samples.items()}),
    }
    if "art" not in figures:
        figures |= {
            "ratios_use": f"ART at batch_size={batch_size}, the same as ours; medians of {repeats} runs",
            f"art_batch_{ART_DEFAULT_BATCH_SIZE}_over_ours_fgsm": round(
                median[f"art_fgsm_batch_{ART_DEFAULT_BATCH_SIZE}"] / median["fgsm"], 2
            ),
            f"art_batch_{ART_DEFAULT_BATCH_SIZE}_over_ours_pgd20": round(
                median[f"art_pgd20_batch_{ART_DEFAULT_BATCH_SIZE}_one_run"] / median["pgd20"], 2
            ),
            "fgsm_ours_vs_art": _difference(images["fgsm"], images["art_fgsm"])
            | {
                "max_relative_gradient_where_differ": _relative_gradient_where(
                    model, x, labels, images["fgsm"] != images["art_fgsm"]
                )
            },
            "pgd20_ours_vs_art": _difference(images["pgd20"], images["art_pgd20"])
            | {
                "fooled_fraction_ours": float((evaluation.predict(model, images["pgd20"]).argmax(-1) != labels).mean()),
                "fooled_fraction_art": float(
                    (evaluation.predict(model, images["art_pgd20"]).argmax(-1) != labels).mean()
                ),
            },
        }
    return figures | {
        "labels": "the model's predictions, given to both libraries",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "load_average_1min_before": round(load_before, 2),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }


_PANELS = ".st-key-atk_panels img"
_SHOWN = """([linf, previous]) => {
  const images = [...document.querySelectorAll('.st-key-atk_panels img')];
  const metric = [...document.querySelectorAll('[data-testid=stMetric]')].find(m => m.innerText.includes('L∞'));
  const value = metric && metric.querySelector('[data-testid=stMetricValue]').innerText.trim();
  const adversarial = images[3];
  return value === linf && adversarial && adversarial.complete && adversarial.naturalWidth > 0
    && adversarial.getAttribute('src') !== previous;
}"""


def eps_move_seconds(page, moves: int, *, start: float = 0.1, timeout_ms: int = 30_000) -> list[float]:
    """Seconds from each ε-slider key press (+0.005 a press, from ε = ``start``, where the slider is) to the new
    adversarial image and L∞."""
    import re

    latencies = []
    page.get_by_role("slider", name=re.compile("^Perturbation size ε")).focus()
    eps = start
    for _ in range(moves):
        previous = page.locator(_PANELS).nth(3).get_attribute("src")
        eps = round(eps + 0.005, 3)
        started = time.perf_counter()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(_SHOWN, arg=[f"{eps:.3f}", previous], polling="raf", timeout=timeout_ms)
        latencies.append(time.perf_counter() - started)
        time.sleep(0.5)  # one move at a time, as a student drags and looks
    return latencies


def slider_figures(moves: int = 10) -> dict[str, object]:
    """Milliseconds from an ε-slider key press to the new adversarial image and L∞ being drawn in Chromium."""
    from playground import browser

    with browser.chromium() as chromium, browser.streamlit_server() as url:
        page = chromium.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(url + "/attack?image=4&eps=0.1")
        page.locator(_PANELS).nth(4).wait_for(timeout=120_000)
        time.sleep(2.0)
        latencies = [round(seconds * 1000) for seconds in eps_move_seconds(page, moves)]
    return {"slider_to_image_ms_median": statistics.median(latencies), "slider_to_image_ms": latencies}
