"""ROC curve PNG with the AUC and its bootstrap CI in the legend."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..statistics import auc, bootstrap_auc_ci, roc_points
from .figures import save_figure


def plot_roc(path: str | Path, curves: dict[str, tuple[np.ndarray, np.ndarray]], title: str = "ROC") -> Path:
    """One curve per ``name -> (labels, scores)``; the diagonal for chance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 4.4))
    for name, (labels, scores) in curves.items():
        fpr, tpr, _ = roc_points(labels, scores)
        value = auc(labels, scores)
        low, high = bootstrap_auc_ci(labels, scores, resamples=1000)
        ax.plot(fpr, tpr, drawstyle="steps-post", label=f"{name}: AUC {value:.3f} ({low:.3f}-{high:.3f})")
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=0.8)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)
