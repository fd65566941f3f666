"""``tools/release_models.py --cards-only``: the shipped cards and the calibration of a model whose
five-fold cross-validation now gives a temperature are rewritten from the result files, the weights
untouched, every sha256 still checked on load (on a copy of the real shipped MUP-Net bundle)."""

from __future__ import annotations

import json
import shutil
import sys

import pytest
from cli_helpers import run_cli
from conftest import REPO

from BreastUSAITraining.bundle import load_bundle

sys.path.insert(0, str(REPO / "tools"))
import model_cards  # noqa: E402
import release_models  # noqa: E402
from release_recipes import recipe  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
IMAGE = REPO / "Resources" / "SampleData" / "busi" / "malignant_139.png"
SEGMENTATION = REPO / "Resources" / "Models" / "lesion-segmentation"


def _mupnet_probability(bundle, out) -> dict:
    """MUP-Net's figures for the sample lesion found by the shipped segmentation."""
    result = run_cli("predict", "--model", str(SEGMENTATION), "--model", str(bundle), str(IMAGE), "--out", str(out), "-q")
    assert result.returncode == 0, result.stderr
    lesion = json.loads((out / "malignant_139" / "result.json").read_text())["lesions"][0]
    return lesion["prototype_explanations"]["bmode-mupnet"]


@pytest.fixture
def results_with_a_mupnet_cv(tmp_path, monkeypatch):
    """Today's result files plus a five-fold MUP-Net CV (the classifier's figures under MUP-Net's name)."""
    results = tmp_path / "results"
    results.mkdir()
    for path in RESULTS.glob("*.json"):
        shutil.copy(path, results / path.name)
    cv = json.loads((RESULTS / "release_classifier_cv.json").read_text())
    cv.update(model="bmode-mupnet", release_temperature=1.6)
    (results / "release_mupnet_cv.json").write_text(json.dumps(cv))
    monkeypatch.setattr(release_models, "RESULTS", results)
    monkeypatch.setattr(model_cards, "RESULTS", results)
    return cv


def test_cards_only_calibrates_mupnet_from_its_cross_validation_weights_untouched(tmp_path, results_with_a_mupnet_cv):
    models = tmp_path / "Models"
    shutil.copytree(REPO / "Resources" / "Models" / "bmode-mupnet", models / "bmode-mupnet")
    before_meta = load_bundle(models / "bmode-mupnet").metadata
    shipped = json.loads((models / "bmode-mupnet" / "configs" / "inference.json").read_text())["calibration"]
    assert shipped["temperature"] == json.loads((RESULTS / "release_mupnet_cv.json").read_text())["release_temperature"]
    before = _mupnet_probability(models / "bmode-mupnet", tmp_path / "before")
    raw = before["uncalibrated_probability"]                          # the network's own probability

    release_models.refresh_cards([recipe("bmode-mupnet")], models)

    bundle = load_bundle(models / "bmode-mupnet")                      # every sha256 checked again
    assert bundle.metadata["weights_sha256"] == before_meta["weights_sha256"]
    assert bundle.inference["calibration"]["temperature"] == 1.6
    assert "release_mupnet_cv" not in bundle.inference["calibration"]["fitted_on"]
    assert "--model bmode-mupnet" in bundle.inference["calibration"]["fitted_on"]
    card = (models / "bmode-mupnet" / "README.md").read_text()
    assert f"folds {results_with_a_mupnet_cv['folds_done']}" in card and "T = 1.600" in card
    assert "not measured yet" not in card and "read its probability as a ranking" not in card
    after = _mupnet_probability(models / "bmode-mupnet", tmp_path / "after")
    assert after["uncalibrated_probability"] == pytest.approx(raw, abs=1e-4)
    assert abs(after["malignant_probability"] - 0.5) < abs(raw - 0.5)  # T > 1 tempers
    assert abs(after["malignant_probability"] - 0.5) > abs(before["malignant_probability"] - 0.5)  # 1.6 less than shipped T

    release_models.refresh_cards([recipe("bmode-mupnet")], models)     # a second run changes nothing
    assert load_bundle(models / "bmode-mupnet").inference == bundle.inference


def test_a_cross_validation_of_fewer_than_five_folds_calibrates_nothing(results_with_a_mupnet_cv):
    (release_models.RESULTS / "release_mupnet_cv.json").write_text(
        json.dumps({**results_with_a_mupnet_cv, "folds_done": [0, 1, 2]}))
    assert release_models.release_calibration(recipe("bmode-mupnet")) is None
    assert release_models.release_calibration(recipe("lesion-classifier"))["temperature"] == pytest.approx(
        json.loads((RESULTS / "release_classifier_cv.json").read_text())["release_temperature"])
    assert release_models.release_calibration(recipe("phantom-abvs-planes")) is None
