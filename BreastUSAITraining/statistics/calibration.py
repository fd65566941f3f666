"""Does a probability mean what it says? Brier score, expected calibration error, and
temperature scaling (Guo et al., ICML 2017) of a two-class model's malignant probability.

Temperature scaling divides the model's logit by one number ``T`` fitted on held-out
predictions (lowest negative log-likelihood): ``p' = sigmoid(logit(p) / T)``. ``T > 1``
softens an over-confident model; the ranking of lesions, and so the AUC, is unchanged.
Fit it on predictions the model never trained on (out-of-fold predictions of a
cross-validation), and judge it on others.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def apply_temperature(probabilities, temperature: float) -> np.ndarray:
    """``sigmoid(logit(p) / temperature)`` element-wise."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    return 1.0 / (1.0 + np.exp(-_logit(probabilities) / temperature))


def fit_temperature(labels, probabilities, bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """The temperature minimising the mean negative log-likelihood of ``labels`` (0 / 1)."""
    y = np.asarray(labels, dtype=float)
    z = _logit(probabilities)
    if y.size == 0 or y.min() == y.max():
        raise ValueError("fitting a temperature needs benign and malignant lesions")

    def nll(log_t: float) -> float:
        q = np.clip(1.0 / (1.0 + np.exp(-z / np.exp(log_t))), _EPS, 1 - _EPS)
        return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))

    found = minimize_scalar(nll, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded",
                            options={"xatol": 1e-6})
    return float(np.exp(found.x))


def brier_score(labels, probabilities) -> float:
    """Mean squared difference between probability and outcome (0 best; 0.25 for a constant 0.5)."""
    y, p = np.asarray(labels, dtype=float), np.asarray(probabilities, dtype=float)
    return float(np.mean((p - y) ** 2))


def expected_calibration_error(labels, probabilities, bins: int = 10) -> float:
    """Weighted mean |observed malignant share - mean probability| over ``bins`` equal-width bins."""
    y, p = np.asarray(labels, dtype=float), np.asarray(probabilities, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.sum() * abs(y[inside].mean() - p[inside].mean())
    return float(total / max(y.size, 1))


def reliability_table(labels, probabilities, bins: int = 10) -> list[dict[str, float]]:
    """Per non-empty bin: range, lesions, mean probability and observed malignant share."""
    y, p = np.asarray(labels, dtype=float), np.asarray(probabilities, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            rows.append({"low": b / bins, "high": (b + 1) / bins, "lesions": int(inside.sum()),
                         "mean_probability": round(float(p[inside].mean()), 4),
                         "observed_malignant": round(float(y[inside].mean()), 4)})
    return rows
