"""Is averaging two segmentation recipes worth it? Per held-out fold of ``busi_segmentation.py``,
each recipe's final-epoch weights (no epoch chosen on the held-out fold) segment the fold's
benign / malignant images, and the mean of their lesion probabilities is thresholded at 0.5:
lesion Dice per image for every member and for the ensemble, pooled over the folds every
member has finished, with the ensemble's gain over its best member (paired, Wilcoxon).

    python benchmarks/busi_segmentation_ensemble.py --recipes unet-128px-120ep flexunet-effb0-128px-60ep \\
        [--work DIR] [--folds 0 1 2 3 4] [--threads N]

Needs each recipe's finished fold (its fold file in ``results/busi_segmentation/``) and its run
folders (``seg_<recipe>_fold<k>`` and its ``.run``) in ``--work``; other folds are skipped.
Written to ``results/busi_segmentation_ensemble_<recipe>+<recipe>.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from busi_segmentation import MISS, RESULT, add_scoring_options, lesion_images, prepare_busi_run, wilcoxon_p  # noqa: E402
from fold_files import last_epoch_checkpoint, save_json, with_last_epoch_weights  # noqa: E402
from machine import machine_info  # noqa: E402

RESULTS = HERE / "results"
FOLD_FILES = RESULT.with_suffix("")  # busi_segmentation.py's finished folds: <recipe>_fold<k>.json
ENSEMBLE = "ensemble"


def ensemble_fold_rows(bundles: dict[str, Path], dataset_dir: Path, fold: int, device: str) -> list[dict]:
    """Lesion Dice per benign / malignant image of ``fold``: one key per recipe of ``bundles``
    (recipe -> bundle folder, scored with its final epoch's weights) and ``ensemble`` (their
    mean lesion probability >= 0.5), at the image's original resolution."""
    from BreastUSAITraining.segmentation.inference import LesionSegmenter
    from BreastUSAITraining.segmentation.task import dice_and_iou
    from BreastUSAITraining.training.device import resolve_device

    segmenters = {name: LesionSegmenter(with_last_epoch_weights(bundle, "segmentation")[0], resolve_device(device))
                  for name, bundle in bundles.items()}
    rows = []
    for case, image, truth in lesion_images(dataset_dir, fold):
        probabilities = {name: s.probability(image) for name, s in segmenters.items()}  # uint8, 0..255
        row = {"case_id": case["case_id"], "pathology": case["pathology"]}
        row.update({name: dice_and_iou(p >= 128, truth)[0] for name, p in probabilities.items()})
        mean = np.mean([p.astype(np.float32) for p in probabilities.values()], axis=0)
        row[ENSEMBLE] = dice_and_iou(mean >= 127.5, truth)[0]
        rows.append(row)
    return rows


def summarise_ensemble(rows: list[dict], recipes: list[str]) -> dict:
    """Mean (SD) lesion Dice of every member and the ensemble over ``rows``, the ensemble minus
    its best member image by image (mean difference, Wilcoxon p, two-sided), and how many images
    each misses (Dice < ``MISS``) and every member misses alike."""
    means = {name: {"mean": statistics.fmean(r[name] for r in rows), "sd": statistics.pstdev(r[name] for r in rows)}
             for name in [*recipes, ENSEMBLE]}
    best = max(recipes, key=lambda name: means[name]["mean"])
    differences = [r[ENSEMBLE] - r[best] for r in rows]
    return {"images": len(rows), "dice": means, "best_member": best,
            "ensemble_minus_best_member": statistics.fmean(differences),
            "wilcoxon_p": wilcoxon_p(differences),
            "missed": {name: sum(r[name] < MISS for r in rows) for name in [*recipes, ENSEMBLE]},
            "missed_by_every_member": sum(all(r[name] < MISS for name in recipes) for r in rows)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", required=True,
                        help="two or more recipes (busi_segmentation.py row names) whose probabilities are averaged")
    add_scoring_options(parser)
    args = parser.parse_args()
    if len(set(args.recipes)) < 2:
        parser.error("--recipes needs at least two different recipes to average")
    work, dataset_dir = prepare_busi_run(args.work, args.busi, args.threads)
    rows, folds = [], []
    for fold in args.folds:
        bundles = {name: work / f"seg_{name}_fold{fold}" for name in args.recipes}
        unfinished = [name for name in args.recipes if not (FOLD_FILES / f"{name}_fold{fold}.json").is_file()]
        missing = [str(last_epoch_checkpoint(b)) for b in bundles.values() if not last_epoch_checkpoint(b).is_file()]
        if unfinished or missing:  # a run still training has a last.pt too, but not its final epoch's
            print(f"fold {fold}: skipped, " + (f"not finished by {', '.join(unfinished)}" if unfinished
                                               else f"no final-epoch checkpoint {', '.join(missing)}"))
            continue
        fold_rows = ensemble_fold_rows(bundles, dataset_dir, fold, args.device)
        rows += [{**r, "fold": fold} for r in fold_rows]
        folds.append(fold)
        print(f"fold {fold}: " + ", ".join(f"{k} {v['mean']:.4f}" for k, v in
                                           summarise_ensemble(fold_rows, args.recipes)["dice"].items()), flush=True)
    if not rows:
        print("no fold is finished by every recipe, with its run folders in --work: nothing to score", file=sys.stderr)
        return 1
    summary = summarise_ensemble(rows, args.recipes)
    out = RESULTS / f"busi_segmentation_ensemble_{'+'.join(args.recipes)}.json"
    save_json(out, {"recipes": args.recipes, "weights": "final epoch of each recipe", "threshold": 0.5,
                    "folds": folds, "machine": machine_info(), "summary": summary, "images": rows})
    print(f"{out.name}: ensemble {summary['dice'][ENSEMBLE]['mean']:.4f} vs best member {summary['best_member']} "
          f"{summary['dice'][summary['best_member']]['mean']:.4f} "
          f"({summary['ensemble_minus_best_member']:+.4f}, p = {summary['wilcoxon_p']:.2g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
