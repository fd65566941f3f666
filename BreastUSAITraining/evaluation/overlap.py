"""Does an evaluation reuse the data the model was trained or selected on?

A bundle records the dataset it was trained from, its validation fold and which epoch it
kept (``--keep best``: the best validation epoch; ``last``: the final one). Evaluating it on
the same dataset's ``training`` split can then be optimistic in two ways:

* **training data**: the evaluated folds include folds the model was trained on
  (every fold when it was trained with ``--val-fold none``) - the figures mean little;
* **epoch chosen on the evaluated data**: the evaluated folds include the validation fold
  and the kept epoch was the one scoring best there - slightly optimistic (on BUSI 5-fold CV
  the classifier's AUC was 0.006-0.009 higher than at the final epoch).

Bundles record the case ids they trained on and validated on (``training_case_ids``,
``validation_case_ids``): the check then compares content, whatever the datasets are named
(another import of other images by the same adapter shares the name, not the cases; a merged
dataset shares the cases under another name). Older bundles fall back to the dataset's name
and fold numbers. The ``test`` split is never used in training.
"""

from __future__ import annotations

from typing import Any

from ..dataset.contract import Dataset


def evaluation_overlap(metadata: dict[str, Any], dataset: Dataset, split: str, folds: list[int] | None) -> dict[str, Any]:
    """What the evaluated lesions share with the model's training: ``{"training_folds_evaluated":
    [...], "epoch_chosen_on_evaluated_fold": bool, "warnings": [...]}``; empty lists / False
    when the bundle was trained elsewhere, records no training data, or ``split`` is ``test``."""
    result: dict[str, Any] = {"training_folds_evaluated": [], "epoch_chosen_on_evaluated_fold": False, "warnings": []}
    training = metadata.get("training") or {}
    data = training.get("data") or {}
    if "training_case_ids" in data:
        return _overlap_by_case(data, training, dataset, split, folds, result)
    if split != "training" or not data or data.get("dataset") != dataset.name or dataset.n_folds == 0:
        return result
    evaluated = set(range(dataset.n_folds)) if folds is None else set(folds)
    val_fold = data.get("val_fold")
    trained_on = set(range(dataset.n_folds)) - ({val_fold} if val_fold is not None else set())
    shared = sorted(evaluated & trained_on)
    if shared:
        result["training_folds_evaluated"] = shared
        result["warnings"].append(
            f"the model was trained on fold(s) {', '.join(map(str, shared))} of dataset {dataset.name!r}, which this "
            "evaluation includes: these figures describe training data and are optimistic; evaluate on --split test "
            + (f"or fold:{val_fold}" if val_fold is not None else "or another dataset"))
    keep = (training.get("settings") or {}).get("keep", "best")
    if val_fold is not None and val_fold in evaluated and keep == "best":
        result["epoch_chosen_on_evaluated_fold"] = True
        result["warnings"].append(
            f"fold {val_fold} chose the kept epoch (best validation score, epoch {training.get('best_epoch', '?')}): "
            "figures on it are slightly optimistic; for an unbiased estimate evaluate on --split test, or train with --keep last")
    return result


def _overlap_by_case(data: dict[str, Any], training: dict[str, Any], dataset: Dataset, split: str,
                     folds: list[int] | None, result: dict[str, Any]) -> dict[str, Any]:
    evaluated = {item.case_id for item in dataset.items if item.split == split
                 and (folds is None or item.fold in folds)}
    trained = evaluated & set(data.get("training_case_ids") or [])
    validated = evaluated & set(data.get("validation_case_ids") or [])
    result["training_cases_evaluated"] = len(trained)
    if trained:
        result["training_folds_evaluated"] = sorted({i.fold for i in dataset.items if i.case_id in trained
                                                     and i.fold is not None})
        result["warnings"].append(
            f"{len(trained)} of the {len(evaluated)} evaluated images were in the model's training data: these "
            "figures describe training data and are optimistic; evaluate on images the model never saw")
    keep = (training.get("settings") or {}).get("keep", "best")
    if validated and keep == "best":
        result["epoch_chosen_on_evaluated_fold"] = True
        result["warnings"].append(
            f"{len(validated)} evaluated images chose the kept epoch (best validation score, epoch "
            f"{training.get('best_epoch', '?')}): figures on them are slightly optimistic; for an unbiased estimate "
            "evaluate on other images, or train with --keep last")
    return result
