"""``python -m playground.bench attacks --only square``: our Square Attack against ART 1.20.1's ``SquareAttack``,
queries to success and success rate, on the same MNIST images, model, labels (the model's own predictions),
query budget, ``p_init`` and one restart, at L∞ eps 0.1 and 0.3.

A query is what the paper (Andriushchenko et al. 2020) and its authors' code count: one forward pass of one
image. The initial perturbation (vertical stripes) costs 1, each proposal 1, an image stops at the query that
fools it, so it costs at most the budget; the clean pass that finds the labels is not counted. Ours reports
exactly that per image (``SquareResult.queries``). ART reports nothing, so its estimator's ``predict`` is
wrapped and every row ART evaluates is attributed to an image by ``ArtQueryLedger`` (see there why this is
exact); the rows ART spends beyond the paper's queries are reported apart, as bookkeeping. A counter layer in
front of the model counts every row either library feeds it, and both attributions must add up to it.

A success is judged here, the same way for both: the returned image is classified differently from the label,
lies within the eps-ball (up to ``BALL_TOLERANCE``) and within [0, 1]. An image outside the ball or the range
is a violation, never a success. Queries to success are taken over the images each attack fooled (median,
90th percentile), so two medians are over different sets; the mean over all images, an unfooled one counted
at the budget, is comparable.

ART is run as shipped; where it departs from the paper, that is part of what is measured: it draws one square
position and one sign per iteration for the whole batch (the paper: per image), never places a square on the
last row or column, keeps the stripes only if they lower the clean margin, and may propose an image equal to
the current one (the authors' code draws again; ours flips the signs), which still costs a query.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

import numpy as np

SQUARE_EPS = (0.1, 0.3)
SQUARE_QUERIES = 5000  # ours' default budget, and AutoAttack's for Square
# The authors use p = 0.8 for MNIST (their README: Madry's MNIST challenge; AutoAttack and ART default to it too).
SQUARE_P_INIT = 0.8
SQUARE_SEED = 0
SQUARE_IMAGES = 1000
# x ± eps is rounded to float32: a pixel may sit an ulp (6e-8 at 1.0) outside the exact ball.
BALL_TOLERANCE = 1e-6
SQUARE_TARGETS = {
    "square_success_rate": "ours >= ART's, at each eps",
    "square_median_queries_fooled": "ours <= ART's, at each eps",
}


class ArtQueryLedger:
    """Attributes each row of each forward pass ART 1.20.1's ``SquareAttack.generate`` (L∞, ``nb_restarts=1``)
    makes to the image of the batch it belongs to: fed every ``predict(x)`` and its logits, in order.

    ART's passes come in a fixed cycle. (a) All ``n`` images of the batch, to find the ones it has not fooled
    yet ("robust": the argmax is the label); if none, it stops. (b) The robust ones' current images,
    ``x_adv[robust]``, in batch order, for their margin. (c) The robust ones' new images, in the same order:
    the stripes the first time, then one proposal each per iteration; ART keeps a new image whose margin
    is lower. The ledger recomputes ``robust`` from the logits of (a) exactly as ART does (the same argmax
    of the same array), so it knows which image each row of (b) and (c) is, and checks it: the rows of (b)
    must equal the robust rows of (a) bit for bit, and those of (c) lie in their images' eps-balls.

    Only (c) are queries: 1 for the stripes and 1 per proposal, as the paper counts them, so an image fooled
    at its k-th query is charged k (ART notices at the next (a) and drops it). (a) and (b) recompute what ART
    already knew, and are counted apart: ``check_rows`` (every image of the batch at each iteration, fooled or
    not, and the clean batch once) and ``recompute_rows``.

    Raises:
        RuntimeError: from ``record``, if a pass does not fit the cycle (another ART version, a restart, L2).
    """

    def __init__(self, x: np.ndarray, labels: np.ndarray, eps: float):
        self.x = x
        self.labels = np.asarray(labels)
        self.eps = eps
        self.queries = np.zeros(len(x), np.int64)
        self.check_rows = 0
        self.recompute_rows = 0
        self._stage = "check"
        self._robust = np.arange(0)
        self._checked: np.ndarray | None = None

    @property
    def rows(self) -> int:
        return int(self.queries.sum()) + self.check_rows + self.recompute_rows

    def record(self, x: np.ndarray, logits: np.ndarray) -> None:
        if self._stage == "check":
            if len(x) != len(self.x):
                raise RuntimeError(f"Expected a pass over all {len(self.x)} images. Received: {len(x)} rows")
            self._robust = np.flatnonzero(np.argmax(logits, axis=1) == self.labels)
            self._checked = np.array(x, copy=True)
            self.check_rows += len(x)
            self._stage = "recompute" if len(self._robust) else "done"
        elif self._stage == "recompute":
            if not np.array_equal(x, self._checked[self._robust]):
                raise RuntimeError("Expected the robust images' current images, in batch order")
            self.recompute_rows += len(x)
            self._stage = "query"
        elif self._stage == "query":
            if len(x) != len(self._robust):
                raise RuntimeError(f"Expected {len(self._robust)} new images. Received: {len(x)} rows")
            distance = np.abs(np.asarray(x, np.float64) - self.x[self._robust]).reshape(len(x), -1).max(axis=1)
            if (distance > self.eps + BALL_TOLERANCE).any():
                raise RuntimeError("Expected the new images within their images' eps-balls, in batch order")
            self.queries[self._robust] += 1
            self._stage = "check"
        else:
            raise RuntimeError("Expected no pass after ART found every image fooled")


def query_figures(queries: np.ndarray, success: np.ndarray, budget: int) -> dict[str, object]:
    """Success rate and queries to success: median and 90th percentile (linear interpolation) over the images
    fooled, and the mean over all images with an unfooled one counted at ``budget``."""
    queries, success = np.asarray(queries), np.asarray(success, bool)
    fooled = queries[success]
    return {
        "success_rate": round(float(success.mean()), 4),
        "fooled": int(success.sum()),
        "median_queries_fooled": float(np.median(fooled)) if len(fooled) else None,
        "p90_queries_fooled": round(float(np.percentile(fooled, 90)), 1) if len(fooled) else None,
        "mean_queries_unfooled_at_budget": round(float(np.where(success, queries, budget).mean()), 1),
    }


def judge(model, x: np.ndarray, adversarial: np.ndarray, labels: np.ndarray, eps: float) -> dict[str, np.ndarray]:
    """Per image: fooled (prediction differs from the label), within the eps-ball and [0, 1], and success
    (all three)."""
    from playground import evaluation

    fooled = evaluation.predict(model, adversarial).argmax(-1) != labels
    distance = np.abs(adversarial.astype(np.float64) - x).reshape(len(x), -1).max(axis=1)
    flat = adversarial.reshape(len(x), -1)
    in_range = (flat.min(axis=1) >= 0.0) & (flat.max(axis=1) <= 1.0)
    in_ball = distance <= eps + BALL_TOLERANCE
    return {"fooled": fooled, "distance": distance, "valid": in_ball & in_range, "success": fooled & in_ball & in_range}


def _counted(model):
    """``model`` behind a layer that counts the rows it sees, compiled calls included; returns the model and a
    function that reads the count."""
    import keras
    import tensorflow as tf

    class RowCounter(keras.layers.Layer):
        def build(self, input_shape):
            self.rows = self.add_weight(shape=(), initializer="zeros", dtype="int64", trainable=False, name="rows")

        def call(self, x):
            self.rows.assign_add(tf.cast(tf.shape(x)[0], "int64"))
            return x

    counter = RowCounter()
    counted = keras.Sequential([keras.Input(model.input_shape[1:]), counter, model], name=f"counted_{model.name}")
    return counted, lambda: int(counter.rows.numpy())


def _ours(model, x, labels, *, eps, queries, seed, chunk):
    from playground.attacks.square import square_attack

    results = [
        square_attack(
            model, x[i : i + chunk], labels[i : i + chunk], eps=eps, queries=queries, p_init=SQUARE_P_INIT,
            norm="inf", seed=seed * 1000 + i // chunk,  # a run's batches never share a seed with another run's
        )
        for i in range(0, len(x), chunk)
    ]
    return np.concatenate([r.images for r in results]), np.concatenate([r.queries for r in results]), {}, 0.0


def _art(classifier, holder, x, labels, *, eps, queries, seed, chunk):
    """ART on batches of ``chunk``: each ``generate`` is one batch, with its own ledger."""
    import random

    from art.attacks.evasion import SquareAttack

    # max_iter proposals after the stripes: queries - 1 of them make the same budget as ours.
    attack = SquareAttack(
        classifier, norm=np.inf, eps=eps, max_iter=queries - 1, p_init=SQUARE_P_INIT, nb_restarts=1,
        batch_size=chunk, verbose=False,
    )
    images, counts, checks, recomputes = [], [], 0, 0
    holder["seconds"] = 0.0
    for i in range(0, len(x), chunk):
        np.random.seed(seed * 1000 + i // chunk)  # ART draws from the global generators
        random.seed(seed * 1000 + i // chunk)
        holder["ledger"] = ledger = ArtQueryLedger(x[i : i + chunk], labels[i : i + chunk], eps)
        images.append(attack.generate(x[i : i + chunk], labels[i : i + chunk]))
        counts.append(ledger.queries)
        checks, recomputes = checks + ledger.check_rows, recomputes + ledger.recompute_rows
    holder["ledger"] = None
    bookkeeping = {"check_rows": checks, "recompute_rows": recomputes}
    return np.concatenate(images), np.concatenate(counts), bookkeeping, holder["seconds"]


def _art_contender(model):
    """ART's estimator over ``model``, its ``predict`` wrapped to feed the current ledger; and the holder of it."""
    from playground.bench.attacks import art_classifier

    classifier = art_classifier(model)
    holder: dict[str, object] = {"ledger": None, "seconds": 0.0}
    predict = classifier.predict

    def counted_predict(x, *args, **kwargs):
        logits = predict(x, *args, **kwargs)
        if holder["ledger"] is not None:
            started = time.perf_counter()
            holder["ledger"].record(x, logits)
            holder["seconds"] += time.perf_counter() - started
        return logits

    classifier.predict = counted_predict
    return classifier, holder


