"""Counts a person wants to see before training: classes, groups, folds, completeness."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .contract import Dataset
from .folds import fold_table, link_groups
from .schema import BIRADS_CATEGORIES, CLINICAL_VARIABLES


def _case_pathology(pathologies: list[str | None]) -> str:
    """Pathology of an image from its lesions: malignant wins, then benign, then normal."""
    for name in ("malignant", "benign", "normal"):
        if name in pathologies:
            return name
    return "unknown"


def summarise(dataset: Dataset) -> dict[str, Any]:
    """A JSON-friendly summary of a dataset."""
    items = dataset.items
    by_case: dict[str, list] = {}
    for item in items:
        by_case.setdefault(item.case_id, []).append(item)
    images_per_pathology = Counter(_case_pathology([i.pathology for i in lesions]) for lesions in by_case.values())
    lesions_per_pathology = Counter(i.pathology or "unknown" for i in items if i.pathology != "normal")
    dup_sizes = Counter()
    for case_items in by_case.values():
        group = case_items[0].dup_group
        if group is not None:
            dup_sizes[group] += 1
    multi = {g: n for g, n in dup_sizes.items() if n > 1}
    patients = {i.patient_id for i in items if i.patient_id}
    clinical_filled = {
        name: sum(1 for i in items if i.clinical.get(name) is not None) for name in CLINICAL_VARIABLES
    }
    custom = sorted({k for i in items for k in i.clinical if k not in CLINICAL_VARIABLES})
    return {
        "name": dataset.name,
        "folder": str(dataset.root),
        "images": len(by_case),
        "lesion_items": sum(1 for i in items if i.pathology != "normal"),
        "images_per_pathology": dict(images_per_pathology),
        "lesions_per_pathology": dict(lesions_per_pathology),
        "splits": {s: len({i.case_id for i in items if i.split == s}) for s in ("training", "test")},
        "modalities": dict(Counter(m for lesions in by_case.values() for m in lesions[0].images)),
        "patients": len(patients),
        "linked_groups": len(link_groups(items)),
        "duplicate_groups": {
            "groups": len(dup_sizes),
            "groups_with_several_images": len(multi),
            "images_in_such_groups": sum(multi.values()),
            "largest_group": max(dup_sizes.values(), default=0),
        },
        "train_only_images": len({i.case_id for i in items if i.train_only}),
        "birads": {c: n for c in BIRADS_CATEGORIES if (n := sum(1 for i in items if i.birads == c))},
        "birads_missing": sum(1 for i in items if i.birads is None and i.pathology != "normal"),
        "clinical_filled": {k: v for k, v in clinical_filled.items() if v},
        "clinical_custom": custom,
        "folds": {name: dict(counts) for name, counts in sorted(fold_table(items).items())},
    }


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as an aligned text report."""
    lines = [f"Dataset: {summary['name']}  ({summary['folder']})"]
    per = summary["images_per_pathology"]
    lines.append(
        f"Images: {summary['images']}  ("
        + ", ".join(f"{per.get(k, 0)} {k}" for k in ("benign", "malignant", "normal", "unknown") if per.get(k, 0))
        + ")"
    )
    lp = summary["lesions_per_pathology"]
    lines.append(f"Lesions: {summary['lesion_items']}  (" + ", ".join(f"{n} {k}" for k, n in sorted(lp.items())) + ")")
    lines.append("Splits (images): " + ", ".join(f"{k} {v}" for k, v in summary["splits"].items()))
    lines.append("Modalities (images): " + ", ".join(f"{k} {v}" for k, v in summary["modalities"].items()))
    lines.append(f"Patients with an id: {summary['patients']}; linked groups (case/patient/duplicate): {summary['linked_groups']}")
    d = summary["duplicate_groups"]
    lines.append(
        f"Duplicate groups: {d['groups']} ({d['groups_with_several_images']} with several images, "
        f"{d['images_in_such_groups']} images in them, largest {d['largest_group']})"
    )
    lines.append(f"Train-only images (label conflicts): {summary['train_only_images']}")
    birads = summary["birads"]
    lines.append(
        "BI-RADS: " + (", ".join(f"{k}: {v}" for k, v in birads.items()) if birads else "none recorded")
        + f"  (missing for {summary['birads_missing']} lesions)"
    )
    filled = summary["clinical_filled"]
    lines.append("Clinical variables filled: " + (", ".join(f"{k} {v}" for k, v in filled.items()) if filled else "none"))
    if summary["clinical_custom"]:
        lines.append("Custom clinical variables: " + ", ".join(summary["clinical_custom"]))
    lines.append("Folds (items per pathology):")
    for name, counts in summary["folds"].items():
        lines.append(f"  {name:<12} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return "\n".join(lines)
