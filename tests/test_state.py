"""TrainPageConfig <-> URL query parameters: round trips, fallbacks and notices."""

from __future__ import annotations

import dataclasses

import pytest

from playground import state
from playground.state import TrainPageConfig, from_query, to_query

DEFAULT = TrainPageConfig()
FIELDS = [f.name for f in dataclasses.fields(TrainPageConfig)]

# Every field differs from its default; all values are in range.
CHANGED = TrainPageConfig(
    problem="regression",
    dataset="gauss_sum",
    points=((-1.0, 2.5, 0.5), (3.25, -4.0, -1.25), (0.01, -6.0, 9.99)),
    point_class=3,
    point_value=-0.5,
    samples=1234,
    noise=35,
    train_percent=70,
    data_seed=424242,
    blobs=5,
    features=("sin_x2", "x1x2", "x1sq"),
    layers=(32, 1, 7),
    activations=("relu", "gelu", "leaky_relu"),
    init_seed=999_999,
    loss="huber",
    optimizer="rmsprop",
    lr=0.0003,
    batch=256,
    reg="l1",
    reg_rate=2.5,
    speed="slow",
    show_test=True,
    discretize=True,
    adv_train=True,
    adv_eps=1.25,
    lens=True,
    lens_attack="pgd",
    lens_norm="2",
    lens_eps=2.5,
    lens_steps=33,
)

GARBAGE = {
    "problem": "ranking",
    "dataset": "donut",
    "points": "1.not-a-share-code!",
    "point_class": "5",
    "point_value": "1.5",
    "samples": "lots",
    "noise": "51",
    "train_percent": "9",
    "data_seed": "-1",
    "blobs": "2.5",
    "features": "x1,cos",
    "layers": "4,33",
    "activations": "tanh,swish",
    "init_seed": "1e3",
    "loss": "CROSS_ENTROPY",
    "optimizer": "",
    "lr": "fast",
    "batch": "0",
    "reg": "l3",
    "reg_rate": "10.5",
    "speed": "ludicrous",
    "show_test": "yes",
    "discretize": "2",
    "adv_train": "on",
    "adv_eps": "0",
    "lens": "maybe",
    "lens_attack": "cw",
    "lens_norm": "1",
    "lens_eps": "nan",
    "lens_steps": "51",
}


def test_the_tables_cover_every_field():
    assert set(GARBAGE) == set(FIELDS)
    assert all(getattr(CHANGED, name) != getattr(DEFAULT, name) for name in FIELDS)


def test_query_values_are_strings():
    assert all(isinstance(value, str) for value in to_query(CHANGED).values())
    assert set(to_query(DEFAULT)) == set(FIELDS)


@pytest.mark.parametrize("config", [DEFAULT, CHANGED], ids=["default", "all-changed"])
def test_round_trip(config):
    restored, notices = from_query(TrainPageConfig, to_query(config))
    assert restored == config
    assert notices == []


def test_empty_query_gives_the_defaults():
    assert from_query(TrainPageConfig, {}) == (DEFAULT, [])


@pytest.mark.parametrize("name", FIELDS)
def test_garbage_falls_back_to_the_default_with_one_notice(name):
    query = to_query(CHANGED)
    query[name] = GARBAGE[name]
    config, notices = from_query(TrainPageConfig, query)
    if name == "activations":  # the default, padded to CHANGED's three layers
        assert config.activations == ("tanh",) * len(CHANGED.layers)
    else:  # the default that fits CHANGED's problem type: a regression's first dataset and usual loss
        fitting = DEFAULT if name == "problem" else dataclasses.replace(DEFAULT, problem=CHANGED.problem)
        assert getattr(config, name) == getattr(fitting, name)
    # A layers fallback re-pads the activations; a problem type's, back to classification, replaces the
    # regression's dataset, loss and points with what fits.
    follow = ("activations", *{"problem": ("dataset", "loss", "points")}.get(name, ()))
    for other in FIELDS:
        if other != name and other not in follow:
            assert getattr(config, other) == getattr(CHANGED, other)
    parameter_notices = [n for n in notices if f"{name}=" in n]
    assert len(parameter_notices) == 1, notices


def test_all_garbage_gives_the_defaults_and_one_notice_per_field():
    config, notices = from_query(TrainPageConfig, GARBAGE)
    assert config == DEFAULT
    for name in FIELDS:
        assert sum(f"parameter {name}=" in notice for notice in notices) == 1, (name, notices)
    assert len(notices) == len(FIELDS)


def test_the_problem_type_keeps_its_dataset_loss_and_points_consistent():
    regression, notices = from_query(TrainPageConfig, to_query(CHANGED) | {"problem": "classification"})
    assert (regression.dataset, regression.loss, regression.points) == ("circle", "cross_entropy", ())
    assert any("'gauss_sum' is not for a classification: using Circle" in n for n in notices), notices
    assert any("'huber' is not for a classification: using Cross-entropy" in n for n in notices), notices
    assert any("points are not for a classification" in n for n in notices), notices
    assert dataclasses.replace(DEFAULT, problem="regression").dataset == "plane"
    assert dataclasses.replace(DEFAULT, problem="regression").loss == "squared_error"
    # your own points belong to both problem types
    assert dataclasses.replace(DEFAULT, dataset="custom", problem="regression").dataset == "custom"


def test_notice_says_what_was_expected_and_what_is_used():
    _, notices = from_query(TrainPageConfig, {"samples": "lots"})
    assert len(notices) == 1
    assert "samples" in notices[0] and "lots" in notices[0]
    assert "100" in notices[0] and "2000" in notices[0]
    assert "500" in notices[0]


