"""The training engine shared by every model family.

* :mod:`.device`       - CPU / CUDA choice (``--device auto|cpu|cuda``)
* :mod:`.seeding`      - deterministic seeds (per epoch, so a resumed run repeats exactly)
* :mod:`.distributed`  - ``torchrun`` data-parallel context (gloo on CPU, nccl on GPU)
* :mod:`.checkpoint`   - atomic, resumable checkpoints loaded with ``weights_only=True``
* :mod:`.history`      - CSV + TensorBoard logs and a training-curve PNG
* :mod:`.engine`       - the loop: AMP, channels-last, validation, best-model selection
"""

from .engine import TrainingResult, TrainingSettings, TrainingTask, train

__all__ = ["TrainingResult", "TrainingSettings", "TrainingTask", "train"]
