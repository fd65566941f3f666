"""A short FlexibleUNet training with MONAI's encoder batch-norm momentum (0.01) against the
default of ``train segmentation`` (0.1), and a UNet beside them, on phantom B-mode images.

Why: the running statistics a network uses at inference follow the weights with a lag of about
1 / momentum optimiser steps. With 0.01 a training of a few hundred steps ends with statistics
far behind its weights, and the network finds no lesion at inference, whatever it learnt. The
three runs share the data, seed, schedule and everything else; the per-epoch validation Dice
(the engine's, at the training size) is recorded.

    python benchmarks/short_training_momentum.py [--cases 40] [--epochs 20] [--size 64] [--threads N]

Written to ``results/short_training_momentum.json``; a phantom measurement, not an accuracy claim.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from fold_files import save_json  # noqa: E402
from machine import machine_info  # noqa: E402

RESULT = HERE / "results" / "short_training_momentum.json"
RUNS = {"flexunet-effb0, encoder momentum 0.01 (MONAI's)": ("flexunet-effb0", 0.01),
        "flexunet-effb0, encoder momentum 0.1 (default)": ("flexunet-effb0", 0.1),
        "unet, 16 ch": ("unet", 0.1)}


def validation_dice(run_dir: Path) -> list[float]:
    """The validation Dice of every epoch, from the run's ``training_log.csv``."""
    with open(run_dir / "training_log.csv", newline="") as handle:
        return [round(float(row["val_dice"]), 4) for row in csv.DictReader(handle)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=40, help="phantom B-mode cases, one lesion each (default: 40)")
    parser.add_argument("--epochs", type=int, default=20, help="training epochs of each run (default: 20)")
    parser.add_argument("--size", type=int, default=64, help="network input size in pixels (default: 64)")
    parser.add_argument("--batch-size", type=int, default=8, help="images per optimiser step (default: 8)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--out", default=str(RESULT), help="result JSON")
    args = parser.parse_args()

    import torch

    from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset
    from BreastUSAITraining.segmentation.train import SegmentationOptions, train_segmentation
    from BreastUSAITraining.training import TrainingSettings

    if args.threads:
        torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="short-training-momentum-"))
    try:
        data = work / "us2d"
        generate_phantom_dataset(data, PhantomSettings(kind="us2d", cases=args.cases, image_size=128, seed=3), progress=False)
        runs = {}
        for name, (arch, momentum) in RUNS.items():
            started = time.perf_counter()
            run_dir = work / f"{arch}_{momentum}.run"
            train_segmentation(data, work / f"{arch}_{momentum}", SegmentationOptions(arch=arch, size=args.size,
                                                                                     encoder_bn_momentum=momentum),
                               TrainingSettings(run_dir=run_dir, epochs=args.epochs, batch_size=args.batch_size, progress=False))
            dice = validation_dice(run_dir)
            runs[name] = {"validation_dice": dice, "last": dice[-1], "best": max(dice),
                          "seconds": round(time.perf_counter() - started, 1)}
            print(f"{name}: validation Dice last {dice[-1]:.3f}, best {max(dice):.3f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    save_json(Path(args.out), {"machine": machine_info(), "cases": args.cases, "epochs": args.epochs, "size": args.size,
                               "batch_size": args.batch_size, "runs": runs})
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
