"""Multi-reader multi-case (MRMC) ROC analysis: Obuchowski-Rockette with Hillis' degrees of freedom.

Several readers read the same cases in two (or more) modalities - without and with AI. Their
reads are not independent (one reader's reads share the reader, one case's reads share the
case), so pooling the reads into one DeLong or McNemar test understates the uncertainty.
The Obuchowski-Rockette (OR) model treats readers and cases as random samples:

* ``auc[t, r]`` - the empirical (trapezoidal, Wilcoxon) AUC of reader r in modality t;
* the error covariances of those AUCs over cases, estimated by the jackknife (leave one case
  out): ``var`` (same modality, same reader), ``cov1`` (other modality, same reader), ``cov2``
  (same modality, other reader), ``cov3`` (other modality, other reader), each averaged;
* ``MS(T)`` and ``MS(T*R)`` from the modality x reader ANOVA of the AUCs;
* random readers and random cases (Hillis 2007): ``F = MS(T) / [MS(T*R) + R max(cov2 - cov3, 0)]``
  with ``ddf = [MS(T*R) + R max(cov2 - cov3, 0)]^2 / {MS(T*R)^2 / [(T-1)(R-1)]}``; the 95% CI of
  a difference is ``+- t(0.975, ddf) sqrt(2/R [MS(T*R) + R max(cov2 - cov3, 0)])``.

References: Obuchowski NA, Rockette HE. Commun Stat Simul Comput 1995;24:285-308. Hillis SL.
Stat Med 2007;26:596-619. Hillis SL, Obuchowski NA, Berbaum KS. Acad Radiol 2008;15:647-61.
Checked (Testing/test_mrmc.py) against the OR-DBM MRMC software's analysis of the Van Dyke data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import f as f_distribution
from scipy.stats import t as student_t


def _auc_matrix(positive: np.ndarray, negative: np.ndarray) -> float:
    """Empirical AUC of scores (…, P) of diseased against (…, N) non-diseased cases, ties counted half."""
    difference = positive[:, None] - negative[None, :]
    return float(((difference > 0) + 0.5 * (difference == 0)).mean())


def reader_aucs(ratings: np.ndarray, diseased: np.ndarray) -> np.ndarray:
    """``(T, R)`` empirical AUCs of ``ratings`` ``(T, R, K)`` against ``diseased`` ``(K,)``."""
    positive, negative = diseased.astype(bool), ~diseased.astype(bool)
    return np.array([[_auc_matrix(ratings[t, r, positive], ratings[t, r, negative]) for r in range(ratings.shape[1])]
                     for t in range(ratings.shape[0])])


def jackknife_covariances(ratings: np.ndarray, diseased: np.ndarray) -> dict[str, float]:
    """Var, Cov1, Cov2, Cov3 of the reader AUCs, from the leave-one-case-out jackknife."""
    n_treat, n_read, n_case = ratings.shape
    positive = diseased.astype(bool)
    pos_index, neg_index = np.flatnonzero(positive), np.flatnonzero(~positive)
    # the AUC as a mean of kernel values over (diseased, non-diseased) pairs: leaving a case out removes its row / column
    kernels = [[None] * n_read for _ in range(n_treat)]
    for t in range(n_treat):
        for r in range(n_read):
            d = ratings[t, r, pos_index][:, None] - ratings[t, r, neg_index][None, :]
            kernels[t][r] = (d > 0) + 0.5 * (d == 0)
    n_pos, n_neg = pos_index.size, neg_index.size
    pseudo = np.empty((n_case, n_treat, n_read))
    for t in range(n_treat):
        for r in range(n_read):
            kernel = kernels[t][r]
            total, rows, columns = kernel.sum(), kernel.sum(axis=1), kernel.sum(axis=0)
            pseudo[pos_index, t, r] = (total - rows) / ((n_pos - 1) * n_neg)
            pseudo[neg_index, t, r] = (total - columns) / (n_pos * (n_neg - 1))
    flat = pseudo.reshape(n_case, n_treat * n_read)
    covariance = (n_case - 1) / n_case * ((flat - flat.mean(axis=0)).T @ (flat - flat.mean(axis=0)))
    var, cov1, cov2, cov3 = [], [], [], []
    for a in range(n_treat * n_read):
        for b in range(n_treat * n_read):
            (ta, ra), (tb, rb) = divmod(a, n_read), divmod(b, n_read)
            if a == b:
                var.append(covariance[a, b])
            elif ra == rb:
                cov1.append(covariance[a, b])
            elif ta == tb:
                cov2.append(covariance[a, b])
            else:
                cov3.append(covariance[a, b])
    return {"var": float(np.mean(var)), "cov1": float(np.mean(cov1)) if cov1 else float("nan"),
            "cov2": float(np.mean(cov2)) if cov2 else float("nan"), "cov3": float(np.mean(cov3)) if cov3 else float("nan")}


def obuchowski_rockette(ratings, diseased, modalities: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The OR analysis (random readers, random cases; Hillis ddf) of ``ratings`` ``(T, R, K)``.

    Args:
        ratings: every reader's rating of every case in every modality (a complete design:
            higher = more likely diseased, e.g. a BI-RADS rank or a probability).
        diseased: ``(K,)`` 1 diseased (malignant), 0 not.
        modalities: names of the T modalities (default ``"1"``, ``"2"``...).

    Returns the reader AUCs, modality means, variance components, F, ddf, p, and for two
    modalities the difference (second minus first) with its standard error and 95% CI.
    """
    x = np.asarray(ratings, dtype=float)
    y = np.asarray(diseased).astype(int).ravel()
    if x.ndim != 3 or x.shape[2] != y.size:
        raise ValueError(f"ratings must be (modalities, readers, cases) with {y.size} cases, got {x.shape}")
    n_treat, n_read, _ = x.shape
    if n_treat < 2 or n_read < 2:
        raise ValueError("an MRMC analysis needs at least two modalities and two readers")
    if not 1 < y.sum() < y.size - 1:
        raise ValueError("an MRMC analysis needs at least two diseased and two non-diseased cases")
    if not np.all(np.isfinite(x)):
        raise ValueError("ratings hold NaN or infinite values")
    aucs = reader_aucs(x, y)
    treat_means, reader_means, grand = aucs.mean(axis=1), aucs.mean(axis=0), aucs.mean()
    ms_t = n_read * np.sum((treat_means - grand) ** 2) / (n_treat - 1)
    ms_tr = np.sum((aucs - treat_means[:, None] - reader_means[None, :] + grand) ** 2) / ((n_treat - 1) * (n_read - 1))
    components = jackknife_covariances(x, y)
    denominator = ms_tr + n_read * max(components["cov2"] - components["cov3"], 0.0)
    f_value = ms_t / denominator if denominator > 0 else float("inf")
    ddf = denominator ** 2 / (ms_tr ** 2 / ((n_treat - 1) * (n_read - 1))) if ms_tr > 0 else float("inf")
    p_value = float(f_distribution.sf(f_value, n_treat - 1, ddf))
    names = modalities or tuple(str(t + 1) for t in range(n_treat))
    result: dict[str, Any] = {
        "method": "Obuchowski-Rockette, random readers and cases, jackknife covariances, Hillis ddf",
        "modalities": list(names), "readers": n_read, "cases": int(y.size), "diseased": int(y.sum()),
        "reader_aucs": {name: [float(v) for v in aucs[t]] for t, name in enumerate(names)},
        "mean_auc": {name: float(treat_means[t]) for t, name in enumerate(names)},
        "ms_t": float(ms_t), "ms_tr": float(ms_tr), **components,
        "f": float(f_value), "ndf": n_treat - 1, "ddf": float(ddf), "p_value": p_value,
    }
    ms_r = n_treat * np.sum((reader_means - grand) ** 2) / (n_read - 1)
    result["ms_r"] = float(ms_r)
    result["var_r"] = float((ms_r - ms_tr) / n_treat - (components["cov1"] - components["cov3"]))
    result["var_tr"] = float(ms_tr - (components["var"] - components["cov1"]) + (components["cov2"] - components["cov3"]))
    if n_treat == 2:
        difference = float(treat_means[1] - treat_means[0])
        standard_error = float(np.sqrt(2.0 / n_read * denominator))
        half = float(student_t.ppf(0.975, ddf)) * standard_error
        result["difference"] = {"of": f"{names[1]} minus {names[0]}", "estimate": difference,
                                "standard_error": standard_error, "ci95": [difference - half, difference + half]}
    return result
