"""BUSI's duplicate groups (``dup_group`` of the shared manifest), for cluster-aware statistics:
near-identical images of one lesion are one unit of evidence in every CI and paired p-value."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

MANIFEST = Path(__file__).resolve().parents[2] / "shared" / "data" / "busi" / "manifest.csv"


@lru_cache(maxsize=1)
def busi_group_of() -> dict[str, str]:
    """case_id -> duplicate group of the BUSI development images."""
    with open(MANIFEST, newline="", encoding="utf-8") as handle:
        return {row["case_id"]: row["dup_group"] for row in csv.DictReader(handle)}


def groups_for(case_ids: list[str]) -> list[str]:
    """The duplicate group of each case (a case missing from the manifest is its own group)."""
    table = busi_group_of()
    return [table.get(case, f"case:{case}") for case in case_ids]
