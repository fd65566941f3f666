"""Lesion segmentation networks (SPEC 3.1): background / lesion logits.

* ``unet``            - MONAI ``UNet`` with residual units, channels ``c, 2c, 4c, 8c, 16c``
* ``flexunet-effb0``  - MONAI ``FlexibleUNet`` with an EfficientNet-b0 encoder (the seed-004
                        design), randomly initialised (no download; ``pretrained=False``)

MONAI builds the EfficientNet encoder with batch-norm momentum 0.01 (TensorFlow's 0.99 decay):
its running statistics, used at inference, trail the weights by hundreds of optimiser steps,
so a short training predicts no lesion at all. ``encoder_bn_momentum`` sets it (0.1 is
PyTorch's default and what ``train segmentation`` now uses); ``None`` keeps MONAI's 0.01, as
bundles made before the option existed were trained. It changes only the running statistics,
never the training gradients.

Input ``(B, 1, H, W)`` (or ``(B, 1, D, H, W)`` in 3D), intensities in [0, 1]; output
``(B, 2, ...)`` logits of the same spatial size. 2D sizes must be multiples of 32.
"""

from __future__ import annotations

from monai.networks.nets import FlexibleUNet, UNet
from torch import nn

from .names import SEGMENTATION_ARCHS  # noqa: F401 (re-exported)

MONAI_ENCODER_BN_MOMENTUM = 0.01  # what MONAI's EfficientNet encoder uses unless told otherwise


def build_segmentation_network(arch: str = "unet", spatial_dims: int = 2, base_channels: int = 32, dropout: float = 0.1,
                               encoder_bn_momentum: float | None = None) -> nn.Module:
    """The network ``arch`` for ``spatial_dims`` (2 or 3) with 1 input and 2 output channels;
    ``encoder_bn_momentum`` (FlexibleUNet only) replaces MONAI's 0.01 in the encoder's batch norms."""
    if encoder_bn_momentum is not None and (arch != "flexunet-effb0" or not 0 < encoder_bn_momentum <= 1):
        raise ValueError(f"encoder_bn_momentum must be within (0, 1] and applies to flexunet-effb0 only, "
                         f"got {encoder_bn_momentum!r} for {arch!r}")
    if arch == "unet":
        c = int(base_channels)
        return UNet(spatial_dims=spatial_dims, in_channels=1, out_channels=2,
                    channels=(c, 2 * c, 4 * c, 8 * c, 16 * c), strides=(2, 2, 2, 2),
                    num_res_units=2, norm="batch", dropout=dropout)
    if arch == "flexunet-effb0":
        network = FlexibleUNet(in_channels=1, out_channels=2, backbone="efficientnet-b0", pretrained=False,
                               spatial_dims=spatial_dims, dropout=dropout)
        if encoder_bn_momentum is not None:
            set_encoder_bn_momentum(network, encoder_bn_momentum)
        return network
    raise ValueError(f"unknown segmentation architecture {arch!r}; choose one of {', '.join(SEGMENTATION_ARCHS)}")


def set_encoder_bn_momentum(network: FlexibleUNet, momentum: float) -> None:
    """Give every batch norm of the FlexibleUNet's encoder ``momentum`` (the decoder keeps its own)."""
    for layer in network.encoder.modules():
        if isinstance(layer, nn.modules.batchnorm._BatchNorm):
            layer.momentum = float(momentum)
