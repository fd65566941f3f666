"""Decision-curve analysis (Vickers & Elkin, Med Decis Making 2006): the net benefit of
biopsying when the malignant probability reaches a threshold, against biopsying all or none.

net benefit(t) = TP/N - FP/N * t / (1 - t)
"""

from __future__ import annotations

import numpy as np


def net_benefit(labels, scores, thresholds) -> dict[str, np.ndarray]:
    """Net benefit of the model, of 'treat all' and of 'treat none' at each threshold in (0, 1)."""
    y = np.asarray(labels).astype(int).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    t = np.asarray(thresholds, dtype=float).ravel()
    if np.any((t <= 0) | (t >= 1)):
        raise ValueError("thresholds must lie strictly between 0 and 1")
    n = y.size
    odds = t / (1 - t)
    called = s[None, :] >= t[:, None]
    tp = (called & (y[None, :] == 1)).sum(axis=1)
    fp = (called & (y[None, :] == 0)).sum(axis=1)
    prevalence = y.mean()
    return {"threshold": t, "model": tp / n - fp / n * odds, "treat_all": prevalence - (1 - prevalence) * odds,
            "treat_none": np.zeros_like(t)}
