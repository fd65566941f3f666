"""Grad-CAM / Grad-CAM++ of all planes from one pass equal MONAI's per-layer maps
(min-max scaled so the strongest evidence is 1), and overlays are real PNGs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.visualize import GradCAM, GradCAMpp
from PIL import Image

from BreastUSAITraining.explain import save_image_overlay, save_plane_overlays
from BreastUSAITraining.explain.gradcam import class_activation_maps
from BreastUSAITraining.explain.overlay import jet
from BreastUSAITraining.networks.three_plane import ThreePlaneClassifier


@pytest.mark.parametrize("method,reference", [("gradcam", GradCAM), ("gradcam++", GradCAMpp)])
def test_one_pass_maps_equal_monai(method, reference):
    torch.manual_seed(0)
    model = ThreePlaneClassifier("TSC", "resnet18").eval()
    x = torch.rand(2, 3, 64, 64)
    logits, ours = class_activation_maps(model, x, {p: f"branches.{p}.layer4" for p in "TSC"}, 1, method)
    assert torch.allclose(logits, model(x), atol=1e-5)
    for plane in "TSC":
        raw = reference(nn_module=model, target_layers=f"branches.{plane}.layer4", postprocessing=lambda v: v)(x=x, class_idx=1)
        raw = raw[:, 0].detach().numpy()
        for b in range(2):
            span = raw[b].max() - raw[b].min()
            expected = (raw[b] - raw[b].min()) / span if span > 0 else np.zeros_like(raw[b])
            assert np.allclose(ours[plane][b], expected, atol=1e-5)
            assert ours[plane][b].min() >= 0 and ours[plane][b].max() <= 1


def test_explaining_leaves_the_weights_gradients_alone():
    """The backward pass stops at the explained layers: no parameter gradient is filled
    (a whole-network backward would fill all of them, and cost most of the explanation)."""
    torch.manual_seed(2)
    model = ThreePlaneClassifier("TS", "resnet18").eval()
    class_activation_maps(model, torch.rand(1, 2, 64, 64), {p: f"branches.{p}.layer4" for p in "TS"}, 1)
    assert all(parameter.grad is None for parameter in model.parameters())


def test_predicted_class_is_explained_by_default():
    torch.manual_seed(1)
    model = ThreePlaneClassifier("T", "resnet18").eval()
    x = torch.rand(1, 1, 64, 64)
    predicted = int(model(x).argmax())
    _, default = class_activation_maps(model, x, {"T": "branches.T.layer4"})
    _, chosen = class_activation_maps(model, x, {"T": "branches.T.layer4"}, predicted)
    assert np.array_equal(default["T"], chosen["T"])
    with pytest.raises(ValueError, match="no layer"):
        class_activation_maps(model, x, {"T": "branches.X.layer4"})


def test_overlays_are_pngs_with_heat_where_it_was(tmp_path):
    grey = np.tile(np.linspace(0, 200, 80), (60, 1))
    heat = np.zeros((60, 80))
    heat[10:20, 50:70] = 1.0
    mask = np.zeros((60, 80), bool)
    mask[30:40, 10:20] = True
    path = save_image_overlay(tmp_path / "o.png", grey, heat, mask)
    rgb = np.asarray(Image.open(path))
    assert rgb.shape == (60, 80, 3)
    assert rgb[15, 60, 0] > rgb[15, 60, 2] + 50          # hot = red over the grey
    assert tuple(rgb[30, 15]) == (0, 255, 120)           # lesion outline
    assert np.allclose(jet(np.array([0.0, 1.0])), [[0, 0, 127.5], [127.5, 0, 0]])
    sheet = save_plane_overlays(tmp_path / "p.png", {"T": grey, "S": grey}, {"T": heat}, {"T": "transverse 0.80"})
    assert Image.open(sheet).size == (2 * 224 + 4, 224 + 18)
