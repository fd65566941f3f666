"""``demo``: the shipped models on the sample images; ``demo-train``: the training tour on phantoms."""

from __future__ import annotations

import argparse

from .common import add_threads


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "demo",
        help="run the shipped models on the sample images (what `make demo` runs)",
        description=(
            "Run predict with the shipped models (Resources/Models) on the sample images (Resources/SampleData: ten "
            "real B-mode images from BUSI and BUS-BRA that the models never trained on, and one phantom ABVS volume), "
            "then write report.html: per image the AI's outline against the reference, the malignant probability and "
            "call, the heatmap and MUP-Net's matched prototypes, and a table of Dice and AUC on these few images. No "
            "training and no network; under two minutes of CPU. A folder made by an earlier demo is replaced; any "
            "other non-empty folder is refused."
        ),
    )
    p.add_argument("--out", default="demo_output", metavar="DIR", help="output folder (default: ./demo_output)")
    add_threads(p)
    p.set_defaults(handler=run)

    t = commands.add_parser(
        "demo-train",
        help="the training tour on built-in phantom data (what `make demo-train` runs)",
        description=(
            "Generate a phantom dataset of every modality, validate it (deep), summarise it; train a lesion "
            "segmentation model, the three-plane classifier, MUP-Net, DL-UM and CLDLR briefly on CPU; predict on the "
            "unseen phantom volumes; write report.html / report.md with metrics, ROC curve and heatmap overlays. A few "
            "CPU epochs on a few phantom lesions: the report says in words when a model separates nothing. Needs no "
            "data and no network. A folder made by an earlier demo is replaced; any other non-empty folder is refused."
        ),
    )
    t.add_argument("--out", default="demo_train_output", metavar="DIR", help="output folder (default: ./demo_train_output)")
    t.add_argument("--cases", type=int, default=40, metavar="N", help="phantom lesions per data kind (default: 40)")
    t.add_argument("--epochs", type=int, default=8, metavar="N", help="training epochs of each model (default: 8)")
    t.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    add_threads(t)
    t.set_defaults(handler=run_training_tour)


def run(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    run_demo(args.out, progress=not args.quiet)
    return 0


def run_training_tour(args: argparse.Namespace) -> int:
    from ..demo_training import run_demo

    run_demo(args.out, cases=args.cases, seed=args.seed, progress=not args.quiet, epochs=args.epochs)
    return 0
