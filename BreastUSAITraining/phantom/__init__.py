"""Deterministic synthetic breast imaging data (phantoms) in the dataset contract.

For fast tests and the demo; never for accuracy claims (those use real data).
The generator is imported on first use so that reading the presets (as the command
line does to build its help) stays instant.
"""

from .presets import ABVS_SIZES, KINDS

__all__ = ["ABVS_SIZES", "KINDS", "PhantomSettings", "generate_phantom_dataset"]


def __getattr__(name: str):
    if name in ("PhantomSettings", "generate_phantom_dataset"):
        from . import dataset_writer

        return getattr(dataset_writer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
