"""Agreement between readers: Cohen's kappa (unweighted, linear or quadratic weights -
linear is usual for BI-RADS, an ordered scale) and Fleiss' kappa for several readers."""

from __future__ import annotations

from typing import Sequence

import numpy as np

#: BI-RADS categories in order, for weighted kappa.
BIRADS_ORDER = ("0", "1", "2", "3", "4", "4A", "4B", "4C", "5", "6")


def cohen_kappa(reader_a: Sequence, reader_b: Sequence, weights: str | None = None, categories: Sequence | None = None) -> float:
    """Cohen's kappa of two readers' calls on the same cases.

    ``weights``: None, ``"linear"`` or ``"quadratic"`` (disagreement weighted by distance on the
    ordered ``categories``; default order: sorted, or BI-RADS order when the calls are BI-RADS).
    """
    a, b = list(map(str, reader_a)), list(map(str, reader_b))
    if len(a) != len(b) or not a:
        raise ValueError("both readers need the same, non-zero number of calls")
    if categories is None:
        present = set(a) | set(b)
        categories = [c for c in BIRADS_ORDER if c in present] if present <= set(BIRADS_ORDER) else sorted(present)
    index = {str(c): i for i, c in enumerate(categories)}
    missing = (set(a) | set(b)) - set(index)
    if missing:
        raise ValueError(f"calls outside the categories: {sorted(missing)}")
    k = len(categories)
    table = np.zeros((k, k))
    for x, y in zip(a, b):
        table[index[x], index[y]] += 1
    table /= table.sum()
    expected = np.outer(table.sum(1), table.sum(0))
    i, j = np.indices((k, k))
    if weights is None:
        w = (i != j).astype(float)
    elif weights == "linear":
        w = np.abs(i - j) / max(k - 1, 1)
    elif weights == "quadratic":
        w = (i - j) ** 2 / max(k - 1, 1) ** 2
    else:
        raise ValueError("weights must be None, 'linear' or 'quadratic'")
    denominator = (w * expected).sum()
    return float(1 - (w * table).sum() / denominator) if denominator > 0 else 1.0


def fleiss_kappa(ratings: np.ndarray) -> float:
    """Fleiss' kappa from a (cases, categories) table of how many readers chose each category
    (every case rated by the same number of readers)."""
    table = np.asarray(ratings, dtype=float)
    if table.ndim != 2 or table.size == 0:
        raise ValueError("ratings must be a (cases, categories) table")
    raters = table.sum(axis=1)
    if not np.allclose(raters, raters[0]) or raters[0] < 2:
        raise ValueError("every case needs the same number (>= 2) of readers")
    n_raters = raters[0]
    p_category = table.sum(axis=0) / table.sum()
    agreement = ((table * (table - 1)).sum(axis=1)) / (n_raters * (n_raters - 1))
    p_bar, p_e = agreement.mean(), float((p_category ** 2).sum())
    return float((p_bar - p_e) / (1 - p_e)) if p_e < 1 else 1.0
