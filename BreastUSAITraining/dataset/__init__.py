"""The dataset contract shared by the Slicer export and the trainer (DESIGN.md section 2).

* :mod:`.schema`    - allowed modalities, pathologies, BI-RADS categories, clinical variables
* :mod:`.contract`  - the :class:`Dataset` / :class:`LesionItem` model, JSON in and out
* :mod:`.validate`  - every rule, each violation reported with item and field
* :mod:`.folds`     - fold / test assignment grouped by patient and duplicate group
* :mod:`.loader`    - MONAI-style data dicts for training
* :mod:`.busi`      - the BUSI adapter
* :mod:`.summary`   - counts for people
"""

from .schema import BIRADS_CATEGORIES, CLINICAL_VARIABLES, MODALITIES, PATHOLOGIES, SCHEMA_VERSION

# The contract and its validation are imported on first use (PEP 562): importing the schema alone
# (the Slicer panel's lists) needs no package a stock 3D Slicer lacks.
_LAZY = {"Dataset": ".contract", "LesionItem": ".contract", "load_dataset": ".contract", "save_dataset": ".contract",
         "validate_document": ".validate", "validate_dataset_folder": ".validate"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Dataset",
    "LesionItem",
    "load_dataset",
    "save_dataset",
    "validate_document",
    "validate_dataset_folder",
    "BIRADS_CATEGORIES",
    "CLINICAL_VARIABLES",
    "MODALITIES",
    "PATHOLOGIES",
    "SCHEMA_VERSION",
]
