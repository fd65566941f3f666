"""The cross-validation benchmarks pool their fold files correctly: named recipes stay apart,
the two-model ensemble is the lesion-for-lesion mean, and the paired DeLong compares the
same lesions (fold files written to disk, as the benchmarks write them)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import busi_classification  # noqa: E402
import busi_segmentation  # noqa: E402

from BreastUSAITraining.statistics import auc, delong_test  # noqa: E402


def _classification_fold(folder: Path, variant: str, fold: int, config: dict, rng: np.random.Generator) -> list[dict]:
    lesions = []
    for n in range(30):
        label = int(n % 3 == 0)
        p = float(np.clip(0.35 * label + rng.uniform(0, 0.65), 0, 1))
        lesions.append({"case_id": f"case_{fold}_{n:02d}", "lesion_id": "lesion_1", "label": label, "probability": p,
                        "probability_tta": float(np.clip(p + rng.normal(0, 0.05), 0, 1))})
    record = {"variant": variant, "config": config, "fold": fold, "machine": {"gpu": None}, "train_seconds": 60.0,
              "best_epoch": 3, "device": "cpu (1 threads)", "lesions": lesions}
    (folder / f"{variant}_fold{fold}.json").write_text(json.dumps(record))
    return lesions


def test_classification_ensemble_and_paired_delong(tmp_path):
    folds = tmp_path / "busi_classification"
    folds.mkdir()
    rng = np.random.default_rng(0)
    base = {"backbone": "resnet18", "size": 96, "epochs": 20, "batch_size": 32, "lr": 0.001, "optimiser": "adamw",
            "init": "random", "augment": True}
    full = {f: _classification_fold(folds, "full", f, base, rng) for f in (0, 1, 2)}
    seed1 = {f: _classification_fold(folds, "seed1", f, {**base, "seed": 1}, rng) for f in (0, 1)}  # fold 2 unfinished
    result = busi_classification.combine(folds, tmp_path / "pooled.json")
    assert json.loads((tmp_path / "pooled.json").read_text()) == json.loads(json.dumps(result))
    runs = result["runs"]
    assert set(runs) == {"full", "seed1", "full+seed1"}
    ensemble = runs["full+seed1"]
    assert ensemble["summary"]["folds_done"] == [0, 1]
    pooled = [r for f in ensemble["folds"].values() for r in f["lesions"]]
    expected = [(a["probability"] + b["probability"]) / 2 for f in (0, 1) for a, b in zip(full[f], seed1[f])]
    assert [r["probability"] for r in pooled] == pytest.approx(expected)
    labels = np.array([r["label"] for r in pooled])
    assert ensemble["summary"]["without_tta"]["auc"] == pytest.approx(auc(labels, np.array(expected)))
    # DeLong on the lesions both scored: fold 2 of "full" has no partner
    versus = ensemble["summary"]["delong_vs_full"]
    reference = np.array([r["probability"] for f in (0, 1) for r in full[f]])
    test = delong_test(labels, np.array(expected), reference)
    assert versus["lesions_paired"] == 60
    assert versus["without_tta"]["p_value"] == pytest.approx(test.p_value)
    assert versus["without_tta"]["auc_difference"] == pytest.approx(test.auc_a - test.auc_b)
    assert "delong_vs_full" not in runs["full"]["summary"]


def _segmentation_fold(folder: Path, name: str, fold: int, config: dict, dice: float, known: bool) -> None:
    images = [{"case_id": f"c{fold}_{n}", "pathology": "benign", "dice": dice, "iou": dice / 2, "dice_postprocessed": dice,
               "iou_postprocessed": dice / 2, **({"dice_expect_lesion": dice + 0.1, "iou_expect_lesion": dice} if known else {})}
              for n in range(4)]
    record = {"config": config, "fold": fold, "machine": {"gpu": None}, "train_seconds": 120.0, "best_epoch": 5,
              "device": "cpu (1 threads)", "images": images, "dice": busi_segmentation.summarise(images, "dice")}
    (folder / f"{name}_fold{fold}.json").write_text(json.dumps(record))


def test_segmentation_recipes_stay_apart(tmp_path):
    folds = tmp_path / "busi_segmentation"
    folds.mkdir()
    plain = {"arch": "unet", "size": 256, "channels": 16, "epochs": 30, "batch_size": 16}
    small_batch = {**plain, "batch_size": 4, "augment_strength": 0.5, "normal_images": False, "variant": "unet-b4"}
    _segmentation_fold(folds, "unet", 0, plain, 0.6, known=False)
    _segmentation_fold(folds, "unet", 1, plain, 0.7, known=True)
    _segmentation_fold(folds, "unet-b4", 0, small_batch, 0.8, known=True)
    runs = busi_segmentation.combine(folds, tmp_path / "pooled.json")["runs"]
    assert set(runs) == {"unet", "unet-b4"}
    assert runs["unet"]["summary"]["dice"]["mean"] == pytest.approx(0.65)
    assert "dice_expect_lesion" not in runs["unet"]["summary"]  # fold 0 was scored without it
    assert runs["unet-b4"]["summary"]["dice_expect_lesion"]["mean"] == pytest.approx(0.9)
    assert runs["unet-b4"]["config"]["batch_size"] == 4
    versus = runs["unet-b4"]["summary"]["versus_unet"]  # paired on fold 0's images only
    assert versus["images_paired"] == 4 and versus["dice_difference"] == pytest.approx(0.2)
    assert "versus_unet" not in runs["unet"]["summary"]