def test_unknown_keys_are_ignored_without_notices():
    config, notices = from_query(TrainPageConfig, {"utm_source": "mail", "embed": "true", "Dataset": "xor"})
    assert config == DEFAULT
    assert notices == []


def test_list_values_use_the_last_entry():
    query = {"dataset": ["xor", "moons"], "samples": ["100", "200"], "layers": ["3", "8,8"]}
    config, notices = from_query(TrainPageConfig, query)
    assert (config.dataset, config.samples, config.layers) == ("moons", 200, (8, 8))
    assert config.activations == ("tanh", "tanh")
    assert notices == []


def test_an_empty_list_value_falls_back_with_a_notice():
    config, notices = from_query(TrainPageConfig, {"samples": []})
    assert config.samples == DEFAULT.samples
    assert len(notices) == 1 and "samples" in notices[0]


def test_surrounding_whitespace_is_tolerated():
    config, notices = from_query(TrainPageConfig, {"samples": " 300 ", "dataset": "xor\n"})
    assert (config.samples, config.dataset) == (300, "xor")
    assert notices == []


@pytest.mark.parametrize(
    ("layers", "activations", "expected"),
    [
        ("8,8,8", "relu", ("relu", "tanh", "tanh")),
        ("8", "relu,sigmoid,elu", ("relu",)),
        ("4,4", "", ("tanh", "tanh")),
    ],
)
def test_activation_count_mismatch_pads_with_tanh_and_notices(layers, activations, expected):
    config, notices = from_query(TrainPageConfig, {"layers": layers, "activations": activations})
    assert config.layers == tuple(int(n) for n in layers.split(","))
    assert config.activations == expected
    assert len(notices) == 1 and "activations" in notices[0]


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "1e400", "1e308", "-0.5", "10.000001"])
@pytest.mark.parametrize("name", ["lr", "reg_rate"])
def test_non_finite_and_huge_floats_are_rejected(name, text):
    config, notices = from_query(TrainPageConfig, {name: text})
    assert getattr(config, name) == getattr(DEFAULT, name)
    assert len(notices) == 1 and name in notices[0]


@pytest.mark.parametrize("text", ["1e400", "99999999999999999999999", "-1", "nan"])
def test_huge_or_odd_integers_are_rejected(text):
    config, notices = from_query(TrainPageConfig, {"data_seed": text})
    assert config.data_seed == DEFAULT.data_seed
    assert len(notices) == 1


def test_float_bounds_are_inclusive():
    config, notices = from_query(TrainPageConfig, {"lr": "1e-05", "reg_rate": "10"})
    assert (config.lr, config.reg_rate) == (1e-5, 10.0)
    assert notices == []


def test_empty_layers_is_a_linear_model_and_round_trips():
    config, notices = from_query(TrainPageConfig, {"layers": "", "activations": ""})
    assert config.layers == () and config.activations == ()
    assert notices == []
    query = to_query(config)
    assert query["layers"] == "" and query["activations"] == ""
    assert from_query(TrainPageConfig, query) == (config, [])


@pytest.mark.parametrize("text", ["x1,x1", "x2,x1,x2"])
def test_duplicate_features_are_rejected(text):
    config, notices = from_query(TrainPageConfig, {"features": text})
    assert config.features == DEFAULT.features
    assert len(notices) == 1 and "features" in notices[0]


def test_no_features_is_rejected():
    config, notices = from_query(TrainPageConfig, {"features": ""})
    assert config.features == DEFAULT.features
    assert len(notices) == 1


def test_too_many_layers_are_rejected():
    config, notices = from_query(TrainPageConfig, {"layers": "2,2,2,2,2,2,2"})
    assert config.layers == DEFAULT.layers
    assert any("layers" in notice for notice in notices)


@pytest.mark.parametrize(("text", "value"), [("true", True), ("1", True), ("FALSE", False), ("0", False)])
def test_flags(text, value):
    config, notices = from_query(TrainPageConfig, {"show_test": text})
    assert config.show_test is value
    assert notices == []


def test_a_long_garbage_value_is_shortened_in_the_notice():
    _, notices = from_query(TrainPageConfig, {"dataset": "z" * 5000})
    assert len(notices) == 1 and len(notices[0]) < 400


@pytest.mark.parametrize("layers", ["8,8,8", "8", ""])
def test_layers_without_activations_is_not_a_mismatch(layers):
    config, notices = from_query(TrainPageConfig, {"layers": layers})
    assert len(config.activations) == len(config.layers)
    assert notices == []


def test_widget_ranges_come_from_the_codecs():
    assert state.bounds(state.TrainPageConfig, "samples") == (100, 2000)
    assert state.bounds(state.DefendPageConfig(), "eps") == (0.0, 0.5)
    with pytest.raises(ValueError, match="Expected a numeric setting"):
        state.bounds(state.TrainPageConfig, "dataset")


def test_points_ride_in_the_link_until_there_are_too_many():
    few = dataclasses.replace(DEFAULT, dataset="custom", points=tuple((0.5, 0.25, k % 2) for k in range(200)))
    assert from_query(TrainPageConfig, to_query(few)) == (few, [])
    many = dataclasses.replace(few, points=(*few.points, (1.0, 1.0, 1)))
    assert "points" not in to_query(many) and to_query(many)["dataset"] == "custom"
    assert to_query(DEFAULT)["points"] == ""  # no points: an empty value, not a code


def test_the_defences_label_gives_the_stack_limit():
    # The label is written out for the translation catalogue, so it must follow the constant by hand.
    assert f"(at most {state.MAX_STACK})" in state.DEFENCES_LABEL
