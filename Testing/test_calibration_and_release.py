"""Calibration statistics, the cluster bootstrap, release packaging (float16 + card) and
``predict`` without ``--model`` (shipped models chosen by image kind), on tiny real bundles."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from cli_helpers import run_cli

from BreastUSAITraining.bundle import load_bundle
from BreastUSAITraining.bundle.release import half_precision, package_release
from BreastUSAITraining.classification.inference import PlaneClassifier
from BreastUSAITraining.errors import InputFileError, UsageError
from BreastUSAITraining.imagefiles import read_image, read_segmentation
from BreastUSAITraining.shipped import image_kind, models_for_kind, shipped_models
from BreastUSAITraining.statistics import auc, bootstrap_auc_ci
from BreastUSAITraining.statistics.calibration import (
    apply_temperature,
    brier_score,
    expected_calibration_error,
    fit_temperature,
    reliability_table,
)
from BreastUSAITraining.statistics.grouped import cluster_bootstrap_mean_ci


def _overconfident(n: int = 4000, temperature: float = 3.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, n)
    labels = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)   # the truth follows sigmoid(z)
    return labels, 1 / (1 + np.exp(-temperature * z))                # the model says sigmoid(3 z)


def test_temperature_scaling_recovers_the_overconfidence_and_keeps_the_ranking():
    labels, model = _overconfident()
    temperature = fit_temperature(labels, model)
    assert temperature == pytest.approx(3.0, rel=0.12)
    calibrated = apply_temperature(model, temperature)
    assert auc(labels, calibrated) == pytest.approx(auc(labels, model), abs=1e-12)
    assert expected_calibration_error(labels, calibrated) < 0.5 * expected_calibration_error(labels, model)
    assert brier_score(labels, calibrated) < brier_score(labels, model)
    assert brier_score([0, 1], [0.5, 0.5]) == 0.25
    table = reliability_table(labels, model)
    assert sum(row["lesions"] for row in table) == labels.size
    with pytest.raises(ValueError, match="benign and malignant"):
        fit_temperature([1, 1, 1], [0.2, 0.4, 0.9])
    with pytest.raises(ValueError, match="positive"):
        apply_temperature([0.5], 0.0)


def test_cluster_bootstrap_does_not_count_copies_as_evidence():
    rng = np.random.default_rng(1)
    labels = np.r_[np.zeros(60, int), np.ones(40, int)]
    scores = np.r_[rng.normal(0, 1, 60), rng.normal(1, 1, 40)]
    copies = 5
    dup_labels, dup_scores = np.repeat(labels, copies), np.repeat(scores, copies)
    groups = np.repeat(np.arange(labels.size), copies)
    naive = bootstrap_auc_ci(dup_labels, dup_scores)
    cluster = bootstrap_auc_ci(dup_labels, dup_scores, groups=groups)
    original = bootstrap_auc_ci(labels, scores)
    naive_width, cluster_width, original_width = (h - lo for lo, h in (naive, cluster, original))
    assert naive_width < 0.6 * cluster_width          # images as independent: far too narrow
    assert cluster_width == pytest.approx(original_width, rel=0.25)
    with pytest.raises(ValueError, match="group keys"):
        bootstrap_auc_ci(labels, scores, groups=[0, 1])


def test_cluster_bootstrap_of_a_mean_difference_resamples_whole_groups():
    rng = np.random.default_rng(2)
    differences = rng.normal(0.02, 0.1, 200)               # e.g. per-image Dice, recipe minus reference
    copies = 4
    groups = np.repeat(np.arange(differences.size), copies)
    alone = cluster_bootstrap_mean_ci(differences, np.arange(differences.size))
    cluster = cluster_bootstrap_mean_ci(np.repeat(differences, copies), groups)
    naive = cluster_bootstrap_mean_ci(np.repeat(differences, copies), np.arange(differences.size * copies))
    width = [high - low for low, high in (alone, cluster, naive)]
    assert alone[0] < differences.mean() < alone[1]
    assert width[1] == pytest.approx(width[0], rel=0.15)    # copies add no evidence ...
    assert width[2] < 0.6 * width[1]                         # ... unless counted as independent images
    se = differences.std(ddof=1) / np.sqrt(differences.size)  # against the normal approximation
    assert width[0] == pytest.approx(2 * 1.96 * se, rel=0.15)
    with pytest.raises(ValueError, match="finite"):
        cluster_bootstrap_mean_ci([0.1, np.nan], [0, 1])
    with pytest.raises(ValueError, match="group keys"):
        cluster_bootstrap_mean_ci([0.1, 0.2], [0])


def _classify(bundle_path, phantom):
    from BreastUSAITraining.dataset import load_dataset
    from BreastUSAITraining.dataset.loader import lesion_dicts

    classifier = PlaneClassifier(load_bundle(bundle_path), torch.device("cpu"))
    found = []
    for item in lesion_dicts(load_dataset(phantom), "training")[:4]:
        image = read_image(item["image"])
        mask = read_segmentation(item["segmentation"]).on_grid(image.geometry, image.shape_kji).segment(item["segment"]).mask
        found.append(classifier.classify(classifier.lesion_planes(image, mask)))
    return found


def test_release_bundle_has_float16_weights_a_card_and_predicts_as_float32(tiny_bundles, phantom_us2d, tmp_path):
    release = package_release(tiny_bundles["planes_2d"], tmp_path / "lesion-classifier", "# Card\n\nResearch only.\n",
                              {"command": "make models", "commit": "abc123"}, half=True, name="lesion-classifier")
    bundle = load_bundle(release)
    assert all(v.dtype == (torch.float16 if v.dim() >= 2 else torch.float32)
               for v in bundle.state_dict.values() if v.is_floating_point())
    meta = bundle.metadata
    assert meta["name"] == "lesion-classifier" and meta["synthetic_only"] is False
    assert meta["release"]["weights_dtype"].startswith("float16") and meta["release"]["commit"] == "abc123"
    assert "README.md" in meta["files"] and (release / "README.md").read_text().startswith("# Card")
    before = _classify(tiny_bundles["planes_2d"], phantom_us2d)
    after = _classify(release, phantom_us2d)
    for a, b in zip(before, after):
        assert abs(a["malignant_probability"] - b["malignant_probability"]) <= 1e-3
    (release / "README.md").write_text("# Card\n\nNow claims clinical use.\n")
    with pytest.raises(InputFileError, match="sha256 mismatch"):
        load_bundle(release)
    assert half_precision({"n": torch.tensor(3)})["n"].dtype == torch.int64


def test_a_calibrated_bundle_reports_the_tempered_probability_and_calls_with_it(tiny_bundles, phantom_us2d, tmp_path):
    calibrated = tmp_path / "calibrated"
    shutil.copytree(tiny_bundles["planes_2d"], calibrated)
    inference = json.loads((calibrated / "configs" / "inference.json").read_text())
    inference["calibration"] = {"method": "temperature", "temperature": 2.5}
    inference["threshold"] = 0.45
    bundle = load_bundle(tiny_bundles["planes_2d"])
    from BreastUSAITraining.bundle import save_bundle

    save_bundle(calibrated, bundle.state_dict, {k: v for k, v in bundle.metadata.items() if k != "files"}, inference)
    plain, tempered = _classify(tiny_bundles["planes_2d"], phantom_us2d), _classify(calibrated, phantom_us2d)
    for a, b in zip(plain, tempered):
        assert b["uncalibrated_probability"] == a["malignant_probability"]
        expected = float(apply_temperature(a["malignant_probability"], 2.5))
        assert b["malignant_probability"] == pytest.approx(expected, abs=2e-4)
        assert b["prediction"] == ("malignant" if b["malignant_probability"] > 0.45 else "benign")


def _catalogue(folder, entries):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalogue.json").write_text(json.dumps({"models": entries}))


def test_catalogue_is_checked_and_models_are_chosen_by_image_kind(tmp_path):
    assert shipped_models(tmp_path / "none") == []
    _catalogue(tmp_path / "m", [{"folder": "cls", "image_kinds": ["us_bmode"], "role": "classifier"},
                                {"folder": "seg", "image_kinds": ["us_bmode"], "role": "segmentation"}])
    assert [m.name for m in models_for_kind("us_bmode", tmp_path / "m")] == ["seg", "cls"]  # segmentation first
    with pytest.raises(UsageError, match="no shipped model reads abvs images"):
        models_for_kind("abvs", tmp_path / "m")
    _catalogue(tmp_path / "bad", [{"folder": "../outside", "image_kinds": ["us_bmode"], "role": "classifier"}])
    with pytest.raises(InputFileError, match="plain folder name"):
        shipped_models(tmp_path / "bad")
    assert image_kind(False, {}) == "abvs" and image_kind(True, {}) == "us_bmode"
    assert image_kind(True, {"modality": "mg_cc"}) == "mg_cc"


def test_predict_without_model_runs_the_shipped_models_and_warns_about_phantom_ones(tiny_bundles, phantom_us2d,
                                                                                   tmp_path, monkeypatch):
    models = tmp_path / "Models"
    package_release(tiny_bundles["seg2d"], models / "seg", "# seg\n", {"command": "test"}, synthetic_only=True)
    package_release(tiny_bundles["planes_2d"], models / "cls", "# cls\n", {"command": "test"}, synthetic_only=True)
    _catalogue(models, [{"folder": "seg", "image_kinds": ["us_bmode"], "role": "segmentation", "synthetic_only": True},
                        {"folder": "cls", "image_kinds": ["us_bmode"], "role": "classifier", "synthetic_only": True}])
    monkeypatch.setenv("BREASTUSAI_MODELS", str(models))
    image = sorted((phantom_us2d / "images").glob("*bmode*.nrrd"))[0]
    # --expect-lesion: the one-epoch segmentation model always returns its most probable region
    result = run_cli("predict", str(image), "--out", str(tmp_path / "out"), "--expect-lesion", "-q")
    assert result.returncode == 0, result.stderr
    assert "trained on synthetic phantom images only" in result.stderr
    document = json.loads(next((tmp_path / "out").glob("*/result.json")).read_text())
    assert [m["name"] for m in document["models"]][-1] == load_bundle(models / "cls").name
    assert len(document["warnings"]) == 2 and document["lesions"]
    monkeypatch.setenv("BREASTUSAI_MODELS", str(tmp_path / "empty"))
    result = run_cli("predict", str(image), "--out", str(tmp_path / "out2"), "-q")
    assert result.returncode == 2 and "no shipped model reads us_bmode images" in result.stderr


def test_demo_runs_the_catalogued_models_on_the_sample_images(tiny_bundles, tmp_path, monkeypatch):
    """The demo's pipeline on tiny phantom-trained stand-ins (the real shipped models: test_shipped_models.py)."""
    models = tmp_path / "Models"
    for name, key in (("seg", "seg2d"), ("cls", "planes_2d"), ("abvs-seg", "seg_abvs"), ("abvs-cls", "planes_tsc")):
        package_release(tiny_bundles[key], models / name, f"# {name}\n", {"command": "test"}, synthetic_only=True)
    _catalogue(models, [{"folder": "seg", "image_kinds": ["us_bmode"], "role": "segmentation"},
                        {"folder": "cls", "image_kinds": ["us_bmode"], "role": "classifier"},
                        {"folder": "abvs-seg", "image_kinds": ["abvs"], "role": "segmentation"},
                        {"folder": "abvs-cls", "image_kinds": ["abvs"], "role": "classifier"}])
    samples = tmp_path / "SampleData"
    from conftest import REPO

    shutil.copytree(REPO / "Resources" / "SampleData", samples)
    monkeypatch.setenv("BREASTUSAI_MODELS", str(models))
    out = tmp_path / "demo"
    result = run_cli("demo", "--out", str(out), "-q")
    assert result.returncode == 0, result.stderr
    produced = json.loads((out / "demo_result.json").read_text())
    assert len(produced["cases"]) == 11 and produced["summary"]["real_images"] == 10
    report = (out / "report.html").read_text()
    assert "Ten images are far too few to judge a model" in report
    for case in produced["cases"]:
        assert 0.0 <= case["dice"] <= 1.0 and case["warnings"]  # every stand-in is flagged synthetic
        for picture in [case.get("picture")] + case.get("sheets", []):
            if picture:
                assert (out / picture).stat().st_size > 500, picture
    for key in ("auc_classifier",):
        if key in produced["summary"] and produced["summary"][key] <= 0.6:
            assert "does NOT separate" in report
    (samples / "busi" / "benign_115_mask.png").unlink()
    refused = run_cli("demo", "--out", str(out), "-q")
    assert refused.returncode == 2 and "benign_115_mask.png" in refused.stderr
