"""Phantom kinds and ABVS size presets (no heavy imports: the CLI reads these)."""

from __future__ import annotations

KINDS = ("us2d", "multimodal", "mg", "abvs", "all")

#: ABVS preset name -> ((K, J, I) voxels, (i, j, k) spacing mm). ``full`` is the Siemens
#: ACUSON S2000 ABVS field of view (168.6 x 60 x 159 mm: 843 x 546 x 318 voxels of
#: 0.2 x 0.11 x 0.5 mm, uint8, 147 MB); ``small`` and ``medium`` keep the proportions.
ABVS_SIZES: dict[str, tuple[tuple[int, int, int], tuple[float, float, float]]] = {
    "small": ((32, 48, 80), (0.6, 0.5, 1.0)),
    "medium": ((80, 120, 200), (0.4, 0.3, 0.6)),
    "full": ((318, 546, 843), (0.2, 0.11, 0.5)),
}
