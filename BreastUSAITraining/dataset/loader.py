"""From a dataset to MONAI-style data dicts (``list[dict]`` for ``monai.data.Dataset``).

Two views:

* :func:`lesion_dicts` - one dict per lesion, for classifiers.
* :func:`case_dicts`   - one dict per image with all its lesion segments, for
  segmentation (lesion-free ``normal`` images included, with no segments).

Paths in the dicts are absolute strings; the keys are the modality names
(``us_bmode`` ...), plus ``image`` (the primary modality), ``segmentation``
(the primary image's ``.seg.nrrd``), ``segmentation_<modality>`` for others.
"""

from __future__ import annotations

from typing import Any, Iterable

from .contract import Dataset, LesionItem


def _selected(
    dataset: Dataset, split: str, folds: Iterable[int] | None, exclude_folds: Iterable[int] | None
) -> list[LesionItem]:
    """Items of ``split`` whose fold is in ``folds`` (None: all) and not in ``exclude_folds``.

    Train-only items (fold None) are kept whenever only ``exclude_folds`` is given (a
    training set), and dropped when ``folds`` is given (an evaluation set).
    """
    wanted = None if folds is None else set(folds)
    excluded = set(exclude_folds or ())
    chosen = []
    for item in dataset.split(split):
        if wanted is not None and item.fold not in wanted:
            continue
        if item.fold is not None and item.fold in excluded:
            continue
        chosen.append(item)
    return chosen


def _paths(dataset: Dataset, item: LesionItem) -> dict[str, Any]:
    entry: dict[str, Any] = {m: str(dataset.path(p)) for m, p in item.images.items()}
    primary = item.primary_modality
    entry["image"] = entry[primary]
    entry["modality"] = primary
    for modality, rel in item.segmentation.items():
        key = "segmentation" if modality == primary else f"segmentation_{modality}"
        entry[key] = str(dataset.path(rel))
    return entry


def lesion_dicts(
    dataset: Dataset,
    split: str = "training",
    folds: Iterable[int] | None = None,
    exclude_folds: Iterable[int] | None = None,
    modalities: Iterable[str] | None = None,
    labelled_only: bool = True,
) -> list[dict[str, Any]]:
    """One dict per lesion: paths, ``label`` (0 benign / 1 malignant), metadata.

    Args:
        split: ``"training"`` or ``"test"``.
        folds / exclude_folds: fold filter (see :func:`_selected`).
        modalities: keep only lesions that have all these images.
        labelled_only: drop lesions with unknown pathology and normal images.
    """
    needed = set(modalities or ())
    out = []
    for item in _selected(dataset, split, folds, exclude_folds):
        if item.pathology == "normal" or (labelled_only and item.label is None):
            continue
        if not needed.issubset(item.images):
            continue
        entry = _paths(dataset, item)
        entry.update(
            case_id=item.case_id,
            lesion_id=item.lesion_id,
            patient_id=item.patient_id,
            segment=item.segment,
            label=item.label,
            pathology=item.pathology,
            birads=item.birads,
            clinical=dict(item.clinical),
            fold=item.fold,
        )
        out.append(entry)
    return out


def case_dicts(
    dataset: Dataset,
    split: str = "training",
    folds: Iterable[int] | None = None,
    exclude_folds: Iterable[int] | None = None,
    modality: str | None = None,
) -> list[dict[str, Any]]:
    """One dict per case (image): ``image``, ``segmentation``, ``segments`` (lesion names).

    ``modality`` picks which image of multimodal cases to use (default: primary);
    cases without that image or without a segmentation file for it are skipped.
    """
    cases: dict[str, dict[str, Any]] = {}
    for item in _selected(dataset, split, folds, exclude_folds):
        chosen = modality or item.primary_modality
        if chosen not in item.images or chosen not in item.segmentation:
            continue
        entry = cases.get(item.case_id)
        if entry is None:
            entry = {
                "case_id": item.case_id,
                "patient_id": item.patient_id,
                "modality": chosen,
                "image": str(dataset.path(item.images[chosen])),
                "segmentation": str(dataset.path(item.segmentation[chosen])),
                "segments": [],
                "pathology": item.pathology,
                "fold": item.fold,
            }
            cases[item.case_id] = entry
        if item.segment:
            entry["segments"].append(item.segment)
        if item.pathology == "malignant":
            entry["pathology"] = "malignant"
    return list(cases.values())


def fold_split(dataset: Dataset, val_fold: int | None, **filters: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(training, validation) lesion dicts for a cross-validation fold: training is every fold
    but ``val_fold`` plus the train-only items, validation is ``val_fold`` (empty when None).
    ``filters`` go to :func:`lesion_dicts` (``modalities``, ``labelled_only``)."""
    if val_fold is None:
        return lesion_dicts(dataset, "training", **filters), []
    return (lesion_dicts(dataset, "training", exclude_folds=[val_fold], **filters),
            lesion_dicts(dataset, "training", folds=[val_fold], **filters))
