"""The two-stage BI-RADS 4A re-stratification rule (SPEC 3.5, seed 003).

Stage 1, DLR_LH: low risk (BI-RADS 2/3-like) or high risk (4/5-like).
Stage 2, DLR_BM: benign or malignant, trained among BI-RADS 4A lesions.

============  ==========  =========================================================
LH            BM          recommendation for a BI-RADS 4A lesion
============  ==========  =========================================================
low risk      benign      **downgrade** to BI-RADS 3: short-interval follow-up, no biopsy
high risk     malignant   **upgrade** (4B or higher): biopsy with raised suspicion
otherwise                 **keep** 4A: biopsy as planned (the two models disagree)
============  ==========  =========================================================

Lesions not assessed 4A are never re-stratified (the rule was derived for 4A only).
"""

from __future__ import annotations

from dataclasses import dataclass

DOWNGRADE, KEEP, UPGRADE, NOT_APPLICABLE = "downgrade", "keep", "upgrade", "not applicable"


@dataclass(frozen=True)
class Restratification:
    """The recommendation, the BI-RADS it suggests and why."""

    decision: str
    suggested_birads: str
    reason: str
    biopsy: bool


def restratify_4a(birads: str | None, p_high_risk: float, p_malignant: float, threshold_lh: float = 0.5,
                  threshold_bm: float = 0.5) -> Restratification:
    """Apply the rule to one lesion (probabilities from DLR_LH and DLR_BM)."""
    for name, value in (("p_high_risk", p_high_risk), ("p_malignant", p_malignant)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
    category = (birads or "").strip().upper()
    if category != "4A":
        return Restratification(NOT_APPLICABLE, birads or "unknown",
                                f"BI-RADS {birads or 'unknown'}: the re-stratification rule applies to 4A lesions only",
                                biopsy=category in ("4", "4B", "4C", "5"))
    high = p_high_risk >= threshold_lh
    malignant = p_malignant >= threshold_bm
    lh = f"DLR_LH {'high' if high else 'low'} risk ({p_high_risk:.2f})"
    bm = f"DLR_BM {'malignant' if malignant else 'benign'} ({p_malignant:.2f})"
    if not high and not malignant:
        return Restratification(DOWNGRADE, "3", f"{lh} and {bm}: downgrade to BI-RADS 3, follow-up instead of biopsy", False)
    if high and malignant:
        return Restratification(UPGRADE, "4B", f"{lh} and {bm}: upgrade, biopsy with raised suspicion", True)
    return Restratification(KEEP, "4A", f"{lh} but {bm}: the models disagree, keep BI-RADS 4A and biopsy", True)
