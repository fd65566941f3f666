"""The two-stage BI-RADS 4A re-stratification rule: every branch of its table."""

from __future__ import annotations

import pytest

from BreastUSAITraining.radiomics import restratify_4a

CASES = [
    # birads, p_high_risk, p_malignant, decision, suggested, biopsy
    ("4A", 0.20, 0.10, "downgrade", "3", False),
    ("4A", 0.80, 0.90, "upgrade", "4B", True),
    ("4A", 0.80, 0.10, "keep", "4A", True),      # high risk but benign
    ("4A", 0.20, 0.90, "keep", "4A", True),      # low risk but malignant
    ("4a", 0.50, 0.50, "upgrade", "4B", True),   # thresholds inclusive, case-insensitive category
    ("4A", 0.4999, 0.4999, "downgrade", "3", False),
    ("3", 0.90, 0.90, "not applicable", "3", False),
    ("4B", 0.10, 0.10, "not applicable", "4B", True),
    ("5", 0.10, 0.10, "not applicable", "5", True),
    (None, 0.10, 0.10, "not applicable", "unknown", False),
]


@pytest.mark.parametrize("birads,high,malignant,decision,suggested,biopsy", CASES)
def test_every_branch(birads, high, malignant, decision, suggested, biopsy):
    result = restratify_4a(birads, high, malignant)
    assert (result.decision, result.suggested_birads, result.biopsy) == (decision, suggested, biopsy)
    assert result.reason


def test_reason_names_both_models_and_probabilities_are_checked():
    reason = restratify_4a("4A", 0.8, 0.1).reason
    assert "DLR_LH high risk (0.80)" in reason and "DLR_BM benign (0.10)" in reason
    with pytest.raises(ValueError, match="p_malignant"):
        restratify_4a("4A", 0.5, 1.5)
