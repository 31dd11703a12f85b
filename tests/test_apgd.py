"""APGD and APGD-T: the eps-ball, reproducibility and argument checks, the exact optimum on a linear model, and
strength against PGD and against a saturated softmax. Models are tiny and seeded through their initializers."""

from __future__ import annotations

from types import SimpleNamespace

import keras
import numpy as np
import pytest

from playground import attacks
from playground.attacks.apgd import _apgd_loop, checkpoints
from tests import attack_toys as toys

N_CLASSES = 3
SHAPE = (4, 4, 1)
EPS = {"inf": 0.1, "2": 0.4}


def _trained(model: keras.Model, n_classes: int, shape: tuple[int, ...]) -> SimpleNamespace:
    model.compile(
        optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    x_train, y_train = toys.blobs(900, 1, n_classes, shape)
    model.fit(x_train, y_train, epochs=20, batch_size=64, shuffle=False, verbose=0)
    x_test, y_test = toys.blobs(300, 2, n_classes, shape)
    correct = toys.predict(model, x_test) == y_test
    assert correct.mean() >= 0.95
    return SimpleNamespace(model=model, x=x_test[correct][:48], y=y_test[correct][:48])


@pytest.fixture(scope="module")
def toy() -> SimpleNamespace:
    """A trained 16-32-3 MLP and 48 test points it classifies correctly."""
    init = keras.initializers.GlorotUniform
    model = keras.Sequential(
        [
            keras.Input(SHAPE),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu", kernel_initializer=init(seed=1)),
            keras.layers.Dense(N_CLASSES, kernel_initializer=init(seed=2)),
        ]
    )
    return _trained(model, N_CLASSES, SHAPE)


@pytest.fixture(scope="module")
def conv() -> SimpleNamespace:
    """A trained small CNN with 5 classes on 6x6 images, so that APGD-T has real targets."""
    init = keras.initializers.GlorotUniform
    model = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", kernel_initializer=init(seed=3)),
            keras.layers.Flatten(),
            keras.layers.Dense(5, kernel_initializer=init(seed=4)),
        ]
    )
    return _trained(model, 5, (6, 6, 1))


def _linear_model(w: np.ndarray, b: np.ndarray) -> keras.Model:
    """logits = W x + b, with W of shape (classes, features)."""
    model = keras.Sequential([keras.Input((w.shape[1],)), keras.layers.Dense(w.shape[0])])
    model.set_weights([w.T.astype(np.float32), b.astype(np.float32)])
    return model


CALLS = {
    "apgd_ce": lambda m, x, y, **k: attacks.apgd(m, x, y, loss="ce", **k),
    "apgd_dlr": lambda m, x, y, **k: attacks.apgd(m, x, y, loss="dlr", **k),
    "apgd_restarts": lambda m, x, y, **k: attacks.apgd(m, x, y, restarts=2, **k),
    "apgd_t": lambda m, x, y, **k: attacks.apgd_t(m, x, y, target_classes=3, **k),
    "apgd_ce_dlr": lambda m, x, y, **k: attacks.apgd_ce_dlr(m, x, y, **k),
}


