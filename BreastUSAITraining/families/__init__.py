"""Model families as plug-ins: one registry that ``train``, ``predict``, ``evaluate``, ``compare``,
the Slicer module and the benchmarks read, so adding a family is a one-package change.

* :mod:`.family`   - :class:`ModelFamily`: a family's options, training, samples and predictor
* :mod:`.lesion`   - :class:`LesionInput` / :class:`LesionOutcome` and the one call rule
* :mod:`.registry` - :func:`register_family`, :func:`families`, :func:`family_for_task`
* :mod:`.dataset_lesions` - a dataset's lesion -> :class:`LesionInput` (evaluate)

Importing this package imports no torch.
"""

from .family import CLASSIFIER, SEGMENTATION, ExplainOptions, LesionPredictor, ModelFamily, TrainingDefaults
from .lesion import LesionInput, LesionOutcome, LesionView, call_words, is_positive
from .registry import families, family_for_task, family_named, register_family, task_words, unregister_family

__all__ = ["CLASSIFIER", "SEGMENTATION", "ExplainOptions", "LesionInput", "LesionOutcome", "LesionPredictor",
           "LesionView", "ModelFamily", "TrainingDefaults", "call_words", "families", "family_for_task",
           "family_named", "is_positive", "register_family", "task_words", "unregister_family"]
