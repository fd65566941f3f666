"""BUSI benign vs malignant on lesion crops (single plane), duplicate-aware 5-fold CV
(issue 3 benchmark).

For each variant and fold: train the single-plane classifier (``train abvs-planes`` on
the 2D BUSI data) on the other folds, keep the best validation epoch, then classify every
lesion of the held-out fold from its radiologist mask, with and without left-right flip
test-time augmentation. The out-of-fold probabilities of all five folds are pooled:
AUC with a 95% stratified bootstrap CI (1000 resamples), sensitivity and specificity at
0.5 and at Youden's threshold. Variants show each ingredient's effect:

* ``full``   - augmentation + minority oversampling (+ TTA evaluated both ways)
* ``noaug``  - no augmentation
* ``seed1``, ``seed2`` - the full recipe again with other training seeds, for the ensembles:
* ``full+seed1``, ``full+seed1+seed2`` (pooled, not trained) - the mean probability of the
  two / three full-recipe models of each fold (the held-out fold stays unseen by all)

Every variant is compared with ``full`` lesion for lesion (paired DeLong test).

The held-out fold is also each run's validation fold, so the kept best-AUC epoch was chosen
on test data; every fold is therefore scored again with its final epoch's weights
(``last_epoch`` figures: no choice made on the held-out lesions) - the honest estimate.

    python benchmarks/busi_classification.py [--variants full noaug] [--backbone resnet18]
        [--size 128] [--epochs 30] [--folds 0 1 2 3 4] [--threads N]

Finished folds are saved as ``results/busi_classification/<variant>_fold<k>.json`` and
pooled into ``results/busi_classification.json`` (``--combine`` only pools;
``--score-last-epoch`` adds last-epoch figures to finished folds from their runs in ``--work``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from busi_groups import groups_for  # noqa: E402
from busi_segmentation import prepare_busi_run  # noqa: E402
from fold_files import fold_done, last_epoch_checkpoint, newest_machine, save_json, with_last_epoch_weights  # noqa: E402
from machine import machine_info  # noqa: E402

RESULT = HERE / "results" / "busi_classification.json"
VARIANTS = {"full": {"augment": True}, "noaug": {"augment": False}, "seed1": {"augment": True, "seed": 1},
            "seed2": {"augment": True, "seed": 2}}
ENSEMBLES = {"full+seed1": ("full", "seed1"), "full+seed1+seed2": ("full", "seed1", "seed2")}
PROBABILITY_KEYS = ("probability", "probability_tta", "probability_last_epoch", "probability_tta_last_epoch")


def evaluate_fold(bundle: Path, dataset_dir: Path, fold: int, device: str, model=None) -> list[dict]:
    """Malignant probability of every lesion of ``fold`` (without / with flip TTA).

    ``model``: an already loaded Bundle to score instead of ``bundle`` as saved - e.g. with
    its final epoch's weights (``with_last_epoch_weights``): the validation fold is the
    held-out fold, so the saved best-AUC epoch was chosen on test data, the last one was not."""
    from BreastUSAITraining.bundle import load_bundle
    from BreastUSAITraining.classification.inference import PlaneClassifier
    from BreastUSAITraining.dataset import load_dataset
    from BreastUSAITraining.dataset.loader import lesion_dicts
    from BreastUSAITraining.imagefiles import read_image, read_segmentation
    from BreastUSAITraining.training.device import resolve_device

    classifier = PlaneClassifier(model or load_bundle(bundle, "abvs-planes"), resolve_device(device))
    rows = []
    for item in lesion_dicts(load_dataset(dataset_dir), "training", folds=[fold]):
        image = read_image(item["image"])
        mask = read_segmentation(item["segmentation"]).on_grid(image.geometry, image.shape_kji).segment(item["segment"]).mask
        planes = classifier.lesion_planes(image, mask)
        rows.append({"case_id": item["case_id"], "lesion_id": item["lesion_id"], "label": item["label"],
                     "probability": classifier.classify(planes, flip_tta=False)["malignant_probability"],
                     "probability_tta": classifier.classify(planes, flip_tta=True)["malignant_probability"]})
    return rows


def score_last_epoch(fold_file: Path, bundle: Path, dataset_dir: Path, device: str) -> None:
    """Add the final epoch's probabilities (``probability_last_epoch``, ``probability_tta_last_epoch``)
    to every lesion of a finished fold."""
    checkpoint = last_epoch_checkpoint(bundle)
    if not checkpoint.is_file():
        print(f"{fold_file.name}: no {checkpoint}, last epoch not scored")
        return
    record = json.loads(fold_file.read_text())
    model, record["last_epoch"] = with_last_epoch_weights(bundle, "abvs-planes")
    last = {(r["case_id"], r["lesion_id"]): r for r in evaluate_fold(bundle, dataset_dir, record["fold"], device, model)}
    for row in record["lesions"]:
        other = last[(row["case_id"], row["lesion_id"])]
        row["probability_last_epoch"], row["probability_tta_last_epoch"] = other["probability"], other["probability_tta"]
    save_json(fold_file, record)
    print(f"{fold_file.name}: last epoch ({record['last_epoch']}) scored (best epoch {record['best_epoch']})")


def pooled_figures(rows: list[dict], key: str) -> dict:
    from BreastUSAITraining.statistics import auc, bootstrap_auc_ci, threshold_metrics, youden_threshold

    labels = np.array([r["label"] for r in rows])
    scores = np.array([r[key] for r in rows])
    low, high = bootstrap_auc_ci(labels, scores, resamples=1000, seed=0, groups=groups_for([r["case_id"] for r in rows]))
    youden = youden_threshold(labels, scores)
    at_half, at_youden = threshold_metrics(labels, scores, 0.5), threshold_metrics(labels, scores, youden)
    return {"auc": auc(labels, scores), "auc_ci95": [low, high], "auc_ci_method": "cluster bootstrap over duplicate groups",
            "lesions": int(labels.size), "malignant": int(labels.sum()),
            "sensitivity_0.5": at_half["sensitivity"], "specificity_0.5": at_half["specificity"],
            "youden_threshold_in_sample": youden, "sensitivity_youden_in_sample": at_youden["sensitivity"],
            "specificity_youden_in_sample": at_youden["specificity"]}


def ensemble_run(runs: dict[str, dict], members: tuple[str, ...]) -> dict | None:
    """The members' mean probabilities, lesion for lesion, on the folds all of them finished."""
    if not all(m in runs for m in members):
        return None
    folds = sorted(set.intersection(*(set(runs[m]["folds"]) for m in members)), key=int)
    if not folds:
        return None
    run = {"config": {"ensemble_of": list(members), **runs[members[0]]["config"]}, "folds": {}}
    for fold in folds:
        records = [runs[m]["folds"][fold] for m in members]
        by_key = [{(r["case_id"], r["lesion_id"]): r for r in rec["lesions"]} for rec in records]
        lesions = []
        for key, first in by_key[0].items():
            rows = [b[key] for b in by_key]
            lesions.append({**{k: first[k] for k in ("case_id", "lesion_id", "label")},
                            **{key: float(np.mean([r[key] for r in rows])) for key in PROBABILITY_KEYS
                               if all(key in r for r in rows)}})
        run["folds"][fold] = {"fold": int(fold), "lesions": lesions, "train_seconds": sum(r["train_seconds"] for r in records),
                              "device": records[0]["device"]}
    return run


