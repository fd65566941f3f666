"""MUP-Net training on the shared engine (SPEC 3.3).

Epochs 1..warm-up: only the add-on layers and the prototypes learn (backbones frozen).
Then joint epochs: backbones, add-on and prototypes (learning rates: backbone base/15,
add-on and prototypes base, e.g. 2e-4 / 3e-3 as the authors' code). At every push epoch
(every ``push_every`` epochs and the last one), after the epoch: push (projection onto
training patches, BI-RADS-constrained) then last-layer-only training. Only pushed epochs
may become the bundle, so every prototype shown to a reader is a real training patch.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..training.crop_dataset import crop_augmentation, stack_crops
from ..training.crop_task import CropClassifierTask
from .loss import mupnet_loss
from .network import MUPNet
from .push import push_prototypes


class MUPNetTask(CropClassifierTask):
    """See the module docstring."""

    name = "mupnet"
    metric = "auc"

    def __init__(self, train_samples: list[dict[str, Any]], val_samples: list[dict[str, Any]], network_arguments: dict[str, Any],
                 epochs: int, warmup_epochs: int, push_every: int, last_layer_passes: int = 2, oversample: bool = True,
                 augment: bool = True, description: dict[str, Any] | None = None) -> None:
        super().__init__(train_samples, val_samples, crop_augmentation() if augment else None)
        self.arguments = dict(network_arguments)
        self.warmup_epochs, self.last_layer_passes = warmup_epochs, last_layer_passes
        self.push_epochs = sorted({e for e in range(push_every, epochs + 1, push_every)} | {epochs})
        self.oversample, self.augment = oversample, augment
        self.description = dict(description or {})
        self.push_report: dict[str, Any] = {}

    def build_model(self) -> nn.Module:
        return MUPNet(**self.arguments)

    def parameter_groups(self, model: MUPNet, lr: float) -> list[dict[str, Any]]:
        return [{"params": list(model.branches.parameters()), "lr": lr / 15},
                {"params": list(model.add_on.parameters()) + list(model.prototypes.parameters()), "lr": lr}]

    def on_epoch_start(self, model: MUPNet, epoch: int) -> None:
        warm = epoch <= self.warmup_epochs
        for p in model.branches.parameters():
            p.requires_grad_(not warm)
        for p in model.last_layer.parameters():
            p.requires_grad_(False)

    def training_loss(self, model: MUPNet, batch: Any, device: torch.device) -> torch.Tensor:
        image, label = batch["image"].to(device), batch["label"].to(device)
        logits, minima, _, _ = model(image, with_details=True)
        return mupnet_loss(logits, minima, label, model.prototype_class, model.last_layer.weight, model.class_identity)["total"]

    def selectable(self, epoch: int) -> bool:
        return epoch in self.push_epochs

    def on_epoch_end(self, model: MUPNet, epoch: int, device: torch.device) -> None:
        if epoch not in self.push_epochs:
            return
        self.push_report = push_prototypes(model, self.train_samples, device)
        self.train_last_layer(model, device)

    def train_last_layer(self, model: MUPNet, device: torch.device) -> None:
        """Last-layer-only optimisation (Adam 1e-3; CE + 1e-4 L1), features fixed (eval mode)."""
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        model.last_layer.weight.requires_grad_(True)
        optimiser = torch.optim.Adam([model.last_layer.weight], lr=1e-3)
        x = stack_crops(self.train_samples)
        y = torch.tensor([s["label"] for s in self.train_samples])
        with torch.no_grad():  # features and similarities do not change in this phase
            scores = torch.cat([model(x[i : i + 32].to(device), with_details=True)[3] for i in range(0, len(x), 32)])
        y = y.to(device)
        for _ in range(self.last_layer_passes * 10):
            optimiser.zero_grad()
            logits = model.last_layer(scores)
            loss = torch.nn.functional.cross_entropy(logits, y) + 1e-4 * (model.last_layer.weight * (1 - model.class_identity)).abs().sum()
            loss.backward()
            optimiser.step()
        for p in model.parameters():
            p.requires_grad_(True)
        model.train()

    def fingerprint(self) -> dict[str, Any]:
        return {"task": self.name, **self.arguments, "push_epochs": self.push_epochs, "warmup": self.warmup_epochs,
                "train_lesions": len(self.train_samples), "val_lesions": len(self.val_samples), **self.description}
