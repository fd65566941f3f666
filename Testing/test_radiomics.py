"""Deep radiomics with clinical data: the clinical encoding (missing values explicit), the SVM
stored as tensors (equal to scikit-learn's calibrated SVM), CLDLR / DLR_LH / DLR_BM trained
and evaluated, and the 4A re-stratification run with two bundles."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import torch
from cli_helpers import run_cli
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import SVC

from BreastUSAITraining.radiomics.clinical import ClinicalEncoder
from BreastUSAITraining.radiomics.network import DeepRadiomicsModel
from BreastUSAITraining.radiomics.restratify import restratify_4a
from BreastUSAITraining.radiomics.train import fit_svm


def test_clinical_encoding_handles_missing_values_explicitly():
    training = [{"age": 40.0, "menopause": False, "margin": "circumscribed"},
                {"age": 60.0, "menopause": True, "margin": "spiculated"},
                {"age": 70.0, "menopause": True}]
    encoder = ClinicalEncoder.fit(training, ["age", "menopause", "margin"])
    assert encoder.feature_names == ["age", "age missing", "menopause", "menopause missing",
                                     "margin=circumscribed", "margin=spiculated", "margin missing"]
    mean, sd = np.mean([40, 60, 70]), np.std([40, 60, 70])
    full = encoder.transform({"age": 50.0, "menopause": False, "margin": "spiculated"})
    assert np.allclose(full, [(50 - mean) / sd, 0, 0, 0, 0, 1, 0])
    empty = encoder.transform({})
    assert np.allclose(empty, [(60 - mean) / sd, 1, 1, 1, 0, 0, 1])  # median age, mode menopause, flags set
    unseen = encoder.transform({"margin": "angular"})
    assert unseen[4:6].tolist() == [0, 0]
    again = ClinicalEncoder.from_json(json.loads(json.dumps(encoder.to_json())))
    assert np.array_equal(again.transform({"age": 33.0}), encoder.transform({"age": 33.0}))
    with pytest.raises(ValueError, match="unknown clinical"):
        ClinicalEncoder.fit(training, ["height"])


def test_svm_tensors_reproduce_scikit_learn():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 6)).astype(np.float32)
    y = (x[:, 0] + 0.7 * rng.normal(size=60) > 0).astype(int)
    params = fit_svm(x, y)
    model = DeepRadiomicsModel(arch="resnet18", clinical_dim=0, head="svm", n_support=params["support_vectors"].shape[0],
                               use_deep_features=False)
    model.feature_mean = torch.zeros(6)
    model.feature_scale = torch.ones(6)
    model.support_vectors = torch.zeros(params["support_vectors"].shape)
    for name, value in params.items():
        getattr(model, name).copy_(value)
    gamma = float(params["svm_params"][1])
    reference = CalibratedClassifierCV(SVC(kernel="rbf", gamma=gamma, C=1.0), method="sigmoid", ensemble=False, cv=5).fit(x, y)
    test = rng.normal(size=(20, 6)).astype(np.float32)
    ours = model.probability_from_features(torch.as_tensor(test)).numpy()
    assert np.allclose(ours, reference.predict_proba(test)[:, 1], atol=1e-5)


@pytest.fixture(scope="module")
def us40(tmp_path_factory):
    from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset

    folder = tmp_path_factory.mktemp("us40") / "data"
    generate_phantom_dataset(folder, PhantomSettings(kind="us2d", cases=40, image_size=64, seed=4), progress=False)
    return folder


def _train(kind, data, out):
    result = run_cli("train", "dlr", "--kind", kind, "--data", str(data), "--out", str(out), "--arch", "resnet18",
                     "--size", "64", "--epochs", "1", "--batch-size", "8", "-q")
    assert result.returncode == 0, result.stderr
    return json.loads((out / "configs" / "metadata.json").read_text())


def test_cldlr_trains_with_clinical_data_and_evaluates(us40, tmp_path):
    meta = _train("cldlr", us40, tmp_path / "cldlr")
    assert "margin missing" in meta["inputs"]["clinical"] and "validation_auc_combined" in meta["metrics"]
    result = run_cli("evaluate", "--model", str(tmp_path / "cldlr"), "--data", str(us40), "--split", "all", "--out",
                     str(tmp_path / "eval"), "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["model"]["task"] == "dlr"


def test_two_stage_restratification_with_lh_and_bm_bundles(us40, tmp_path):
    _train("lh", us40, tmp_path / "lh")
    data = tmp_path / "with4a"
    shutil.copytree(us40, data)
    document = json.loads((data / "dataset.json").read_text())
    for n, item in enumerate(i for i in document["training"] if i["pathology"] in ("benign", "malignant")):
        if n % 2 == 0:
            item["birads"] = "4A"
    (data / "dataset.json").write_text(json.dumps(document))
    meta = _train("bm", data, tmp_path / "bm")
    assert meta["training"]["data"]["training_lesions"] < 20  # 4A lesions only
    wrong = run_cli("restratify", "--lh", str(tmp_path / "bm"), "--bm", str(tmp_path / "lh"), "--data", str(data),
                    "--split", "all", "--out", str(tmp_path / "x"))
    assert wrong.returncode == 2 and "DLR_LH bundle" in wrong.stderr
    result = run_cli("restratify", "--lh", str(tmp_path / "lh"), "--bm", str(tmp_path / "bm"), "--data", str(data),
                     "--split", "all", "--out", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    with open(tmp_path / "r" / "restratification.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert summary["lesions_4a"] == len(rows) > 5 and sum(summary["decisions"].values()) == len(rows)
    for row in rows:
        assert row["decision"] == restratify_4a("4A", float(row["p_high_risk"]), float(row["p_malignant"])).decision
    downgraded_malignant = sum(1 for r in rows if r["decision"] == "downgrade" and r["label"] == "1")
    assert summary["missed_malignancies"] == downgraded_malignant
    # the same two models in predict, on one of those lesions, with its clinical record on the command line
    document = json.loads((data / "dataset.json").read_text())
    row = rows[0]
    item = next(i for i in document["training"] if i["case_id"] == row["case_id"] and (i["lesion_id"] or "") == row["lesion_id"])
    clinical = [f"--clinical={k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in item["clinical"].items() if v is not None]
    predicted = run_cli("predict", str(data / item["images"]["us_bmode"]), "--model", str(tmp_path / "lh"), "--model",
                        str(tmp_path / "bm"), "--segmentation", str(data / item["segmentation"]), "--birads", "4A",
                        *clinical, "--out", str(tmp_path / "p"), "-q")
    assert predicted.returncode == 0, predicted.stderr
    (folder,) = (tmp_path / "p").iterdir()
    lesion = next(l for l in json.loads((folder / "result.json").read_text())["lesions"] if l["id"] == item["segment"])
    kinds = {o["kind"]: o["probability"] for o in lesion["radiomics"].values()}
    assert kinds["lh"] == pytest.approx(float(row["p_high_risk"]), abs=2e-3)
    assert kinds["bm"] == pytest.approx(float(row["p_malignant"]), abs=2e-3)
    assert lesion["restratification"]["decision"] == row["decision"]
    wrong = run_cli("predict", str(data / item["images"]["us_bmode"]), "--model", str(tmp_path / "lh"), "--segmentation",
                    str(data / item["segmentation"]), "--clinical", "age=500", "--out", str(tmp_path / "w"))
    assert wrong.returncode == 2 and "--clinical age" in wrong.stderr
