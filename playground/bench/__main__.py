"""Benchmarks: ``python -m playground.bench train | images | attacks | defences | lens | classroom | transfer``
prints JSON figures and their targets.

Figures are measured, not asserted: this machine is shared and noisy, so tests never time anything.
"""

from __future__ import annotations

import argparse
import json

from playground.bench import classroom
from playground.bench.attacks import ATTACK_TARGETS, attack_figures, slider_figures
from playground.bench.defences import DEFENCE_TARGETS, defence_figures
from playground.bench.images import IMAGE_TARGETS, image_figures
from playground.bench.lens import LENS_TARGETS, lens_figures
from playground.bench.square import SQUARE_IMAGES, SQUARE_QUERIES, SQUARE_TARGETS, square_figures
from playground.bench.strong import STRONG_TARGETS, strong_figures
from playground.bench.train import TARGETS, browser_figures, engine_figures
from playground.bench.transfer import TRANSFER_TARGETS, transfer_figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m playground.bench", description=__doc__)
    parser.add_argument(
        "suite", choices=["train", "images", "attacks", "defences", "lens", "classroom", "transfer"],
        help="which benchmark suite to run",
    )
    parser.add_argument("--no-browser", action="store_true", help="train, attacks: skip the figures that need Chromium")
    parser.add_argument(
        "--data-dir",
        default=None,
        help="images, attacks, defences, transfer: folder with mnist/ IDX files (default: $PLAYGROUND_DATA_DIR)",
    )
    parser.add_argument(
        "--n",
        type=int,
        default=None,
        help="attacks, defences, transfer: how many MNIST test images to attack (default: 10000 for attacks' "
        f"timing, {SQUARE_IMAGES} for its Square comparison, 1000 for defences and transfer)",
    )
    parser.add_argument(
        "--only",
        choices=["timing", "square"],
        default=None,
        help="attacks: only the timing figures (FGSM, PGD, slider, quick vs thorough), or only Square against "
        "ART's SquareAttack (queries to success at eps 0.1 and 0.3)",
    )
    parser.add_argument(
        "--queries", type=int, default=SQUARE_QUERIES, help="attacks: Square's query budget per image, both libraries"
    )
    parser.add_argument("--seeds", default="0",
                        help="attacks: Square's seeds, e.g. 0,1,2: each library attacks the images once per seed, "
                        "and the targets are judged on the runs pooled")
    parser.add_argument(
        "--cert-images",
        type=int,
        default=200,
        help="defences: how many of the --n images the smoothed model certifies at n = 1000",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="defences: at most 200 images (50 certified), and skip the adversarial-training figures",
    )
    parser.add_argument("--sessions", default="1,2,5,10", help="classroom: session counts to run, e.g. 1,2,5,10")
    parser.add_argument(
        "--replicas", type=int, default=0, help="classroom: K replicas behind nginx (deploy/serve.sh); 0: one server"
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="classroom: how long each row trains")
    parser.add_argument("--cycles", type=int, default=100, help="classroom: Reset cycles for the memory figure")
    parser.add_argument("--churn", type=int, default=50, help="classroom: sessions opened and closed in turn")
    parser.add_argument("--heavy", type=int, default=0,
                        help="classroom: repeat each row with this many more sessions running a Defend evaluation")
    args = parser.parse_args(argv)
    if args.suite == "images":
        figures, targets = image_figures(data_dir=args.data_dir), IMAGE_TARGETS
    elif args.suite == "attacks":
        figures, targets = {}, {}
        if args.only != "square":
            n = 10_000 if args.n is None else args.n
            figures, targets = attack_figures(n=n, data_dir=args.data_dir), ATTACK_TARGETS | STRONG_TARGETS
            if not args.no_browser:
                figures |= slider_figures()
            figures["quick_vs_thorough"] = strong_figures()
        if args.only != "timing":
            n = SQUARE_IMAGES if args.n is None else args.n
            seeds = [int(seed) for seed in args.seeds.split(",")]
            figures["square"] = square_figures(n=n, data_dir=args.data_dir, queries=args.queries, seeds=seeds)
            targets |= SQUARE_TARGETS
    elif args.suite == "classroom":
        sessions = [int(n) for n in args.sessions.split(",") if n]  # "" runs only the memory rows
        figures = classroom.classroom_figures(
            sessions, replicas=args.replicas, seconds=args.seconds, cycles=args.cycles, churn=args.churn,
            heavy=args.heavy,
        )
        targets = classroom.TARGETS
    elif args.suite == "lens":
        figures, targets = lens_figures(), LENS_TARGETS
    elif args.suite == "defences":
        n = 1000 if args.n is None else args.n
        figures = defence_figures(n=n, data_dir=args.data_dir, cert_images=args.cert_images, quick=args.quick)
        targets = DEFENCE_TARGETS
    elif args.suite == "transfer":
        figures = transfer_figures(n=1000 if args.n is None else args.n, data_dir=args.data_dir)
        targets = TRANSFER_TARGETS
    else:
        figures, targets = engine_figures(), TARGETS
        if not args.no_browser:
            figures |= browser_figures()
    print(json.dumps({"suite": args.suite, "figures": figures, "targets": targets}, indent=2))


if __name__ == "__main__":
    main()