def paired_delong(reference: dict, other: dict) -> dict:
    """DeLong test of ``other`` minus ``reference`` on the lesions both scored (with and without TTA)."""
    from BreastUSAITraining.statistics import delong_test
    from BreastUSAITraining.statistics.grouped import paired_auc_permutation_test

    ref = {(r["case_id"], r["lesion_id"]): r for f in reference["folds"].values() for r in f["lesions"]}
    pairs = [(ref[(r["case_id"], r["lesion_id"])], r) for f in other["folds"].values() for r in f["lesions"]
             if (r["case_id"], r["lesion_id"]) in ref]
    labels = np.array([b["label"] for _, b in pairs])
    result = {"lesions_paired": len(pairs)}
    names = {"probability": "without_tta", "probability_tta": "with_tta",
             "probability_last_epoch": "last_epoch_without_tta", "probability_tta_last_epoch": "last_epoch_with_tta"}
    for key, name in names.items():
        if not all(key in a and key in b for a, b in pairs):
            continue
        other_scores, reference_scores = np.array([b[key] for _, b in pairs]), np.array([a[key] for a, _ in pairs])
        test = delong_test(labels, other_scores, reference_scores)
        grouped = paired_auc_permutation_test(labels, other_scores, reference_scores,
                                              groups_for([b["case_id"] for _, b in pairs]))
        result[name] = {"auc_difference": test.auc_a - test.auc_b, "p_value": grouped["p_value"],
                        "p_value_method": "permutation of whole duplicate groups (2000)",
                        "delong_p_value_images_independent": test.p_value}
    return result


