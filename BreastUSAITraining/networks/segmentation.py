"""Lesion segmentation networks (SPEC 3.1): background / lesion logits.

* ``unet``            - MONAI ``UNet`` with residual units, channels ``c, 2c, 4c, 8c, 16c``
* ``flexunet-effb0``  - MONAI ``FlexibleUNet`` with an EfficientNet-b0 encoder (the seed-004
                        design), randomly initialised (no download; ``pretrained=False``)

Input ``(B, 1, H, W)`` (or ``(B, 1, D, H, W)`` in 3D), intensities in [0, 1]; output
``(B, 2, ...)`` logits of the same spatial size. 2D sizes must be multiples of 32.
"""

from __future__ import annotations

from monai.networks.nets import FlexibleUNet, UNet
from torch import nn

SEGMENTATION_ARCHS = ("unet", "flexunet-effb0")


def build_segmentation_network(arch: str = "unet", spatial_dims: int = 2, base_channels: int = 32, dropout: float = 0.1) -> nn.Module:
    """The network ``arch`` for ``spatial_dims`` (2 or 3) with 1 input and 2 output channels."""
    if arch == "unet":
        c = int(base_channels)
        return UNet(spatial_dims=spatial_dims, in_channels=1, out_channels=2,
                    channels=(c, 2 * c, 4 * c, 8 * c, 16 * c), strides=(2, 2, 2, 2),
                    num_res_units=2, norm="batch", dropout=dropout)
    if arch == "flexunet-effb0":
        return FlexibleUNet(in_channels=1, out_channels=2, backbone="efficientnet-b0", pretrained=False,
                            spatial_dims=spatial_dims, dropout=dropout)
    raise ValueError(f"unknown segmentation architecture {arch!r}; choose one of {', '.join(SEGMENTATION_ARCHS)}")
