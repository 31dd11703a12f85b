"""Benchmarks: ``python -m playground.bench train | images | attacks`` prints JSON figures and their targets.

Figures are measured, not asserted: this machine is shared and noisy, so tests never time anything.
"""

from __future__ import annotations

import argparse
import json

from playground.bench.attacks import ATTACK_TARGETS, attack_figures, slider_figures
from playground.bench.images import IMAGE_TARGETS, image_figures
from playground.bench.train import TARGETS, browser_figures, engine_figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m playground.bench", description=__doc__)
    parser.add_argument("suite", choices=["train", "images", "attacks"], help="which benchmark suite to run")
    parser.add_argument("--no-browser", action="store_true", help="train, attacks: skip the figures that need Chromium")
    parser.add_argument(
        "--data-dir",
        default=None,
        help="images, attacks: folder with mnist/ IDX files (default: $PLAYGROUND_DATA_DIR)",
    )
    parser.add_argument("--n", type=int, default=10_000, help="attacks: how many MNIST test images to attack")
    args = parser.parse_args(argv)
    if args.suite == "images":
        figures, targets = image_figures(data_dir=args.data_dir), IMAGE_TARGETS
    elif args.suite == "attacks":
        figures, targets = attack_figures(n=args.n, data_dir=args.data_dir), ATTACK_TARGETS
        if not args.no_browser:
            figures |= slider_figures()
    else:
        figures, targets = engine_figures(), TARGETS
        if not args.no_browser:
            figures |= browser_figures()
    print(json.dumps({"suite": args.suite, "figures": figures, "targets": targets}, indent=2))


if __name__ == "__main__":
    main()
