"""The choices of ``train abvs-planes`` and their checks (torch-free: the CLI builds its options from these)."""

from __future__ import annotations

from dataclasses import dataclass

from ..networks.names import PLANE_SETS, RESNETS

BACKBONES = RESNETS

@dataclass
class PlaneClassifierOptions:
    """Model and data choices of ``train abvs-planes``."""

    planes: str = "TSC"
    backbone: str = "resnet50"
    size: int = 224
    frames: int = 3
    margin: float = 0.3
    val_fold: int | None = 0
    weights: str | None = None
    oversample: bool = True
    augment: bool = True
    flip_tta: bool = True
    width: float = 1.0

    def problems(self) -> list[str]:
        found = []
        if self.planes not in PLANE_SETS:
            found.append(f"--planes must be one of {', '.join(PLANE_SETS)}, got {self.planes!r}")
        if self.backbone not in BACKBONES:
            found.append(f"--backbone must be one of {', '.join(BACKBONES)}, got {self.backbone!r}")
        if self.size < 32:
            found.append(f"--size must be at least 32, got {self.size}")
        if not 0 < self.width <= 4:
            found.append(f"--width must be within (0, 4], got {self.width}")
        if self.frames < 1:
            found.append(f"--frames must be at least 1, got {self.frames}")
        if not 0 <= self.margin <= 2:
            found.append(f"--margin must be within 0..2, got {self.margin}")
        return found
