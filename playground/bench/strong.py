"""Part of ``python -m playground.bench attacks``: the quick and the thorough evaluation against ART's APGD.

For each bundled model and ε of issue 9's table, on the first ``n`` MNIST / Fashion-MNIST test images (the
bundled sample holds the first 1000), it measures robust accuracy under ``evaluation.robust``'s rule with

- Quick: PGD-20 from a random start, step 2.5ε/20 (the pages' default);
- Thorough: our ``autoattack`` cascade (APGD-CE, APGD-T, Square 5000 queries), and its seconds;
- ART 1.20.1's APGD-CE and APGD-DLR (100 iterations, one start), the same images, scored the same way;

each with its 95 % Wilson interval. The JPEG row attacks through the defence with BPDA (ART is not run there:
it has no BPDA wrapper of ours).
"""

from __future__ import annotations

import time

STRONG_TARGETS = {
    "thorough_robust_accuracy": "<= ART's APGD-CE and APGD-DLR on the same images",
    "thorough_seconds_per_1000": "<= 300",
}
# (dataset, bundled variant, eps, JPEG quality in front of the model or None): issue 9's four models.
ROWS = (
    ("mnist", "fast_at", 0.1, None),
    ("mnist", "standard", 0.1, None),
    ("fashion_mnist", "fast_at", 0.1, None),
    ("mnist", "fast_at", 0.2, None),
    ("mnist", "standard", 0.1, 75),
)
SEED = 0


def _art_apgd(model, loss_type: str, eps: float, batch_size: int):
    import keras
    import numpy as np
    from art.attacks.evasion import AutoProjectedGradientDescent
    from art.estimators.classification import TensorFlowV2Classifier

    classifier = TensorFlowV2Classifier(
        model=model, nb_classes=10, input_shape=(28, 28, 1), clip_values=(0.0, 1.0),
        loss_object=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return AutoProjectedGradientDescent(
        classifier, norm=np.inf, eps=eps, eps_step=2 * eps, max_iter=100, targeted=False, nb_random_init=1,
        batch_size=batch_size, loss_type=loss_type, verbose=False,
    )


def _predictions(model, quality: int | None):
    """What the deployed system predicts: the model, or the real JPEG (Pillow) and then the model."""
    from playground import evaluation
    from playground.defences import JPEG, Stack, defended_predict

    if quality is None:
        return lambda images: evaluation.predict(model, images).argmax(-1)
    return lambda images: defended_predict(model, Stack.of(JPEG(quality=quality)), images).argmax(-1)


def _row(dataset: str, variant: str, eps: float, quality: int | None, *, n: int, batch_size: int, art: bool) -> dict:
    import os

    import numpy as np

    from playground import assets, attacks, evaluation, image_models
    from playground.defences import BPDA, JPEG, Stack

    x, y, _ = assets.load_sample(dataset)
    x, y = x[:n], y[:n]
    model = image_models.load_bundled_model(dataset, "cnn", variant)
    target = model if quality is None else BPDA(model, Stack.of(JPEG(quality=quality)), seed=SEED)
    predict = _predictions(model, quality)
    clean = predict(x)
    row = {"dataset": dataset, "model": variant, "defence": f"JPEG q{quality} (BPDA)" if quality else "none",
           "eps": eps, "norm": "inf", "n": len(x), "load_before": round(os.getloadavg()[0], 2)}

    def scored(x_adv, seconds: float) -> dict[str, object]:
        score = evaluation.robust_accuracy(clean, predict(x_adv), y)
        return {"robust_accuracy": round(score.value, 4), "ci95": [round(v, 4) for v in score.interval],
                "seconds": round(seconds, 1)}

    def run(attack, **params) -> dict[str, object]:
        started = time.perf_counter()
        x_adv = np.concatenate([attack(target, x[i : i + batch_size], y[i : i + batch_size], **params)
                                for i in range(0, len(x), batch_size)])
        return scored(x_adv, time.perf_counter() - started)

    row["quick_pgd20"] = run(attacks.pgd, eps=eps, steps=20, seed=SEED)
    row["thorough_autoattack"] = run(attacks.autoattack, eps=eps, seed=SEED)
    row["thorough_autoattack"]["seconds_per_1000"] = round(row["thorough_autoattack"]["seconds"] * 1000 / len(x), 1)
    if art and quality is None:
        for loss, name in (("cross_entropy", "art_apgd_ce"), ("difference_logits_ratio", "art_apgd_dlr")):
            started = time.perf_counter()
            x_art = _art_apgd(model, loss, eps, batch_size).generate(x, y)
            row[name] = scored(x_art, time.perf_counter() - started)
    row["load_after"] = round(os.getloadavg()[0], 2)
    return row


def strong_figures(*, n: int = 1000, batch_size: int = 250, art: bool = True, rows=ROWS) -> list[dict[str, object]]:
    """One dict per row of ``ROWS``: quick, thorough and ART's figures, seconds, and the load average."""
    results = []
    for dataset, variant, eps, quality in rows:
        results.append(_row(dataset, variant, eps, quality, n=n, batch_size=batch_size, art=art))
        print(results[-1], flush=True)  # a row at a time: the suite takes many minutes
    return results
