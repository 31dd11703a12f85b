"""The command line, ``python -m playground attack``: its table and JSON, ``--param``, and one-line errors.

Real runs go through a subprocess with the bundled CNN on the first 200 MNIST test images; error cases that
need no subprocess call ``main`` in-process, which saves TensorFlow's import per case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground.__main__ import EXIT_BAD_INPUT, main

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("PLAYGROUND_DATA_DIR") or ROOT / ".." / "shared" / "data").resolve()
N = 200


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(DATA_DIR)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "playground", "attack", "--n", str(N), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _json(*args: str) -> dict:
    result = _cli("--json", *args)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def fgsm_report() -> dict:
    return _json("--attack", "fgsm", "--eps", "0", "0.1")


@pytest.mark.full_data
def test_json_report_is_complete_and_sane(fgsm_report):
    assert fgsm_report["n"] == N and fgsm_report["data"] == "test set"
    assert fgsm_report["attack"] == "fgsm" and "correct on the clean image" in fgsm_report["scoring"]
    assert fgsm_report["clean_accuracy"] >= 0.95
    at_zero, at_tenth = fgsm_report["results"]
    assert all(row["norm"] == "inf" and row["upper_bound"] for row in fgsm_report["results"])
    # Nothing is fooled at eps 0, so there is no successful perturbation to measure.
    assert (at_zero["eps"], at_zero["success_rate"]) == (0.0, 0)
    assert (at_zero["median_linf"], at_zero["median_l2"]) == (None, None)
    assert at_zero["robust_accuracy"] == fgsm_report["clean_accuracy"]
    assert at_tenth["eps"] == 0.1
    assert at_tenth["median_linf"] == pytest.approx(0.1, abs=1e-6)
    assert 0 < at_tenth["median_l2"] <= 0.1 * 28
    assert 0 < at_tenth["success_rate"] <= 1
    assert at_tenth["robust_accuracy"] < at_zero["robust_accuracy"]
    for row in fgsm_report["results"]:
        low, high = row["robust_accuracy_95ci"]
        assert 0 <= low <= row["robust_accuracy"] <= high <= 1 and high - low > 0
    assert all(row["seconds"] >= 0 for row in fgsm_report["results"])


def test_table_shows_pgd_accuracy_falling_with_eps():
    result = _cli("--attack", "pgd", "--eps", "0", "0.05", "0.15", "--param", "steps=10", "--param", "step_size=0.02")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("pgd(") and "steps=10" in lines[0] and "step_size=0.02" in lines[0]
    clean = float(lines[1].removeprefix("clean accuracy:"))
    assert clean >= 0.95
    assert "upper bound" in lines[2]
    assert lines[3].split()[:2] == ["L-inf", "eps"]
    rows = [line.split() for line in lines[4:]]
    assert [float(row[0]) for row in rows] == [0.0, 0.05, 0.15]
    accuracy = [float(row[1]) for row in rows]
    assert accuracy[0] == clean
    assert accuracy[0] > accuracy[1] > accuracy[2]
    assert rows[0][4] == "-"  # no success at eps 0: no median size
    assert [float(row[4]) for row in rows[1:]] == pytest.approx([0.05, 0.15], abs=1e-4)


def test_param_reaches_the_attack(fgsm_report):
    # One step of size eps from x itself is FGSM: only parameters that really reach PGD can make them agree.
    steps = ["--param", "steps=1", "--param", "step_size=0.1", "--param", "random_start=false"]
    report = _json("--attack", "pgd", "--eps", "0.1", *steps)
    params = report["params"]
    assert (params["steps"], params["step_size"], params["random_start"]) == (1, 0.1, False)
    ours, fgsm = report["results"][0], fgsm_report["results"][1]
    assert ours["robust_accuracy"] == fgsm["robust_accuracy"]
    assert ours["median_l2"] == pytest.approx(fgsm["median_l2"], rel=1e-5)


def test_budgets_carry_their_norm_and_the_step_follows_eps():
    report = _json("--attack", "deepfool", "--eps", "0.5", "2")
    assert [row["norm"] for row in report["results"]] == ["2", "2"]
    assert report["results"][0]["robust_accuracy"] > report["results"][1]["robust_accuracy"]
    assert _json("--attack", "pgd", "--eps", "0.1")["params"]["step_size"] == "2.5·ε/steps"


def test_garbage_model_file_exits_2_with_one_line(tmp_path):
    garbage = tmp_path / "model.keras"
    garbage.write_bytes(b"not a keras archive" * 10)
    result = _cli("--model", str(garbage))
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: --model") and "zip archive" in last


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--attack", "nope"], "unknown attack"),
        (["--eps", "0.1", "-0.1"], "eps >= 0"),
        (["--n", "0"], "integer >= 1"),
        (["--model", "no/such/model.keras"], "no such file"),
        (["--attack", "pgd", "--param", "stepz=3"], "has no such parameter"),
        (["--attack", "pgd", "--param", "steps=many"], "expected a value of type int"),
        (["--attack", "pgd", "--param", "steps"], "expected name=value"),
        (["--attack", "pgd", "--param", "norm=1"], "expected one of"),
        (["--attack", "pgd", "--param", "steps=0"], "steps >= 1"),  # rejected by the attack itself
        (["--param", "eps=0.1"], "--eps"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, capsys, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(DATA_DIR))
    assert main(["attack", "--n", "20", *args]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert lines[-1].startswith("error: ") and message in lines[-1]


def test_missing_data_falls_back_to_the_sample_and_says_so(tmp_path, capsys):
    code = main(["attack", "--n", "1500", "--eps", "0.1", "--json", "--data-dir", str(tmp_path)])
    assert code == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["data"] == "bundled sample" and report["n"] == 1000
    assert "bundled 1000-image sample" in captured.err
    assert "using all 1000" in captured.err


def test_surrogate_makes_it_a_transfer_attack():
    report = _json("--attack", "fgsm", "--eps", "0", "0.2", "--model", "cnn", "--surrogate", "mlp")
    assert report["crafted_on"] == "bundled mnist mlp" and report["model"] == "bundled mnist cnn"
    at_zero, at_fifth = report["results"]
    assert at_zero["robust_accuracy"] == report["clean_accuracy"]
    assert 0 < at_fifth["success_rate"] < 1  # the MLP's examples fool the CNN often, not always
    table = _cli("--attack", "fgsm", "--eps", "0.2", "--model", "cnn", "--surrogate", "mlp")
    assert "a transfer attack: crafted on bundled mnist mlp" in table.stdout.splitlines()[0]
