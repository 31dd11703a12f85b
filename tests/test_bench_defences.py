"""The defences benchmark runs on tiny inputs and returns its documented keys; it never asserts a time."""

from __future__ import annotations

import json

import pytest

from playground.bench import defences


@pytest.mark.full_data
def test_training_figures_reports_each_preset():
    figures = defences.training_figures(presets=["fast"], train_size=256, held_out=64)
    row = figures["seconds_per_epoch"]["fast"]
    assert row["epochs"] == 1 and row["steps"] == 2
    for key in ("training_seconds", "epoch_wall_seconds", "held_out_clean_accuracy", "held_out_robust_accuracy"):
        assert key in row
    assert {"load_average_1min_before", "load_average_1min_after"} <= figures.keys()
    json.dumps(figures)


@pytest.mark.full_data
def test_time_to_target_reports_seconds_or_none():
    figures = defences.time_to_target(target=1.01, cap_seconds=0.0, train_size=256, held_out=64, test_size=32)
    assert figures["seconds_to_target"] is None  # a target above 100% is never reached
    assert figures["epochs"] == 1 and len(figures["per_epoch"]) == 1
    assert 0.0 <= figures["final_test_pgd20_accuracy"] <= figures["final_test_clean_accuracy"] <= 1.0
    for key in ("seconds_to_target_without_test_evaluation", "test_evaluation_seconds", "training_seconds"):
        assert key in figures
    json.dumps(figures)


def test_certification_figures_report_seconds_and_certified_accuracy():
    figures = defences.certification_figures(2, more_images=3, n=20, n0=10)
    assert set(figures["by_image_count"]) == {"2_images", "3_images"}
    row = figures["by_image_count"]["3_images"]
    assert set(row["certified_accuracy"]) == {"0", "0.25", "0.5"}
    assert {"seconds_per_image_median", "seconds_per_image_mean", "abstained_fraction"} <= row.keys()
    json.dumps(figures)


@pytest.mark.full_data
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_defence_table_has_every_row():
    table = defences.defence_table(n=8, cert_images=2, cert_n=20, cert_n0=10, samples=2)
    assert {"clean_accuracy", "pgd20_accuracy", "seconds"} <= table["no_defence"].keys()
    assert len(table["transforms"]) == len(defences._transforms())
    for row in table["transforms"].values():
        assert {"clean_accuracy", "unaware_pgd20_accuracy", "bpda_pgd20_accuracy", "eot_pgd20_accuracy"} <= row.keys()
        assert set(row["seconds"]) == {"clean", "unaware", "bpda", "eot"}
    assert {"clean_accuracy", "pgd20_accuracy"} <= table["fast_at"].keys()
    smoothing = table["gaussian_smoothing"]
    assert smoothing["images"] == 2 and set(smoothing["certified_accuracy"]) == {"0", "0.25", "0.5"}
    json.dumps(table)


def test_the_suite_is_on_the_command_line(monkeypatch, capsys):
    from playground.bench import __main__ as bench

    monkeypatch.setattr(bench, "defence_figures", lambda **kwargs: {"called_with": kwargs})
    bench.main(["defences", "--quick", "--n", "50"])
    printed = json.loads(capsys.readouterr().out)
    assert printed["suite"] == "defences" and printed["targets"] == defences.DEFENCE_TARGETS
    assert printed["figures"]["called_with"] == {"n": 50, "data_dir": None, "cert_images": 200, "quick": True}
