"""Attacks: the same property menu for every registered attack, plus exact checks of the gradient attacks.

The menu (CleverHans/torchattacks style) is parametrised over ``attacks.names()``, so an attack is covered as
soon as it registers. Minimum-norm attacks (DeepFool, C&W) treat eps as a budget, which the same tests hold
them to. Models are tiny and seeded through their initializers (never a global seeder).
"""

from __future__ import annotations

import functools
import inspect
from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf

from playground import attacks
from playground.attacks.fgsm import _fgsm_step
from playground.attacks.pgd import _trajectory, iterate, sample_start
from tests import attack_toys as toys

NAMES = attacks.names()
N_CLASSES = 3
SHAPE = (4, 4, 1)
# Budgets at which every attack should fool the toy model. In 16 dimensions the corners of the L-inf ball of
# radius r lie at L2 distance 4 * r, so the L2 budget is that radius.
EPS = {"inf": 0.2, "2": 0.8}
_blobs = functools.partial(toys.blobs, n_classes=N_CLASSES, shape=SHAPE)


def _norms(spec: attacks.AttackSpec) -> tuple[str, ...]:
    declared = {p.name: p for p in spec.params}
    if "norm" in declared:
        return declared["norm"].choices or (declared["norm"].default,)
    return ("2",)  # the attacks without a norm parameter (C&W L2) are L2 attacks


def _accepts(spec: attacks.AttackSpec, argument: str) -> bool:
    return argument in inspect.signature(spec.fn).parameters


def _kwargs(spec: attacks.AttackSpec, eps: float, norm: str) -> dict:
    """Arguments for a quick, strong run: eps-proportional steps and a fixed seed."""
    declared = {p.name for p in spec.params}
    kwargs: dict = {"eps": eps}
    if "norm" in declared:
        kwargs["norm"] = norm
    if "step_size" in declared:
        kwargs["steps"] = 10
        kwargs["step_size"] = max(2.5 * eps / 10, 1e-3)
    if _accepts(spec, "seed"):
        kwargs["seed"] = 0
    return kwargs


def _cases() -> list[tuple[str, str]]:
    return [(name, norm) for name in NAMES for norm in _norms(attacks.get(name))]


@pytest.fixture(scope="module")
def toy() -> SimpleNamespace:
    """A trained 16-32-3 MLP and 48 test points it classifies correctly."""
    model = keras.Sequential(
        [
            keras.Input(SHAPE),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed=1)),
            keras.layers.Dense(N_CLASSES, kernel_initializer=keras.initializers.GlorotUniform(seed=2)),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    x_train, y_train = _blobs(900, seed=1)
    model.fit(x_train, y_train, epochs=20, batch_size=64, shuffle=False, verbose=0)
    x_test, y_test = _blobs(300, seed=2)
    correct = toys.predict(model, x_test) == y_test
    assert correct.mean() >= 0.95
    return SimpleNamespace(model=model, x=x_test[correct][:48], y=y_test[correct][:48])


def _linear_model(w: np.ndarray, b: np.ndarray) -> keras.Model:
    """logits = W x + b, with W of shape (classes, features)."""
    model = keras.Sequential([keras.Input((w.shape[1],)), keras.layers.Dense(w.shape[0])])
    model.set_weights([w.T.astype(np.float32), b.astype(np.float32)])
    return model


# --- The registry ---------------------------------------------------------------------------------------------


def test_public_surface():
    assert {"fgsm", "pgd", "bim", "mi_fgsm", "deepfool", "cw_l2"} <= set(NAMES)
    for name in ("fgsm", "pgd", "bim", "mi_fgsm", "deepfool", "cw_l2", "get", "names", "Param", "AttackSpec"):
        assert name in attacks.__all__
    assert attacks.get("pgd").fn is attacks.pgd
    with pytest.raises(ValueError, match="Received: name='nope'"):
        attacks.get("nope")


