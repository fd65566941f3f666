"""Model bundles never run code and never leave their folder; ROC statistics agree with
scikit-learn and hand-worked cases."""

from __future__ import annotations

import json
import pickle
import shutil

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from BreastUSAITraining.bundle import load_bundle
from BreastUSAITraining.bundle.bundle import METADATA, WEIGHTS, sha256_of
from BreastUSAITraining.errors import InputFileError
from BreastUSAITraining.statistics import auc, bootstrap_auc_ci, threshold_metrics, youden_threshold
from BreastUSAITraining.training.checkpoint import load_checkpoint


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _reseal(bundle, relative):
    meta = json.loads((bundle / METADATA).read_text())
    meta["files"][relative] = sha256_of(bundle / relative)
    if relative == WEIGHTS:
        meta["weights_sha256"] = meta["files"][WEIGHTS]
    (bundle / METADATA).write_text(json.dumps(meta))


def test_pickled_code_in_weights_is_refused_without_running(tiny_bundles, tmp_path):
    bundle = tmp_path / "hostile"
    shutil.copytree(tiny_bundles["seg2d"], bundle)
    marker = tmp_path / "payload-ran"
    (bundle / WEIGHTS).write_bytes(pickle.dumps({"weight": _Payload(str(marker))}))
    _reseal(bundle, WEIGHTS)  # the attacker also fixes the sha256
    with pytest.raises(InputFileError, match="weights refused"):
        load_bundle(bundle)
    assert not marker.exists()
    (tmp_path / "ckpt.pt").write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(InputFileError, match="not a loadable checkpoint"):
        load_checkpoint(tmp_path / "ckpt.pt")
    assert not marker.exists()


@pytest.mark.parametrize("path", ["../outside.txt", "/etc/passwd", "logs/../../x"])
def test_bundle_paths_outside_the_folder_are_refused(tiny_bundles, tmp_path, path):
    bundle = tmp_path / "escape"
    shutil.copytree(tiny_bundles["seg2d"], bundle)
    meta = json.loads((bundle / METADATA).read_text())
    meta["files"][path] = "0" * 64
    (bundle / METADATA).write_text(json.dumps(meta))
    with pytest.raises(InputFileError, match="inside the bundle|outside the bundle"):
        load_bundle(bundle)


def test_symlink_leaving_the_bundle_is_refused(tiny_bundles, tmp_path):
    bundle = tmp_path / "link"
    shutil.copytree(tiny_bundles["seg2d"], bundle)
    (tmp_path / "secret.txt").write_text("x")
    (bundle / "logs" / "link.txt").symlink_to(tmp_path / "secret.txt")
    meta = json.loads((bundle / METADATA).read_text())
    meta["files"]["logs/link.txt"] = sha256_of(tmp_path / "secret.txt")
    (bundle / METADATA).write_text(json.dumps(meta))
    with pytest.raises(InputFileError, match="outside the bundle"):
        load_bundle(bundle)


def test_wrong_task_and_changed_config_are_refused(tiny_bundles, tmp_path):
    with pytest.raises(InputFileError, match="a 'abvs-planes' model is needed"):
        load_bundle(tiny_bundles["seg2d"], task="abvs-planes")
    bundle = tmp_path / "edited"
    shutil.copytree(tiny_bundles["seg2d"], bundle)
    config = json.loads((bundle / "configs" / "inference.json").read_text())
    config["postprocessing"]["threshold"] = 0.01
    (bundle / "configs" / "inference.json").write_text(json.dumps(config))
    with pytest.raises(InputFileError, match="inference.json: sha256 mismatch"):
        load_bundle(bundle)


def test_auc_matches_scikit_learn_with_ties():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 200)
    scores = np.round(rng.random(200) * 0.6 + labels * 0.3, 1)  # many ties
    assert auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    low, high = bootstrap_auc_ci(labels, scores, resamples=300, seed=2)
    assert low < auc(labels, scores) < high and high - low < 0.2
    assert np.isnan(auc([1, 1], [0.2, 0.3]))


def test_threshold_metrics_hand_worked():
    labels = [1, 1, 1, 0, 0, 0, 0]
    scores = [0.9, 0.6, 0.4, 0.7, 0.3, 0.2, 0.1]
    m = threshold_metrics(labels, scores, 0.5)
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (2, 1, 1, 3)
    assert m["sensitivity"] == pytest.approx(2 / 3) and m["specificity"] == pytest.approx(3 / 4)
    assert m["ppv"] == pytest.approx(2 / 3) and m["npv"] == pytest.approx(3 / 4)
    assert m["f1"] == pytest.approx(2 / 3) and m["accuracy"] == pytest.approx(5 / 7)
    assert youden_threshold(labels, scores) == pytest.approx(0.4)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32])
def test_intensity_percentiles_match_numpy(dtype):
    from BreastUSAITraining.preprocessing import intensity_range, normalise_intensity

    data = (np.random.default_rng(3).normal(100, 30, (41, 67)).clip(0, 255)).astype(dtype)
    expected = np.percentile(data, [0.5, 99.5], method="lower")
    assert intensity_range(data) == pytest.approx(tuple(float(v) for v in expected))
    unit = normalise_intensity(data)
    assert unit.dtype == np.float32 and unit.min() == 0.0 and unit.max() == 1.0
    assert not normalise_intensity(np.full((4, 4), 9, dtype)).any()
