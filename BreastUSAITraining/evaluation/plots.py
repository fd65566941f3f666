"""The figures of an evaluation: ROC with a bootstrap band, confusion matrix, calibration,
decision curve (matplotlib PNGs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..reports.figures import save_figure
from ..statistics import auc, net_benefit, roc_points


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def roc_band(labels: np.ndarray, scores: np.ndarray, resamples: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr grid, 2.5% TPR, 97.5% TPR) from stratified bootstrap resamples."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 1, 101)
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    curves = np.empty((resamples, grid.size))
    for b in range(resamples):
        index = np.concatenate([rng.choice(positives, positives.size), rng.choice(negatives, negatives.size)])
        fpr, tpr, _ = roc_points(labels[index], scores[index])
        curves[b] = np.interp(grid, fpr, tpr)
    low, high = np.percentile(curves, [2.5, 97.5], axis=0)
    return grid, low, high


def plot_roc_with_band(path: Path, labels: np.ndarray, scores: np.ndarray, name: str, ci: tuple[float, float]) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.6, 4.4))
    grid, low, high = roc_band(labels, scores)
    ax.fill_between(grid, low, high, alpha=0.25, color="tab:blue", label="95% bootstrap band")
    fpr, tpr, _ = roc_points(labels, scores)
    ax.plot(fpr, tpr, drawstyle="steps-post", color="tab:blue", label=f"{name}: AUC {auc(labels, scores):.3f} ({ci[0]:.3f}-{ci[1]:.3f})")
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=0.8)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_confusion(path: Path, counts: dict[str, int], threshold: float) -> Path:
    plt = _plt()
    table = np.array([[counts["tn"], counts["fp"]], [counts["fn"], counts["tp"]]])
    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    ax.imshow(table, cmap="Blues")
    for (r, c), value in np.ndenumerate(table):
        ax.text(c, r, str(value), ha="center", va="center", fontsize=12)
    ax.set_xticks([0, 1], ["benign", "malignant"])
    ax.set_yticks([0, 1], ["benign", "malignant"])
    ax.set_xlabel("model call")
    ax.set_ylabel("pathology")
    ax.set_title(f"threshold {threshold:.2f}", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def calibration_bins(labels: np.ndarray, scores: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Mean predicted probability vs observed malignancy rate per equal-width probability bin."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            out.append({"bin": b, "count": int(inside.sum()), "mean_probability": float(scores[inside].mean()),
                        "observed_rate": float(labels[inside].mean())})
    return out


def plot_calibration(path: Path, bins: list[dict[str, float]]) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=0.8)
    ax.plot([b["mean_probability"] for b in bins], [b["observed_rate"] for b in bins], marker="o")
    ax.set_xlabel("predicted malignant probability")
    ax.set_ylabel("observed malignant fraction")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_decision_curve(path: Path, labels: np.ndarray, scores: np.ndarray) -> tuple[Path, dict[str, list[float]]]:
    plt = _plt()
    curve = net_benefit(labels, scores, np.linspace(0.01, 0.99, 99))
    fig, ax = plt.subplots(figsize=(4.6, 3.8))
    ax.plot(curve["threshold"], curve["model"], label="model")
    ax.plot(curve["threshold"], curve["treat_all"], label="biopsy all")
    ax.plot(curve["threshold"], curve["treat_none"], label="biopsy none")
    low = min(-0.05, float(np.min(curve["model"])) - 0.02)
    ax.set_ylim(low, max(0.05, float(labels.mean()) + 0.05))
    ax.set_xlabel("threshold probability")
    ax.set_ylabel("net benefit")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path), {k: [round(float(v), 5) for v in values] for k, values in curve.items()}