@pytest.mark.parametrize("name", NAMES)
def test_spec_declares_usable_parameters(name, toy):
    spec = attacks.get(name)
    assert spec.summary and spec.reference and repr(spec).startswith(spec.label)
    for param in spec.params:
        assert param.name in inspect.signature(spec.fn).parameters, param.name
        if param.default is None:  # a number that follows the other settings unless set: it says how
            assert param.auto and param.min < param.max, param
        elif param.min is not None:
            assert param.min <= param.default <= param.max, param
        if param.choices:
            assert param.default in param.choices, param
        # What a student reads is plain words, not the keyword ("max_iter"), which only the code needs.
        assert param.label[0].isupper() and "_" not in param.label and param.label != param.name, param
    x_adv = spec(toy.model, toy.x[:4], eps=0.1 if "inf" in _norms(spec) else 0.5)
    assert x_adv.shape == toy.x[:4].shape and x_adv.dtype == np.float32


# --- The property menu, for every registered attack ----------------------------------------------------------


def _invalid_cases(spec: attacks.AttackSpec, x: np.ndarray, y: np.ndarray) -> list[tuple[str, dict]]:
    nan_x = x.copy()
    nan_x[0, 0, 0, 0] = np.nan
    cases = [
        ("negative eps", {"eps": -0.1}),
        ("NaN eps", {"eps": float("nan")}),
        ("reversed clip", {"clip": (1.0, 0.0)}),
        ("one-sided clip", {"clip": (0.0,)}),
        ("y of the wrong length", {"y": y[:-1]}),
        ("float y", {"y": y.astype(np.float32)}),
        ("y outside the classes", {"y": y + N_CLASSES}),
        ("NaN in x", {"x": nan_x}),
        ("x outside clip", {"x": x + 2.0}),
        ("x of rank 1", {"x": x[0, :, 0, 0]}),
        ("empty x", {"x": x[:0], "y": y[:0]}),
    ]
    declared = {p.name for p in spec.params}
    if "norm" in declared:
        cases.append(("unknown norm", {"norm": "1"}))
    if _accepts(spec, "targeted"):
        cases.append(("targeted without y", {"targeted": True, "y": None}))
    if "steps" in declared:
        cases += [("zero steps", {"steps": 0}), ("fractional steps", {"steps": 2.5})]
    if "step_size" in declared:
        cases.append(("negative step_size", {"step_size": -0.01}))
    if "restarts" in declared:
        cases.append(("zero restarts", {"restarts": 0}))
    if "decay" in declared:
        cases.append(("negative decay", {"decay": -1.0}))
    if _accepts(spec, "seed"):
        cases.append(("negative seed", {"seed": -1}))
    return cases


@pytest.mark.parametrize("name", NAMES)
def test_invalid_arguments_raise(name, toy):
    spec = attacks.get(name)
    x, y = toy.x[:4], toy.y[:4]
    for label, override in _invalid_cases(spec, x, y):
        arguments = {"x": x, "y": y, **_kwargs(spec, 0.1, _norms(spec)[0]), **override}
        with pytest.raises(ValueError, match="Received:"):
            spec(toy.model, arguments.pop("x"), arguments.pop("y"), **arguments)
            pytest.fail(f"{name} accepted {label}")


@pytest.mark.parametrize(("name", "norm"), _cases())
def test_eps_zero_returns_the_input(name, norm, toy):
    spec = attacks.get(name)
    x_adv = spec(toy.model, toy.x, toy.y, **_kwargs(spec, 0.0, norm))
    assert np.array_equal(x_adv, toy.x)
    assert x_adv is not toy.x


@pytest.mark.parametrize(("name", "norm"), _cases())
def test_result_stays_in_the_eps_ball_and_clip_range_without_touching_x(name, norm, toy):
    spec = attacks.get(name)
    x = toy.x.copy()
    eps = EPS[norm] / 2
    x_adv = spec(toy.model, x, toy.y, **_kwargs(spec, eps, norm))
    assert np.array_equal(x, toy.x), "the attack modified its input"
    assert toys.distance(x_adv - x, norm).max() <= eps + 1e-6
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0


