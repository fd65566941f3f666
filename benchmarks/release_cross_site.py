"""Across sites (issue 19): the shipped recipes trained on one dataset and scored on the other - what
a new hospital would see. BUSI (Baheya Hospital, Cairo) -> BUS-BRA (INCA, Rio de Janeiro) and back.

For each direction: ``lesion-segmentation``'s and ``lesion-classifier``'s recipes
(``tools/release_recipes.py``) trained on every development image of the training site
(``--val-fold none``, final epoch kept), then on every image of the other site with a lesion
(BUSI's train-only label conflicts left out): lesion Dice of everything found (missed: Dice < 0.1),
and the classifier's AUC on the reference-mask crops and on the crops from the automatic
segmentation (the found lesion overlapping each reference lesion most; the most probable region
when none does; a lesion on an image where the model gives no region at all has no automatic crop and is
left out of that AUC, counted), with 95% cluster-bootstrap CIs (whole duplicate groups / patients resampled).

    python benchmarks/release_cross_site.py --work /work/bench-work/cross-site \
        [--busi /work/release-work/busi] [--busbra /work/release-work/busbra] [--directions busi-busbra busbra-busi] \
        [--threads 1] [--steps segmentation classifier score]

Each direction: ``results/release_cross_site/<train>-to-<scored>.json``; pooled: ``results/release_cross_site.json``.
The imports are ``dataset import-busi`` / ``import-busbra`` of ``../shared/data`` (``tools/release_models.py``
``prepare_data`` makes them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tools"), str(HERE)]

from machine import machine_info  # noqa: E402
from release_cv import auc_figures, case_groups, train_whole  # noqa: E402
from release_recipes import recipe  # noqa: E402
from release_segmentation_cv import score_fold  # noqa: E402

from BreastUSAITraining.atomic import write_json_atomic  # noqa: E402
from BreastUSAITraining.dataset import load_dataset  # noqa: E402

RESULTS = HERE / "results" / "release_cross_site"
POOLED = HERE / "results" / "release_cross_site.json"
SITES = {"busi": "BUSI (Cairo)", "busbra": "BUS-BRA (Rio de Janeiro)"}


def run_direction(train_site: str, scored_site: str, data: dict[str, Path], work: Path, threads: int) -> None:
    seg, seg_seconds = train_whole("lesion-segmentation", data[train_site], work / f"{train_site}-segmentation", threads)
    cls, cls_seconds = train_whole("lesion-classifier", data[train_site], work / f"{train_site}-classifier", threads)
    images, crops = score_fold(data[scored_site], seg, cls, None)
    write_json_atomic(RESULTS / f"{train_site}-to-{scored_site}.json", {
        "machine": machine_info(), "trained_on": train_site, "scored_on": scored_site, "kept_epoch": "last",
        "recipes": {"segmentation": list(recipe("lesion-segmentation").train),
                    "classifier": list(recipe("lesion-classifier").train)},
        "train_seconds": {"segmentation": round(seg_seconds, 1), "classifier": round(cls_seconds, 1)},
        "threads": threads, "images": images, "lesions": crops})


def summarise(document: dict, dataset_folder: Path) -> dict:
    group_of = case_groups(load_dataset(dataset_folder))
    dice = np.array([r["dice"] for r in document["images"]])
    crops = document["lesions"]
    labels = np.array([r["label"] for r in crops])
    groups = [group_of[r["case_id"]] for r in crops]
    usable = [r for r in crops if r["probability_automatic"] is not None]  # no region at all: no crop to classify
    automatic = np.array([r["probability_automatic"] for r in usable])
    return {"trained_on": document["trained_on"], "scored_on": document["scored_on"],
            "segmentation": {"images": int(dice.size), "dice": round(float(dice.mean()), 4),
                             "dice_median": round(float(np.median(dice)), 4), "missed": int((dice < 0.1).sum())},
            "classifier_reference_crops": auc_figures(labels, np.array([r["probability_reference"] for r in crops]), groups),
            "classifier_automatic_crops": auc_figures(np.array([r["label"] for r in usable]), automatic,
                                                      [group_of[r["case_id"]] for r in usable]),
            "lesions_not_detected": int(sum(not r["detected"] for r in crops)),
            "lesions_without_automatic_crop": len(crops) - len(usable),
            "train_seconds": document["train_seconds"], "threads": document["threads"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/work/bench-work/cross-site"), help="bundles and runs")
    parser.add_argument("--busi", type=Path, default=Path("/work/release-work/busi"), help="the BUSI import")
    parser.add_argument("--busbra", type=Path, default=Path("/work/release-work/busbra"), help="the BUS-BRA import")
    parser.add_argument("--directions", nargs="+", default=["busi-busbra", "busbra-busi"], choices=["busi-busbra", "busbra-busi"],
                        help="train-scored pairs to run (default both)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per training run (default 1)")
    parser.add_argument("--combine", action="store_true", help="only pool the finished directions")
    args = parser.parse_args()
    data = {"busi": args.busi, "busbra": args.busbra}
    if not args.combine:
        for direction in args.directions:
            train_site, scored_site = direction.split("-")
            if (RESULTS / f"{train_site}-to-{scored_site}.json").exists():
                print(f"{direction}: done already")
                continue
            print(f"{direction}: training on {SITES[train_site]}, scoring on {SITES[scored_site]} ...", flush=True)
            run_direction(train_site, scored_site, data, args.work, args.threads)
    documents = fold_documents_named()
    pooled = {"machine": machine_info(), "kept_epoch": "last",
              "directions": {f"{d['trained_on']}-to-{d['scored_on']}": summarise(d, data[d["scored_on"]]) for d in documents}}
    write_json_atomic(POOLED, pooled)
    print(pooled)


def fold_documents_named() -> list[dict]:
    import json

    return [json.loads(path.read_text()) for path in sorted(RESULTS.glob("*-to-*.json"))]


if __name__ == "__main__":
    main()
