"""BUSI benign vs malignant: MUP-Net (M = 1, B-mode) against the plain ResNet classifier,
duplicate-aware 5-fold CV (issue 4 benchmark).

For each fold: train MUP-Net (``train mupnet`` on the BUSI B-mode lesion crops) on the
other folds, keep the best pushed epoch, then classify every lesion of the held-out fold
from its radiologist mask. The out-of-fold probabilities are pooled and compared, lesion
for lesion, with the plain classifier's out-of-fold probabilities from
``busi_classification.py`` (variant ``full``, same folds, same crop size): AUC with a 95%
stratified bootstrap CI (1000 resamples) for each, and the paired DeLong test. The held-out
fold is also the validation fold, so the kept best epoch was chosen on test data: both
models are also compared at their final epochs (``last_epoch``: nothing chosen).

    python benchmarks/busi_mupnet.py [--size 96] [--epochs 20] [--warmup 3] [--push-every 5]
        [--folds 0 1 2 3 4] [--threads N] [--work DIR]

Finished folds are saved as ``results/busi_mupnet/fold<k>.json`` and pooled into
``results/busi_mupnet.json`` (``--combine`` only pools).
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

from busi_classification import pooled_figures  # noqa: E402
from busi_groups import groups_for  # noqa: E402
from busi_segmentation import prepare_busi_run  # noqa: E402
from fold_files import fold_done, last_epoch_checkpoint, newest_machine, save_json, with_last_epoch_weights  # noqa: E402
from machine import machine_info  # noqa: E402

RESULT = HERE / "results" / "busi_mupnet.json"
BASELINE = HERE / "results" / "busi_classification"


def evaluate_fold(bundle: Path, dataset_dir: Path, fold: int, device: str) -> list[dict]:
    """Out-of-fold malignant probability of every lesion of ``fold``: the bundle's best pushed
    epoch (``probability``; chosen on this fold, which is also the validation fold) and the
    final epoch (``probability_last_epoch``; the run's ``last.pt``, pushed too, chosen on nothing)."""
    from BreastUSAITraining.bundle import load_bundle
    from BreastUSAITraining.dataset import load_dataset
    from BreastUSAITraining.evaluation.predictions import lesion_rows
    from BreastUSAITraining.training.device import resolve_device

    dataset = load_dataset(dataset_dir)
    rows = lesion_rows(load_bundle(bundle, "mupnet"), resolve_device(device), dataset, "training", [fold], progress=False)
    result = [{"case_id": r["case_id"], "lesion_id": r["lesion_id"], "label": r["label"], "probability": r["probability"]}
              for r in rows]
    if last_epoch_checkpoint(bundle).is_file():
        model = with_last_epoch_weights(bundle, "mupnet")[0]
        final = lesion_rows(model, resolve_device(device), dataset, "training", [fold], progress=False)
        for row, other in zip(result, final):
            assert (row["case_id"], row["lesion_id"]) == (other["case_id"], other["lesion_id"])
            row["probability_last_epoch"] = other["probability"]
    return result


def baseline_rows(folds: list[str], size: int, key: str = "probability") -> tuple[dict[tuple[str, str], float], dict | None]:
    """The plain classifier's out-of-fold probabilities (variant ``full``; ``key`` probability
    or probability_last_epoch) on the same folds."""
    found, config = {}, None
    for fold in folds:
        path = BASELINE / f"full_fold{fold}.json"
        if not path.is_file():
            return {}, None
        record = json.loads(path.read_text())
        if record["config"]["size"] != size:
            return {}, None
        config = record["config"]
        for r in record["lesions"]:
            if key not in r:
                return {}, None
            found[(r["case_id"], r["lesion_id"] or "")] = r[key]
    return found, config


def versus_plain(rows: list[dict], folds: list[str], size: int, key: str) -> dict:
    """The plain classifier's pooled figures on the same lesions and the paired DeLong test of
    MUP-Net against it, both read from ``key`` (best or last epoch of each); empty when the
    plain classifier's folds are missing."""
    from BreastUSAITraining.statistics import delong_test
    from BreastUSAITraining.statistics.grouped import paired_auc_permutation_test

    baseline, baseline_config = baseline_rows(folds, size, key)
    paired = [(r["label"], r[key], baseline[(r["case_id"], r["lesion_id"] or "")]) for r in rows
              if (r["case_id"], r["lesion_id"] or "") in baseline]
    if not baseline or len(paired) != len(rows):
        return {}
    cases = [r["case_id"] for r in rows]
    labels, mup, plain = (np.array(v, float) for v in zip(*paired))
    test = delong_test(labels, mup, plain)
    grouped = paired_auc_permutation_test(labels, mup, plain, groups_for(cases))
    return {"plain_classifier": {"config": baseline_config,
                                 **pooled_figures([{"label": int(y), "probability": p, "case_id": c}
                                                   for y, p, c in zip(labels, plain, cases)], "probability")},
            "delong_mupnet_vs_plain": {"auc_mupnet": test.auc_a, "auc_plain": test.auc_b, "difference": test.difference,
                                       "p_value": grouped["p_value"],
                                       "p_value_method": "permutation of whole duplicate groups (2000)",
                                       "delong_p_value_images_independent": test.p_value, "lesions_paired": len(paired)}}


def combine(folds_dir: Path, out: Path) -> dict:
    records = [json.loads(p.read_text()) for p in sorted(folds_dir.glob("fold*.json"))]
    if not records:
        raise SystemExit(f"no finished fold in {folds_dir}")
    config = records[-1]["config"]
    records = [r for r in records if r["config"] == config]
    rows = [row for r in records for row in r["lesions"]]
    folds = sorted(str(r["fold"]) for r in records)
    summary = {"folds_done": [int(f) for f in folds], "mupnet": pooled_figures(rows, "probability"),
               "train_minutes_total": round(sum(r["train_seconds"] for r in records) / 60, 1),
               "devices": sorted({r["device"] for r in records})}
    summary.update(versus_plain(rows, folds, config["size"], "probability"))
    if all("probability_last_epoch" in r for r in rows):
        last = versus_plain(rows, folds, config["size"], "probability_last_epoch")
        summary["last_epoch"] = {"mupnet": pooled_figures(rows, "probability_last_epoch"), **last}
    result = {"machine": newest_machine(records), "config": config, "summary": summary,
              "folds": {str(r["fold"]): r for r in records}}
    save_json(out, result)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--busi", default=str(REPO.parent / "shared" / "data" / "busi"), help="BUSI folder")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "breastusai-bench"),
                        help="imported dataset, run folders and bundles go here")
    parser.add_argument("--folds", nargs="+", type=int, default=[0, 1, 2, 3, 4], help="folds to run")
    parser.add_argument("--size", type=int, default=96, help="crop size in pixels (match busi_classification)")
    parser.add_argument("--epochs", type=int, default=20, help="training epochs")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up epochs (backbone frozen)")
    parser.add_argument("--push-every", type=int, default=5, help="push prototypes every E epochs")
    parser.add_argument("--prototypes", type=int, default=10, help="prototypes per modality")
    parser.add_argument("--batch-size", type=int, default=32, help="images per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    parser.add_argument("--out", default=str(RESULT), help="pooled result JSON")
    parser.add_argument("--combine", action="store_true", help="only pool the finished fold files")
    parser.add_argument("--score-last-epoch", action="store_true",
                        help="score finished folds that lack them again from their runs in --work, adding the final "
                             "epoch's probabilities (no training), then pool; new folds get them anyway")
    args = parser.parse_args()
    folds_dir = Path(args.out).with_suffix("")
    if args.combine:
        combine(folds_dir, Path(args.out))
        return 0
    if args.score_last_epoch:
        work, dataset_dir = prepare_busi_run(args.work, args.busi, args.threads)
        for fold_file in sorted(folds_dir.glob("fold*.json")):
            record = json.loads(fold_file.read_text())
            bundle = work / f"mupnet_{fold_file.stem}"
            if bundle.is_dir() and not all("probability_last_epoch" in r for r in record["lesions"]):
                record["lesions"] = evaluate_fold(bundle, dataset_dir, record["fold"], args.device)
                save_json(fold_file, record)
                print(f"mupnet {fold_file.stem}: scored again, best and last epoch")
        combine(folds_dir, Path(args.out))
        return 0

    from BreastUSAITraining.mupnet.train import MUPNetOptions, train_mupnet
    from BreastUSAITraining.training import TrainingSettings

    work, dataset_dir = prepare_busi_run(args.work, args.busi, args.threads)
    config = {"backbone": "resnet18", "size": args.size, "epochs": args.epochs, "warmup": args.warmup,
              "push_every": args.push_every, "prototypes": args.prototypes, "batch_size": args.batch_size,
              "lr": args.lr, "init": "random", "modalities": ["us_bmode"]}
    for fold in args.folds:
        fold_file = folds_dir / f"fold{fold}.json"
        if fold_done(fold_file, config):
            print(f"mupnet fold {fold}: done before, skipped")
            continue
        started = time.perf_counter()
        bundle = work / f"mupnet_fold{fold}"
        settings = TrainingSettings(run_dir=work / f"mupnet_fold{fold}.run", epochs=args.epochs, batch_size=args.batch_size,
                                    learning_rate=args.lr, device=args.device, resume=True, progress=False)
        options = MUPNetOptions(modalities=["us_bmode"], prototypes=args.prototypes, size=args.size, val_fold=fold,
                                warmup_epochs=args.warmup, push_every=args.push_every)
        train_mupnet(dataset_dir, bundle, options, settings)
        train_seconds = time.perf_counter() - started
        rows = evaluate_fold(bundle, dataset_dir, fold, args.device)
        metadata = json.loads((bundle / "configs" / "metadata.json").read_text())
        record = {"config": config, "fold": fold, "machine": machine_info(), "train_seconds": round(train_seconds, 1),
                  "best_epoch": metadata["metrics"]["best_epoch"], "device": metadata["training"]["device"],
                  "push_constraint": metadata.get("push_constraint"), "lesions": rows}
        save_json(fold_file, record)
        print(f"mupnet fold {fold}: {len(rows)} lesions, {train_seconds / 60:.1f} min")
    combine(folds_dir, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
