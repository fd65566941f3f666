"""DL-UM: the VGG19-like branch layout, exact CAMs, focal loss and branch consistency, and
DL-UM / DL-U trained, evaluated and compared on US + mammography phantoms."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from cli_helpers import run_cli
from torch import nn

from BreastUSAITraining.bundle import load_bundle
from BreastUSAITraining.dataset import load_dataset
from BreastUSAITraining.dataset.loader import lesion_dicts
from BreastUSAITraining.dlum.explain import FusionExplainer
from BreastUSAITraining.dlum.loss import dlum_loss, focal_loss
from BreastUSAITraining.dlum.network import DLUM
from BreastUSAITraining.planes.lesion_crops import build_lesion_crop_samples


def test_branch_layout_is_vgg19_with_a_head_per_block():
    net = DLUM("dlum", width=0.125)
    branch = net.branches["us"]
    convs = [sum(isinstance(m, nn.Conv2d) for m in block) for block in branch.blocks]
    norms = [[type(m).__name__ for m in block].count("BatchNorm2d") for block in branch.blocks]
    assert convs == [2, 2, 4, 4, 4] and norms == [1, 1, 1, 1, 1]
    assert [type(m).__name__ for m in branch.blocks[2]][-3:] == ["Conv2d", "BatchNorm2d", "ReLU"]
    assert [block[0].out_channels for block in branch.blocks] == [8, 16, 32, 64, 64]
    final, heads, maps = net(torch.rand(2, 2, 64, 64), with_details=True)
    assert final.shape == (2,) and [len(v) for v in heads.values()] == [5, 5]
    assert [m.shape[-1] for m in maps["mg"]] == [64, 32, 16, 8, 4]
    with pytest.raises(ValueError, match="expected"):
        DLUM("dlu")(torch.rand(1, 2, 64, 64))


def test_cam_is_exact_for_the_heads():
    torch.manual_seed(0)
    net = DLUM("dlu", width=0.125).eval()
    with torch.no_grad():
        _, heads, maps = net(torch.rand(1, 1, 64, 64), with_details=True)
        for head, fmap, logit in zip(net.branches["us"].heads, maps["us"], heads["us"]):
            bias = head.fc1(head.fc64.bias[None])[0, 0]
            cam = torch.einsum("c,bchw->bhw", head.cam_weights(), fmap)
            assert cam.mean() + bias == pytest.approx(float(logit[0]), abs=1e-4)


def test_focal_loss_and_consistency_hand_worked():
    logits, labels = torch.tensor([2.0, -1.0]), torch.tensor([1, 1])
    p = torch.sigmoid(logits)
    expected = (0.25 * (1 - p) ** 2 * -torch.log(p)).mean()
    assert focal_loss(logits, labels) == pytest.approx(float(expected))
    same = {"us": [logits] * 5, "mg": [logits] * 5}
    assert float(dlum_loss(logits, same, labels)["consistency"]) == 0.0
    differ = {"us": [logits] * 5, "mg": [-logits] * 5}
    gap = (torch.sigmoid(logits) - torch.sigmoid(-logits)).abs().mean()
    assert float(dlum_loss(logits, differ, labels)["consistency"]) == pytest.approx(float(gap))


@pytest.fixture(scope="module")
def us_mg(tmp_path_factory):
    from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset

    folder = tmp_path_factory.mktemp("usmg") / "data"
    generate_phantom_dataset(folder, PhantomSettings(kind="mg", cases=16, image_size=64, seed=2), progress=False)
    return folder


def test_dlum_and_dlu_train_evaluate_explain_and_compare(us_mg, tmp_path):
    for variant in ("dlum", "dlu"):
        result = run_cli("train", "dlum", "--data", str(us_mg), "--out", str(tmp_path / variant), "--variant", variant,
                         "--width", "0.125", "--size", "64", "--epochs", "2", "--batch-size", "4", "-q")
        assert result.returncode == 0, result.stderr
        evaluated = run_cli("evaluate", "--model", str(tmp_path / variant), "--data", str(us_mg), "--split", "all",
                            "--out", str(tmp_path / f"eval_{variant}"), "-q")
        assert evaluated.returncode == 0, evaluated.stderr
    meta = json.loads((tmp_path / "dlum" / "configs" / "metadata.json").read_text())
    assert meta["inputs"]["modalities"] == ["us_bmode", "mg_cc"] and meta["metrics"]["selection"] == "lowest validation loss"
    compared = run_cli("compare", str(tmp_path / "eval_dlum"), str(tmp_path / "eval_dlu"), "-q")
    assert compared.returncode == 0, compared.stderr
    assert json.loads(compared.stdout)["shared_lesions"] > 5
    explainer = FusionExplainer(load_bundle(tmp_path / "dlum"), torch.device("cpu"))
    item = lesion_dicts(load_dataset(us_mg), "test", modalities=explainer.modalities)[0]
    (sample,) = build_lesion_crop_samples([item], explainer.modalities, 64, 0.3, False)
    document, cams = explainer.explain(sample["x"].astype(np.float32) / 255.0)
    assert set(cams) == {"us", "mg"} and all(len(v) == 5 and v[0].shape == (64, 64) for v in cams.values())
    assert len(document["block_probabilities"]["mg"]) == 5 and 0 <= document["malignant_probability"] <= 1
    # predict: the B-mode image as input, the mammogram (with its own lesion mask) as a companion
    predicted = run_cli("predict", item["us_bmode"], "--model", str(tmp_path / "dlum"), "--segmentation", item["segmentation"],
                        "--companion", f"mg_cc={item['mg_cc']},{item['segmentation_mg_cc']}", "--out", str(tmp_path / "p"), "-q")
    assert predicted.returncode == 0, predicted.stderr
    (folder,) = (tmp_path / "p").iterdir()
    lesion = next(l for l in json.loads((folder / "result.json").read_text())["lesions"] if l["id"] == item["lesion_id"])
    fused = lesion["fusion_classification"][explainer.bundle.name]
    assert fused["malignant_probability"] == pytest.approx(document["malignant_probability"], abs=2e-3)


def test_evaluate_warns_when_every_lesion_gets_the_same_probability(us_mg, tmp_path):
    """A model that outputs one probability for all lesions (here: a trained DL-UM whose fusion
    head's weights are zeroed, so only its bias speaks) is named as such in the log and in
    metrics.json; the same model with its weights intact is not."""
    from BreastUSAITraining.bundle import save_bundle

    trained = tmp_path / "dlum"
    assert run_cli("train", "dlum", "--data", str(us_mg), "--out", str(trained), "--width", "0.125", "--size", "64",
                   "--epochs", "4", "--batch-size", "2", "--lr", "1e-3", "-q").returncode == 0
    bundle = load_bundle(trained)
    weights = dict(bundle.state_dict)
    weights["fusion.fc1.weight"] = torch.zeros_like(weights["fusion.fc1.weight"])
    save_bundle(tmp_path / "constant", weights, bundle.metadata, bundle.inference)
    for name, constant in (("dlum", False), ("constant", True)):
        result = run_cli("evaluate", "--model", str(tmp_path / name), "--data", str(us_mg), "--split", "all",
                         "--out", str(tmp_path / f"eval_{name}"), "-q")
        assert result.returncode == 0, result.stderr
        metrics = json.loads((tmp_path / f"eval_{name}" / "metrics.json").read_text())
        assert bool(metrics["warnings"]) is constant, metrics["warnings"]
        assert ("does not separate these lesions" in result.stderr) is constant
