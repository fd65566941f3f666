"""McNemar's test for paired binary reads (e.g. one reader without and with AI on the same
cases): exact binomial test on the discordant pairs when they are few (< 25), otherwise the
chi-square statistic with continuity correction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binom, chi2


@dataclass(frozen=True)
class McNemarResult:
    only_a: int
    only_b: int
    statistic: float
    p_value: float
    exact: bool


def mcnemar_test(correct_a, correct_b, exact: bool | None = None) -> McNemarResult:
    """Compare two paired sets of binary outcomes (True = correct / positive call).

    ``exact`` None chooses the exact test when fewer than 25 pairs disagree.
    """
    a = np.asarray(correct_a, dtype=bool).ravel()
    b = np.asarray(correct_b, dtype=bool).ravel()
    if a.shape != b.shape:
        raise ValueError("both reads need the same cases")
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    discordant = only_a + only_b
    use_exact = discordant < 25 if exact is None else exact
    if discordant == 0:
        return McNemarResult(only_a, only_b, 0.0, 1.0, use_exact)
    if use_exact:
        p = min(1.0, 2 * binom.cdf(min(only_a, only_b), discordant, 0.5))
        return McNemarResult(only_a, only_b, float(min(only_a, only_b)), float(p), True)
    statistic = (abs(only_a - only_b) - 1) ** 2 / discordant
    return McNemarResult(only_a, only_b, float(statistic), float(chi2.sf(statistic, 1)), False)
