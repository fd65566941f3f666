"""Paired tests that treat a *group* (a duplicate group of near-identical images, a patient's
views of one lesion) as the unit of evidence, not the image.

* :func:`paired_auc_permutation_test` - AUC(a) - AUC(b) on the same lesions; the null
  distribution swaps the two models' scores for **whole groups** at random.
* :func:`grouped_wilcoxon` - a per-image difference (e.g. Dice) averaged within each group,
  then Wilcoxon's signed-rank test over the groups.
* :func:`cluster_bootstrap_mean_ci` - a CI of a per-image mean (e.g. a Dice difference) that
  resamples whole groups.
"""

from __future__ import annotations

import numpy as np

from .roc import _check, auc, cluster_members


def paired_auc_permutation_test(labels, scores_a, scores_b, groups, permutations: int = 2000,
                                seed: int = 0) -> dict[str, float]:
    """Observed AUC difference (a - b) and its two-sided permutation p-value (swaps by group)."""
    y, a = _check(labels, scores_a)
    _, b = _check(labels, scores_b)
    if a.size != b.size:
        raise ValueError("both models need a score for every lesion")
    members = cluster_members(groups, y.size)
    observed = auc(y, a) - auc(y, b)
    rng = np.random.default_rng(seed)
    extreme = 0
    for _ in range(permutations):
        swap = np.zeros(y.size, dtype=bool)
        for chosen, index in zip(rng.random(len(members)) < 0.5, members):
            swap[index] = chosen
        difference = auc(y, np.where(swap, b, a)) - auc(y, np.where(swap, a, b))
        extreme += abs(difference) >= abs(observed) - 1e-12
    return {"difference": float(observed), "p_value": float((extreme + 1) / (permutations + 1)),
            "groups": len(members), "lesions": int(y.size), "permutations": permutations}


def grouped_wilcoxon(differences, groups) -> dict[str, float]:
    """Wilcoxon signed-rank test of the per-group mean differences (two-sided), with which way it leans:
    the median group difference and how many groups are above / below 0."""
    from scipy.stats import wilcoxon

    values = np.asarray(differences, dtype=float)
    means = np.array([values[index].mean() for index in cluster_members(groups, values.size)])
    p = float(wilcoxon(means).pvalue) if np.any(means != 0) else 1.0
    return {"p_value": p, "groups": int(means.size), "mean_group_difference": float(means.mean()),
            "median_group_difference": float(np.median(means)), "groups_above_zero": int((means > 0).sum()),
            "groups_below_zero": int((means < 0).sum())}


def cluster_bootstrap_mean_ci(values, groups, resamples: int = 2000, level: float = 0.95,
                              seed: int = 0) -> tuple[float, float]:
    """Percentile CI of the mean of per-image ``values``, resampling **whole groups** with
    replacement (each resample's mean over all images of the groups drawn)."""
    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or data.size == 0 or not np.all(np.isfinite(data)):
        raise ValueError("values must be a non-empty 1-D array of finite numbers")
    members = cluster_members(groups, data.size)
    sums = np.array([data[index].sum() for index in members])
    counts = np.array([index.size for index in members])
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, len(members), size=(resamples, len(members)))
    means = sums[drawn].sum(axis=1) / counts[drawn].sum(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)
