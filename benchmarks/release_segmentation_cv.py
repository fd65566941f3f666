"""Cross-validation of the shipped segmentation recipe on BUSI + BUS-BRA, and the classifier on
crops from the **automatic** segmentation - the figure a user actually gets (issue 19).

For each fold k: train ``lesion-segmentation``'s recipe (``tools/release_recipes.py``) on the
other folds of the release dataset, keep the **final** epoch, then on every held-out image
with a lesion:

* lesion Dice of everything the model finds against the reference outline(s), at the
  bundle's threshold; an image whose Dice is below 0.1 counts as *missed*;
* for every reference lesion, the crop a user would get: the found lesion overlapping it
  most; when none overlaps, the most probable region (``--expect-lesion``), flagged
  ``detected: false``. The fold's classifier from ``benchmarks/release_classifier_cv.py``
  (same fold, same held-out lesions) classifies that crop and the reference crop, so the
  two AUCs are paired (DeLong).

    python benchmarks/release_segmentation_cv.py --data /work/release-work/release \
        --work /work/bench-work/release-seg --classifiers /work/bench-work/release-cls [--folds 0 1] [--threads 1]
    python benchmarks/release_segmentation_cv.py --data /work/release-work/release --combine

``--recipe plain-reference`` cross-validates the plain reference the shipped recipe must beat
(``PLAIN_SEGMENTATION_REFERENCE`` in ``tools/release_recipes.py``: MONAI UNet, 256 px, 30 epochs,
left-right flips only, no normal images) on the same folds (segmentation only, default work folder
``/work/bench-work/release-seg-reference``). The shipped recipe's pooled result then compares the two
on the images of the folds both have: mean lesion Dice difference with a 95% CI resampling whole
linked groups, Wilcoxon over the groups' mean differences, and missed images of each.

Each fold: ``results/release_segmentation_cv[_plain_reference]/fold<k>.json``; pooled:
``results/release_segmentation_cv[_plain_reference].json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tools"), str(HERE)]

from machine import machine_info  # noqa: E402
from release_cv import auc_figures, case_groups, fold_documents, run_missing_folds, train_fold  # noqa: E402
from release_recipes import PLAIN_SEGMENTATION_REFERENCE, recipe  # noqa: E402

from BreastUSAITraining.atomic import write_json_atomic  # noqa: E402
from BreastUSAITraining.dataset import load_dataset  # noqa: E402
from BreastUSAITraining.dataset.merge import site_of_cases  # noqa: E402

MODEL = "lesion-segmentation"


@dataclass(frozen=True)
class CrossValidated:
    """One recipe's cross-validation: its training arguments, fold results and pooled file."""

    name: str
    arguments: tuple[str, ...]
    results: Path
    pooled: Path
    work: Path


RECIPES = {
    "shipped": CrossValidated("shipped", recipe(MODEL).train, HERE / "results" / "release_segmentation_cv",
                              HERE / "results" / "release_segmentation_cv.json", Path("/work/bench-work/release-seg")),
    "plain-reference": CrossValidated("plain-reference", PLAIN_SEGMENTATION_REFERENCE,
                                      HERE / "results" / "release_segmentation_cv_plain_reference",
                                      HERE / "results" / "release_segmentation_cv_plain_reference.json",
                                      Path("/work/bench-work/release-seg-reference")),
}


def _dice(found: np.ndarray, truth: np.ndarray) -> float:
    total = found.sum() + truth.sum()
    return float(2.0 * np.logical_and(found, truth).sum() / total) if total else 1.0


