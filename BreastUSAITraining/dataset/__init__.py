"""The dataset contract shared by the Slicer export and the trainer (DESIGN.md section 2).

* :mod:`.schema`    - allowed modalities, pathologies, BI-RADS categories, clinical variables
* :mod:`.contract`  - the :class:`Dataset` / :class:`LesionItem` model, JSON in and out
* :mod:`.validate`  - every rule, each violation reported with item and field
* :mod:`.folds`     - fold / test assignment grouped by patient and duplicate group
* :mod:`.loader`    - MONAI-style data dicts for training
* :mod:`.busi`      - the BUSI adapter
* :mod:`.summary`   - counts for people
"""

from .contract import Dataset, LesionItem, load_dataset, save_dataset
from .schema import BIRADS_CATEGORIES, CLINICAL_VARIABLES, MODALITIES, PATHOLOGIES, SCHEMA_VERSION
from .validate import validate_dataset_folder, validate_document

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
