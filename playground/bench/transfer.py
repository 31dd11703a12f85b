"""``python -m playground.bench transfer``: how often adversarial images crafted on one bundled architecture fool
another, beside the white-box rate on the target itself.

Each target's white-box row attacks the target; each transfer row crafts the same attack on a surrogate
(aiming at the surrogate's own predictions) and scores the images on the target, which the attacker never
queried (``evaluation.robustness_curve(..., crafted_on=surrogate)``). A success is a correctly classified
test image whose prediction the adversarial image changes, as everywhere in the app.
"""

from __future__ import annotations

import os

TRANSFER_TARGETS = {
    "success_rate": "reported, no target: transfer is expected below white-box, and above 0 between similar models",
}
TRANSFER_EPS = (0.1, 0.2)


def transfer_figures(*, n: int = 1000, data_dir: str | None = None, attack: str = "pgd") -> dict[str, object]:
    """Success rates of ``attack`` (default parameters) at ``TRANSFER_EPS`` between every pair of the bundled
    MNIST architectures, on the first ``n`` test images (the bundled sample if the test set is absent)."""
    from playground import assets, data, evaluation, image_models

    load_before = os.getloadavg()[0]
    try:
        images = data.load_images("mnist", data_dir=data_dir)
        x, y, source = images.x_test[:n], images.y_test[:n], "test set"
    except data.DataUnavailableError:
        x, y, _ = assets.load_sample("mnist")
        x, y, source = x[:n], y[:n], "bundled sample"
    models = {name: image_models.load_bundled_model("mnist", name) for name in image_models.ARCHITECTURES}
    rows = {}
    for target_name, target in models.items():
        for surrogate_name, surrogate in models.items():
            curve = evaluation.robustness_curve(
                target, x, y, attack, TRANSFER_EPS, crafted_on=None if surrogate is target else surrogate
            )
            kind = "white-box" if surrogate is target else f"from {surrogate_name}"
            rows[f"{target_name} <- {kind}"] = {
                f"eps {eps:g}": round(rate, 3) for eps, rate in zip(curve.eps, curve.success_rate, strict=True)
            } | {"clean_accuracy": round(curve.clean_accuracy, 3)}
    return {
        "attack": attack,
        "norm": "inf",
        "images": f"first {len(x)} of the MNIST {source}",
        "success_rate_on_target": rows,
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
