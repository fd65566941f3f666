"""Merge dataset folders into one (e.g. BUSI + BUS-BRA for multi-site training), with held-out cases.

Each source dataset's files go under ``<site>/`` in the merged folder (``busi/images/...``),
hard-linked where the file system allows, copied otherwise. Items keep their case,
patient, duplicate group, fold and split; case ids must be unique across the sources.
``dataset.json`` records, per site, the source dataset's name, reference, source digest
and case ids (``sites``), so figures can be given per site and across sites.

*Held-out* cases (e.g. the sample images shipped for the demo) are left out together with
every item linked to them (same case, patient or duplicate group), so no copy of a held-out
lesion reaches training.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_directory
from ..errors import InputFileError
from .contract import Dataset, LesionItem, load_dataset, save_dataset
from .folds import link_groups


@dataclass
class MergeReport:
    """What the merge produced."""

    out: Path
    items_per_site: dict[str, int]
    held_out_cases: list[str]


def site_tag(dataset: Dataset, index: int) -> str:
    """A short folder-safe name for a source: its ``source.name`` (``BUS-BRA`` -> ``busbra``) or ``site<k>``."""
    name = str((dataset.extra.get("source") or {}).get("name") or f"site{index + 1}")
    return re.sub(r"[^a-z0-9]", "", name.lower()) or f"site{index + 1}"


def held_out_closure(items: list[LesionItem], cases: set[str]) -> set[str]:
    """Case ids of ``cases`` and of every item linked to one of them (patient, duplicate group)."""
    closure: set[str] = set()
    for group in link_groups(items):
        if any(items[i].case_id in cases for i in group):
            closure.update(items[i].case_id for i in group)
    return closure


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _moved(item: LesionItem, tag: str) -> LesionItem:
    return dataclasses.replace(
        item,
        images={k: f"{tag}/{v}" for k, v in item.images.items()},
        segmentation={k: f"{tag}/{v}" for k, v in item.segmentation.items()},
    )


def merge_datasets(
    sources: list[str | Path], out: str | Path, hold_out: set[str] | None = None, name: str | None = None,
    overwrite: bool = False,
) -> MergeReport:
    """Write the union of the ``sources`` dataset folders to ``out`` (atomically), less ``hold_out``."""
    if len(sources) < 2:
        raise ValueError("merge needs at least two datasets")
    datasets = [load_dataset(s) for s in sources]
    tags = [site_tag(d, k) for k, d in enumerate(datasets)]
    if len(set(tags)) != len(tags):
        tags = [f"{t}{k + 1}" for k, t in enumerate(tags)]
    hold_out = set(hold_out or ())
    every_case = {item.case_id for d in datasets for item in d.items}
    unknown = sorted(hold_out - every_case)
    if unknown:
        raise InputFileError(Path(sources[0]), f"held-out case(s) not in any source dataset: {', '.join(unknown[:10])}")
    seen: dict[str, str] = {}
    for dataset, tag in zip(datasets, tags):
        for case in {item.case_id for item in dataset.items}:
            if case in seen:
                raise InputFileError(dataset.root, f"case id {case} is in both {seen[case]} and {tag}: ids must be unique")
            seen[case] = tag
    merged: list[LesionItem] = []
    sites: dict[str, dict] = {}
    held: list[str] = []
    try:
        with atomic_directory(out, overwrite=overwrite) as staging:
            for dataset, tag in zip(datasets, tags):
                excluded = held_out_closure(dataset.items, hold_out)
                held.extend(sorted(excluded))
                kept = [item for item in dataset.items if item.case_id not in excluded]
                files = {rel for item in kept for rel in (*item.images.values(), *item.segmentation.values())}
                for rel in sorted(files):
                    _link_or_copy(dataset.path(rel), staging / tag / rel)
                merged.extend(_moved(item, tag) for item in kept)
                sites[tag] = {
                    "dataset": dataset.name,
                    "reference": dataset.reference,
                    "source": dataset.extra.get("source", {}),
                    "case_ids": sorted({item.case_id for item in kept}),
                }
            result = Dataset(
                staging,
                name or " + ".join(d.name for d in datasets),
                merged,
                description="Merged by BreastUSAI from: " + "; ".join(f"{t}: {d.name}" for t, d in zip(tags, datasets))
                + (f". {len(held)} held-out case(s) and every image linked to them left out." if held else "."),
                reference=" | ".join(d.reference for d in datasets if d.reference),
                extra={"sites": sites, "held_out_cases": sorted(held)},
            )
            save_dataset(result)
    except FileExistsError as error:
        raise InputFileError(out, str(error)) from None
    return MergeReport(Path(out), {t: len(s["case_ids"]) for t, s in sites.items()}, sorted(held))


def site_of_cases(dataset: Dataset) -> dict[str, str]:
    """case id -> site tag of a merged dataset (empty for a single-site dataset)."""
    return {case: tag for tag, site in (dataset.extra.get("sites") or {}).items() for case in site.get("case_ids", [])}