def square_figures(
    *, n: int = SQUARE_IMAGES, data_dir: str | None = None, queries: int = SQUARE_QUERIES,
    seeds: Sequence[int] = (SQUARE_SEED,), chunk: int | None = None,
) -> dict[str, object]:
    """Ours against ART's Square Attack at each of ``SQUARE_EPS`` on the first ``n`` MNIST test images.

    Each library attacks the images in batches of ``chunk`` (default: ``ATTACK_BATCH_SIZE``, as the rest of the
    suite) with the same budget, seeds fixed. Both are warmed up on a few images first (tracing), then timed.
    With several ``seeds``, each library attacks the same images once per seed: a median over some hundred
    fooled images moves by a few queries from one seed to the next, so the targets are judged on the runs
    pooled (every image once per seed), and each seed's figures are given as well.

    Returns:
        Per eps and library: success rate, queries to success, violations, the largest L∞ distance, seconds,
        and the forward rows spent (queries, bookkeeping, and the counter's total, which they must make up),
        per seed and pooled; the targets met; the set-up; and the load average before and after.

    Raises:
        ValueError: if ``queries`` is below 2.
    """
    from playground.bench.attacks import ART_VERSION, ATTACK_BATCH_SIZE, mnist_setup

    def note(message: str) -> None:
        print(f"[attacks/square] {message}", file=sys.stderr, flush=True)

    if queries < 2:  # ART's max_iter = queries - 1 must be at least 1
        raise ValueError(f"Expected queries >= 2. Received: queries={queries}")
    chunk = ATTACK_BATCH_SIZE if chunk is None else chunk
    load_before = os.getloadavg()[0]
    x, model, labels = mnist_setup(n, data_dir, chunk)
    counted, rows_seen = _counted(model)
    contenders = {
        "ours": lambda eps, budget, xs, ys, seed: _ours(counted, xs, ys, eps=eps, queries=budget, seed=seed,
                                                        chunk=chunk),
    }
    setup: dict[str, object] = {}
    try:
        import art

        classifier, holder = _art_contender(counted)
    except ImportError as err:
        note(f"ART is not installed ({err}); running ours only. To compare: pip install -r requirements-bench.txt")
        setup["art"] = "not installed: pip install -r requirements-bench.txt"
    else:
        if art.__version__ != ART_VERSION:
            note(f"ART {art.__version__} is installed; the query ledger follows {ART_VERSION}'s SquareAttack")
        setup |= {"art_version": art.__version__, "art_max_iter": queries - 1}
        contenders["art"] = lambda eps, budget, xs, ys, seed: _art(
            classifier, holder, xs, ys, eps=eps, queries=budget, seed=seed, chunk=chunk
        )
    for name, run in contenders.items():
        note(f"warm-up: {name}")
        run(SQUARE_EPS[0], 50, x[:8], labels[:8], seeds[0])

    figures: dict[str, object] = {}
    for eps in SQUARE_EPS:
        row: dict[str, object] = {}
        for name, run in contenders.items():
            runs, pooled_spent, pooled_success = {}, [], []
            for seed in seeds:
                note(f"eps {eps:g}: {name}, seed {seed} ({len(x)} images, budget {queries})")
                load = os.getloadavg()[0]
                before, started = rows_seen(), time.perf_counter()
                images, spent, bookkeeping, ledger_seconds = run(eps, queries, x, labels, seed)
                seconds = time.perf_counter() - started
                total = rows_seen() - before
                verdict = judge(model, x, images, labels, eps)
                if name == "ours":
                    bookkeeping = {"clean_pass_rows": total - int(spent.sum())}  # one per image, to find the pending
                    adds_up = bookkeeping["clean_pass_rows"] == len(x)
                else:
                    adds_up = int(spent.sum()) + sum(bookkeeping.values()) == total
                runs[seed] = query_figures(spent, verdict["success"], queries) | {
                    "violations": int((~verdict["valid"]).sum()),
                    "fooled_but_violating": int((verdict["fooled"] & ~verdict["valid"]).sum()),
                    "max_linf_distance": round(float(verdict["distance"].max()), 8),
                    "already_misclassified": int((spent == 0).sum()),
                    "seconds": round(seconds, 2),
                    "load_average_1min_at_start": round(load, 2),
                    "forward_rows": {"queries": int(spent.sum()), **bookkeeping, "counted_at_the_model": total},
                    "forward_rows_add_up": adds_up,
                }
                if name == "art":
                    runs[seed]["of_which_ledger_seconds"] = round(ledger_seconds, 2)
                pooled_spent.append(spent)
                pooled_success.append(verdict["success"])
            if len(seeds) == 1:
                row[name] = runs[seeds[0]]
            else:
                pooled = query_figures(np.concatenate(pooled_spent), np.concatenate(pooled_success), queries)
                row[name] = pooled | {"runs": "pooled over the seeds", "per_seed": {str(k): v for k, v in runs.items()}}
        if "art" in row:
            ours, theirs = row["ours"], row["art"]
            row["targets_met"] = {
                "success_rate_ours_ge_art": ours["success_rate"] >= theirs["success_rate"],
                "median_queries_fooled_ours_le_art": None
                if ours["median_queries_fooled"] is None or theirs["median_queries_fooled"] is None
                else ours["median_queries_fooled"] <= theirs["median_queries_fooled"],
            }
        figures[f"eps {eps:g}"] = row
    return figures | setup | {
        "images": f"first {len(x)} of the MNIST test set",
        "labels": "the model's predictions, given to both libraries",
        "norm": "inf",
        "query_budget": queries,
        "p_init": SQUARE_P_INIT,
        "restarts": 1,
        "seeds": list(seeds),
        "batch": chunk,
        "queries": "forward passes of one image: 1 for the stripes, 1 per proposal, until fooled; the clean "
        "pass that finds the labels is not one. Bookkeeping: ours' clean pass; ART's check of every image of "
        "the batch per iteration (check_rows) and its recomputed margins of the current images (recompute_rows)",
        "success": f"prediction differs from the label, within the eps-ball (+{BALL_TOLERANCE:g}) and [0, 1]",
        "queries_to_success": "median and p90 over the images that attack fooled; mean over all images with "
        "unfooled ones at the budget",
        "load_average_1min_before": round(load_before, 2),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }
