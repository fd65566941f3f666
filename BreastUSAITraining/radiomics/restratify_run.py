"""``restratify``: the two-stage 4A rule with a DLR_LH and a DLR_BM bundle over the BI-RADS 4A
lesions of a dataset split - per lesion the decision and its reason, and what the rule would
have changed: biopsies avoided, cancers missed, 4A malignancy rate before and after (seed 003)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_directory, write_json_atomic
from ..bundle import load_bundle
from ..dataset import load_dataset
from ..dataset.loader import lesion_dicts
from ..errors import UsageError
from ..evaluation.predictions import parse_split, write_rows_csv
from ..planes.lesion_crops import build_lesion_crop_samples
from ..statistics import biopsy_metrics
from ..training.device import resolve_device
from .predictor import RadiomicsPredictor
from .restratify import DOWNGRADE, restratify_4a


def restratify_split(lh_bundle: str | Path, bm_bundle: str | Path, data_dir: str | Path, split: str, out: str | Path,
                     device: str = "auto", progress: bool = True) -> dict[str, Any]:
    torch_device = resolve_device(device)
    lh, bm = RadiomicsPredictor(load_bundle(lh_bundle), torch_device), RadiomicsPredictor(load_bundle(bm_bundle), torch_device)
    if (lh.kind, bm.kind) != ("lh", "bm"):
        raise UsageError(f"--lh must be a DLR_LH bundle and --bm a DLR_BM bundle (got {lh.kind} and {bm.kind})")
    split_name, folds = parse_split(split)
    items = [i for i in lesion_dicts(load_dataset(data_dir), split_name, folds=folds, modalities=["us_bmode"])
             if (i["birads"] or "").upper() == "4A"]
    if not items:
        raise UsageError(f"{data_dir}: no labelled BI-RADS 4A lesion with a B-mode image in split {split}")
    samples = build_lesion_crop_samples(items, ["us_bmode"], lh.size, lh.margin, progress)
    rows = []
    for item, sample in zip(items, samples):
        crop = sample["x"].astype(np.float32) / 255.0
        p_high, p_malignant = lh.probability(crop, item["clinical"]), bm.probability(crop, item["clinical"])
        decision = restratify_4a(item["birads"], p_high, p_malignant)
        rows.append({"case_id": item["case_id"], "lesion_id": item["lesion_id"] or "", "label": item["label"],
                     "pathology": item["pathology"], "p_high_risk": round(p_high, 4), "p_malignant": round(p_malignant, 4),
                     "decision": decision.decision, "suggested_birads": decision.suggested_birads, "reason": decision.reason})
    labels = np.array([r["label"] for r in rows])
    biopsy = np.array([r["decision"] != DOWNGRADE for r in rows])
    before, after = biopsy_metrics(labels, np.ones_like(biopsy)), biopsy_metrics(labels, biopsy)
    summary = {
        "lesions_4a": len(rows), "malignant": int(labels.sum()),
        "decisions": {d: int(sum(r["decision"] == d for r in rows)) for d in ("downgrade", "keep", "upgrade")},
        "biopsies_avoided": int((~biopsy).sum()), "biopsies_avoided_fraction": float((~biopsy).mean()),
        "missed_malignancies": after["missed_malignancies"],
        "malignancy_rate_4a_before": before["malignancy_rate_among_biopsied"],
        "malignancy_rate_among_downgraded": float(labels[~biopsy].mean()) if (~biopsy).any() else None,
        "malignancy_rate_biopsied_after": after["malignancy_rate_among_biopsied"],
        "models": {"lh": lh.bundle.name, "bm": bm.bundle.name},
    }
    with atomic_directory(out, overwrite=True) as staging:
        write_rows_csv(staging / "restratification.csv", rows)
        write_json_atomic(staging / "summary.json", summary)
    return summary
