"""``evaluate`` and ``compare`` on real files: metrics consistent with the predictions they
came from, every figure written, the paired tests run on shared lesions only."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from cli_helpers import run_cli

from BreastUSAITraining.statistics import auc, delong_test


def _rows(folder):
    with open(folder / "predictions.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_evaluate_classifier_and_compare_two(tiny_bundles, phantom_us2d, tmp_path):
    result = run_cli("evaluate", "--model", str(tiny_bundles["planes_2d"]), "--data", str(phantom_us2d), "--split", "all",
                     "--out", str(tmp_path / "a"), "-q")
    assert result.returncode == 0, result.stderr
    assert "AUC" in result.stdout
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    rows = _rows(tmp_path / "a")
    labels = np.array([int(r["label"]) for r in rows])
    scores = np.array([float(r["probability"]) for r in rows])
    assert metrics["lesions"] == len(rows) and metrics["auc"] == pytest.approx(auc(labels, scores))
    half = metrics["at_0.5"]
    assert half["tp"] + half["fn"] == labels.sum() and half["tn"] + half["fp"] == (labels == 0).sum()
    assert metrics["auc_ci95"][0] <= metrics["auc"] <= metrics["auc_ci95"][1]
    for png in ("roc.png", "confusion.png", "calibration.png", "decision_curve.png"):
        assert (tmp_path / "a" / png).stat().st_size > 1000, png
    assert len(metrics["decision_curve"]["model"]) == 99

    other = run_cli("train", "abvs-planes", "--data", str(phantom_us2d), "--out", str(tmp_path / "other"),
                    "--backbone", "resnet18", "--size", "32", "--epochs", "1", "--seed", "5", "-q")
    assert other.returncode == 0, other.stderr
    assert run_cli("evaluate", "--model", str(tmp_path / "other"), "--data", str(phantom_us2d), "--split", "all",
                   "--out", str(tmp_path / "b"), "-q").returncode == 0
    compared = run_cli("compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "cmp"))
    assert compared.returncode == 0, compared.stderr
    assert "DeLong p =" in compared.stdout
    assert "warning:" in compared.stderr and "in the model's training data" in compared.stderr  # both saw their training data
    document = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    b_scores = np.array([float(r["probability"]) for r in _rows(tmp_path / "b")])
    assert document["shared_lesions"] == len(rows) and len(document["warnings"]) >= 2
    assert document["delong"]["p_value"] == pytest.approx(delong_test(labels, scores, b_scores).p_value)
    assert (tmp_path / "cmp" / "roc_compare.png").stat().st_size > 1000


def test_evaluate_segmentation_and_bad_requests(tiny_bundles, phantom_us2d, tmp_path):
    result = run_cli("evaluate", "--model", str(tiny_bundles["seg2d"]), "--data", str(phantom_us2d), "--split", "fold:0",
                     "--out", str(tmp_path / "seg"), "-q")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "seg" / "metrics.json").read_text())
    rows = _rows(tmp_path / "seg")
    assert metrics["dice"]["n"] == len(rows) > 0
    assert metrics["dice"]["mean"] == pytest.approx(np.mean([float(r["dice"]) for r in rows]))
    bad_split = run_cli("evaluate", "--model", str(tiny_bundles["seg2d"]), "--data", str(phantom_us2d), "--split", "fold:x",
                        "--out", str(tmp_path / "x"))
    assert bad_split.returncode == 2 and "--split must be" in bad_split.stderr
    missing_fold = run_cli("evaluate", "--model", str(tiny_bundles["seg2d"]), "--data", str(phantom_us2d), "--split", "fold:9",
                           "--out", str(tmp_path / "x"))
    assert missing_fold.returncode == 2 and "no fold 9" in missing_fold.stderr
    not_eval = run_cli("compare", str(tmp_path / "seg"), str(tmp_path / "nowhere"))
    assert not_eval.returncode == 2 and "no probabilities" in not_eval.stderr


def test_evaluation_says_when_it_reuses_training_or_selection_data(tiny_bundles, phantom_us2d, tmp_path):
    """seg2d was trained on folds 1.. of this dataset and chose its epoch on fold 0: evaluating it
    on fold 0 warns about the chosen epoch, on every fold also about training data; another
    dataset, the test split or a last-epoch bundle draw no such warning."""
    from BreastUSAITraining.bundle import load_bundle
    from BreastUSAITraining.dataset import load_dataset
    from BreastUSAITraining.evaluation.overlap import evaluation_overlap

    on_val = run_cli("evaluate", "--model", str(tiny_bundles["seg2d"]), "--data", str(phantom_us2d), "--split", "fold:0",
                     "--out", str(tmp_path / "v"), "-q")
    assert on_val.returncode == 0, on_val.stderr
    overlap = json.loads((tmp_path / "v" / "metrics.json").read_text())["data_overlap"]
    assert overlap["epoch_chosen_on_evaluated_fold"] and overlap["training_folds_evaluated"] == []
    assert "chose the kept epoch" in on_val.stderr and "training data" not in on_val.stderr

    on_all = run_cli("evaluate", "--model", str(tiny_bundles["seg2d"]), "--data", str(phantom_us2d), "--split", "all",
                     "--out", str(tmp_path / "a"), "-q")
    dataset = load_dataset(phantom_us2d)
    overlap = json.loads((tmp_path / "a" / "metrics.json").read_text())["data_overlap"]
    assert overlap["training_folds_evaluated"] == list(range(1, dataset.n_folds))
    assert "in the model's training data" in on_all.stderr

    metadata = load_bundle(tiny_bundles["seg2d"]).metadata
    data = metadata["training"]["data"]

    def with_data(**changes):
        return {**metadata, "training": {**metadata["training"], "data": {**data, **changes}}}

    assert evaluation_overlap(metadata, dataset, "test", None)["warnings"] == []
    # by content: the same images under another dataset name still count; other images do not
    renamed = evaluation_overlap(with_data(dataset="BUSI (another import)"), dataset, "training", None)
    assert renamed["training_cases_evaluated"] == len(data["training_case_ids"]) > 0
    other_images = with_data(training_case_ids=["elsewhere-1"], validation_case_ids=["elsewhere-2"])
    assert evaluation_overlap(other_images, dataset, "training", None)["warnings"] == []
    last = {**metadata, "training": {**metadata["training"], "settings": {**metadata["training"]["settings"], "keep": "last"}}}
    assert not evaluation_overlap(last, dataset, "training", [0])["epoch_chosen_on_evaluated_fold"]
    everything = with_data(training_case_ids=sorted(i.case_id for i in dataset.items), validation_case_ids=[])
    assert evaluation_overlap(everything, dataset, "training", [0])["training_folds_evaluated"] == [0]
    # a bundle made before case ids were recorded: dataset name and folds, as before
    old = {k: v for k, v in data.items() if k not in ("training_case_ids", "validation_case_ids")}
    old_bundle = {**metadata, "training": {**metadata["training"], "data": old}}
    assert evaluation_overlap(old_bundle, dataset, "training", None)["training_folds_evaluated"] == list(range(1, dataset.n_folds))
    old_elsewhere = {**metadata, "training": {**metadata["training"], "data": {**old, "dataset": "other"}}}
    assert evaluation_overlap(old_elsewhere, dataset, "training", None)["warnings"] == []
