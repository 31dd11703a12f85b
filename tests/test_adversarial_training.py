"""Adversarial training: each preset's batches, robustness gained on a toy problem, and catastrophic overfitting."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from playground import attacks, evaluation, training
from playground.defences import adversarial_training as at

EPS = 0.1


def toy_problem(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two classes in the unit square that differ in x1 by 0.3 but in x2 only slightly (by 0.08, with little
    spread): a standard network leans on the cheap x2 feature, which an ε = 0.1 attack can reverse. About 80%
    of the points lie more than 0.1 from the x1 midline, so a robust network can keep about 80%."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x1 = 0.35 + 0.3 * y + rng.normal(0, 0.06, n)
    x2 = 0.46 + 0.08 * y + rng.normal(0, 0.01, n)
    return np.clip(np.stack([x1, x2], axis=1), 0, 1).astype(np.float32), y.astype(np.int64)


def toy_model(seed: int = 0) -> keras.Model:
    inputs = keras.Input((2,))
    h = keras.layers.Dense(16, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed))(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(seed + 1))(h))


def pgd_accuracy(model, x, y) -> float:
    x_adv = attacks.pgd(model, x, y, eps=EPS, step_size=EPS / 4, steps=20, seed=0)
    return float((evaluation.predict(model, x_adv).argmax(-1) == y).mean())


@pytest.fixture(scope="module")
def toy_data():
    return toy_problem(2000, 0), toy_problem(500, 1)


@pytest.fixture(scope="module")
def standard_toy_model(toy_data):
    (x, y), (x_test, y_test) = toy_data
    model = toy_model()
    trainer = training.Trainer(model, x, y, x_test, y_test, training.TrainConfig(optimizer="adam", learning_rate=1e-2))
    trainer.run_epochs(30)
    return model


def test_adversarial_training_raises_robust_accuracy_on_a_toy_problem(toy_data, standard_toy_model):
    (x, y), (x_test, y_test) = toy_data
    standard_clean = float((evaluation.predict(standard_toy_model, x_test).argmax(-1) == y_test).mean())
    standard_robust = pgd_accuracy(standard_toy_model, x_test, y_test)
    model = toy_model()
    trainer = at.AdversarialTrainer(model, x, y, x_test[:200], y_test[:200], preset="madry", eps=EPS, seed=0)
    while trainer.epoch < 30 and trainer.stopped is None:
        trainer.run(time_budget=1.0)
    trainer.restore_best()
    robust = pgd_accuracy(model, x_test, y_test)
    assert standard_clean > 0.95  # the standard model is accurate ...
    assert standard_robust < 0.6  # ... but not robust,
    assert robust > standard_robust + 0.1  # and training on PGD examples makes it more so
    assert trainer.best.robust_accuracy == max(r.robust_accuracy for r in trainer.history)


@pytest.mark.parametrize("preset", ["goodfellow", "fast", "madry"])
def test_every_adversarial_preset_gains_robustness(toy_data, standard_toy_model, preset):
    (x, y), (x_test, y_test) = toy_data
    model = toy_model()
    trainer = at.AdversarialTrainer(model, x, y, x_test[:200], y_test[:200], preset=preset, eps=EPS, seed=0)
    while trainer.epoch < 30 and trainer.stopped is None:
        trainer.run(time_budget=1.0)
    trainer.restore_best()
    assert pgd_accuracy(model, x_test, y_test) > pgd_accuracy(standard_toy_model, x_test, y_test) + 0.1


def batch_of(perturbation: str, model, x, y, **overrides) -> np.ndarray:
    settings = dict(eps=0.1, sigma=0.25, pgd_steps=5, seed=tf.constant([3, 4], tf.int64), low=0.0, high=1.0)
    return at.perturb(model, tf.constant(x), tf.constant(y), perturbation=perturbation, **settings | overrides).numpy()


@pytest.mark.parametrize("perturbation", ["fgsm_mix", "fast_fgsm", "pgd"])
def test_adversarial_batches_stay_in_the_eps_ball_and_the_valid_range(perturbation, toy_data, standard_toy_model):
    (x, y), _ = toy_data
    x_adv = batch_of(perturbation, standard_toy_model, x[:256], y[:256])
    assert np.abs(x_adv - x[:256]).max() <= 0.1 + 1e-6
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert np.abs(x_adv - x[:256]).max() > 0.05  # it did move


def test_adversarial_batches_raise_the_loss(toy_data, standard_toy_model):
    (x, y), _ = toy_data
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    clean = float(loss(y[:256], standard_toy_model(x[:256])))
    for perturbation in ("fgsm_mix", "fast_fgsm", "pgd"):
        assert (
            float(loss(y[:256], standard_toy_model(batch_of(perturbation, standard_toy_model, x[:256], y[:256]))))
            > clean
        )


def test_noise_batches_are_gaussian_and_unclipped(toy_data, standard_toy_model):
    (x, y), _ = toy_data
    x_big = np.repeat(x[:1], 20000, axis=0)
    noisy = batch_of("noise", standard_toy_model, x_big, np.repeat(y[:1], 20000), sigma=0.5)
    noise = noisy - x_big
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.5) < 0.01
    assert noisy.min() < 0 and noisy.max() > 1  # Cohen et al. add noise without clipping


def test_batches_are_reproducible_from_their_seed(toy_data, standard_toy_model):
    (x, y), _ = toy_data
    first = batch_of("fast_fgsm", standard_toy_model, x[:64], y[:64])
    np.testing.assert_array_equal(first, batch_of("fast_fgsm", standard_toy_model, x[:64], y[:64]))
    other = batch_of("fast_fgsm", standard_toy_model, x[:64], y[:64], seed=tf.constant([5, 6], tf.int64))
    assert not np.array_equal(first, other)


def test_catastrophic_overfitting_is_detected_and_the_best_epoch_restored(toy_data, monkeypatch):
    """A constructed case: held-out PGD accuracy climbs for two epochs, then collapses to near zero."""
    (x, y), (x_test, y_test) = toy_data
    scripted = iter([0.0, 0.5, 0.6, 0.05, 0.9])
    weights_at_epoch = {}

    def measure(self):
        weights_at_epoch[self.epoch] = self.model.get_weights()
        return at.AdversarialEpoch(self.epoch, 0.99, next(scripted), 0.0)

    monkeypatch.setattr(at.AdversarialTrainer, "_measure", measure)
    model = toy_model()
    trainer = at.AdversarialTrainer(model, x[:256], y[:256], x_test[:50], y_test[:50], preset="fast", eps=EPS)
    while trainer.epoch < 10 and trainer.stopped is None:
        trainer.run(time_budget=1.0)
    assert trainer.epoch == 3  # stopped at the collapse, never reaching the scripted 0.9
    assert "Catastrophic overfitting at epoch 3" in trainer.stopped and "60.0%" in trainer.stopped
    assert trainer.best.epoch == 2
    for restored, kept in zip(model.get_weights(), weights_at_epoch[2], strict=True):
        np.testing.assert_array_equal(restored, kept)
    assert trainer.run(time_budget=1.0) == 0  # a stopped trainer stays stopped


def test_small_dips_are_not_catastrophic(toy_data, monkeypatch):
    (x, y), (x_test, y_test) = toy_data
    scripted = iter([0.0, 0.6, 0.5, 0.45, 0.7])
    monkeypatch.setattr(
        at.AdversarialTrainer, "_measure", lambda self: at.AdversarialEpoch(self.epoch, 0.99, next(scripted), 0.0)
    )
    trainer = at.AdversarialTrainer(toy_model(), x[:256], y[:256], x_test[:50], y_test[:50], preset="fast", eps=EPS)
    while trainer.epoch < 4:
        trainer.run(time_budget=1.0)
    assert trainer.stopped is None and trainer.best.epoch == 4


def test_gaussian_preset_measures_noisy_accuracy_and_never_flags_overfitting(toy_data):
    (x, y), (x_test, y_test) = toy_data
    trainer = at.AdversarialTrainer(toy_model(), x, y, x_test, y_test, preset="gaussian", sigma=0.1)
    first = trainer.history[0]
    while trainer.epoch < 20:
        trainer.run(time_budget=1.0)
    assert trainer.spec.robust_metric == "noisy"
    assert trainer.history[-1].clean_accuracy > first.clean_accuracy
    assert all(r.robust_accuracy <= 1 for r in trainer.history) and trainer.stopped is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("preset", "nope", "Expected preset in"),
        ("eps", 0.0, "Expected eps in [0.01, 0.4]"),
        ("eps", float("nan"), "Expected eps in [0.01, 0.4]. Received: eps=nan"),
        ("sigma", 0.0, "Expected sigma in"),
        ("pgd_steps", 0, "Expected pgd_steps an integer in [1, 40]. Received: pgd_steps=0"),
        ("pgd_steps", 2.5, "Expected pgd_steps an integer in [1, 40]. Received: pgd_steps=2.5"),
    ],
)
def test_absurd_settings_are_refused(toy_data, field, value, message):
    (x, y), (x_test, y_test) = toy_data
    settings = {"preset": "fast", "eps": EPS, "sigma": 0.25, "pgd_steps": 7} | {field: value}
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        at.AdversarialTrainer(toy_model(), x[:10], y[:10], x_test[:10], y_test[:10], **settings)


def test_presets_declare_what_the_ui_shows():
    assert set(at.PRESETS) == {"goodfellow", "madry", "fast", "gaussian"}
    for preset in at.PRESETS.values():
        assert preset.label and preset.summary and preset.reference
        assert dataclasses.is_dataclass(preset)
