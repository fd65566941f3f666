"""Does the FlexibleUNet's new encoder batch-norm momentum (0.1, PyTorch's) cost a long BUSI run
anything against MONAI's own 0.01, with which the committed FlexibleUNet rows were trained?

Momentum changes only the running statistics a network uses at inference, never the training
gradients (training normalises by each batch's own statistics), so a run with 0.1 ends with
the very weights of the run with 0.01. What differs is how far back the running statistics
reach: ~100 optimiser steps at 0.01, ~10 at 0.1. This estimate keeps each fold's final-epoch
weights and rebuilds the encoder's running statistics as training at momentum 0.1 would have
left them: the training forward pass (train mode, augmentation, no gradient) over one epoch of
the fold's own training images, from the stored statistics (0.9 ** steps of them remain: none
after an epoch). The weights are final-epoch ones throughout, where training moved them at 1% of
the peak learning rate (the end of the cosine schedule): an estimate, not a rerun. The decoder,
whose batch norms were at 0.1 all along, keeps its statistics. Both versions then segment the
held-out fold's benign / malignant images at original resolution as ``busi_segmentation.py``
does (lesion Dice per image, paired, Wilcoxon).

    python benchmarks/busi_segmentation_bn_momentum.py [--recipe flexunet-effb0-128px-60ep]
        [--work DIR] [--folds 0 1 2 3 4] [--momentum 0.1] [--threads N]

Needs the recipe's finished folds (fold files in ``results/busi_segmentation/``) and their run
folders in ``--work``. Written to ``results/busi_segmentation_bn_momentum_<recipe>.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from busi_segmentation import MISS, RESULT, add_scoring_options, evaluate_fold, prepare_busi_run, wilcoxon_p  # noqa: E402
from fold_files import save_json, with_last_epoch_weights  # noqa: E402
from machine import machine_info  # noqa: E402

FOLD_FILES = RESULT.with_suffix("")
RESULTS = HERE / "results"


def rebuild_encoder_statistics(network, batches, momentum: float) -> int:
    """Run ``batches`` (tensors ``(B, 1, H, W)``) through ``network`` in train mode without
    gradients, so that only the encoder's batch norms update their running statistics, with
    ``momentum``; the decoder's keep theirs. Returns the number of batches seen."""
    import torch

    from BreastUSAITraining.networks.segmentation import set_encoder_bn_momentum

    network.train()
    for layer in network.decoder.modules():
        if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
            layer.eval()  # normalise with the stored statistics, update nothing
    set_encoder_bn_momentum(network, momentum)
    seen = 0
    with torch.no_grad():
        for images in batches:
            network(images)
            seen += 1
    network.eval()
    return seen


def training_batches(dataset_dir: Path, config: dict, fold: int, seed: int):
    """One epoch of the fold's training images as ``busi_segmentation.py`` trained on them:
    its size, augmentation strength and normal-image choice, batches of its batch size."""
    import torch
    from monai.data import DataLoader, Dataset, list_data_collate

    from BreastUSAITraining.segmentation.augment import training_transforms_2d
    from BreastUSAITraining.segmentation.samples import build_2d_samples
    from BreastUSAITraining.segmentation.train import SegmentationOptions, select_cases

    options = SegmentationOptions(arch=config["arch"], size=config["size"], val_fold=fold,
                                  include_normal=config.get("normal_images", True))
    _, training, _ = select_cases(dataset_dir, options)
    samples = build_2d_samples(training, config["size"], seed=seed, progress=False)
    transform = training_transforms_2d(config.get("augment_strength", 1.0))
    transform.set_random_state(seed=seed)
    loader = DataLoader(Dataset(samples, transform=transform), batch_size=config["batch_size"], shuffle=True,
                        collate_fn=list_data_collate, generator=torch.Generator().manual_seed(seed))
    return (batch["image"] for batch in loader)


