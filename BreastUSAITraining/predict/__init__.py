"""``predict``: files -> lesions, probabilities, heatmaps and overlays (one folder per input)."""

from .pipeline import PredictOptions, predict_inputs

__all__ = ["PredictOptions", "predict_inputs"]