def combine(folds_dir: Path, out: Path) -> dict:
    runs: dict[str, dict] = {}
    for path in sorted(folds_dir.glob("*_fold*.json")):
        record = json.loads(path.read_text())
        run = runs.setdefault(record["variant"], {"config": record["config"], "folds": {}})
        if record["config"] == run["config"]:
            run["folds"][str(record["fold"])] = record
    machine = newest_machine([f for run in runs.values() for f in run["folds"].values()])
    for run in runs.values():
        for record in run["folds"].values():
            record.pop("machine", None)
    for name, members in ENSEMBLES.items():
        ensemble = ensemble_run(runs, members)
        if ensemble is not None:
            runs[name] = ensemble
    for name, run in runs.items():
        rows = [r for f in run["folds"].values() for r in f["lesions"]]
        run["summary"] = {"folds_done": sorted(int(k) for k in run["folds"]), "without_tta": pooled_figures(rows, "probability"),
                          "with_tta": pooled_figures(rows, "probability_tta"),
                          "train_minutes_total": round(sum(f["train_seconds"] for f in run["folds"].values()) / 60, 1),
                          "devices": sorted({f["device"] for f in run["folds"].values()})}
        if all("probability_last_epoch" in r for r in rows):
            run["summary"]["last_epoch"] = {"without_tta": pooled_figures(rows, "probability_last_epoch"),
                                            "with_tta": pooled_figures(rows, "probability_tta_last_epoch")}
        if name != "full" and "full" in runs:
            run["summary"]["delong_vs_full"] = paired_delong(runs["full"], run)
    result = {"machine": machine, "runs": runs}
    save_json(out, result)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--busi", default=str(REPO.parent / "shared" / "data" / "busi"),
                        help="BUSI source folder (imported into --work once, if not there yet)")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "breastusai-bench"),
                        help="imported BUSI, run folders and bundles go here (runs are resumed from it)")
    parser.add_argument("--variants", nargs="+", default=["full", "noaug"], choices=sorted(VARIANTS),
                        help="recipes to train (see above; the ensembles are pooled, never trained) (default: full noaug)")
    parser.add_argument("--folds", nargs="+", type=int, default=[0, 1, 2, 3, 4], help="held-out folds to run (default: all five)")
    parser.add_argument("--backbone", default="resnet18", choices=("resnet18", "resnet34", "resnet50"),
                        help="ResNet of the single-plane classifier, random init (default: resnet18)")
    parser.add_argument("--size", type=int, default=128, help="lesion crop size in pixels (default: 128)")
    parser.add_argument("--epochs", type=int, default=30, help="training epochs per fold (default: 30)")
    parser.add_argument("--batch-size", type=int, default=32, help="crops per optimiser step (default: 32)")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate, cosine schedule (default: 1e-3)")
    parser.add_argument("--optimiser", default="adamw", choices=("adamw", "adam", "sgd"),
                        help="optimiser; sgd uses Nesterov momentum 0.9 (default: adamw)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--out", default=str(RESULT),
                        help="pooled result JSON; finished folds go to the folder of the same name without .json")
    parser.add_argument("--combine", action="store_true", help="only pool the finished fold files")
    parser.add_argument("--score-last-epoch", action="store_true",
                        help="add the final epoch's probabilities to every finished fold file that lacks them and whose "
                             "run is in --work (no training), then pool; new folds get them anyway")
    args = parser.parse_args()
    folds_dir = Path(args.out).with_suffix("")
    if args.combine:
        combine(folds_dir, Path(args.out))
        return 0
    if args.score_last_epoch:
        work, dataset_dir = prepare_busi_run(args.work, args.busi, args.threads)
        for fold_file in sorted(folds_dir.glob("*_fold*.json")):
            record, bundle = json.loads(fold_file.read_text()), work / f"cls_{fold_file.stem}"
            if "last_epoch" not in record and bundle.is_dir():
                score_last_epoch(fold_file, bundle, dataset_dir, args.device)
        combine(folds_dir, Path(args.out))
        return 0

    from BreastUSAITraining.classification.train import PlaneClassifierOptions, train_plane_classifier
    from BreastUSAITraining.training import TrainingSettings

    work, dataset_dir = prepare_busi_run(args.work, args.busi, args.threads)
    for variant in args.variants:
        recipe = dict(VARIANTS[variant])
        seed = recipe.pop("seed", 0)
        config = {"backbone": args.backbone, "size": args.size, "epochs": args.epochs, "batch_size": args.batch_size,
                  "lr": args.lr, "optimiser": args.optimiser, "init": "random", **VARIANTS[variant]}
        for fold in args.folds:
            fold_file = folds_dir / f"{variant}_fold{fold}.json"
            if fold_done(fold_file, config):
                print(f"{variant} fold {fold}: done before, skipped")
                continue
            started = time.perf_counter()
            bundle = work / f"cls_{variant}_fold{fold}"
            settings = TrainingSettings(run_dir=work / f"cls_{variant}_fold{fold}.run", epochs=args.epochs,
                                        batch_size=args.batch_size, learning_rate=args.lr, optimiser=args.optimiser,
                                        device=args.device, resume=True, progress=False, seed=seed)
            train_plane_classifier(dataset_dir, bundle, PlaneClassifierOptions(backbone=args.backbone, size=args.size,
                                                                               val_fold=fold, **recipe), settings)
            train_seconds = time.perf_counter() - started
            rows = evaluate_fold(bundle, dataset_dir, fold, args.device)
            metadata = json.loads((bundle / "configs" / "metadata.json").read_text())
            record = {"variant": variant, "config": config, "fold": fold, "machine": machine_info(),
                      "train_seconds": round(train_seconds, 1), "best_epoch": metadata["metrics"]["best_epoch"],
                      "device": metadata["training"]["device"], "lesions": rows}
            save_json(fold_file, record)
            score_last_epoch(fold_file, bundle, dataset_dir, args.device)
            print(f"{variant} fold {fold}: {len(rows)} lesions, {train_seconds / 60:.1f} min")
    combine(folds_dir, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
