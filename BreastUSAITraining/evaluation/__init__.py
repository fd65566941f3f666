"""``evaluate`` and ``compare``: a bundle on a labelled split -> predictions, metrics, figures;
two evaluations of the same lesions -> DeLong and McNemar."""

from .compare import compare_evaluations
from .evaluate import evaluate_bundle

__all__ = ["compare_evaluations", "evaluate_bundle"]
