"""ROC analysis: AUC (Mann-Whitney, ties counted half), stratified bootstrap CI,
metrics at a threshold and Youden's threshold.

``labels`` are 0 (benign) / 1 (malignant); ``scores`` the malignant probability.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def _check(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).astype(int).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"{y.size} labels but {s.size} scores")
    if not np.all(np.isin(y, (0, 1))):
        raise ValueError("labels must be 0 or 1")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores hold NaN or infinite values")
    return y, s


def auc(labels, scores) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    y, s = _check(labels, scores)
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def bootstrap_auc_ci(labels, scores, resamples: int = 1000, level: float = 0.95, seed: int = 0,
                     groups=None) -> tuple[float, float]:
    """Percentile CI of the AUC from ``resamples`` bootstrap samples.

    Without ``groups`` cases are drawn within each class (stratified). With ``groups`` (one
    key per score: a duplicate group, a patient) whole groups are drawn with replacement
    (cluster bootstrap), so near-duplicate images or two views of one lesion never count
    as independent evidence; a draw holding one class only is drawn again.
    """
    y, s = _check(labels, scores)
    positives, negatives = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if positives.size == 0 or negatives.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    values = np.empty(resamples)
    if groups is None:
        for b in range(resamples):
            index = np.concatenate([rng.choice(positives, positives.size), rng.choice(negatives, negatives.size)])
            values[b] = auc(y[index], s[index])
    else:
        members = cluster_members(groups, y.size)
        for b in range(resamples):
            while True:
                index = np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])
                if 0 < y[index].sum() < index.size:
                    break
            values[b] = auc(y[index], s[index])
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def cluster_members(groups, size: int) -> list[np.ndarray]:
    """Indices of each distinct group key, in first-seen order (``size`` checks the length)."""
    keys = list(groups)
    if len(keys) != size:
        raise ValueError(f"{len(keys)} group keys for {size} scores")
    index: dict = {}
    for position, key in enumerate(keys):
        index.setdefault(key, []).append(position)
    return [np.asarray(v) for v in index.values()]


def roc_points(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false-positive rate, true-positive rate, thresholds), from (0, 0) to (1, 1)."""
    y, s = _check(labels, scores)
    thresholds = np.r_[np.inf, np.unique(s)[::-1]]
    n_pos, n_neg = max(int(y.sum()), 1), max(int((1 - y).sum()), 1)
    tpr = np.array([np.sum((s >= t) & (y == 1)) / n_pos for t in thresholds])
    fpr = np.array([np.sum((s >= t) & (y == 0)) / n_neg for t in thresholds])
    return fpr, tpr, thresholds


def youden_threshold(labels, scores) -> float:
    """The threshold maximising sensitivity + specificity - 1."""
    fpr, tpr, thresholds = roc_points(labels, scores)
    best = int(np.argmax(tpr - fpr))
    return float(thresholds[best]) if np.isfinite(thresholds[best]) else float(thresholds[1])


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")


def threshold_metrics(labels, scores, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, sensitivity, specificity, PPV, NPV, F1 and the confusion counts, calling
    malignant when ``score >= threshold``."""
    y, s = _check(labels, scores)
    called = s >= threshold
    tp, fn = int(np.sum(called & (y == 1))), int(np.sum(~called & (y == 1)))
    fp, tn = int(np.sum(called & (y == 0))), int(np.sum(~called & (y == 0)))
    sensitivity, ppv = _ratio(tp, tp + fn), _ratio(tp, tp + fp)
    return {
        "threshold": float(threshold), "accuracy": _ratio(tp + tn, y.size), "sensitivity": sensitivity,
        "specificity": _ratio(tn, tn + fp), "ppv": ppv, "npv": _ratio(tn, tn + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn), "tp": tp, "fp": fp, "tn": tn, "fn": fn,
    }


def auc_and_accuracy(labels, scores, threshold: float = 0.5) -> dict[str, float]:
    """What training logs each validation epoch: AUC (NaN with one class) and accuracy at ``threshold``."""
    y, s = _check(labels, scores)
    return {"auc": auc(y, s), "accuracy": float(np.mean((s >= threshold) == y))}
