"""``compare``: two evaluations of the same lesions -> paired DeLong test of the AUCs and
McNemar's test of the calls at 0.5 (and the ROC curves on one plot)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_json_atomic
from ..errors import InputFileError, UsageError
from ..reports.roc_plot import plot_roc
from ..statistics import delong_test, mcnemar_test
from .predictions import read_rows_csv


def _load(folder: Path) -> tuple[dict[str, Any], dict[tuple[str, str], dict[str, str]]]:
    metrics_path, rows_path = folder / "metrics.json", folder / "predictions.csv"
    for path in (metrics_path, rows_path):
        if not path.is_file():
            raise InputFileError(path, "not an evaluation folder (run `evaluate` first)")
    metrics = json.loads(metrics_path.read_text())
    rows = {(r["case_id"], r.get("lesion_id", "")): r for r in read_rows_csv(rows_path)}
    if "probability" not in next(iter(rows.values()), {}):
        raise InputFileError(rows_path, "holds no probabilities (a segmentation evaluation?)")
    return metrics, rows


def compare_evaluations(folder_a: str | Path, folder_b: str | Path, out: str | Path | None = None) -> dict[str, Any]:
    """Compare on the lesions both evaluations share; refuses when they share none."""
    metrics_a, rows_a = _load(Path(folder_a))
    metrics_b, rows_b = _load(Path(folder_b))
    shared = sorted(set(rows_a) & set(rows_b))
    if len(shared) < 2:
        raise UsageError(f"{folder_a} and {folder_b} share {len(shared)} lesion(s); a paired comparison needs the same lesions")
    labels = np.array([int(rows_a[k]["label"]) for k in shared])
    if any(int(rows_b[k]["label"]) != l for k, l in zip(shared, labels)):
        raise UsageError("the two evaluations disagree on lesion labels: not the same dataset")
    a = np.array([float(rows_a[k]["probability"]) for k in shared])
    b = np.array([float(rows_b[k]["probability"]) for k in shared])
    delong = delong_test(labels, a, b)
    mcnemar = mcnemar_test((a >= 0.5) == labels, (b >= 0.5) == labels)
    name_a, name_b = metrics_a["model"]["name"], metrics_b["model"]["name"]
    if name_a == name_b:
        name_a, name_b = f"A: {name_a}", f"B: {name_b}"
    document = {
        "a": {"model": name_a, "folder": Path(folder_a).name}, "b": {"model": name_b, "folder": Path(folder_b).name},
        "shared_lesions": len(shared), "malignant": int(labels.sum()),
        "delong": {"auc_a": delong.auc_a, "auc_b": delong.auc_b, "difference": delong.difference,
                   "ci95": list(delong.ci95), "z": delong.z, "p_value": delong.p_value},
        "mcnemar_at_0.5": {"correct_only_a": mcnemar.only_a, "correct_only_b": mcnemar.only_b,
                           "statistic": mcnemar.statistic, "p_value": mcnemar.p_value, "exact": mcnemar.exact},
        # carried over from each evaluation: lesions that trained the model or chose its epoch
        "warnings": [f"{name}: {w}" for name, metrics in ((name_a, metrics_a), (name_b, metrics_b))
                     for w in metrics.get("data_overlap", {}).get("warnings", [])],
    }
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / "compare.json", document)
        plot_roc(out / "roc_compare.png", {name_a: (labels, a), name_b: (labels, b)}, f"DeLong p = {delong.p_value:.3g}")
    return document