@pytest.mark.parametrize(("name", "norm"), _cases())
def test_a_non_default_clip_range_is_respected(name, norm, toy):
    spec = attacks.get(name)
    # The same points, rescaled to [-1, 1]; a budget large enough that the box, not the ball, binds.
    x = 2.0 * toy.x - 1.0
    eps = 2 * EPS[norm]
    x_adv = spec(toy.model, x, toy.y, clip=(-1.0, 1.0), **_kwargs(spec, eps, norm))
    assert x_adv.min() >= -1.0 and x_adv.max() <= 1.0
    assert toys.distance(x_adv - x, norm).max() <= eps + 1e-6


@pytest.mark.parametrize(("name", "norm"), _cases())
def test_success_rate_on_a_trained_toy_model(name, norm, toy):
    spec = attacks.get(name)
    x_adv = spec(toy.model, toy.x, toy.y, **_kwargs(spec, EPS[norm], norm))
    assert toys.distance(x_adv - toy.x, norm).max() <= EPS[norm] + 1e-6
    assert np.mean(toys.predict(toy.model, x_adv) != toy.y) >= 0.5


@pytest.mark.parametrize(("name", "norm"), [case for case in _cases() if _accepts(attacks.get(case[0]), "targeted")])
def test_targeted_attack_reaches_its_target(name, norm, toy):
    spec = attacks.get(name)
    target = (toy.y + 1) % N_CLASSES
    x_adv = spec(toy.model, toy.x, target, targeted=True, **_kwargs(spec, EPS[norm], norm))
    assert toys.distance(x_adv - toy.x, norm).max() <= EPS[norm] + 1e-6
    assert np.mean(toys.predict(toy.model, x_adv) == target) >= 0.8


@pytest.mark.parametrize(("name", "norm"), _cases())
def test_y_none_attacks_the_prediction_not_the_true_label(name, norm, toy):
    spec = attacks.get(name)
    # Points the model puts in class 0 whose "true" label (as a dataset might record it) is 1. Leaking that
    # label would push them away from class 1, where they are not; the attack must leave class 0 instead.
    x = toy.x[toy.y == 0]
    true_labels = np.ones(len(x), np.int64)
    kwargs = _kwargs(spec, EPS[norm], norm)
    x_adv = spec(toy.model, x, None, **kwargs)
    assert np.mean(toys.predict(toy.model, x_adv) != 0) >= 0.5
    assert np.array_equal(x_adv, spec(toy.model, x, np.zeros(len(x), np.int64), **kwargs))
    assert not np.array_equal(x_adv, spec(toy.model, x, true_labels, **kwargs))


def test_pgd_is_at_least_as_strong_as_fgsm(toy):
    # A budget at which FGSM fails on a good share of the points, so there is room to do better.
    eps = 0.15
    fgsm_success = np.mean(toys.predict(toy.model, attacks.fgsm(toy.model, toy.x, toy.y, eps=eps)) != toy.y)
    x_pgd = attacks.pgd(toy.model, toy.x, toy.y, eps=eps, step_size=eps / 8, steps=20, restarts=2, seed=0)
    pgd_success = np.mean(toys.predict(toy.model, x_pgd) != toy.y)
    assert fgsm_success < 1.0
    assert pgd_success >= fgsm_success


# --- FGSM by hand on a linear model ---------------------------------------------------------------------------

W = np.array([[0.8, -0.5, 0.3, -1.2], [-0.4, 0.9, -0.6, 0.7]], np.float32)
B = np.array([0.05, -0.05], np.float32)
X_LINEAR = np.array(
    [[0.10, 0.20, 0.30, 0.40], [0.90, 0.80, 0.70, 0.60], [0.50, 0.05, 0.95, 0.50], [0.33, 0.66, 0.50, 0.01]],
    np.float32,
)


