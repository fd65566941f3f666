"""The statistics of SPEC 3.7 against independent computations: a brute-force DeLong
(the 1988 definition), scikit-learn's Cohen's kappa, statsmodels' Fleiss' kappa and McNemar,
and hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from BreastUSAITraining.statistics import biopsy_metrics, cohen_kappa, delong_test, fleiss_kappa, mcnemar_test, net_benefit
from BreastUSAITraining.statistics.agreement import BIRADS_ORDER


def _delong_brute_force(y, a, b):
    """DeLong et al. 1988 directly: placement values from the pairwise kernel."""
    def placements(s):
        pos, neg = s[y == 1], s[y == 0]
        kernel = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        return kernel.mean(), kernel.mean(axis=1), kernel.mean(axis=0)
    auc_a, v10a, v01a = placements(a)
    auc_b, v10b, v01b = placements(b)
    m, n = v10a.size, v01a.size
    s10, s01 = np.cov([v10a, v10b]), np.cov([v01a, v01b])
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    z = (auc_a - auc_b) / np.sqrt(var)
    return auc_a, auc_b, 2 * norm.sf(abs(z))


def test_delong_matches_the_definition_with_ties():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 150)
    a = np.round(y * 0.8 + rng.normal(0, 0.7, 150), 1)
    b = np.round(y * 0.4 + rng.normal(0, 0.7, 150), 1)
    result = delong_test(y, a, b)
    auc_a, auc_b, p = _delong_brute_force(y, a, b)
    assert result.auc_a == pytest.approx(auc_a) and result.auc_b == pytest.approx(auc_b)
    assert result.p_value == pytest.approx(p, rel=1e-9)
    assert result.ci95[0] < result.difference < result.ci95[1]
    same = delong_test(y, a, a)
    assert same.p_value == 1.0 and same.difference == 0.0
    with pytest.raises(ValueError, match="both classes"):
        delong_test([1, 1], [0.1, 0.2], [0.3, 0.4])


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_matches_scikit_learn_on_birads(weights):
    rng = np.random.default_rng(2)
    scale = ["2", "3", "4A", "4B", "4C", "5"]
    a = rng.choice(scale, 120)
    b = np.where(rng.random(120) < 0.6, a, rng.choice(scale, 120))
    ours = cohen_kappa(a, b, weights)
    theirs = cohen_kappa_score(a, b, weights=weights, labels=[c for c in BIRADS_ORDER if c in scale])
    assert ours == pytest.approx(theirs, abs=1e-12)
    with pytest.raises(ValueError, match="outside the categories"):
        cohen_kappa(["3", "9"], ["3", "3"], categories=["3", "4"])


def test_fleiss_kappa_matches_statsmodels():
    rng = np.random.default_rng(4)
    table = np.array([rng.multinomial(5, [0.5, 0.3, 0.2]) for _ in range(40)])
    assert fleiss_kappa(table) == pytest.approx(sm_fleiss(table), abs=1e-12)
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa(np.array([[2, 1], [1, 1]]))


@pytest.mark.parametrize("n_only_a,n_only_b", [(3, 9), (30, 48)])
def test_mcnemar_matches_statsmodels(n_only_a, n_only_b):
    agree_right, agree_wrong = 50, 10
    a = np.r_[np.ones(agree_right), np.zeros(agree_wrong), np.ones(n_only_a), np.zeros(n_only_b)].astype(bool)
    b = np.r_[np.ones(agree_right), np.zeros(agree_wrong), np.zeros(n_only_a), np.ones(n_only_b)].astype(bool)
    ours = mcnemar_test(a, b)
    table = [[agree_right, n_only_a], [n_only_b, agree_wrong]]
    exact = n_only_a + n_only_b < 25
    theirs = sm_mcnemar(table, exact=exact, correction=True)
    assert ours.exact == exact and (ours.only_a, ours.only_b) == (n_only_a, n_only_b)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)
    assert ours.statistic == pytest.approx(theirs.statistic)


def test_net_benefit_hand_worked():
    labels = [1, 1, 0, 0, 0]
    scores = [0.9, 0.3, 0.6, 0.2, 0.1]
    curve = net_benefit(labels, scores, [0.25, 0.5])
    # t = 0.25: called 0.9, 0.3, 0.6 -> TP 2, FP 1; NB = 2/5 - 1/5 * 1/3
    assert curve["model"][0] == pytest.approx(2 / 5 - 1 / 15)
    # t = 0.5: called 0.9, 0.6 -> TP 1, FP 1; NB = 1/5 - 1/5
    assert curve["model"][1] == pytest.approx(0.0)
    assert curve["treat_all"][0] == pytest.approx(0.4 - 0.6 / 3) and curve["treat_none"].tolist() == [0, 0]
    with pytest.raises(ValueError):
        net_benefit(labels, scores, [1.0])


def test_biopsy_metrics_hand_worked():
    labels = [1, 1, 1, 0, 0, 0, 0, 0]
    biopsy = [1, 1, 0, 1, 0, 0, 0, 1]
    m = biopsy_metrics(labels, biopsy)
    assert m["recommended_biopsies"] == 4 and m["unnecessary_biopsies"] == 2 and m["missed_malignancies"] == 1
    assert m["unnecessary_biopsy_rate"] == 0.5 and m["missed_malignancy_rate"] == pytest.approx(1 / 3)
    assert m["malignancy_rate_among_biopsied"] == 0.5 and m["biopsies_avoided_vs_all"] == 4


def test_grouped_wilcoxon_says_which_way_it_leans():
    """Per-group means first (two images of a group count once), then their median and signs."""
    from BreastUSAITraining.statistics.grouped import grouped_wilcoxon

    # groups 0-3: -0.02 each (group 0 from two images -0.01 and -0.03); group 4: +0.5; group 5: exactly 0
    differences = [-0.01, -0.03, -0.02, -0.02, -0.02, 0.5, 0.0]
    groups = [0, 0, 1, 2, 3, 4, 5]
    test = grouped_wilcoxon(differences, groups)
    assert test["groups"] == 6
    assert test["groups_above_zero"] == 1 and test["groups_below_zero"] == 4
    assert test["median_group_difference"] == pytest.approx(-0.02)
    assert test["mean_group_difference"] == pytest.approx((4 * -0.02 + 0.5) / 6)
