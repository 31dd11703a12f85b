"""Square Attack: the eps-ball, reproducibility and argument checks, its schedule, exact query counts, and success
where gradients are useless (a model that quantises its input, whose gradient is zero everywhere)."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf

from playground import attacks
from playground.attacks.square import eta, square_fraction, square_side
from tests import attack_toys as toys

N_CLASSES = 3
SHAPE = (4, 4, 1)
EPS = {"inf": 0.1, "2": 0.4}
_blobs = functools.partial(toys.blobs, n_classes=N_CLASSES, shape=SHAPE)


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
    model.compile(
        optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    x_train, y_train = _blobs(900, seed=1)
    model.fit(x_train, y_train, epochs=20, batch_size=64, shuffle=False, verbose=0)
    x_test, y_test = _blobs(300, seed=2)
    correct = toys.predict(model, x_test) == y_test
    return SimpleNamespace(model=model, x=x_test[correct][:48], y=y_test[correct][:48])


class RowCounter(keras.layers.Layer):
    """Passes its input through and counts the rows it has seen, in eager and in compiled calls alike."""

    def build(self, input_shape):
        self.rows = self.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False, name="rows")

    def call(self, x):
        self.rows.assign_add(tf.shape(x)[0])
        return x


class Quantise(keras.layers.Layer):
    """Rounds the input to steps of 1/2, with a gradient of exactly zero everywhere (connected, not None)."""

    def call(self, x):
        return 0.0 * x + tf.stop_gradient(tf.round(2.0 * x) / 2.0)


def _quantised_model() -> tuple[keras.Model, RowCounter]:
    """Two classes on 8x8 images: class 1 wins once more than 40 of the 64 pixels round up to 1/2.

    On images in [0.16, 0.2] a pixel rounds up once it moves to >= 0.25, so the budget eps = 0.1 can flip every
    pixel, but a random point of the eps-box flips each with probability <= 1/4: gradients (all zero) and random
    starts get nowhere, while Square's ±eps corners flip whole windows at once.
    """
    counter = RowCounter()
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), counter, Quantise(), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    weights = np.stack([np.zeros(64), np.ones(64)], axis=1).astype(np.float32)
    model.layers[-1].set_weights([weights, np.array([0.0, -20.0], np.float32)])
    return model, counter


def _quantised_inputs(n: int) -> np.ndarray:
    return np.random.default_rng(0).uniform(0.16, 0.2, (n, 8, 8, 1)).astype(np.float32)


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_stays_in_the_ball_and_clip_range_and_is_reproducible(norm, toy):
    x = toy.x.copy()
    settings = dict(eps=EPS[norm], queries=200, norm=norm)
    result = attacks.square_attack(toy.model, x, toy.y, seed=0, **settings)
    assert np.array_equal(x, toy.x), "the attack modified its input"
    assert result.images.dtype == np.float32 and result.images.shape == x.shape
    assert toys.distance(result.images - x, norm).max() <= EPS[norm] + 1e-6
    assert result.images.min() >= 0.0 and result.images.max() <= 1.0
    again = attacks.square_attack(toy.model, x, toy.y, seed=0, **settings)
    assert np.array_equal(result.images, again.images) and np.array_equal(result.queries, again.queries)
    other = attacks.square_attack(toy.model, x, toy.y, seed=1, **settings)
    assert not np.array_equal(result.images, other.images)
    np.testing.assert_array_equal(attacks.square(toy.model, x, toy.y, seed=0, **settings), result.images)
    x_wide = 2.0 * x - 1.0
    wide = attacks.square(toy.model, x_wide, toy.y, seed=0, clip=(-1.0, 1.0), **(settings | {"eps": 4 * EPS[norm]}))
    assert wide.min() >= -1.0 and wide.max() <= 1.0
    assert toys.distance(wide - x_wide, norm).max() <= 4 * EPS[norm] + 1e-6


def test_linf_perturbations_sit_on_the_corners_of_the_box(toy):
    eps = 0.1
    x_adv = attacks.square(toy.model, toy.x, toy.y, eps=eps, queries=100, seed=0)
    corners = np.isclose(x_adv, np.clip(toy.x + eps, 0, 1), atol=1e-7) | np.isclose(
        x_adv, np.clip(toy.x - eps, 0, 1), atol=1e-7
    )
    assert corners.all()


def test_no_global_random_state_is_used(toy):
    state = np.random.get_state()[1].copy()
    first = attacks.square(toy.model, toy.x, eps=0.1, queries=20)
    assert not np.array_equal(first, attacks.square(toy.model, toy.x, eps=0.1, queries=20))  # seed=None: fresh
    assert np.array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize(
    "override",
    [
        {"eps": -0.1},
        {"queries": 0},
        {"queries": 2.5},
        {"queries": True},
        {"p_init": 0.0},
        {"p_init": 1.5},
        {"p_init": "big"},
        {"norm": "1"},
        {"seed": -1},
        {"clip": (0.0,)},
        {"y": np.array([0, 1, 2])},
        {"x": np.zeros((2, 2, 2, 2, 1), np.float32), "y": None},
    ],
)
def test_bad_arguments_raise(override, toy):
    arguments = {"x": toy.x[:4], "y": toy.y[:4], "eps": 0.1, **override}
    for function in (attacks.square_attack, attacks.square):
        with pytest.raises(ValueError, match=r"Expected .* Received:"):
            function(
                toy.model, arguments["x"], arguments["y"], **{k: v for k, v in arguments.items() if k not in ("x", "y")}
            )


def test_the_square_size_schedule_halves_on_the_rescaled_paper_schedule():
    # Out of 10000 queries: p_init up to query 10, then halved after 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000.
    expected = {0: 0.8, 10: 0.8, 11: 0.4, 50: 0.4, 51: 0.2, 201: 0.1, 501: 0.05, 2500: 0.8 / 64, 9999: 0.8 / 512}
    for iteration, p in expected.items():
        assert square_fraction(iteration, 10000, 0.8) == pytest.approx(p), iteration
    # The same fractions of a smaller budget.
    assert square_fraction(5, 1000, 0.8) == pytest.approx(0.8 / 2)  # query 50 of 10000
    assert square_fraction(100, 1000, 0.5) == pytest.approx(0.5 / 16)
    assert square_side(0.8, 28, 28, "inf") == 25 and square_side(1e-4, 28, 28, "inf") == 1
    assert square_side(0.8, 4, 4, "inf") == 4 and square_side(0.05, 28, 28, "2") == 7  # L2: odd, >= 3


@pytest.mark.parametrize("side", [1, 2, 3, 5, 8])
def test_the_l2_pattern_has_unit_norm_and_opposite_halves(side):
    pattern = eta(side)
    assert pattern.shape == (side, side)
    assert np.sum(pattern**2) == pytest.approx(1.0)
    assert np.all(pattern[: side // 2] > 0) and np.all(pattern[side // 2 :] < 0)


def test_square_fools_a_model_with_zero_gradients_where_pgd_and_apgd_fail():
    model, _ = _quantised_model()
    x = _quantised_inputs(20)
    assert np.all(toys.predict(model, x) == 0)
    eps = 0.1
    x_pgd = attacks.pgd(model, x, eps=eps, step_size=2.5 * eps / 20, steps=20, restarts=3, seed=0)
    x_apgd = attacks.get("apgd")(model, x, eps=eps, seed=0)
    result = attacks.square_attack(model, x, eps=eps, queries=300, seed=0)
    assert np.all(toys.predict(model, x_pgd) == 0) and np.all(toys.predict(model, x_apgd) == 0)
    assert np.all(toys.predict(model, result.images) == 1)
    assert np.abs(result.images - x).max() <= eps + 1e-6


def test_query_counts_are_exact():
    # Half the images sit too low in [0, 1] for eps = 0.1 to round any pixel up: those can never be fooled.
    model, counter = _quantised_model()
    x = _quantised_inputs(20)
    x[10:] -= 0.1
    budget = 150
    counter.rows.assign(0)
    result = attacks.square_attack(model, x, eps=0.1, queries=budget, seed=3)
    rows = int(counter.rows.numpy())
    # Every forward pass is counted: the clean pass over the batch that finds the labels, then one row per query.
    assert rows == len(x) + result.queries.sum()
    fooled = toys.predict(model, result.images) != 0
    assert fooled[:10].all() and not fooled[10:].any()
    assert result.queries.dtype.kind == "i" and np.all(result.queries <= budget)
    np.testing.assert_array_equal(result.queries[10:], budget)  # 1 initial evaluation + budget - 1 proposals
    assert np.all(result.queries[:10] >= 1) and np.all(result.queries[:10] < budget)
    # The initial stripes do not depend on the budget: a budget of 1 fools exactly the examples they fooled.
    unfooled = attacks.square_attack(model, x, eps=0.1, queries=1, seed=3)
    np.testing.assert_array_equal(unfooled.queries, 1)
    assert np.array_equal(toys.predict(model, unfooled.images) != 0, result.queries == 1)


def test_already_misclassified_examples_cost_no_query(toy):
    y = toy.y.copy()
    y[:5] = (y[:5] + 1) % N_CLASSES
    result = attacks.square_attack(toy.model, toy.x, y, eps=0.1, queries=50, seed=0)
    np.testing.assert_array_equal(result.queries[:5], 0)
    np.testing.assert_array_equal(result.images[:5], toy.x[:5])
    assert np.all(result.queries[5:] >= 1)
    assert np.array_equal(attacks.square(toy.model, toy.x, eps=0.0), toy.x)
    np.testing.assert_array_equal(attacks.square_attack(toy.model, toy.x, eps=0.0).queries, 0)


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_an_example_run_does_not_depend_on_the_rest_of_the_batch(norm, toy):
    # Relabelling examples 0-9 takes them out of the attack; the others must get exactly the same run.
    settings = dict(eps=EPS[norm], queries=300, norm=norm, seed=5)
    alone = attacks.square_attack(toy.model, toy.x, toy.y, **settings)
    y = toy.y.copy()
    y[:10] = (y[:10] + 1) % N_CLASSES
    fewer = attacks.square_attack(toy.model, toy.x, y, **settings)
    np.testing.assert_array_equal(fewer.images[10:], alone.images[10:])
    np.testing.assert_array_equal(fewer.queries[10:], alone.queries[10:])


def test_vectors_and_single_channel_images_are_accepted(toy):
    flat = toy.x.reshape(len(toy.x), -1)
    vector_model = keras.Sequential([keras.Input((16,)), keras.layers.Reshape(SHAPE), toy.model])
    x_adv = attacks.square(vector_model, flat, toy.y, eps=0.2, queries=100, seed=0)
    assert x_adv.shape == flat.shape and np.abs(x_adv - flat).max() <= 0.2 + 1e-6
    assert np.mean(toys.predict(vector_model, x_adv) != toy.y) >= 0.5
