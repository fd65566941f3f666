"""The choices of ``train dlum`` and their checks (torch-free: the CLI builds its options from these)."""

from __future__ import annotations

from dataclasses import dataclass

VARIANTS = {"dlum": ("us", "mg"), "dlu": ("us",), "dlm": ("mg",)}
MG_VIEWS = ("mg_cc", "mg_mlo")

@dataclass
class DLUMOptions:
    variant: str = "dlum"
    mg_view: str = "mg_cc"
    width: float = 1.0
    size: int = 224
    margin: float = 0.3
    val_fold: int | None = 0
    augment: bool = True

    def problems(self) -> list[str]:
        found = []
        if self.variant not in VARIANTS:
            found.append(f"--variant must be one of {', '.join(VARIANTS)}")
        if self.mg_view not in MG_VIEWS:
            found.append(f"--mg-view must be one of {', '.join(MG_VIEWS)}")
        if not 0 < self.width <= 2:
            found.append(f"--width must be within (0, 2], got {self.width}")
        if self.size < 32 or self.size % 16:
            found.append(f"--size must be a multiple of 16 (at least 32), got {self.size}")
        return found

    @property
    def modalities(self) -> list[str]:
        return [{"us": "us_bmode", "mg": self.mg_view}[name] for name in VARIANTS[self.variant]]
