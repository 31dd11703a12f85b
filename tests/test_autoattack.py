"""AutoAttack: the eps-ball, reproducibility and argument checks; per example at least as strong as each of its
stages alone (exactly their union); each stage attacks only the images still standing; progress reports."""

from __future__ import annotations

import functools
import importlib
from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf

from playground import attacks
from tests import attack_toys as toys

APGD_MODULE = importlib.import_module("playground.attacks.apgd")
SQUARE_MODULE = importlib.import_module("playground.attacks.square")
N_CLASSES = 5
SHAPE = (6, 6, 1)
EPS = {"inf": 0.1, "2": 0.4}
_blobs = functools.partial(toys.blobs, n_classes=N_CLASSES, shape=SHAPE)
QUICK = dict(steps=20, queries=200)


@pytest.fixture(scope="module")
def conv() -> SimpleNamespace:
    """A trained small CNN with 5 classes on 6x6 images and 48 test points it classifies correctly."""
    init = keras.initializers.GlorotUniform
    model = keras.Sequential(
        [
            keras.Input(SHAPE),
            keras.layers.Conv2D(4, 3, activation="relu", kernel_initializer=init(seed=3)),
            keras.layers.Flatten(),
            keras.layers.Dense(N_CLASSES, kernel_initializer=init(seed=4)),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    x_train, y_train = _blobs(900, 1)
    model.fit(x_train, y_train, epochs=20, batch_size=64, shuffle=False, verbose=0)
    x_test, y_test = _blobs(300, 2)
    correct = toys.predict(model, x_test) == y_test
    assert correct.mean() >= 0.95
    return SimpleNamespace(model=model, x=x_test[correct][:48], y=y_test[correct][:48])


def test_registered_with_its_stages():
    spec = attacks.get("autoattack")
    assert spec.fn is attacks.autoattack and spec.label == "AutoAttack (thorough)"
    assert [p.name for p in spec.params] == ["eps", "norm"]
    assert attacks.STAGES == ("APGD-CE", "APGD-T", "Square")
    assert attacks.names().index("mi_fgsm") < attacks.names().index("autoattack") < attacks.names().index("deepfool")


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_stays_in_the_ball_and_clip_range_and_is_reproducible(norm, conv):
    x = conv.x.copy()
    settings = dict(eps=EPS[norm], norm=norm, **QUICK)
    x_adv = attacks.autoattack(conv.model, x, conv.y, seed=1, **settings)
    assert np.array_equal(x, conv.x), "the attack modified its input"
    assert x_adv.dtype == np.float32 and x_adv.shape == x.shape
    assert toys.distance(x_adv - x, norm).max() <= EPS[norm] + 1e-6
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    assert np.array_equal(x_adv, attacks.autoattack(conv.model, x, conv.y, seed=1, **settings))
    x_wide = 2.0 * x - 1.0
    wide = attacks.autoattack(
        conv.model, x_wide, conv.y, seed=1, clip=(-1.0, 1.0), **(settings | {"eps": 2 * EPS[norm]})
    )
    assert wide.min() >= -1.0 and wide.max() <= 1.0
    assert toys.distance(wide - x_wide, norm).max() <= 2 * EPS[norm] + 1e-6
    np.testing.assert_array_equal(attacks.autoattack(conv.model, x, conv.y, eps=0.0), x)


@pytest.mark.parametrize(
    "override",
    [
        {"eps": -0.1},
        {"norm": "1"},
        {"steps": 0},
        {"steps": 1.5},
        {"queries": 0},
        {"seed": -1},
        {"clip": (1.0, 0.0)},
        {"progress": "50%"},
        {"y": np.full(4, N_CLASSES)},
    ],
)
def test_bad_arguments_raise(override, conv):
    arguments = {"y": conv.y[:4], "eps": 0.1, **override}
    with pytest.raises(ValueError, match=r"Expected .* Received:"):
        attacks.autoattack(conv.model, conv.x[:4], arguments.pop("y"), **arguments)


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_fools_exactly_the_images_some_stage_alone_fools(norm, conv):
    # Each stage's random numbers are drawn for the whole batch, so an image's run inside the cascade is the one
    # the stage alone gives it: AutoAttack fools an image iff some stage alone does, with that stage's image.
    eps, steps, queries, seed = EPS[norm], QUICK["steps"], QUICK["queries"], 4
    alone = [
        attacks.apgd(conv.model, conv.x, conv.y, eps=eps, steps=steps, norm=norm, loss="ce", seed=seed),
        attacks.apgd_t(conv.model, conv.x, conv.y, eps=eps, steps=steps, norm=norm, target_classes=9, seed=seed),
        attacks.square(conv.model, conv.x, conv.y, eps=eps, queries=queries, p_init=0.8, norm=norm, seed=seed),
    ]
    fooled_alone = np.array([toys.predict(conv.model, x_adv) != conv.y for x_adv in alone])
    x_auto = attacks.autoattack(conv.model, conv.x, conv.y, eps=eps, norm=norm, seed=seed, **QUICK)
    fooled = toys.predict(conv.model, x_auto) != conv.y
    # The case must leave room: no stage alone fools everything, and the later stages add images.
    assert fooled_alone.any(axis=1).all() and not fooled_alone.all(axis=1).any()
    assert fooled.mean() > fooled_alone[0].mean()
    for stage in fooled_alone:
        assert np.all(fooled[stage]), "an image a stage fooled alone survived AutoAttack"
    np.testing.assert_array_equal(fooled, fooled_alone.any(axis=0))
    first = np.where(fooled, fooled_alone.argmax(axis=0), -1)
    for stage, x_adv in enumerate(alone):
        np.testing.assert_array_equal(x_auto[first == stage], x_adv[first == stage])
    # The survivors keep an attacked image (the stage that brought them closest to the boundary), not x.
    assert np.all(toys.distance(x_auto[~fooled] - conv.x[~fooled], norm) > 0)


def test_each_stage_attacks_only_the_images_still_standing(conv, monkeypatch):
    calls = []

    def spy(module, stage):
        original = module.run

        def run(model, x, labels, pending, **kwargs):
            images, fooled, *rest = original(model, x, labels, pending, **kwargs)
            calls.append((stage, kwargs.get("loss"), pending.copy(), pending[fooled]))
            return (images, fooled, *rest)

        monkeypatch.setattr(module, "run", run)

    spy(APGD_MODULE, "apgd")
    spy(SQUARE_MODULE, "square")
    y = conv.y.copy()
    y[:6] = (y[:6] + 1) % N_CLASSES  # labels the model already disagrees with: fooled from the start
    x_adv = attacks.autoattack(conv.model, conv.x, y, eps=0.1, seed=0, **QUICK)
    np.testing.assert_array_equal(x_adv[:6], conv.x[:6])
    # APGD-CE once, APGD-T once per target class (4 with 5 classes) while images stand, then Square.
    assert [(stage, loss) for stage, loss, _, _ in calls][:2] == [("apgd", "ce"), ("apgd", "dlr_targeted")]
    assert calls[-1][0] == "square" and len(calls) <= 1 + 4 + 1
    standing = set(range(6, len(y)))
    for stage, loss, pending, fooled in calls:
        assert set(pending.tolist()) == standing, (stage, loss)
        standing -= set(fooled.tolist())
    assert standing == set(np.flatnonzero(toys.predict(conv.model, x_adv) == y).tolist())


def test_progress_is_reported_between_stages(conv):
    reports = []
    attacks.autoattack(
        conv.model, conv.x[:8], conv.y[:8], eps=0.1, seed=0, progress=lambda *a: reports.append(a), **QUICK
    )
    assert [fraction for fraction, _ in reports] == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])
    for (_, message), stage in zip(reports, attacks.STAGES, strict=False):
        assert message.startswith(stage) and "of 8 images still standing" in message


class Quantise(keras.layers.Layer):
    """Rounds the input to steps of 1/2, with a gradient of exactly zero everywhere."""

    def call(self, x):
        return 0.0 * x + tf.stop_gradient(tf.round(2.0 * x) / 2.0)


def test_the_square_stage_catches_a_model_with_zero_gradients():
    # Class 1 once more than 40 of 64 pixels round up to 1/2 (see tests/test_square.py): no gradient to follow.
    model = keras.Sequential([keras.Input((8, 8, 1)), Quantise(), keras.layers.Flatten(), keras.layers.Dense(2)])
    model.layers[-1].set_weights(
        [np.stack([np.zeros(64), np.ones(64)], axis=1).astype(np.float32), np.array([0.0, -20.0], np.float32)]
    )
    x = np.random.default_rng(0).uniform(0.16, 0.2, (12, 8, 8, 1)).astype(np.float32)
    assert np.all(toys.predict(model, attacks.apgd(model, x, eps=0.1, steps=20, seed=0)) == 0)
    x_adv = attacks.autoattack(model, x, eps=0.1, seed=0, **QUICK)
    assert np.all(toys.predict(model, x_adv) == 1) and np.abs(x_adv - x).max() <= 0.1 + 1e-6
