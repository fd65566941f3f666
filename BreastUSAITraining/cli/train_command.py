"""``train segmentation | abvs-planes``: dataset folder -> model bundle."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UsageError
from ..families import ModelFamily, families
from ..training.choices import KEEP, OPTIMISERS, SCHEDULERS
from .common import add_device, add_threads

HELP = """\
Train a model from a dataset folder (the contract exported by the Slicer module or made by
`dataset import-busi` / `phantom`) and write a model bundle. Checkpoints and logs (CSV,
TensorBoard, a PNG of the curves) go to --run-dir; a killed run continues with --resume.
Several processes / GPUs: torchrun --nproc_per_node=N -m BreastUSAITraining train ..."""


def _common(parser: argparse.ArgumentParser, epochs: int, batch: int, lr: float, optimiser: str) -> None:
    parser.add_argument("--data", required=True, metavar="DIR", help="dataset folder (holding dataset.json)")
    parser.add_argument("--out", required=True, metavar="BUNDLE", help="model bundle folder to write")
    parser.add_argument("--run-dir", metavar="DIR", help="checkpoints and logs (default: BUNDLE.run beside the bundle)")
    parser.add_argument("--val-fold", default="0", metavar="K|none",
                        help="fold used for validation and model selection; the other folds train (default: 0; "
                             "'none' trains on everything and keeps the last epoch)")
    parser.add_argument("--keep", choices=KEEP, default="best",
                        help="which epoch's weights become the bundle: best = the highest validation metric; last = the "
                             "final epoch, whatever its score - use it when the validation fold is also the test fold of "
                             "a cross-validation, so nothing is chosen on test data (default: best)")
    parser.add_argument("--epochs", type=int, default=epochs, metavar="N", help=f"training epochs (default: {epochs})")
    parser.add_argument("--batch-size", type=int, default=batch, metavar="B", help=f"samples per step and process (default: {batch})")
    parser.add_argument("--lr", type=float, default=lr, metavar="LR", help=f"initial learning rate (default: {lr:g})")
    parser.add_argument("--weight-decay", type=float, default=1e-4, metavar="W", help="weight decay (default: 1e-4)")
    parser.add_argument("--optimiser", "--optimizer", choices=OPTIMISERS, default=optimiser,
                        help=f"optimiser; sgd uses Nesterov momentum 0.9 (default: {optimiser})")
    parser.add_argument("--scheduler", choices=SCHEDULERS, default="cosine",
                        help="learning-rate schedule over the epochs (default: cosine)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed; same seed, same data, same result on CPU (default: 0)")
    add_device(parser)
    add_threads(parser)
    parser.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA (CPU never uses it)")
    parser.add_argument("--workers", type=int, default=0, metavar="N", help="data-loading worker processes (default: 0)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its last checkpoint")
    parser.add_argument("--max-steps-per-epoch", type=int, metavar="N", help="cap the steps of each epoch (quick trials)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing bundle at --out")


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("train", help="train a model and write a bundle", description=HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="train_command", metavar="MODEL", required=True)
    for family in families():
        parser = sub.add_parser(family.name, help=family.help, description=family.description)
        defaults = family.defaults
        _common(parser, epochs=defaults.epochs, batch=defaults.batch_size, lr=defaults.lr, optimiser=defaults.optimiser)
        family.add_options(parser)
        parser.set_defaults(handler=_trainer(family))


def _trainer(family: ModelFamily):
    def run(args: argparse.Namespace) -> int:
        settings = settings_from(args)
        args.val_fold = _val_fold(args.val_fold)
        path = family.train(args, settings)
        if path is not None:
            print(f"{family.words} bundle: {path}")
        return 0

    return run


def _val_fold(text: str) -> int | None:
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"--val-fold must be a fold number or 'none', got {text!r}") from None


def settings_from(args: argparse.Namespace):
    """The shared training settings (TrainingSettings) from the parsed options; usage errors raised."""
    from ..training import TrainingSettings

    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not args.overwrite:
        raise UsageError(f"{out} already exists; add --overwrite to replace the bundle")
    run_dir = Path(args.run_dir) if args.run_dir else out.with_name(out.name + ".run")
    settings = TrainingSettings(
        run_dir=run_dir, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
        weight_decay=args.weight_decay, optimiser=args.optimiser, scheduler=args.scheduler, seed=args.seed,
        device=args.device, amp=not args.no_amp, num_workers=args.workers, resume=args.resume,
        progress=not args.quiet, max_steps_per_epoch=args.max_steps_per_epoch, keep=args.keep,
    )
    problems = settings.problems()
    if problems:
        raise UsageError("; ".join(problems))
    return settings
