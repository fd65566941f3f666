"""Biopsy figures of a recommendation rule (SPEC 3.7; seed 002 tables 2-3): how many lesions
would be biopsied, how many of those are benign (unnecessary), how many cancers are missed."""

from __future__ import annotations

import numpy as np


def biopsy_metrics(labels, recommend_biopsy) -> dict[str, float]:
    """``labels`` 1 malignant / 0 benign; ``recommend_biopsy`` True where the rule says biopsy."""
    y = np.asarray(labels).astype(int).ravel()
    biopsy = np.asarray(recommend_biopsy, dtype=bool).ravel()
    if y.shape != biopsy.shape:
        raise ValueError("labels and recommendations need the same cases")
    recommended = int(biopsy.sum())
    unnecessary = int((biopsy & (y == 0)).sum())
    missed = int((~biopsy & (y == 1)).sum())
    malignant = int(y.sum())
    return {
        "lesions": int(y.size), "recommended_biopsies": recommended, "unnecessary_biopsies": unnecessary,
        "unnecessary_biopsy_rate": unnecessary / recommended if recommended else float("nan"),
        "missed_malignancies": missed, "missed_malignancy_rate": missed / malignant if malignant else float("nan"),
        "malignancy_rate_among_biopsied": (recommended - unnecessary) / recommended if recommended else float("nan"),
        "biopsies_avoided_vs_all": int(y.size) - recommended,
    }
