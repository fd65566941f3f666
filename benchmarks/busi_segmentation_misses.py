"""Where the BUSI segmentation falls short: images whose Dice is below 0.1 (pooled over the
finished folds of ``busi_segmentation.py``; at the best and, where scored, the final epoch),
and, for one fold whose bundle is still in the work folder, whether each miss found no lesion at
all (with its peak probability) or found another region.

    python benchmarks/busi_segmentation_misses.py [--arch RECIPE] [--fold 1] [--work DIR] [--threads N]

Written to ``results/busi_segmentation_misses.json`` for the first recipe (``unet``), to
``results/busi_segmentation_misses_<recipe>.json`` for any other.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from busi_segmentation import MISS  # noqa: E402
from fold_files import save_json  # noqa: E402

FOLDS = HERE / "results" / "busi_segmentation"
RESULT = HERE / "results" / "busi_segmentation_misses.json"


def _miss_figures(dices: list[float]) -> dict:
    """How many images are missed (Dice < ``MISS``), the mean Dice of the others, the median of all."""
    return {"dice_below_0.1": sum(d < MISS for d in dices),
            "mean_dice_of_the_rest": statistics.fmean(d for d in dices if d >= MISS),
            "median_dice_all": statistics.median(dices)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="unet",
                        help="recipe (variant) whose fold files are read, "
                             "e.g. flexunet-effb0-128px-60ep (default: unet)")
    parser.add_argument("--fold", type=int, default=1, help="fold whose misses are looked at with its bundle")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "breastusai-bench"),
                        help="busi_segmentation.py's --work folder (bundles, imported BUSI)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    args = parser.parse_args()
    records = [json.loads(p.read_text()) for p in sorted(FOLDS.glob(f"{args.arch}_fold*.json"))]
    files = {record["fold"]: record for record in records}
    rows = [r for record in files.values() for r in record["images"]]
    best = _miss_figures([r["dice"] for r in rows])
    result = {"arch": args.arch, "folds": sorted(files), "images": len(rows),
              "dice_below_0.1": best.pop("dice_below_0.1"),
              "malignant_among_them": sum(r["pathology"] == "malignant" and r["dice"] < MISS for r in rows), **best}
    if all("dice_last_epoch" in r for r in rows):  # the same figures for the final epoch's weights
        result["last_epoch"] = _miss_figures([r["dice_last_epoch"] for r in rows])
    bundle = Path(args.work) / f"seg_{args.arch}_fold{args.fold}"
    if bundle.is_dir():
        import torch

        from BreastUSAITraining.bundle import load_bundle
        from BreastUSAITraining.dataset import load_dataset
        from BreastUSAITraining.dataset.loader import case_dicts
        from BreastUSAITraining.imagefiles import read_image
        from BreastUSAITraining.segmentation.inference import LesionSegmenter

        if args.threads:
            torch.set_num_threads(args.threads)
        segmenter = LesionSegmenter(load_bundle(bundle), torch.device("cpu"))
        missed = {r["case_id"] for r in files[args.fold]["images"] if r["dice"] < MISS}
        cases = []
        for case in case_dicts(load_dataset(Path(args.work) / "busi_dataset"), "training", folds=[args.fold]):
            if case["case_id"] in missed:
                image = read_image(case["image"])
                probability = segmenter.probability(image)
                found = segmenter.lesions(image, probability)
                cases.append({"case_id": case["case_id"], "pathology": case["pathology"], "lesions_found": len(found),
                              "peak_probability": round(float(probability.max()) / (255.0 if probability.dtype.kind == "u" else 1.0), 3)})
        none = [c for c in cases if c["lesions_found"] == 0]
        result["fold_detail"] = {"fold": args.fold, "misses": len(cases), "no_lesion_found": len(none),
                                 "another_region_found": len(cases) - len(none),
                                 "peak_probability_when_none_found": [min((c["peak_probability"] for c in none), default=None),
                                                                      max((c["peak_probability"] for c in none), default=None)],
                                 "cases": cases}
    save_json(RESULT if args.arch == "unet" else RESULT.with_name(f"{RESULT.stem}_{args.arch}.json"), result)
    print(json.dumps({k: v for k, v in result.items() if k != "fold_detail"}, indent=1))
    if "fold_detail" in result:
        print({k: v for k, v in result["fold_detail"].items() if k != "cases"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
