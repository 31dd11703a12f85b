"""``python -m playground.bench lens``: seconds to compute the minimum-ε map at the default grid resolution."""

from __future__ import annotations

import os
import statistics
import time

LENS_TARGETS = {"min_eps_map_seconds": "<= 2 (default resolution)"}
REPEATS = 5


def lens_figures() -> dict[str, object]:
    """Times ``lens.min_eps_map`` on the networks a student would map.

    The non-linear case is the noisy-circles network of the adversarial-training lesson (3 × 16 ReLU over all
    seven features, trained 150 epochs); the linear case is a 0-hidden-layer network, mapped exactly. The first
    call of each is reported apart: it traces the PGD graph.
    """
    from playground import experiment, features, lens, state

    every_feature = tuple(features.FEATURES)
    cases = {
        "nonlinear_16x3_relu": state.TrainPageConfig(
            dataset="circle", noise=30, features=every_feature, layers=(16, 16, 16), activations=("relu",) * 3,
            lr=0.01,
        ),
        "linear_x1_x2": state.TrainPageConfig(dataset="gauss", layers=(), activations=()),
    }
    figures: dict[str, object] = {"resolution": lens.MAP_RESOLUTION, "load_before": os.getloadavg()[0]}
    for name, config in cases.items():
        exp = experiment.ToyExperiment.create(config)
        exp.trainer.run_epochs(150 if config.layers else 30)
        for norm in ("inf", "2"):
            started = time.perf_counter()
            lens.min_eps_map(exp.trainer.model, config.features, norm=norm)
            first = time.perf_counter() - started
            times = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                result = lens.min_eps_map(exp.trainer.model, config.features, norm=norm)
                times.append(time.perf_counter() - started)
            figures[f"{name}_{norm}"] = {
                "first_call_seconds": round(first, 3),
                "median_seconds": round(statistics.median(times), 3),
                "exact": result.exact,
            }
    figures["load_after"] = os.getloadavg()[0]
    return figures
