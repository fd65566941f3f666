"""Model bundles: a trained model as a folder in MONAI-bundle layout (DESIGN.md section 3).

::

    BUNDLE/configs/metadata.json    task, network, inputs, outputs, classes, pre-processing,
                                    training data summary, metrics, files and their sha256
    BUNDLE/configs/inference.json   how to run it (network arguments, sizes, thresholds)
    BUNDLE/models/model.pt          the state_dict (torch.save of tensors only)
    BUNDLE/logs/, BUNDLE/docs/      training log, curves, anything else listed in metadata

Loading verifies every listed file's sha256, refuses paths that leave the folder and
reads weights with ``torch.load(weights_only=True)``: a bundle can never run code.
"""

from .metadata import BUNDLE_FORMAT

__all__ = ["Bundle", "load_bundle", "save_bundle", "BUNDLE_FORMAT"]


def __getattr__(name: str):
    """``Bundle``, ``load_bundle``, ``save_bundle`` import torch: loaded on first use (PEP 562)."""
    if name in ("Bundle", "load_bundle", "save_bundle"):
        from . import bundle

        return getattr(bundle, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
