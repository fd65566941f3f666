"""The models that ship in Resources/Models: each loads with every sha256 checked, has its card and
the command that remakes it, fits the size budget, and ``predict`` runs them with no ``--model`` on
a real sample image (and warns when the phantom-trained ABVS pair runs)."""

from __future__ import annotations

import json

import pytest
from cli_helpers import run_cli
from conftest import REPO

from BreastUSAITraining.bundle import load_bundle
from BreastUSAITraining.shipped import models_for_kind, shipped_models

MODELS = REPO / "Resources" / "Models"
SAMPLES = REPO / "Resources" / "SampleData"
NAMES = ["lesion-segmentation", "lesion-classifier", "bmode-mupnet", "phantom-abvs-segmentation", "phantom-abvs-planes"]


def test_five_bundles_ship_verified_carded_and_within_75_mb():
    assert [m.name for m in shipped_models(MODELS)] == NAMES
    total = sum(p.stat().st_size for p in MODELS.rglob("*") if p.is_file())
    assert total <= 75e6, f"{total / 1e6:.1f} MB"
    for model in shipped_models(MODELS):
        bundle = load_bundle(model.path)  # every file's sha256, weights_only
        meta = bundle.metadata
        release = meta["release"]
        assert meta["name"] == model.name and meta["synthetic_only"] == model.synthetic_only
        assert release["command"].startswith("python -m BreastUSAITraining train ") and len(release["commit"]) == 40
        assert meta["training"]["settings"]["keep"] == "last" and meta["training"]["data"]["val_fold"] is None
        card = (model.path / "README.md").read_text()
        assert meta["weights_sha256"] in card and release["command"] in card
        for difference in release["float16_max_probability_difference"].values():
            assert difference <= 1e-3
        if model.synthetic_only:
            assert "SYNTHETIC ONLY" in card and "Never for a real image" in card
        else:
            assert "Research use only" in card and "BUS-BRA" in card and "Al-Dhabyani" in card
            assert "final epoch" in card or "not measured yet" in card
            held_out = set(meta["training"]["data"]["training_case_ids"]) & {
                line.strip() for line in (SAMPLES / "holdout_cases.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")}
            assert not held_out, f"{model.name} trained on sample images {held_out}"


def test_predict_without_model_on_a_real_sample_image(tmp_path):
    image = SAMPLES / "busi" / "malignant_139.png"
    result = run_cli("predict", str(image), "--out", str(tmp_path / "out"), "-q")
    assert result.returncode == 0, result.stderr
    assert "synthetic" not in result.stderr  # the B-mode models are real-data models: no phantom warning
    document = json.loads((tmp_path / "out" / "malignant_139" / "result.json").read_text())
    assert document["input"] == "malignant_139.png"
    assert [m["name"] for m in document["models"]] == [m.name for m in models_for_kind("us_bmode", MODELS)]
    lesion = document["lesions"][0]
    assert 0.0 <= lesion["malignant_probability"] <= 1.0 and lesion["prediction"] in ("benign", "malignant")
    assert (tmp_path / "out" / "malignant_139" / lesion["heatmap"]["file"]).is_file()
    prototypes = lesion["prototype_explanations"]["bmode-mupnet"]["prototypes"]["us_bmode"]
    for match in prototypes.values():
        assert (MODELS / "bmode-mupnet" / match["patch_image"]).is_file()


@pytest.mark.slow
def test_the_phantom_abvs_pair_runs_on_the_sample_volume_with_a_warning(tmp_path):
    volume = SAMPLES / "phantom" / "phantom_abvs.nrrd"
    result = run_cli("predict", str(volume), "--out", str(tmp_path / "out"), "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("trained on synthetic phantom images only") == 2
    document = json.loads(next((tmp_path / "out").glob("*/result.json")).read_text())
    assert len(document["warnings"]) == 2 and document["lesions"]
    assert set(document["lesions"][0]["classification"]["phantom-abvs-planes"]["per_plane"]) == {
        "transverse", "sagittal", "coronal"}
