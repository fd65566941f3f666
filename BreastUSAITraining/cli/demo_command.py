"""``demo``: the main job on the embedded default (phantom data)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "demo",
        help="run the main job on built-in phantom data (what `make demo` runs)",
        description=(
            "Generate a phantom dataset of every modality, validate it (deep), summarise it; train a lesion "
            "segmentation model and the three-plane classifier briefly on CPU; predict on the unseen phantom "
            "volumes; write report.html / report.md with metrics, ROC curve and heatmap overlays. Needs no data "
            "and no network; prints where the output went. A folder made by an earlier demo is replaced; any "
            "other non-empty folder is refused."
        ),
    )
    p.add_argument("--out", default="demo_output", metavar="DIR", help="output folder (default: ./demo_output)")
    p.add_argument("--cases", type=int, default=40, metavar="N", help="phantom lesions per data kind (default: 40)")
    p.add_argument("--epochs", type=int, default=8, metavar="N", help="training epochs of each model (default: 8)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    run_demo(args.out, cases=args.cases, seed=args.seed, progress=not args.quiet, epochs=args.epochs)
    return 0
