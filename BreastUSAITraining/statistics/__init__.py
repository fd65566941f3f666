"""Statistics the papers report (SPEC 3.7). No plotting here: :mod:`..reports` draws."""

from .roc import auc, bootstrap_auc_ci, roc_points, threshold_metrics, youden_threshold

__all__ = ["auc", "bootstrap_auc_ci", "roc_points", "threshold_metrics", "youden_threshold"]
