"""Shared test setup: the full datasets come from ../shared/data beside the checkout, as in CI.

Tests that need them are marked ``full_data`` and skip, with a reason, where the data is absent (a fresh clone).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Resolved against the repo root, so the tests (and the servers they start) find the data from any cwd.
os.environ.setdefault("PLAYGROUND_DATA_DIR", str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))

FULL_DATA_FILES = [
    f"{folder}/{name}-ubyte.gz"
    for folder in ("mnist", "fashion")
    for name in ("train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1")
]
HAS_FULL_DATA = all((Path(os.environ["PLAYGROUND_DATA_DIR"]) / f).is_file() for f in FULL_DATA_FILES)
SKIP_FULL_DATA = pytest.mark.skip(
    reason="needs the full MNIST and Fashion-MNIST: set PLAYGROUND_DATA_DIR to a folder with mnist/ and fashion/ "
    "IDX .gz files (CI uses ../shared/data)"
)


# Whole modules that drive the real app (AppTest or Chromium) or train real models: `-m "not slow"` leaves
# them out for a quick inner loop of engine tests.
SLOW_MODULES = {"test_one_figure_everywhere.py", "test_snippets.py", "test_bench_defences.py", "test_cli.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(item.fspath)
        if "e2e" in path.parts or path.name.endswith("_apptest.py") or path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
        if not HAS_FULL_DATA and "full_data" in item.keywords:
            item.add_marker(SKIP_FULL_DATA)
