"""DeLong's test for two correlated ROC curves (the same cases read by two models).

DeLong ER, DeLong DM, Clarke-Pearson DL. Biometrics 1988;44:837-845, with the fast
midrank algorithm of Sun X, Xu W. IEEE Signal Process Lett 2014;21:1389-1393.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, rankdata


@dataclass(frozen=True)
class DeLongResult:
    """AUCs of both models, their difference (a - b), its standard error, z and two-sided p."""

    auc_a: float
    auc_b: float
    difference: float
    standard_error: float
    z: float
    p_value: float
    ci95: tuple[float, float]


def _structural_components(positive: np.ndarray, negative: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and the placement values V10 (per positive) and V01 (per negative) of one model."""
    m, n = positive.size, negative.size
    both = np.concatenate([positive, negative])
    ranks_all = rankdata(both)
    ranks_pos = rankdata(positive)
    ranks_neg = rankdata(negative)
    v10 = (ranks_all[:m] - ranks_pos) / n
    v01 = 1.0 - (ranks_all[m:] - ranks_neg) / m
    return float(v10.mean()), v10, v01


def delong_test(labels, scores_a, scores_b) -> DeLongResult:
    """Paired DeLong test of AUC(a) = AUC(b) on the same cases."""
    y = np.asarray(labels).astype(int).ravel()
    a, b = np.asarray(scores_a, float).ravel(), np.asarray(scores_b, float).ravel()
    if not (y.size == a.size == b.size):
        raise ValueError("labels and both score lists must have the same length")
    if y.sum() == 0 or y.sum() == y.size:
        raise ValueError("DeLong's test needs both classes")
    auc_a, v10_a, v01_a = _structural_components(a[y == 1], a[y == 0])
    auc_b, v10_b, v01_b = _structural_components(b[y == 1], b[y == 0])
    s10 = np.cov(np.vstack([v10_a, v10_b]))
    s01 = np.cov(np.vstack([v01_a, v01_b]))
    m, n = int(y.sum()), int(y.size - y.sum())
    covariance = s10 / m + s01 / n
    variance = covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1]
    difference = auc_a - auc_b
    se = float(np.sqrt(max(variance, 0.0)))
    if se == 0.0:
        z, p = (0.0, 1.0) if difference == 0 else (float("inf") * np.sign(difference), 0.0)
    else:
        z = difference / se
        p = float(2 * norm.sf(abs(z)))
    return DeLongResult(auc_a, auc_b, difference, se, float(z), p, (difference - 1.959964 * se, difference + 1.959964 * se))