def compare_fold(bundle: Path, dataset_dir: Path, config: dict, fold: int, momentum: float, device: str) -> list[dict]:
    """Per image of the held-out fold: lesion Dice of the final epoch with its stored statistics
    (``stored``) and with the encoder's rebuilt at ``momentum`` (``rebuilt``)."""
    import torch

    from BreastUSAITraining.networks import build_network

    model, _ = with_last_epoch_weights(bundle, "segmentation")
    network = build_network(model.inference["network"])
    network.load_state_dict(model.state_dict)  # before scoring: the segmenter empties model.state_dict
    stored = evaluate_fold(bundle, dataset_dir, fold, device, model=model)
    torch.manual_seed(fold)  # dropout and drop-connect run in train mode: the same draws whatever ran before
    rebuild_encoder_statistics(network, training_batches(dataset_dir, config, fold, seed=fold), momentum)
    model.state_dict.clear()
    model.state_dict.update(network.state_dict())
    rebuilt = evaluate_fold(bundle, dataset_dir, fold, device, model=model)
    return [{"case_id": a["case_id"], "stored": a["dice"], "rebuilt": b["dice"]} for a, b in zip(stored, rebuilt)]


def summarise(rows: list[dict]) -> dict:
    """Mean (SD) lesion Dice of both versions, their paired difference and misses (Dice < MISS)."""
    differences = [r["rebuilt"] - r["stored"] for r in rows]
    return {"images": len(rows),
            "dice": {k: {"mean": statistics.fmean(r[k] for r in rows), "sd": statistics.pstdev(r[k] for r in rows)}
                     for k in ("stored", "rebuilt")},
            "rebuilt_minus_stored": statistics.fmean(differences), "wilcoxon_p": wilcoxon_p(differences),
            "largest_change": max(abs(d) for d in differences),
            "missed": {k: sum(r[k] < MISS for r in rows) for k in ("stored", "rebuilt")}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="flexunet-effb0-128px-60ep",
                        help="a FlexibleUNet row of busi_segmentation.py trained with MONAI's 0.01 (default: %(default)s)")
    parser.add_argument("--momentum", type=float, default=0.1, help="encoder momentum to estimate (default: 0.1)")
    add_scoring_options(parser)
    args = parser.parse_args()
    if not 0 < args.momentum <= 1:
        parser.error(f"--momentum must be within (0, 1], got {args.momentum}")
    work, dataset_dir = prepare_busi_run(args.work, args.busi, args.threads)
    rows, folds = [], []
    for fold in args.folds:
        fold_file = FOLD_FILES / f"{args.recipe}_fold{fold}.json"
        bundle = work / f"seg_{args.recipe}_fold{fold}"
        if not fold_file.is_file() or not bundle.is_dir():
            print(f"fold {fold}: skipped, no finished fold file or run folder", flush=True)
            continue
        config = json.loads(fold_file.read_text())["config"]
        if config["arch"] != "flexunet-effb0" or "encoder_bn_momentum" in config:
            parser.error(f"{args.recipe} is not a FlexibleUNet recipe trained with MONAI's momentum 0.01")
        fold_rows = compare_fold(bundle, dataset_dir, config, fold, args.momentum, args.device)
        rows += fold_rows
        folds.append(fold)
        s = summarise(fold_rows)
        print(f"fold {fold}: stored {s['dice']['stored']['mean']:.4f}, rebuilt {s['dice']['rebuilt']['mean']:.4f}",
              flush=True)
    if not rows:
        print("nothing to score: no finished fold with its run folder", file=sys.stderr)
        return 1
    summary = summarise(rows)
    out = RESULTS / f"busi_segmentation_bn_momentum_{args.recipe}.json"
    save_json(out, {"recipe": args.recipe, "momentum": args.momentum, "weights": "final epoch", "folds": folds,
                    "machine": machine_info(), "summary": summary, "images": rows})
    print(json.dumps(summary, indent=1))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
