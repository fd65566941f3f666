"""Grad-CAM and Grad-CAM++ of every plane branch from one forward and one backward pass.

MONAI's ``monai.visualize.GradCAM`` computes one layer per call (a forward and a backward
each); a three-plane model would need three. Here hooks on every plane's last ResNet
stage collect the activations, and one ``torch.autograd.grad`` call takes the score's
gradient with respect to them only: the backward pass stops at those layers (the head
above them), never running back through the whole network or filling parameter
gradients - on a ResNet50 that is most of the explanation's cost. The formulas are MONAI's
(tests check the maps agree with ``monai.visualize``):

* Grad-CAM:   weights = spatial mean of d score / d activation
* Grad-CAM++: weights = sum(alpha * relu(exp(score) * grad)), alpha = g^2 / (2 g^2 + sum(A g^3))

map = relu(sum_c weights_c * A_c), bilinearly upsampled to the input size and scaled
to [0, 1] with the strongest evidence at 1 (a map with no positive evidence stays 0).
Beware: MONAI's default post-processing maps the maximum to 0 and the minimum to 1
(its ``default_normalizer`` "flips magnitudes"), which would show hot regions as cold.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

METHODS = ("gradcam", "gradcam++")


def _weights(method: str, acti: torch.Tensor, grad: torch.Tensor, score: torch.Tensor) -> torch.Tensor:
    b, c = grad.shape[:2]
    if method == "gradcam":
        return grad.reshape(b, c, -1).mean(2).reshape(b, c, 1, 1)
    alpha_nr = grad.pow(2)
    alpha_dr = alpha_nr.mul(2) + acti.mul(grad.pow(3)).reshape(b, c, -1).sum(-1).reshape(b, c, 1, 1)
    alpha_dr = torch.where(alpha_dr != 0.0, alpha_dr, torch.ones_like(alpha_dr))
    alpha = alpha_nr.div(alpha_dr + 1e-7)
    relu_grad = F.relu(score.exp().reshape(b, 1, 1, 1) * grad)
    return (alpha * relu_grad).reshape(b, c, -1).sum(-1).reshape(b, c, 1, 1)


def class_activation_maps(model: nn.Module, x: torch.Tensor, layers: dict[str, str], class_index: int | None = None,
                          method: str = "gradcam") -> tuple[torch.Tensor, dict[str, np.ndarray]]:
    """(logits (B, classes), {name: (B, H, W) maps in [0, 1]}) for the named ``layers`` of ``model``.

    ``class_index`` None explains each sample's predicted class.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    modules = dict(model.named_modules())
    activations: dict[str, torch.Tensor] = {}
    handles = []
    for name, layer in layers.items():
        if layer not in modules:
            raise ValueError(f"model has no layer {layer!r}")

        def keep(_module, _inputs, output, name=name):
            activations[name] = output

        handles.append(modules[layer].register_forward_hook(keep))
    try:
        with torch.enable_grad():
            logits = model(x.detach().requires_grad_(False))
            chosen = logits.argmax(1) if class_index is None else torch.full((x.shape[0],), class_index, device=x.device)
            score = logits.gather(1, chosen[:, None]).squeeze(1)
            gradients = torch.autograd.grad(score.sum(), [activations[name] for name in layers], allow_unused=True)
    finally:
        for handle in handles:
            handle.remove()
    maps = {}
    for name, grad in zip(layers, gradients):
        acti = activations[name].detach()
        grad = torch.zeros_like(acti) if grad is None else grad.detach()
        cam = F.relu((_weights(method, acti, grad, score.detach()) * acti).sum(1, keepdim=True))
        cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
        low = cam.amin(dim=(1, 2), keepdim=True)
        span = cam.amax(dim=(1, 2), keepdim=True) - low
        cam = torch.where(span > 0, (cam - low) / span.clamp_min(1e-12), torch.zeros_like(cam))
        maps[name] = cam.float().cpu().numpy()
    return logits.detach(), maps
