"""The choices of ``train mupnet`` and their checks (torch-free: the CLI builds its options from these)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..networks.names import RESNETS

MUPNET_MODALITIES = ("us_bmode", "us_doppler", "us_elastography")
BACKBONES = RESNETS

@dataclass
class MUPNetOptions:
    """Model and data choices of ``train mupnet``."""

    modalities: list[str] = field(default_factory=list)  # empty: every US modality the dataset has
    prototypes: int = 10
    backbone: str = "resnet18"
    prototype_dim: int = 128
    top_k: int = 5
    size: int = 224
    margin: float = 0.3
    warmup_epochs: int = 10
    push_every: int = 10
    val_fold: int | None = 0
    oversample: bool = True
    augment: bool = True

    def problems(self) -> list[str]:
        found = []
        unknown = [m for m in self.modalities if m not in MUPNET_MODALITIES]
        if unknown:
            found.append(f"--modalities must be among {', '.join(MUPNET_MODALITIES)}, got {', '.join(unknown)}")
        if self.prototypes < 2 or self.prototypes % 2:
            found.append(f"--prototypes must be an even number of at least 2, got {self.prototypes}")
        if self.backbone not in BACKBONES:
            found.append(f"--backbone must be one of {', '.join(BACKBONES)}")
        if self.size < 32:
            found.append(f"--size must be at least 32, got {self.size}")
        if self.push_every < 1 or self.warmup_epochs < 0:
            found.append("--push-every must be at least 1 and --warmup at least 0")
        return found
