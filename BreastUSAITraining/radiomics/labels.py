"""What each deep-radiomics model learns (SPEC 3.5):

* ``cldlr`` - benign (0) vs malignant (1), every lesion (seed 001);
* ``lh``    - DLR_LH: low risk, BI-RADS 2 / 3 (0) vs high risk, BI-RADS 4 / 4A / 4B / 4C / 5 (1);
* ``bm``    - DLR_BM: benign (0) vs malignant (1) among BI-RADS 4A lesions only (seed 003).
"""

from __future__ import annotations

from typing import Any

KINDS = ("cldlr", "lh", "bm")
LOW_RISK, HIGH_RISK = {"2", "3"}, {"4", "4A", "4B", "4C", "5"}


def target_of(item: dict[str, Any], kind: str) -> int | None:
    """The item's label for ``kind`` (None: the item does not belong to that model's data)."""
    birads = (item.get("birads") or "").upper()
    if kind == "lh":
        return 0 if birads in LOW_RISK else 1 if birads in HIGH_RISK else None
    if kind == "bm" and birads != "4A":
        return None
    return item.get("label")


def select(items: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Items with a label for ``kind``, each with ``label`` replaced by that label."""
    chosen = []
    for item in items:
        target = target_of(item, kind)
        if target is not None:
            chosen.append({**item, "label": target})
    return chosen
