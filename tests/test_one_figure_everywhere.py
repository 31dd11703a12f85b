"""One configuration, one figure: PGD-20 at ε = 0.1 on the first 100 MNIST test images gives the same robust
accuracy on the Attack page, on the Defend page (no defence) and from the CLI. (The exported Defend script
prints the Defend page's table: tests/test_snippets.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.app_runs import settle

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
N = 100


def _page(page: str, query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page)
    settle(at.run())
    assert not at.exception, [e.message for e in at.exception]
    return at


def attack_page_figure() -> str:
    at = _page("app_pages/attack.py", {})
    at.number_input(key="atk_rb_n").set_value(N)
    at.multiselect(key="atk_rb_attacks").set_value(["pgd"])
    settle(at.run())
    at.multiselect(key="atk_rb_eps_inf").set_value([0.1])
    next(b for b in at.button if b.label == "Run").click()
    settle(at.run())
    assert not at.exception, [e.message for e in at.exception]
    return at.dataframe[0].value["L∞ ε=0.1"][0].split()[0]


def defend_page_figure() -> str:
    at = _page("app_pages/defend.py", {"n": str(N), "attack": "pgd", "eps": "0.1", "defences": ""})
    (row,) = [row for _, row in at.table[0].value.iterrows() if row["Defence"] == "No defence"]
    return row["Defence-unaware"].split()[0]


def cli_figure(tmp_path: Path) -> str:
    # An empty data folder: the CLI falls back to the bundled sample, the pages' images.
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "playground", "attack", "--n", str(N), "--attack", "pgd", "--eps", "0.1", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (row,) = json.loads(result.stdout)["results"]
    return f"{row['robust_accuracy']:.1%}"


def test_pgd_gives_one_figure_on_every_page_and_the_cli(tmp_path):
    figures = {"attack page": attack_page_figure(), "defend page": defend_page_figure(), "cli": cli_figure(tmp_path)}
    assert len(set(figures.values())) == 1, figures
    assert 0.3 < float(figures["cli"].rstrip("%")) / 100 < 0.9, figures  # the attack did something, not everything
