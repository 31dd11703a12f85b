"""Shared test setup: the full datasets come from ../shared/data beside the checkout, as in CI."""

from __future__ import annotations

import os
from pathlib import Path

# Resolved against the repo root, so the tests (and the servers they start) find the data from any cwd.
os.environ.setdefault("PLAYGROUND_DATA_DIR", str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