def _expected_linear_fgsm(x, y, eps, norm, targeted=False):
    # For logits Wx + b and two classes, grad_x CE = p_other * (W[other] - W[y]) with p_other > 0, so the
    # ascent direction is W[other] - W[y]; a targeted step descends the loss of the target y instead.
    direction = W[1 - y] - W[y]
    if targeted:
        direction = -direction
    if norm == "inf":
        step = np.float32(eps) * np.sign(direction)
    else:
        step = np.float32(eps) * direction / np.linalg.norm(direction, axis=1, keepdims=True)
    return np.clip(x + step.astype(np.float32), 0.0, 1.0)


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_fgsm_matches_the_closed_form_on_a_linear_model(norm):
    model = _linear_model(W, B)
    y = np.array([0, 1, 1, 0])
    predicted = (X_LINEAR @ W.T + B).argmax(axis=1)
    cases = [
        (attacks.fgsm(model, X_LINEAR, y, eps=0.25, norm=norm), _expected_linear_fgsm(X_LINEAR, y, 0.25, norm)),
        (attacks.fgsm(model, X_LINEAR, eps=0.25, norm=norm), _expected_linear_fgsm(X_LINEAR, predicted, 0.25, norm)),
        (
            attacks.fgsm(model, X_LINEAR, y, eps=0.25, norm=norm, targeted=True),
            _expected_linear_fgsm(X_LINEAR, y, 0.25, norm, targeted=True),
        ),
    ]
    for actual, expected in cases:
        if norm == "inf":
            np.testing.assert_array_equal(actual, expected)
        else:
            np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-6)


def test_tiny_gradients_still_step_and_zero_gradients_do_not():
    # Class 0 wins by a logit margin of 45 (gradient ~1e-20, whose squares underflow float32) or of 200 (the
    # softmax saturates exactly: the gradient is 0 and there is no direction to step in).
    x = np.array([[0.5, 0.5], [0.5, 0.5]], np.float32)
    for margin, expected_distance in ((45.0, 0.3), (200.0, 0.0)):
        model = _linear_model(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([margin + 1.0, 0.0]))
        x_adv = attacks.fgsm(model, x, eps=0.3, norm="2")
        np.testing.assert_allclose(toys.distance(x_adv - x, "2"), expected_distance, atol=1e-6)


# --- Golden values on a fixed model ---------------------------------------------------------------------------