def score_fold(data: Path, seg_bundle: Path, cls_bundle: Path | None, fold: int | None) -> tuple[list[dict], list[dict]]:
    """(per image Dice rows, per lesion automatic / reference crop probabilities) on the held-out ``fold``
    (None: every image of the dataset but the train-only ones, for a model trained on another site)."""
    import torch

    from BreastUSAITraining.bundle import load_bundle
    from BreastUSAITraining.classification.inference import PlaneClassifier
    from BreastUSAITraining.dataset.loader import case_dicts, lesion_dicts
    from BreastUSAITraining.imagefiles import read_image, read_segmentation
    from BreastUSAITraining.segmentation.inference import LesionSegmenter

    device = torch.device("cpu")
    segmenter = LesionSegmenter(load_bundle(seg_bundle), device)
    classifier = PlaneClassifier(load_bundle(cls_bundle), device) if cls_bundle else None
    dataset = load_dataset(data)
    lesions_of: dict[str, list[dict]] = {}
    folds = None if fold is None else [fold]
    train_only = {item.case_id for item in dataset.items if item.train_only}
    for item in lesion_dicts(dataset, "training", folds=folds):
        lesions_of.setdefault(item["case_id"], []).append(item)
    images, crops = [], []
    for case in case_dicts(dataset, "training", folds=folds):
        if not case["segments"] or case["case_id"] in train_only:
            continue
        image = read_image(case["image"], colour="grey")
        reference = read_segmentation(case["segmentation"]).on_grid(image.geometry, image.shape_kji)
        truth = np.zeros(image.shape_kji, dtype=bool)
        for name in case["segments"]:
            truth |= reference.segment(name).mask
        probability = segmenter.probability(image)
        found = segmenter.lesions(image, probability)
        union = np.zeros_like(truth)
        for lesion in found:
            union[lesion.box_slices] |= lesion.box_mask
        images.append({"case_id": case["case_id"], "dice": round(_dice(union, truth), 4), "found": len(found)})
        if classifier is None:
            continue
        candidates = found or segmenter.lesions(image, probability, expect_lesion=True)
        for item in lesions_of.get(case["case_id"], []):
            mask = reference.segment(item["segment"]).mask
            overlaps = [np.logical_and(lesion.mask, mask).sum() for lesion in candidates]
            best = int(np.argmax(overlaps)) if candidates else -1
            automatic = (classifier.classify(classifier.lesion_planes(image, candidates[best].box_mask,
                                                                      candidates[best].offset_kji))
                         if best >= 0 else None)
            manual = classifier.classify(classifier.lesion_planes(image, mask))
            crops.append({"case_id": item["case_id"], "lesion_id": item["lesion_id"], "label": item["label"],
                          "detected": bool(best >= 0 and overlaps[best] > 0),
                          "probability_automatic": automatic["malignant_probability"] if automatic else None,
                          "probability_reference": manual["malignant_probability"]})
    return images, crops


def run_fold(data: Path, chosen: CrossValidated, work: Path, classifiers: Path | None, fold: int, threads: int) -> None:
    """Train ``chosen`` with ``fold`` held out and score it (the fold's classifier too, when given and there)."""
    bundle, trained = train_fold(MODEL, data, work, fold, threads, chosen.arguments)
    cls_bundle = classifiers / f"fold{fold}" if classifiers else None
    images, crops = score_fold(data, bundle, cls_bundle if cls_bundle and (cls_bundle / "configs").is_dir() else None,
                               fold)
    write_json_atomic(chosen.results / f"fold{fold}.json", {
        "machine": machine_info(), "fold": fold, "recipe": list(chosen.arguments), "kept_epoch": "last",
        "train_seconds": round(trained, 1), "threads": threads, "images": images, "lesions": crops})


def _per_site(images: list[dict], sites: dict[str, str], group_of: dict[str, int]) -> dict:
    """Lesion Dice per site and all: mean with a 95% CI resampling whole linked groups, median, missed."""
    from BreastUSAITraining.statistics.grouped import cluster_bootstrap_mean_ci

    found = {}
    for name in sorted({sites.get(r["case_id"], "?") for r in images}) + ["all"]:
        chosen = [r for r in images if name == "all" or sites.get(r["case_id"]) == name]
        dice = np.array([r["dice"] for r in chosen])
        low, high = cluster_bootstrap_mean_ci(dice, [group_of[r["case_id"]] for r in chosen])
        found[name] = {"images": len(chosen), "dice": round(float(dice.mean()), 4),
                       "dice_ci95_cluster": [round(low, 4), round(high, 4)],
                       "dice_median": round(float(np.median(dice)), 4), "missed": int((dice < 0.1).sum())}
    return found


def paired_comparison(shipped: list[dict], reference: list[dict], sites: dict[str, str],
                      group_of: dict[str, int]) -> dict:
    """Shipped minus plain reference, image by image on the folds both have, per site and all."""
    from BreastUSAITraining.statistics.grouped import cluster_bootstrap_mean_ci, grouped_wilcoxon

    shipped_folds = {d["fold"] for d in shipped}
    common = sorted(shipped_folds & {d["fold"] for d in reference})
    dice_of = {name: {r["case_id"]: r["dice"] for d in documents if d["fold"] in common for r in d["images"]}
               for name, documents in (("shipped", shipped), ("reference", reference))}
    cases = sorted(set(dice_of["shipped"]) & set(dice_of["reference"]))
    result = {"folds": common, "per_site": {}}
    for name in sorted({sites.get(c, "?") for c in cases}) + ["all"]:
        chosen = [c for c in cases if name == "all" or sites.get(c) == name]
        if not chosen:
            continue
        a = np.array([dice_of["shipped"][c] for c in chosen])
        b = np.array([dice_of["reference"][c] for c in chosen])
        groups = [group_of[c] for c in chosen]
        low, high = cluster_bootstrap_mean_ci(a - b, groups)
        test = grouped_wilcoxon(a - b, groups)
        result["per_site"][name] = {
            "images": len(chosen), "groups": test["groups"], "dice_shipped": round(float(a.mean()), 4),
            "dice_reference": round(float(b.mean()), 4), "difference": round(float((a - b).mean()), 4),
            "difference_ci95_cluster": [round(low, 4), round(high, 4)], "wilcoxon_p_groups": float(f"{test['p_value']:.3g}"),
            # the Wilcoxon's direction: a mean near 0 can hide many groups a little better one way
            "median_group_difference": round(test["median_group_difference"], 4),
            "groups_shipped_better": test["groups_above_zero"], "groups_reference_better": test["groups_below_zero"],
            "missed_shipped": int((a < 0.1).sum()), "missed_reference": int((b < 0.1).sum())}
    return result


