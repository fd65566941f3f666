"""The training engine shared by every model family.

* :mod:`.choices`     - the shared options' choices (torch-free)
* :mod:`.device`       - CPU / CUDA choice (``--device auto|cpu|cuda``)
* :mod:`.seeding`      - deterministic seeds (per epoch, so a resumed run repeats exactly)
* :mod:`.distributed`  - ``torchrun`` data-parallel context (gloo on CPU, nccl on GPU)
* :mod:`.checkpoint`   - atomic, resumable checkpoints loaded with ``weights_only=True``
* :mod:`.history`      - CSV + TensorBoard logs and a training-curve PNG
* :mod:`.engine`       - the loop: AMP, channels-last, validation, best-model selection

The engine (and torch) is imported on first use of its names, so ``choices`` stays light.
"""

from typing import Any

__all__ = ["TrainingResult", "TrainingSettings", "TrainingTask", "train"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(name)
