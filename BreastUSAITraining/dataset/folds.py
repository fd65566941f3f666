"""Cross-validation folds and test splits that never separate related images.

Items are *linked* when they share a case (lesions of one image), a patient id or a
duplicate group (near-identical images, e.g. BUSI's ``dup_group``). Each connected
group goes whole into one fold (or into test / training), so no lesion - nor any
copy of it - is seen in training and in evaluation at once. Groups are placed
greedily, largest first, into the bin where every class stays closest to its share
(stratified). Groups holding a ``train_only`` item (label conflicts) get no fold:
they are in every training set and never evaluated.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np

from .contract import LesionItem

_CLASSES = ("benign", "malignant", "normal", None)


def link_groups(items: list[LesionItem]) -> list[list[int]]:
    """Indices of ``items`` in connected groups (shared case, patient or duplicate group)."""
    parent = list(range(len(items)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    first_seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(items):
        for key in (("case", item.case_id), ("patient", item.patient_id), ("dup", item.dup_group)):
            if key[1] is None:
                continue
            if key in first_seen:
                parent[find(index)] = find(first_seen[key])
            else:
                first_seen[key] = index
    groups: dict[int, list[int]] = {}
    for index in range(len(items)):
        groups.setdefault(find(index), []).append(index)
    return list(groups.values())


def _place_groups(
    items: list[LesionItem], groups: list[list[int]], weights: list[float], seed: int
) -> list[int]:
    """Bin index for each group, balancing every class against the bin weights."""
    counts = np.array([[sum(items[i].pathology == c for i in g) for c in _CLASSES] for g in groups], dtype=float)
    totals = np.maximum(counts.sum(axis=0), 1.0)
    weights_arr = np.asarray(weights, dtype=float) / np.sum(weights)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(groups))
    order = sorted(order, key=lambda g: -counts[g].sum())  # stable: largest first, random among ties
    filled = np.zeros((len(weights), len(_CLASSES)))
    placed = [0] * len(groups)
    for g in order:
        # cost: how far each class of each bin would be from its target share
        trial = filled[None, :, :] + np.eye(len(weights))[:, :, None] * counts[g][None, None, :]
        share = trial / totals[None, None, :]
        cost = ((share - weights_arr[None, :, None]) ** 2).sum(axis=(1, 2))
        # prefer the least-filled bin on ties (relative to its weight)
        cost += 1e-9 * filled.sum(axis=1) / weights_arr
        chosen = int(np.argmin(cost))
        filled[chosen] += counts[g]
        placed[g] = chosen
    return placed


def assign_folds(items: list[LesionItem], n_folds: int = 5, seed: int = 0) -> list[LesionItem]:
    """Copies of ``items`` with ``fold`` set for the training split (test items untouched).

    Groups with a ``train_only`` member are marked train-only as a whole (fold None).
    """
    if n_folds < 2:
        raise ValueError(f"need at least 2 folds, got {n_folds}")
    out = [dataclasses.replace(item) for item in items]
    training = [i for i, item in enumerate(out) if item.split == "training"]
    subset = [out[i] for i in training]
    groups = link_groups(subset)
    evaluable = []
    for group in groups:
        if any(subset[i].train_only for i in group):
            for i in group:
                subset[i].train_only = True
                subset[i].fold = None
        else:
            evaluable.append(group)
    placed = _place_groups(subset, evaluable, [1.0] * n_folds, seed)
    for group, fold in zip(evaluable, placed):
        for i in group:
            subset[i].fold = fold
    return out


def assign_test_split(items: list[LesionItem], test_fraction: float, seed: int = 0) -> list[LesionItem]:
    """Copies of ``items`` with whole groups moved to the ``test`` split (stratified).

    Train-only groups always stay in training. ``fold`` is cleared on test items.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test fraction must be between 0 and 1, got {test_fraction}")
    out = [dataclasses.replace(item, split="training") for item in items]
    groups = [g for g in link_groups(out) if not any(out[i].train_only for i in g)]
    placed = _place_groups(out, groups, [1.0 - test_fraction, test_fraction], seed)
    for group, chosen in zip(groups, placed):
        if chosen == 1:
            for i in group:
                out[i].split = "test"
                out[i].fold = None
    return out


def fold_table(items: list[LesionItem]) -> dict[str, Counter]:
    """Pathology counts per fold ("train-only" and "test" included), for summaries."""
    table: dict[str, Counter] = {}
    for item in items:
        if item.split == "test":
            name = "test"
        elif item.train_only:
            name = "train-only"
        else:
            name = "unassigned" if item.fold is None else f"fold {item.fold}"
        table.setdefault(name, Counter())[item.pathology or "unknown"] += 1
    return table