def combine(data: Path, chosen: CrossValidated = RECIPES["shipped"]) -> dict:
    from BreastUSAITraining.statistics import delong_test
    from BreastUSAITraining.statistics.grouped import paired_auc_permutation_test

    dataset = load_dataset(data)
    sites = site_of_cases(dataset)
    group_of = case_groups(dataset)
    documents = fold_documents(chosen.results)
    folds_done = [document["fold"] for document in documents]
    images = [row for document in documents for row in document["images"]]
    crops = [row for document in documents for row in document["lesions"]]
    result = {"machine": machine_info(), "model": MODEL, "recipe_name": chosen.name, "recipe": list(chosen.arguments),
              "kept_epoch": "last", "folds_done": folds_done, "per_site": _per_site(images, sites, group_of)}
    reference = fold_documents(RECIPES["plain-reference"].results) if chosen.name == "shipped" else []
    if reference:
        result["against_plain_reference"] = {"reference_recipe": list(PLAIN_SEGMENTATION_REFERENCE),
                                             **paired_comparison(documents, reference, sites, group_of)}
    usable = [r for r in crops if r["probability_automatic"] is not None]
    classifier_folds = sorted({document["fold"] for document in documents
                               if any(r["probability_automatic"] is not None for r in document["lesions"])})
    if usable:
        labels = np.array([r["label"] for r in usable])
        automatic = np.array([r["probability_automatic"] for r in usable])
        reference = np.array([r["probability_reference"] for r in usable])
        groups = [group_of[r["case_id"]] for r in usable]
        test = delong_test(labels, automatic, reference)
        grouped = paired_auc_permutation_test(labels, automatic, reference, groups)
        result["classifier_crops"] = {
            "automatic": auc_figures(labels, automatic, groups), "reference": auc_figures(labels, reference, groups),
            "folds": classifier_folds,
            "lesions_not_detected": sum(not r["detected"] for r in usable),
            "automatic_vs_reference": {"difference": round(float(grouped["difference"]), 4),
                                       "p_value": float(f"{grouped['p_value']:.3g}"), "groups": grouped["groups"],
                                       "p_value_method": f"permutation of whole linked groups ({grouped['permutations']})",
                                       "delong_p_value_lesions_independent": float(f"{test.p_value:.3g}")},
            "note": "CIs by cluster bootstrap and the p-value by permuting whole groups (duplicate groups / patients)"}
    write_json_atomic(chosen.pooled, result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="the release dataset (dataset merge of BUSI + BUS-BRA)")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="shipped",
                        help="shipped: the lesion-segmentation recipe (with the classifier on its crops); plain-reference: "
                             "the plain 256 px UNet it must beat, segmentation only (default: shipped)")
    parser.add_argument("--work", type=Path, help="bundles and runs (default: /work/bench-work/release-seg, "
                                                  "or release-seg-reference for the plain reference)")
    parser.add_argument("--classifiers", type=Path, default=Path("/work/bench-work/release-cls"),
                        help="the classifier CV's work folder (fold<k> bundles); shipped recipe only")
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="folds to run (default: all five)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run (default: 1)")
    parser.add_argument("--combine", action="store_true", help="only pool the finished folds")
    args = parser.parse_args()
    chosen = RECIPES[args.recipe]
    work = args.work or chosen.work
    classifiers = args.classifiers if chosen.name == "shipped" else None
    if not args.combine:
        work.mkdir(parents=True, exist_ok=True)
        run_missing_folds(args.folds, chosen.results,
                          lambda fold: run_fold(args.data, chosen, work, classifiers, fold, args.threads))
    print(json.dumps({k: v for k, v in combine(args.data, chosen).items() if k != "machine"}, indent=1))
    if chosen.name != "shipped" and RECIPES["shipped"].results.is_dir():
        combine(args.data, RECIPES["shipped"])  # refresh the shipped recipe's comparison with this one


if __name__ == "__main__":
    main()
