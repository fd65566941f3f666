"""Cross-validation of the shipped lesion classifier's recipe on BUSI + BUS-BRA (issue 19), and of
the shipped B-mode MUP-Net's with ``--model bmode-mupnet``.

For each fold k: train ``lesion-classifier``'s recipe (``tools/release_recipes.py``) on the
other folds of the release dataset (``dataset merge`` of the BUSI and BUS-BRA imports, less
the sample images), keep the **final** epoch (``--keep last``: nothing is chosen on the
held-out fold), and classify every held-out lesion from its reference mask (``evaluate
--split fold:k``). BUSI keeps its 5 duplicate-aware folds, BUS-BRA its 4 official patient
folds, so fold 4 holds BUSI lesions only; every lesion is scored exactly once.

Pooled out-of-fold figures (``--combine``):

* AUC with a 95% **cluster** bootstrap CI (whole duplicate groups / patients resampled),
  all lesions and per site; BUS-BRA per lesion too (its two views' probabilities averaged);
* calibration before / after temperature scaling: for each fold the temperature is fitted
  on the other folds' out-of-fold predictions only (nested), then Brier score, expected
  calibration error and the reliability table, all and per site; the release temperature
  is fitted on all out-of-fold predictions (what ``tools/release_models.py`` stores);
* the seed-001 question on BUS-BRA BI-RADS 4 lesions (biopsy-proven): AUC, and the benign
  biopsies the classifier would spare at sensitivity >= 0.98 with the threshold chosen on
  the other folds' BI-RADS 4 lesions only, with a cluster-bootstrap CI;
* MUP-Net only: against the lesion classifier on the same lesions and folds (AUC difference, p-value
  permuting whole linked groups), all and per site.

    python benchmarks/release_classifier_cv.py --data /work/release-work/release --work /work/bench-work/release-cls \
        [--folds 0 1 2 3 4] [--threads 1]
    python benchmarks/release_classifier_cv.py --data /work/release-work/release --combine
    python benchmarks/release_classifier_cv.py --model bmode-mupnet --data /work/release-work/release [--folds ...]

Each fold is saved as ``results/release_classifier_cv/fold<k>.json``; the pooled figures as
``results/release_classifier_cv.json`` (MUP-Net: ``results/release_mupnet_cv[/fold<k>].json``, work
folder ``/work/bench-work/release-mupnet``).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tools"), str(HERE)]

from machine import machine_info  # noqa: E402
from release_cv import auc_figures, case_groups, cli, fold_documents, run_missing_folds, train_fold  # noqa: E402
from release_recipes import recipe  # noqa: E402

from BreastUSAITraining.atomic import write_json_atomic  # noqa: E402
from BreastUSAITraining.dataset import load_dataset  # noqa: E402
from BreastUSAITraining.dataset.merge import site_of_cases  # noqa: E402
from BreastUSAITraining.statistics import auc  # noqa: E402
from BreastUSAITraining.statistics.calibration import (  # noqa: E402
    apply_temperature,
    brier_score,
    expected_calibration_error,
    fit_temperature,
    reliability_table,
)
from BreastUSAITraining.statistics.grouped import cluster_bootstrap_mean_ci, paired_auc_permutation_test  # noqa: E402

#: shipped model -> (fold results folder, pooled file, default work folder)
MODELS = {
    "lesion-classifier": (HERE / "results" / "release_classifier_cv", HERE / "results" / "release_classifier_cv.json",
                          Path("/work/bench-work/release-cls")),
    "bmode-mupnet": (HERE / "results" / "release_mupnet_cv", HERE / "results" / "release_mupnet_cv.json",
                     Path("/work/bench-work/release-mupnet")),
}
MODEL = "lesion-classifier"


def run_fold(data: Path, work: Path, fold: int, threads: int, model: str = MODEL) -> None:
    results = MODELS[model][0]
    bundle, trained = train_fold(model, data, work, fold, threads)
    evaluation = work / f"fold{fold}_eval"
    cli("evaluate", "--model", str(bundle), "--data", str(data), "--split", f"fold:{fold}", "--out", str(evaluation),
        "--device", "cpu", "--overwrite", threads=threads)  # a rerun of the fold replaces its evaluation
    with open(evaluation / "predictions.csv", newline="") as handle:
        rows = [{"case_id": r["case_id"], "lesion_id": r["lesion_id"], "label": int(r["label"]),
                 "birads": r["birads"], "probability": float(r["probability"])} for r in csv.DictReader(handle)]
    write_json_atomic(results / f"fold{fold}.json", {
        "machine": machine_info(), "fold": fold, "recipe": list(recipe(model).train), "kept_epoch": "last",
        "train_seconds": round(trained, 1), "threads": threads, "lesions": rows})


def _calibration(labels: np.ndarray, raw: np.ndarray, calibrated: np.ndarray) -> dict:
    return {"brier_before": round(brier_score(labels, raw), 4), "brier_after": round(brier_score(labels, calibrated), 4),
            "ece_before": round(expected_calibration_error(labels, raw), 4),
            "ece_after": round(expected_calibration_error(labels, calibrated), 4),
            "reliability_before": reliability_table(labels, raw), "reliability_after": reliability_table(labels, calibrated)}


def spared_biopsies(rows: list[dict], folds: np.ndarray, target_sensitivity: float = 0.98) -> dict:
    """BI-RADS 4 lesions: threshold per fold from the other folds (highest with sensitivity >= target)."""
    labels = np.array([r["label"] for r in rows])
    scores = np.array([r["probability"] for r in rows])
    called = np.zeros(labels.size, dtype=bool)
    thresholds = {}
    for fold in np.unique(folds):
        other = folds != fold
        candidates = np.unique(scores[other])[::-1]
        chosen = 0.0
        for t in candidates:
            if np.mean(scores[other & (labels == 1)] >= t) >= target_sensitivity:
                chosen = float(t)
                break
        thresholds[int(fold)] = chosen
        called[folds == fold] = scores[folds == fold] >= chosen
    benign, malignant = labels == 0, labels == 1
    return {"target_sensitivity": target_sensitivity, "thresholds_per_fold": thresholds,
            "benign": int(benign.sum()), "malignant": int(malignant.sum()),
            "benign_biopsies_spared": int((~called & benign).sum()),
            "spared_fraction": round(float((~called & benign).sum() / max(benign.sum(), 1)), 4),
            "cancers_missed": int((~called & malignant).sum()),
            "sensitivity": round(float((called & malignant).sum() / max(malignant.sum(), 1)), 4),
            "_called": called}


def against_lesion_classifier(rows: list[dict], group_of: dict[str, int], sites: dict[str, str]) -> dict | None:
    """``rows`` (another model's out-of-fold lesions) against the lesion classifier's on the lesions and folds both
    have: AUC of each, the difference and its p-value permuting whole linked groups, all and per site."""
    classifier = {(r["case_id"], r["lesion_id"]): r["probability"]
                  for document in fold_documents(MODELS[MODEL][0]) for r in document["lesions"]}
    paired = [r for r in rows if (r["case_id"], r["lesion_id"]) in classifier]
    if not paired:
        return None
    result = {"folds": sorted({r["fold"] for r in paired}), "per_site": {}}
    for name in ["all", *sorted({sites.get(r["case_id"], "?") for r in paired})]:
        inside = [r for r in paired if name == "all" or sites.get(r["case_id"], "?") == name]
        labels = np.array([r["label"] for r in inside])
        ours = np.array([r["probability"] for r in inside])
        theirs = np.array([classifier[(r["case_id"], r["lesion_id"])] for r in inside])
        groups = [group_of[r["case_id"]] for r in inside]
        test = paired_auc_permutation_test(labels, ours, theirs, groups)
        result["per_site"][name] = {"lesions": len(inside), "groups": test["groups"], "auc": round(auc(labels, ours), 4),
                                    "auc_lesion_classifier": round(auc(labels, theirs), 4),
                                    "difference": round(test["difference"], 4), "p_value": float(f"{test['p_value']:.3g}"),
                                    "p_value_method": f"permutation of whole linked groups ({test['permutations']})"}
    return result


def combine(data: Path, model: str = MODEL) -> dict:
    results, pooled = MODELS[model][:2]
    dataset = load_dataset(data)
    sites = site_of_cases(dataset)
    group_of = case_groups(dataset)
    documents = fold_documents(results)
    folds_done = [document["fold"] for document in documents]
    rows = [{**r, "fold": document["fold"]} for document in documents for r in document["lesions"]]
    labels = np.array([r["label"] for r in rows])
    raw = np.array([r["probability"] for r in rows])
    folds = np.array([r["fold"] for r in rows])
    groups = [group_of[r["case_id"]] for r in rows]
    site = np.array([sites.get(r["case_id"], "?") for r in rows])
    calibrated = raw.copy()
    temperatures = {}
    for fold in folds_done:
        other = folds != fold
        temperatures[fold] = round(fit_temperature(labels[other], raw[other]), 4)
        calibrated[folds == fold] = apply_temperature(raw[folds == fold], temperatures[fold])
    result = {"machine": machine_info(), "model": model, "recipe": list(recipe(model).train), "kept_epoch": "last",
              "folds_done": folds_done, "crops": "reference masks",
              "all": {**auc_figures(labels, raw, groups), "calibration": _calibration(labels, raw, calibrated)},
              "nested_temperatures": temperatures,
              "release_temperature": round(fit_temperature(labels, raw), 4) if len(folds_done) > 1 else None,
              "per_site": {}}
    for name in sorted(set(site)):
        inside = site == name
        result["per_site"][name] = {**auc_figures(labels[inside], raw[inside], [g for g, s in zip(groups, inside) if s]),
                                    "calibration": _calibration(labels[inside], raw[inside], calibrated[inside])}
    busbra = [i for i, name in enumerate(site) if name == "busbra"]
    if busbra:
        patients: dict[int, list[int]] = {}
        for i in busbra:
            patients.setdefault(groups[i], []).append(i)
        per_lesion_labels = np.array([labels[v[0]] for v in patients.values()])
        per_lesion_scores = np.array([raw[v].mean() for v in patients.values()])
        result["per_site"]["busbra"]["per_lesion_views_averaged"] = auc_figures(
            per_lesion_labels, per_lesion_scores, list(patients))
        four = [i for i in busbra if rows[i]["birads"] == "4"]
        if four:
            spared = spared_biopsies([rows[i] for i in four], folds[four])
            called = spared.pop("_called")
            benign_groups = [groups[i] for i, c in zip(four, called) if labels[i] == 0]
            spared_flags = np.array([not c for i, c in zip(four, called) if labels[i] == 0], dtype=float)
            low, high = cluster_bootstrap_mean_ci(spared_flags, benign_groups)
            spared["spared_fraction_ci95_cluster"] = [round(low, 4), round(high, 4)]
            four_labels, four_scores = labels[four], raw[four]
            result["busbra_birads4"] = {**auc_figures(four_labels, four_scores, [groups[i] for i in four]), **spared}
    if model != MODEL:
        result["against_lesion_classifier"] = against_lesion_classifier(rows, group_of, sites)
    write_json_atomic(pooled, result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="the release dataset (dataset merge of BUSI + BUS-BRA)")
    parser.add_argument("--model", choices=sorted(MODELS), default=MODEL,
                        help="which shipped recipe to cross-validate (default: lesion-classifier)")
    parser.add_argument("--work", type=Path, help="bundles and runs (default: /work/bench-work/release-cls, "
                                                  "release-mupnet for MUP-Net)")
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="folds to run (default: all five)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run (default: 1)")
    parser.add_argument("--combine", action="store_true", help="only pool the finished folds")
    args = parser.parse_args()
    results, _, default_work = MODELS[args.model]
    work = args.work or default_work
    if not args.combine:
        work.mkdir(parents=True, exist_ok=True)
        run_missing_folds(args.folds, results, lambda fold: run_fold(args.data, work, fold, args.threads, args.model))
    result = combine(args.data, args.model)
    print(json.dumps({k: result[k] for k in ("folds_done", "release_temperature")}, indent=1))
    print(json.dumps({"all": {k: v for k, v in result["all"].items() if k != "calibration"}}, indent=1))


if __name__ == "__main__":
    main()