@pytest.mark.parametrize("norm", ["inf", "2"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_stays_in_the_ball_and_clip_range_and_is_reproducible(name, norm, conv):
    x = conv.x.copy()
    settings = dict(eps=EPS[norm], steps=20, norm=norm)
    x_adv = CALLS[name](conv.model, x, conv.y, seed=3, **settings)
    assert np.array_equal(x, conv.x), "the attack modified its input"
    assert x_adv.dtype == np.float32 and x_adv.shape == x.shape
    assert toys.distance(x_adv - x, norm).max() <= EPS[norm] + 1e-6
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    assert np.array_equal(x_adv, CALLS[name](conv.model, x, conv.y, seed=3, **settings))
    # The examples it fails on keep their best try, which depends on the random start.
    assert not np.array_equal(x_adv, CALLS[name](conv.model, x, conv.y, seed=4, **settings))
    # A different clip range binds too: the same points in [-1, 1], with a budget twice as large.
    x_wide = 2.0 * x - 1.0
    wide = CALLS[name](conv.model, x_wide, conv.y, seed=3, clip=(-1.0, 1.0), **(settings | {"eps": 4 * EPS[norm]}))
    assert wide.min() >= -1.0 and wide.max() <= 1.0
    assert toys.distance(wide - x_wide, norm).max() <= 4 * EPS[norm] + 1e-6


def test_no_global_random_state_is_used(toy):
    state = np.random.get_state()[1].copy()
    first = attacks.apgd(toy.model, toy.x, eps=0.1, steps=5)
    assert not np.array_equal(first, attacks.apgd(toy.model, toy.x, eps=0.1, steps=5))  # seed=None: fresh starts
    attacks.apgd_t(toy.model, toy.x, eps=0.1, steps=5)
    assert np.array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize(
    ("call", "override"),
    [
        ("apgd", {"eps": -0.1}),
        ("apgd", {"eps": float("nan")}),
        ("apgd", {"steps": 0}),
        ("apgd", {"steps": 2.5}),
        ("apgd", {"steps": True}),
        ("apgd", {"norm": "1"}),
        ("apgd", {"loss": "mse"}),
        ("apgd", {"restarts": 0}),
        ("apgd", {"seed": -1}),
        ("apgd", {"clip": (1.0, 0.0)}),
        ("apgd", {"y": np.full(4, 7)}),
        ("apgd_t", {"target_classes": 0}),
        ("apgd_t", {"target_classes": 1.5}),
        ("apgd_t", {"steps": -1}),
        ("apgd_ce_dlr", {"steps": 0}),
        ("apgd_ce_dlr", {"seed": 1.5}),
    ],
)
def test_bad_arguments_raise(call, override, toy):
    arguments = {"y": toy.y[:4], "eps": 0.1, **override}
    with pytest.raises(ValueError, match=r"Expected .* Received:"):
        getattr(attacks, call)(toy.model, toy.x[:4], arguments.pop("y"), **arguments)


def test_the_dlr_loss_needs_three_classes():
    model = _linear_model(np.array([[1.0, -1.0], [-1.0, 1.0]]), np.zeros(2))
    x = np.array([[0.2, 0.6], [0.7, 0.1]], np.float32)
    with pytest.raises(ValueError, match=r"at least 3 classes.*Received: 2 classes"):
        attacks.apgd(model, x, eps=0.1, loss="dlr")
    # The cascade and APGD-T fall back to what the model supports (documented), instead of failing.
    np.testing.assert_array_equal(
        attacks.apgd_ce_dlr(model, x, eps=0.1, seed=1), attacks.apgd(model, x, eps=0.1, seed=1)
    )
    np.testing.assert_array_equal(attacks.apgd_t(model, x, eps=0.1, seed=1), attacks.apgd(model, x, eps=0.1, seed=1))


def test_apgd_t_falls_back_to_the_untargeted_dlr_below_four_classes(toy):
    settings = dict(eps=0.1, steps=20, seed=2)
    np.testing.assert_array_equal(
        attacks.apgd_t(toy.model, toy.x, toy.y, **settings),
        attacks.apgd(toy.model, toy.x, toy.y, loss="dlr", **settings),
    )


def test_checkpoints_follow_the_paper():
    # p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06): 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99.
    assert checkpoints(100) == [22, 41, 57, 70, 80, 87, 93, 99]
    assert checkpoints(200) == [44, 82, 114, 140, 160, 174, 186, 198]
    assert checkpoints(10) == [3, 5, 6, 7, 8, 9, 10]  # ceil(p_j * steps), duplicates merged
    assert checkpoints(1) == [1]


# --- The exact worst case on a linear model ------------------------------------------------------------------

W = np.array([[0.9, -0.4, 0.3, -1.1, 0.6, 0.2], [-0.5, 0.8, -0.7, 0.4, -0.3, 0.9]], np.float32)
B = np.array([0.35, -0.35], np.float32)


def _margin(model: keras.Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    logits = np.asarray(model(x), np.float64)
    return logits[np.arange(len(x)), y] - logits[np.arange(len(x)), 1 - y]


@pytest.mark.parametrize("eps", [0.05, 0.1, 0.2])
def test_apgd_ce_reaches_the_closed_form_minimum_of_a_linear_margin_in_the_box(eps):
    # For logits W x + b the margin z_y - z_j is d . x + (b_y - b_j) with d = W_y - W_j, which each coordinate
    # minimises on its own: x_i - eps * sign(d_i), clipped into [0, 1] (points near 0 or 1 are clipped). With two
    # classes the cross-entropy increases as the margin falls, so where even that minimum is positive (the
    # attack cannot succeed) APGD-CE's best point must attain it.
    model = _linear_model(W, B)
    x = np.random.default_rng(5).uniform(0.0, 1.0, size=(60, 6)).astype(np.float32)
    y = toys.predict(model, x)
    d = W[y] - W[1 - y]
    lowest = np.einsum("ij,ij->i", d, np.clip(x - eps * np.sign(d), 0.0, 1.0)) + (B[y] - B[1 - y])
    x_adv = attacks.apgd(model, x, eps=eps, seed=0)
    margin = _margin(model, x_adv, y)
    unbreakable = lowest > 0
    assert 10 <= unbreakable.sum() < len(x)
    np.testing.assert_allclose(margin[unbreakable], lowest[unbreakable], rtol=0, atol=1e-5)
    assert np.all(margin[~unbreakable] < 0)  # the others are fooled
    assert np.abs(x_adv - x).max() <= eps + 1e-6


def test_apgd_ce_reaches_the_closed_form_minimum_in_the_l2_ball():
    # Away from the clip range the minimum of d . delta over ||delta||_2 <= eps is -eps ||d||_2.
    model = _linear_model(W, B)
    x = (0.5 + np.random.default_rng(6).uniform(-0.05, 0.05, size=(40, 6))).astype(np.float32)
    y = toys.predict(model, x)
    d = W[y] - W[1 - y]
    eps = 0.1
    lowest = _margin(model, x, y) - eps * np.linalg.norm(d, axis=1)
    assert np.all(lowest > 0)
    np.testing.assert_allclose(_margin(model, attacks.apgd(model, x, eps=eps, norm="2", seed=0), y), lowest, atol=1e-5)


# --- Strength -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("eps", [0.08, 0.1, 0.12])
def test_apgd_is_at_least_as_strong_as_pgd_20(eps, toy):
    x_pgd = attacks.pgd(toy.model, toy.x, toy.y, eps=eps, step_size=2.5 * eps / 20, steps=20, seed=0)
    pgd_fooled = np.mean(toys.predict(toy.model, x_pgd) != toy.y)
    assert pgd_fooled < 1.0
    for x_adv in (
        attacks.apgd(toy.model, toy.x, toy.y, eps=eps, seed=0),
        attacks.get("apgd")(toy.model, toy.x, toy.y, eps=eps, seed=0),
    ):
        assert np.mean(toys.predict(toy.model, x_adv) != toy.y) >= pgd_fooled


def test_the_dlr_loss_survives_a_saturated_softmax(toy):
    # Logits scaled by 1e4 saturate the softmax: the cross-entropy's gradient is exactly 0 and APGD-CE is stuck
    # at its random start, while the DLR loss, invariant to scaling the logits, attacks as before.
    saturated = keras.Sequential([toy.model, keras.layers.Rescaling(1e4)])
    settings = dict(eps=0.12, seed=0)
    ce = np.mean(toys.predict(saturated, attacks.apgd(saturated, toy.x, toy.y, **settings)) != toy.y)
    dlr = np.mean(toys.predict(saturated, attacks.apgd(saturated, toy.x, toy.y, loss="dlr", **settings)) != toy.y)
    unscaled = np.mean(toys.predict(toy.model, attacks.apgd(toy.model, toy.x, toy.y, loss="dlr", **settings)) != toy.y)
    assert ce <= 0.05 and dlr >= 0.4
    assert dlr == pytest.approx(unscaled, abs=0.05)


def test_apgd_t_targets_the_closest_classes_and_helps(conv):
    eps = 0.1
    untargeted = np.mean(
        toys.predict(conv.model, attacks.apgd(conv.model, conv.x, conv.y, eps=eps, loss="dlr", seed=0)) != conv.y
    )
    x_adv = attacks.apgd_t(conv.model, conv.x, conv.y, eps=eps, seed=0)
    targeted = np.mean(toys.predict(conv.model, x_adv) != conv.y)
    assert 0 < untargeted < 1 and targeted >= untargeted
    # Capped at the number of other classes, and one target is the same run as the first of several.
    capped = attacks.apgd_t(conv.model, conv.x, conv.y, eps=eps, target_classes=99, seed=0)
    np.testing.assert_array_equal(capped, attacks.apgd_t(conv.model, conv.x, conv.y, eps=eps, target_classes=4, seed=0))


def test_examples_already_misclassified_are_returned_unchanged(toy):
    y = toy.y.copy()
    y[:10] = (y[:10] + 1) % N_CLASSES  # labels the model disagrees with: these count as fooled from the start
    for x_adv in (
        attacks.apgd(toy.model, toy.x, y, eps=0.1, seed=0),
        attacks.apgd_t(toy.model, toy.x, y, eps=0.1, seed=0),
        attacks.apgd_ce_dlr(toy.model, toy.x, y, eps=0.1, seed=0),
    ):
        np.testing.assert_array_equal(x_adv[:10], toy.x[:10])
        assert not np.array_equal(x_adv[10:], toy.x[10:])


def test_restarts_keep_the_first_success_and_only_rerun_the_survivors(toy):
    eps = 0.1
    first = attacks.apgd(toy.model, toy.x, toy.y, eps=eps, steps=10, seed=7)
    fooled = toys.predict(toy.model, first) != toy.y
    again = attacks.apgd(toy.model, toy.x, toy.y, eps=eps, steps=10, restarts=3, seed=7)
    np.testing.assert_array_equal(again[fooled], first[fooled])
    assert np.all(toys.predict(toy.model, again)[fooled] != toy.y[fooled])
    assert np.mean(toys.predict(toy.model, again) != toy.y) >= fooled.mean()


def test_new_settings_do_not_retrace(toy):
    x, y = toy.x[:8], toy.y[:8]
    attacks.apgd(toy.model, x, y, eps=0.05, steps=10, seed=0)
    count = _apgd_loop.tracing_count(toy.model)
    assert count, "the loop traced for this model"
    attacks.apgd(toy.model, x, y, eps=0.08, steps=37, seed=1)
    attacks.apgd(toy.model, x, y, eps=0.02, steps=150, seed=2)
    assert _apgd_loop.tracing_count(toy.model) == count
