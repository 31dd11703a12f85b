"""The transfer benchmark's figures: every ordered pair of bundled architectures, white-box on the diagonal."""

from __future__ import annotations

from playground import image_models
from playground.bench.transfer import TRANSFER_EPS, transfer_figures


def test_transfer_figures_cover_every_pair_with_rates_in_range(tmp_path):
    figures = transfer_figures(n=20, data_dir=str(tmp_path))  # no data there: the bundled sample
    assert figures["images"] == "first 20 of the MNIST bundled sample"
    rows = figures["success_rate_on_target"]
    names = list(image_models.ARCHITECTURES)
    assert len(rows) == len(names) ** 2
    assert {f"{name} <- white-box" for name in names} <= set(rows)
    for row in rows.values():
        assert set(row) == {f"eps {eps:g}" for eps in TRANSFER_EPS} | {"clean_accuracy"}
        assert all(0.0 <= value <= 1.0 for value in row.values())
