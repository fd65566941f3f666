"""The choices of ``train segmentation`` and their checks (torch-free: the CLI builds its options from these)."""

from __future__ import annotations

from dataclasses import dataclass

from ..networks.names import SEGMENTATION_ARCHS

SPATIAL = ("2d", "3d")
AUGMENT_FLIPS_ONLY = "flips"  # the word ``--augment`` takes for left-right flips only


def augment_strength(text: str) -> float | str:
    """``--augment``'s value: ``"flips"`` or a number (strength; checked by ``problems``)."""
    if text.strip().lower() == AUGMENT_FLIPS_ONLY:
        return AUGMENT_FLIPS_ONLY
    try:
        return float(text)
    except ValueError:
        return text

@dataclass
class SegmentationOptions:
    """Model and data choices of ``train segmentation``."""

    arch: str = "unet"
    spatial: str = "2d"
    size: int = 256
    base_channels: int = 16
    patch_kji: tuple[int, int, int] = (32, 64, 64)
    val_fold: int | None = 0
    include_normal: bool = True
    modality: str | None = None
    augment: float | str = 1.0  # strength, or "flips" (left-right flips only)
    threshold: float = 0.5
    min_size_mm: float = 4.0
    min_voxels: int = 50
    weights: str | None = None  # a segmentation bundle or a state_dict file to start from
    encoder_bn_momentum: float = 0.1  # FlexibleUNet encoder batch norms (MONAI's own 0.01 lags short runs)

    def problems(self) -> list[str]:
        found = []
        if self.arch not in SEGMENTATION_ARCHS:
            found.append(f"--arch must be one of {', '.join(SEGMENTATION_ARCHS)}, got {self.arch!r}")
        if self.spatial not in SPATIAL:
            found.append(f"--spatial must be 2d or 3d, got {self.spatial!r}")
        if self.spatial == "2d" and (self.size < 32 or self.size % 32):
            found.append(f"--size must be a multiple of 32 (at least 32), got {self.size}")
        if self.spatial == "3d" and self.arch != "unet":
            found.append("--spatial 3d supports --arch unet only")
        if self.spatial == "3d" and any(v % 16 for v in self.patch_kji):
            found.append(f"--patch sizes must be multiples of 16, got {self.patch_kji}")
        if not 0 < self.encoder_bn_momentum <= 1:
            found.append(f"--encoder-bn-momentum must be within (0, 1], got {self.encoder_bn_momentum}")
        if self.augment != AUGMENT_FLIPS_ONLY and not (isinstance(self.augment, (int, float)) and self.augment >= 0):
            found.append(f"--augment must be a strength >= 0 or 'flips', got {self.augment!r}")
        if not 0 < self.threshold < 1:
            found.append(f"--threshold must be within (0, 1), got {self.threshold}")
        return found
