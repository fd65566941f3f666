"""DL-UM (SPEC 3.4): two VGG19-like branches (US ROI, MG ROI).

Each branch: 5 blocks of 2, 2, 4, 4, 4 3 x 3 convolutions with 64, 128, 256, 512, 512
filters (times ``width``), ReLU after every convolution and BatchNorm before the ReLU of
each block's last one, 2 x 2 max-pooling after blocks 1-4. Deep supervision: every block
feeds a head GAP -> FC 64 -> FC 1 (-> sigmoid). Fusion: the block-5 GAP features of both
branches concatenated -> the same kind of head -> the final output. The head has no
non-linearity between its two FC layers, so its class-activation map is exact:
CAM = sum_c (w_1 W_64)_c A_c.

Input ``(B, 2, S, S)`` (channel 0 US, channel 1 MG; DL-U / DL-M take ``(B, 1, S, S)``);
output: the final logit ``(B,)``.
"""

from __future__ import annotations

import torch
from torch import nn

from ..networks.registry import register_network

BLOCKS = ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512))
from .options import VARIANTS  # noqa: E402,F401 (re-exported)


class SupervisionHead(nn.Module):
    """GAP -> FC 64 -> FC 1: a logit per image from a feature map."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc64 = nn.Linear(channels, 64)
        self.fc1 = nn.Linear(64, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        pooled = features.mean(dim=(2, 3)) if features.dim() == 4 else features
        return self.fc1(self.fc64(pooled))[:, 0]

    def cam_weights(self) -> torch.Tensor:
        """(channels,) weights of the exact CAM."""
        return (self.fc1.weight @ self.fc64.weight)[0]


class VGGBranch(nn.Module):
    """Five blocks, each with its own supervision head."""

    def __init__(self, in_channels: int = 1, width: float = 1.0) -> None:
        super().__init__()
        blocks, heads, channels = [], [], in_channels
        for convs, filters in BLOCKS:
            out = max(4, int(round(filters * width)))
            layers: list[nn.Module] = []
            for i in range(convs):
                layers.append(nn.Conv2d(channels, out, 3, padding=1))
                if i == convs - 1:
                    layers.append(nn.BatchNorm2d(out))
                layers.append(nn.ReLU(inplace=True))
                channels = out
            blocks.append(nn.Sequential(*layers))
            heads.append(SupervisionHead(out))
        self.blocks, self.heads = nn.ModuleList(blocks), nn.ModuleList(heads)
        self.pool = nn.MaxPool2d(2)
        self.width = channels
        # He initialisation, as VGG is usually trained. With PyTorch's default one every convolution
        # shrinks the signal's variance several-fold, so a block's 2-4 convolutions reach its BatchNorm
        # with a variance near 1e-3; the running variance starts at 1 and moves 10% a step, so for the
        # first ~100 steps evaluation divided by far too much, block after block, and every lesion got
        # the same probability (measured: 20 steps, all predictions 0.4442-0.4443).
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The five block outputs (before pooling)."""
        maps = []
        for index, block in enumerate(self.blocks):
            x = block(x)
            maps.append(x)
            if index < len(self.blocks) - 1:
                x = self.pool(x)
        return maps


class DLUM(nn.Module):
    """DL-UM (``variant="dlum"``), DL-U (``"dlu"``) or DL-M (``"dlm"``)."""

    def __init__(self, variant: str = "dlum", width: float = 1.0) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
        self.variant, self.inputs = variant, VARIANTS[variant]
        self.branches = nn.ModuleDict({name: VGGBranch(1, width) for name in self.inputs})
        width_5 = next(iter(self.branches.values())).width
        self.fusion = SupervisionHead(width_5 * len(self.inputs)) if len(self.inputs) == 2 else None

    def forward(self, x: torch.Tensor, with_details: bool = False):
        """Final logit (B,); with ``with_details`` also ({branch: [5 block logits (B,)]}, {branch: [5 maps]})."""
        if x.dim() != 4 or x.shape[1] != len(self.inputs):
            raise ValueError(f"expected (B, {len(self.inputs)}, S, S) for {'+'.join(self.inputs)}, got {tuple(x.shape)}")
        maps = {name: self.branches[name](x[:, i : i + 1]) for i, name in enumerate(self.inputs)}
        block_logits = {name: [head(m) for head, m in zip(self.branches[name].heads, maps[name])] for name in self.inputs}
        if self.fusion is not None:
            final = self.fusion(torch.cat([maps[name][-1].mean(dim=(2, 3)) for name in self.inputs], dim=1))
        else:
            final = block_logits[self.inputs[0]][-1]
        if with_details:
            return final, block_logits, maps
        return final


register_network("dlum", DLUM)
