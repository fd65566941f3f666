"""The ABVS three-plane classifier (SPEC 3.2, seed 004).

One ResNet (MONAI, stride-2 stem like torchvision's) per plane; fusion:

* ``T`` / ``S`` / ``C``: the plane's features alone
* ``TS``:  transverse + sagittal features **added**
* ``TSC``: (transverse + sagittal) **concatenated** with coronal

then a fully connected layer halving the width, ReLU, dropout and a 2-class head.

Our addition (for explanation, not in the paper): every plane also has a small
auxiliary head on its own features, trained with a lower weight, so a reader sees a
malignant probability per plane beside the fused one.

Input: ``(B, P, H, W)`` with the planes stacked as channels in the order of
``planes`` (e.g. ``TSC``: channel 0 transverse, 1 sagittal, 2 coronal), intensities in
[0, 1]. Output: ``(B, 2)`` fused logits; :meth:`ThreePlaneClassifier.plane_logits`
gives ``(B, P, 2)``.
"""

from __future__ import annotations

import torch
from monai.networks.nets import resnet
from torch import nn

from .names import PLANE_NAMES, PLANE_SETS, RESNET_FEATURES  # noqa: E402,F401 (PLANE_* re-exported)

BACKBONES = {name: (getattr(resnet, name), width) for name, width in RESNET_FEATURES.items()}


def plane_branch(backbone: str, width: float = 1.0) -> tuple[nn.Module, int]:
    """A ResNet feature extractor for 1-channel 2D planes and its feature width.

    ``width`` multiplies every block's channels (MONAI's ``widen_factor``; 0.25 keeps a
    three-plane ResNet-18 near 1 M parameters, e.g. for a small demonstration model).
    """
    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; choose one of {', '.join(BACKBONES)}")
    if not 0 < width <= 4:
        raise ValueError(f"width must be within (0, 4], got {width}")
    make, features = BACKBONES[backbone]
    network = make(spatial_dims=2, n_input_channels=1, conv1_t_stride=2, feed_forward=False, widen_factor=width)
    return network, int(features * width)


class ThreePlaneClassifier(nn.Module):
    """Per-plane ResNets fused by add / concat (see module docstring)."""

    def __init__(self, planes: str = "TSC", backbone: str = "resnet50", dropout: float = 0.3, width: float = 1.0) -> None:
        super().__init__()
        if planes not in PLANE_SETS:
            raise ValueError(f"planes must be one of {', '.join(PLANE_SETS)}, got {planes!r}")
        self.planes = planes
        branches, features = {}, 0
        for plane in planes:
            branches[plane], features = plane_branch(backbone, width)
        self.branches = nn.ModuleDict(branches)
        fused = 2 * features if planes == "TSC" else features
        self.head = nn.Sequential(nn.Linear(fused, fused // 2), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(fused // 2, 2))
        self.plane_heads = nn.ModuleDict({p: nn.Linear(features, 2) for p in planes})

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-plane feature vectors ``(B, width)``."""
        if x.dim() != 4 or x.shape[1] != len(self.planes):
            raise ValueError(f"expected (B, {len(self.planes)}, H, W) planes {self.planes}, got {tuple(x.shape)}")
        return {p: self.branches[p](x[:, i : i + 1]) for i, p in enumerate(self.planes)}

    def fuse(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.planes in ("T", "S", "C"):
            return features[self.planes]
        fused = features["T"] + features["S"]
        if self.planes == "TSC":
            fused = torch.cat([fused, features["C"]], dim=1)
        return fused

    def forward_all(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(fused logits (B, 2), per-plane logits (B, P, 2))."""
        features = self.features(x)
        fused = self.head(self.fuse(features))
        per_plane = torch.stack([self.plane_heads[p](features[p]) for p in self.planes], dim=1)
        return fused, per_plane

    def forward(self, x: torch.Tensor, with_planes: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Fused logits (B, 2); with ``with_planes`` also the per-plane logits (B, P, 2)."""
        if with_planes:
            return self.forward_all(x)
        return self.head(self.fuse(self.features(x)))

    def plane_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_all(x)[1]
