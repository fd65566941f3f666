"""MUP-Net: the network's initialisation and loss, the BI-RADS-constrained push (every
prototype is a stored training patch's feature), the fallback without BI-RADS, bundles with
prototype images, the explanation, and predict on a B-mode image."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from cli_helpers import run_cli
from conftest import tiny_settings

from BreastUSAITraining.bundle import load_bundle
from BreastUSAITraining.dataset import load_dataset
from BreastUSAITraining.dataset.loader import lesion_dicts
from BreastUSAITraining.mupnet.explain import PrototypeExplainer
from BreastUSAITraining.mupnet.loss import mupnet_loss
from BreastUSAITraining.mupnet.network import MUPNet
from BreastUSAITraining.mupnet.push import PUSH_RULES
from BreastUSAITraining.mupnet.train import MUPNetOptions, train_mupnet
from BreastUSAITraining.planes.lesion_crops import build_lesion_crop_samples
from BreastUSAITraining.segmentation.inference import network_from_bundle

TINY = dict(size=64, prototypes=4, warmup_epochs=1, push_every=2, prototype_dim=16)


@pytest.fixture(scope="module")
def multimodal(tmp_path_factory):
    from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset

    folder = tmp_path_factory.mktemp("mm") / "data"
    generate_phantom_dataset(folder, PhantomSettings(kind="multimodal", cases=20, image_size=64, seed=8), progress=False)
    return folder


@pytest.fixture(scope="module")
def mupnet_bundle(multimodal, tmp_path_factory):
    root = tmp_path_factory.mktemp("mupnet")
    return train_mupnet(multimodal, root / "bundle", MUPNetOptions(**TINY), tiny_settings(root / "run", epochs=3, learning_rate=3e-3))


def test_last_layer_starts_plus_one_minus_half_and_loss_signs():
    net = MUPNet(["us_bmode", "us_doppler"], [1, 3], prototypes_per_modality=4, prototype_dim=8)
    w = net.last_layer.weight.detach()
    assert net.prototype_class.tolist() == [0, 0, 1, 1, 0, 0, 1, 1]
    assert w[0].tolist() == [1, 1, -0.5, -0.5, 1, 1, -0.5, -0.5] and w[1].tolist() == [-0.5, -0.5, 1, 1, -0.5, -0.5, 1, 1]
    logits = torch.zeros(2, 2)
    minima = torch.tensor([[1.0, 2.0, 5.0, 7.0, 3.0, 4.0, 6.0, 8.0], [1.0, 2.0, 5.0, 7.0, 3.0, 4.0, 6.0, 8.0]])
    labels = torch.tensor([0, 1])
    parts = mupnet_loss(logits, minima, labels, net.prototype_class, w, net.class_identity)
    assert parts["cluster"] == pytest.approx((1.0 + 5.0) / 2)      # own-class nearest: 1 (benign), 5 (malignant)
    assert parts["separation"] == pytest.approx((5.0 + 1.0) / 2)   # other-class nearest
    assert parts["l1"] == pytest.approx(8 * 0.5)
    expected = parts["cross_entropy"] + 0.8 * parts["cluster"] - 0.08 * parts["separation"] + 1e-4 * parts["l1"]
    assert parts["total"] == pytest.approx(float(expected))


def test_every_prototype_is_a_training_patch_from_an_allowed_lesion(mupnet_bundle, multimodal):
    bundle = load_bundle(mupnet_bundle, task="mupnet")
    prototypes = bundle.metadata["prototypes"]
    network = network_from_bundle(load_bundle(mupnet_bundle), torch.device("cpu"))
    dataset = load_dataset(multimodal)
    modalities = bundle.inference["modalities"]
    items = {(i["case_id"], i["lesion_id"]): i for i in lesion_dicts(dataset, "training", modalities=modalities)}
    assert len(prototypes) == 3 * 4 and all(p["pushed"] for p in prototypes)
    for record in prototypes:
        allowed = PUSH_RULES[record["modality"]][0 if record["class"] == "benign" else 1]
        assert record["source_birads"] in allowed and record["source_birads"] != "4B"
        assert record["source_pathology"] == record["class"]
        (sample,) = build_lesion_crop_samples([items[(record["source_case"], record["source_lesion"])]], modalities, 64, 0.3, False)
        x = torch.as_tensor(sample["x"], dtype=torch.float32)[None] / 255.0
        with torch.no_grad():
            z = network.latent(record["modality"], network.split(x)[record["modality"]])[0]
        row, col = record["feature_cell"]
        local = record["index"] % 4
        assert torch.allclose(network.prototypes[record["modality"]][local], z[:, row, col], atol=1e-5)
        for key in ("patch_image", "source_image"):
            assert (bundle.root / record[key]).stat().st_size > 50 and record[key] in bundle.metadata["files"]
    assert bundle.metadata["push_constraint"]["fallback"] is False


def test_missing_birads_falls_back_to_pathology_and_says_so(multimodal, tmp_path):
    data = tmp_path / "no_birads"
    shutil.copytree(multimodal, data)
    document = json.loads((data / "dataset.json").read_text())
    for item in document["training"] + document["test"]:
        item["birads"] = None
    (data / "dataset.json").write_text(json.dumps(document))
    bundle = train_mupnet(data, tmp_path / "b", MUPNetOptions(**{**TINY, "modalities": ["us_bmode"]}),
                          tiny_settings(tmp_path / "run", epochs=2, learning_rate=3e-3))
    constraint = load_bundle(bundle).metadata["push_constraint"]
    assert constraint["fallback"] is True and "pathology alone" in constraint["note"]
    assert constraint["applied"]["us_bmode"]["benign"]["rule"].startswith("pathology only")


def test_explanation_has_six_normalised_contributions_and_maps(mupnet_bundle, multimodal):
    explainer = PrototypeExplainer(load_bundle(mupnet_bundle), torch.device("cpu"))
    item = lesion_dicts(load_dataset(multimodal), "test", modalities=explainer.modalities)[0]
    (sample,) = build_lesion_crop_samples([item], explainer.modalities, 64, 0.3, False)
    document, maps = explainer.explain(sample["x"].astype(np.float32) / 255.0)
    assert 0 <= document["malignant_probability"] <= 1
    assert len(document["contribution_scores"]) == 6
    assert sum(abs(v) for v in document["contribution_scores"]) == pytest.approx(1.0, abs=1e-3)
    assert set(document["prototypes"]) == {"us_bmode", "us_doppler", "us_elastography"}
    match = document["prototypes"]["us_doppler"]["malignant"]
    assert match["patch_image"].startswith("prototypes/us_doppler_") and match["source_case"]
    assert set(maps) == {f"{m}:{c}" for m in explainer.modalities for c in ("benign", "malignant")}
    assert all(v.shape == (64, 64) and 0 <= v.min() and v.max() <= 1 for v in maps.values())


def test_bmode_only_mupnet_through_the_cli_and_predict(phantom_us2d, tiny_bundles, tmp_path):
    result = run_cli("train", "mupnet", "--data", str(phantom_us2d), "--out", str(tmp_path / "m1"), "--size", "64",
                     "--prototypes", "4", "--warmup", "1", "--push-every", "1", "--epochs", "2", "--batch-size", "8", "-q")
    assert result.returncode == 0, result.stderr
    meta = json.loads((tmp_path / "m1" / "configs" / "metadata.json").read_text())
    assert meta["inputs"]["modalities"] == ["us_bmode"] and len(meta["prototypes"]) == 4
    image = sorted((phantom_us2d / "images").glob("*_us_bmode.nrrd"))[0]
    pred = run_cli("predict", "--model", str(tiny_bundles["seg2d"]), "--model", str(tmp_path / "m1"), str(image),
                   "--out", str(tmp_path / "p"), "--threshold", "0.05", "--expect-lesion", "-q")
    assert pred.returncode == 0, pred.stderr
    document = json.loads(next((tmp_path / "p").glob("*/result.json")).read_text())
    assert document["lesions"], document["message"]  # --expect-lesion: the image holds a lesion
    lesion = document["lesions"][0]
    explanation = lesion["prototype_explanations"][meta["name"]]
    assert len(explanation["contribution_scores"]) == 2 and lesion["malignant_probability"] == explanation["malignant_probability"]
    assert next((tmp_path / "p").glob(f"*/prototypes_{lesion['id']}.png")).stat().st_size > 500
    assert f"prototypes_{lesion['id']}.png" in lesion["overlays"]


def test_evaluate_a_multimodal_mupnet(mupnet_bundle, multimodal, tmp_path):
    result = run_cli("evaluate", "--model", str(mupnet_bundle), "--data", str(multimodal), "--split", "all",
                     "--out", str(tmp_path / "eval"), "-q")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["model"]["task"] == "mupnet" and metrics["lesions"] > 10 and 0 <= metrics["auc"] <= 1


def test_multimodal_mupnet_runs_in_predict_with_companion_images(mupnet_bundle, multimodal, tmp_path):
    explainer = PrototypeExplainer(load_bundle(mupnet_bundle), torch.device("cpu"))
    item = lesion_dicts(load_dataset(multimodal), "training", modalities=explainer.modalities)[0]
    missing = run_cli("predict", item["us_bmode"], "--model", str(mupnet_bundle), "--segmentation", item["segmentation"],
                      "--out", str(tmp_path / "x"), "--companion", f"us_doppler={item['us_doppler']}")
    assert missing.returncode == 2 and "us_elastography" in missing.stderr and "--companion" in missing.stderr
    result = run_cli("predict", item["us_bmode"], "--model", str(mupnet_bundle), "--segmentation", item["segmentation"],
                     "--out", str(tmp_path / "out"), "--companion", f"us_doppler={item['us_doppler']}",
                     "--companion", f"us_elastography={item['us_elastography']},{item['segmentation_us_elastography']}", "-q")
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "out").iterdir()
    lesion = next(l for l in json.loads((folder / "result.json").read_text())["lesions"] if l["id"] == item["lesion_id"])
    outcome = lesion["prototype_explanations"][explainer.bundle.name]
    (sample,) = build_lesion_crop_samples([item], explainer.modalities, explainer.size, explainer.margin, False)
    reference = explainer.explain(sample["x"].astype(np.float32) / 255.0)[0]
    assert outcome["malignant_probability"] == pytest.approx(reference["malignant_probability"], abs=2e-3)
    assert len(outcome["contribution_scores"]) == 6 and set(outcome["prototypes"]) == set(explainer.modalities)
    assert (folder / f"prototypes_{item['lesion_id']}.png").is_file()