def _golden_model() -> keras.Model:
    """4-5-3 tanh MLP with weights written out as closed-form constants, so it is identical everywhere."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="tanh"), keras.layers.Dense(3)])
    model.set_weights(
        [
            np.cos(np.arange(20, dtype=np.float32) * 0.7).reshape(4, 5),
            np.linspace(-0.2, 0.2, 5, dtype=np.float32),
            np.sin(np.arange(15, dtype=np.float32) * 1.3 + 0.5).reshape(5, 3),
            np.array([0.1, -0.1, 0.0], np.float32),
        ]
    )
    return model


X_GOLDEN = np.array([[0.1, 0.5, 0.9, 0.3], [0.6, 0.2, 0.4, 0.8], [0.45, 0.55, 0.05, 0.95]], np.float32)
Y_GOLDEN = np.array([0, 2, 1])
GOLDEN_CALLS = {
    "fgsm_inf": lambda m: attacks.fgsm(m, X_GOLDEN, Y_GOLDEN, eps=0.1),
    "fgsm_2": lambda m: attacks.fgsm(m, X_GOLDEN, Y_GOLDEN, eps=0.3, norm="2"),
    "bim_inf": lambda m: attacks.bim(m, X_GOLDEN, Y_GOLDEN, eps=0.3, step_size=0.1, steps=6),
    "pgd_inf": lambda m: attacks.pgd(m, X_GOLDEN, Y_GOLDEN, eps=0.05, step_size=0.02, steps=4, random_start=False),
    "pgd_2": lambda m: attacks.pgd(
        m, X_GOLDEN, Y_GOLDEN, eps=0.3, step_size=0.1, steps=5, norm="2", random_start=False
    ),
    "mi_fgsm_inf": lambda m: attacks.mi_fgsm(m, X_GOLDEN, Y_GOLDEN, eps=0.3, step_size=0.1, steps=6, decay=1.0),
    "mi_fgsm_2": lambda m: attacks.mi_fgsm(m, X_GOLDEN, Y_GOLDEN, eps=0.3, step_size=0.1, steps=5, decay=0.5, norm="2"),
}
# Computed once with these calls (TF 2.21, CPU) and pasted; a change means the attack's arithmetic changed.
GOLDEN = {
    "bim_inf": np.array([[0.4, 0.2, 1, 0], [0.9, 0, 0.7, 0.6], [0.25, 0.85, 0, 1]]),
    "fgsm_2": np.array(
        [
            [0.340312, 0.3698465, 0.9034529, 0.4236861],
            [0.7475591, 0.0374771, 0.5568324, 0.6687894],
            [0.3252398, 0.7043929, 0, 1],
        ]
    ),
    "fgsm_inf": np.array([[0.2, 0.4, 1, 0.4], [0.7, 0.1, 0.5, 0.7], [0.35, 0.65, 0, 1]]),
    "mi_fgsm_2": np.array(
        [
            [0.3343561, 0.3318256, 0.9806188, 0.3171818],
            [0.7617643, 0.0331885, 0.5506593, 0.6846398],
            [0.3078926, 0.7677762, 0, 1],
        ]
    ),
    "mi_fgsm_inf": np.array([[0.4, 0.2, 1, 0.3], [0.9, 0, 0.7, 0.5], [0.15, 0.85, 0, 1]]),
    "pgd_2": np.array(
        [
            [0.3212571, 0.3267844, 1, 0.2800061],
            [0.7656459, 0.0321389, 0.5487435, 0.6892775],
            [0.316871, 0.7686479, 0, 1],
        ]
    ),
    "pgd_inf": np.array([[0.15, 0.45, 0.95, 0.35], [0.65, 0.15, 0.45, 0.75], [0.4, 0.6, 0, 1]]),
}


@pytest.mark.parametrize("case", sorted(GOLDEN_CALLS))
def test_golden_values(case):
    np.testing.assert_allclose(GOLDEN_CALLS[case](_golden_model()), GOLDEN[case], rtol=0, atol=1e-5)


# --- PGD specifics --------------------------------------------------------------------------------------------


def test_restarts_keep_the_first_success_else_the_highest_loss():
    # logit_1 - logit_0 = x0 + x1 - 1: points below the line x0 + x1 = 1 are class 0. One tiny step means
    # success is decided by the random start, which crosses the line for the near points only sometimes.
    model = _linear_model(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0.0, -1.0]))
    x = np.array([[0.5, 0.5 - gap] for gap in (0.05, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5)] * 3, np.float32)
    y = np.zeros(len(x), np.int64)
    settings = dict(eps=0.15, step_size=1e-4, steps=1)
    restarts, seed = 4, 10
    runs = [attacks.pgd(model, x, y, **settings, restarts=1, seed=seed + r) for r in range(restarts)]
    succeeded = np.array([toys.predict(model, run) != 0 for run in runs])
    # The case must exercise all three outcomes: success on the first start, on a later one, and never.
    first = succeeded.argmax(axis=0)
    assert (succeeded[0]).any() and (succeeded.any(axis=0) & (first > 0)).any() and (~succeeded.any(axis=0)).any()
    # For class 0 the loss grows with logit_1 - logit_0 = x0 + x1 - 1, so the highest-loss run is the one
    # with the largest x0 + x1.
    highest_loss = np.array([run.sum(axis=1) for run in runs]).argmax(axis=0)
    choice = np.where(succeeded.any(axis=0), first, highest_loss)
    expected = np.array(runs)[choice, np.arange(len(x))]
    actual = attacks.pgd(model, x, y, **settings, restarts=restarts, seed=seed)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-7)
    assert np.array_equal(toys.predict(model, actual) != 0, succeeded.any(axis=0))


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_random_start_is_uniform_in_the_ball(norm):
    # 4000 starts around one 2-D point far from the clip edges. Uniform in the ball: the inner ball of half the
    # radius holds 1/4 of the area, for the square (L-inf) and the disc (L2) alike, and the mean offset is 0.
    x = np.full((4000, 2), 0.5, np.float32)
    offsets = sample_start(tf.constant(x), tf.constant(0.3), norm, 7, (0.0, 1.0)).numpy() - x
    distance = toys.distance(offsets, norm)
    assert distance.max() <= 0.3 + 1e-6
    assert abs(np.mean(distance <= 0.15) - 0.25) < 0.03
    np.testing.assert_allclose(offsets.mean(axis=0), 0.0, atol=0.01)


def test_random_start_is_seeded_without_global_state(toy):
    settings = dict(eps=0.1, step_size=0.01, steps=3)
    state = np.random.get_state()[1].copy()
    first = attacks.pgd(toy.model, toy.x, toy.y, **settings, seed=3)
    assert np.array_equal(first, attacks.pgd(toy.model, toy.x, toy.y, **settings, seed=3))
    assert not np.array_equal(first, attacks.pgd(toy.model, toy.x, toy.y, **settings, seed=4))
    assert not np.array_equal(
        attacks.pgd(toy.model, toy.x, toy.y, **settings), attacks.pgd(toy.model, toy.x, toy.y, **settings)
    )
    assert np.array_equal(np.random.get_state()[1], state)


def test_bim_is_pgd_without_random_start(toy):
    settings = dict(eps=0.1, step_size=0.02, steps=5)
    np.testing.assert_array_equal(
        attacks.bim(toy.model, toy.x, toy.y, **settings),
        attacks.pgd(toy.model, toy.x, toy.y, **settings, random_start=False),
    )
    with pytest.warns(UserWarning, match="restarts"):
        attacks.pgd(toy.model, toy.x, toy.y, **settings, random_start=False, restarts=3)


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_pgd_trajectory_replays_pgd(norm, toy):
    eps = EPS[norm] / 2
    settings = dict(eps=eps, step_size=eps / 4, steps=6, norm=norm, seed=5)
    x, y = toy.x[:2], toy.y[:2]
    trajectory = attacks.pgd_trajectory(toy.model, x, y, **settings)
    assert trajectory.images.shape == (7, *x.shape)
    for field in (trajectory.loss, trajectory.top_confidence, trajectory.top_class):
        assert field.shape == (7, 2)
    np.testing.assert_allclose(trajectory.images[-1], attacks.pgd(toy.model, x, y, **settings), atol=1e-6)
    assert np.array_equal(trajectory.labels, y)
    for step in (0, 3, 6):
        logits = np.asarray(toy.model(trajectory.images[step]))
        assert np.array_equal(trajectory.top_class[step], logits.argmax(axis=1))
        assert toys.distance(trajectory.images[step] - x, norm).max() <= eps + 1e-6
    assert np.all(trajectory.loss[-1] > trajectory.loss[0])


def test_moving_a_slider_does_not_retrace(toy):
    x, y = toy.x[:8], toy.y[:8]

    def run(eps, step_size, steps, decay):
        attacks.fgsm(toy.model, x, y, eps=eps)
        attacks.pgd(toy.model, x, y, eps=eps, step_size=step_size, steps=steps, seed=steps)
        attacks.bim(toy.model, x, y, eps=eps, step_size=step_size, steps=steps)
        attacks.mi_fgsm(toy.model, x, y, eps=eps, step_size=step_size, steps=steps, decay=decay)
        attacks.pgd_trajectory(toy.model, x[:1], y[:1], eps=eps, step_size=step_size, steps=steps, seed=steps)

    run(0.1, 0.01, 3, 1.0)
    functions = (_fgsm_step, iterate, _trajectory)
    counts = [f.tracing_count(toy.model) for f in functions]
    assert all(counts), "each function traced for this model"
    run(0.2, 0.03, 7, 0.5)
    run(0.05, 0.005, 12, 0.0)
    assert [f.tracing_count(toy.model) for f in functions] == counts


@pytest.mark.parametrize("softmax", [keras.layers.Softmax, lambda: keras.layers.Activation("softmax")])
def test_a_softmax_output_is_flagged_whatever_layer_applies_it(toy, softmax):
    probabilities = keras.Sequential([keras.Input(toy.x.shape[1:]), toy.model, softmax()])
    with pytest.warns(UserWarning, match="softmax"):
        attacks.fgsm(probabilities, toy.x[:2], eps=0.1)
