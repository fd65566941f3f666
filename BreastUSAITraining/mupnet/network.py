"""The MUP-Net network (SPEC 3.3).

For each modality m (any subset of B-mode, Doppler, elastography): a ResNet feature map
f^m (MONAI ResNet, stride-2 stem, no pooling), an add-on of two 1 x 1 convolutions
(sigmoid output, as in the authors' and ProtoPNet's code), and N prototypes of shape
1 x 1 x D split between benign (first half) and malignant (second half).

For prototype j and every feature-map cell z: d = ||z - p_j||^2, similarity
s = log((d + 1) / (d + eps)), pooled by the mean of the top-k cells. The last layer maps
the M x N similarities to 2 logits, no bias, initialised +1 to the prototype's own class
and -0.5 to the other.

Input ``(B, C_total, S, S)``: the modalities' crops stacked as channels in ``modalities``
order with ``channels`` channels each (grey 1, colour 3), values in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from monai.networks.nets import resnet
from torch import nn

from ..networks.names import RESNET_FEATURES
from ..networks.registry import register_network

EPSILON = 1e-4
BACKBONES = {name: (getattr(resnet, name), width) for name, width in RESNET_FEATURES.items()}


class FeatureMap(nn.Module):
    """A MONAI ResNet up to its last stage: (B, C, S, S) -> (B, width, S/32, S/32)."""

    def __init__(self, backbone: str, in_channels: int) -> None:
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {backbone!r}; choose one of {', '.join(BACKBONES)}")
        make, self.width = BACKBONES[backbone]
        net = make(spatial_dims=2, n_input_channels=in_channels, conv1_t_stride=2, feed_forward=False)
        self.stem = nn.Sequential(net.conv1, net.bn1, net.act, net.maxpool)
        self.stages = nn.Sequential(net.layer1, net.layer2, net.layer3, net.layer4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x))


class MUPNet(nn.Module):
    """Multimodal prototype network; see the module docstring."""

    def __init__(self, modalities: list[str], channels: list[int], prototypes_per_modality: int = 10,
                 backbone: str = "resnet18", prototype_dim: int = 128, top_k: int = 5) -> None:
        super().__init__()
        if len(modalities) != len(channels) or not modalities:
            raise ValueError("give one channel count per modality")
        if prototypes_per_modality < 2 or prototypes_per_modality % 2:
            raise ValueError(f"prototypes per modality must be even and at least 2, got {prototypes_per_modality}")
        self.modalities, self.channels = list(modalities), [int(c) for c in channels]
        self.per_modality, self.top_k = int(prototypes_per_modality), int(top_k)
        self.branches = nn.ModuleDict({m: FeatureMap(backbone, c) for m, c in zip(modalities, channels)})
        width = next(iter(self.branches.values())).width
        self.add_on = nn.ModuleDict({m: nn.Sequential(nn.Conv2d(width, prototype_dim, 1), nn.ReLU(inplace=True),
                                                      nn.Conv2d(prototype_dim, prototype_dim, 1), nn.Sigmoid())
                                     for m in modalities})
        self.prototypes = nn.ParameterDict({m: nn.Parameter(torch.rand(self.per_modality, prototype_dim)) for m in modalities})
        total = len(modalities) * self.per_modality
        half = self.per_modality // 2
        classes = torch.tensor(([0] * half + [1] * half) * len(modalities), dtype=torch.long)
        self.register_buffer("prototype_class", classes)
        self.last_layer = nn.Linear(total, 2, bias=False)
        identity = F.one_hot(classes, 2).T.float()  # (2, total): 1 where the prototype belongs to the class
        self.register_buffer("class_identity", identity)
        with torch.no_grad():
            self.last_layer.weight.copy_(identity * 1.0 + (1 - identity) * -0.5)
        # where each prototype was pushed from: sample index in the push set (-1: never pushed),
        # feature cell (row, column) and the high-similarity box in crop pixels (row0, col0, row1, col1)
        self.register_buffer("prototype_source", torch.full((total,), -1, dtype=torch.long))
        self.register_buffer("prototype_cell", torch.zeros(total, 2, dtype=torch.long))
        self.register_buffer("prototype_box", torch.zeros(total, 4, dtype=torch.long))

    # ------------------------------------------------------------------ pieces
    def split(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The input's channels per modality."""
        if x.dim() != 4 or x.shape[1] != sum(self.channels):
            raise ValueError(f"expected (B, {sum(self.channels)}, S, S) for {self.modalities}, got {tuple(x.shape)}")
        out, start = {}, 0
        for m, c in zip(self.modalities, self.channels):
            out[m] = x[:, start : start + c]
            start += c
        return out

    def latent(self, modality: str, x_m: torch.Tensor) -> torch.Tensor:
        """Prototype-space feature map (B, D, H, W) of one modality's crop."""
        return self.add_on[modality](self.branches[modality](x_m))

    def distances(self, modality: str, z: torch.Tensor) -> torch.Tensor:
        """Squared distances (B, N, H, W) of every cell of ``z`` to the modality's prototypes."""
        p = self.prototypes[modality]
        z2 = (z ** 2).sum(dim=1, keepdim=True)
        p2 = (p ** 2).sum(dim=1)[None, :, None, None]
        zp = torch.einsum("bdhw,nd->bnhw", z, p)
        return F.relu(z2 - 2 * zp + p2)

    @staticmethod
    def similarity(d: torch.Tensor) -> torch.Tensor:
        return torch.log((d + 1) / (d + EPSILON))

    def forward(self, x: torch.Tensor, with_details: bool = False):
        """Logits (B, 2); with ``with_details`` also min distances (B, M*N) and similarity maps (B, M*N, H, W)."""
        parts = self.split(x)
        scores, minima, maps = [], [], []
        for m in self.modalities:
            d = self.distances(m, self.latent(m, parts[m]))
            s = self.similarity(d)
            flat = s.flatten(2)
            k = min(self.top_k, flat.shape[-1])
            scores.append(flat.topk(k, dim=-1).values.mean(-1))
            minima.append(d.flatten(2).min(-1).values)
            maps.append(s)
        logits = self.last_layer(torch.cat(scores, dim=1))
        if with_details:
            return logits, torch.cat(minima, dim=1), torch.cat(maps, dim=1), torch.cat(scores, dim=1)
        return logits

    def modality_of(self, index: int) -> str:
        return self.modalities[index // self.per_modality]


register_network("mupnet", MUPNet)
