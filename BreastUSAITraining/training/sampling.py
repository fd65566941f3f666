"""Class balance by oversampling (SPEC 3.3: "oversample malignant")."""

from __future__ import annotations

import numpy as np


def oversampled_order(labels: np.ndarray) -> list[int]:
    """Indices of every sample plus repeats of the minority class up to the majority's count."""
    labels = np.asarray(labels)
    order = list(range(len(labels)))
    if 0 < labels.sum() < len(labels):
        minority = int(labels.sum() < len(labels) / 2)
        pool = np.flatnonzero(labels == minority)
        extra = int((labels != minority).sum() - pool.size)
        order += [int(pool[i % pool.size]) for i in range(extra)]
    return order
