"""The choices of ``train dlr`` and their checks (torch-free: the CLI builds its options from these)."""

from __future__ import annotations

from dataclasses import dataclass

from .labels import KINDS

ARCHS = ("vgg11", "resnet18", "resnet50")

@dataclass
class DLROptions:
    kind: str = "cldlr"
    arch: str | None = None          # default: vgg11 for cldlr, resnet50 for lh / bm
    width: float = 1.0
    size: int = 224
    margin: float = 0.3
    val_fold: int | None = 0
    augment: bool = True

    @property
    def network(self) -> str:
        return self.arch or ("vgg11" if self.kind == "cldlr" else "resnet50")

    def problems(self) -> list[str]:
        found = []
        if self.kind not in KINDS:
            found.append(f"--kind must be one of {', '.join(KINDS)}")
        if self.network not in ARCHS:
            found.append(f"--arch must be one of {', '.join(ARCHS)}")
        if self.size < 32:
            found.append(f"--size must be at least 32, got {self.size}")
        return found
