"""Turn a trained bundle into a release bundle: float16 weights, a model card, release facts.

The release bundle is an ordinary bundle (every file listed with its sha256, weights read
with ``weights_only=True``): its weights are stored in float16 where ``half`` is asked
(networks load them into float32 parameters, so inference runs exactly as before on the
rounded weights), ``README.md`` is the model card, and ``metadata.json`` gains
``release`` (the command that made it, the commit, the weights' precision, measured
differences to float32) and ``synthetic_only`` for models trained on phantoms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .bundle import INFERENCE, METADATA, WEIGHTS, load_bundle, save_bundle

#: metadata keys ``save_bundle`` writes itself
_WRITTEN_BY_SAVE = ("format", "engine_version", "created", "files", "weights_sha256")


def half_precision(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """float32 / float64 tensors -> float16; integer buffers (``num_batches_tracked``) unchanged."""
    return {k: v.to(torch.float16) if v.is_floating_point() else v for k, v in state.items()}


def weights_megabytes(state: dict[str, torch.Tensor]) -> float:
    return sum(v.numel() * v.element_size() for v in state.values()) / 1e6


def package_release(source: str | Path, out: str | Path, card: str, release: dict[str, Any], half: bool = True,
                    synthetic_only: bool = False, name: str | None = None, overwrite: bool = True,
                    calibration: dict[str, Any] | None = None) -> Path:
    """Write the release bundle ``out`` from the trained bundle ``source`` (verified on load).

    Args:
        card: the model card (markdown), stored as ``README.md``.
        release: facts recorded under ``metadata["release"]`` (command, commit, figures...).
        half: store float weights as float16.
        synthetic_only: the model was trained on phantom images only (``predict`` warns).
        name: the model's name in results (default: the source's).
        calibration: stored as ``inference["calibration"]`` (e.g. ``{"method": "temperature",
            "temperature": 1.8}``; the classifiers apply it to their probability).
    """
    bundle = load_bundle(source)
    state = half_precision(bundle.state_dict) if half else bundle.state_dict
    metadata = {k: v for k, v in bundle.metadata.items() if k not in _WRITTEN_BY_SAVE}
    if name:
        metadata["name"] = name
    metadata["synthetic_only"] = bool(synthetic_only)
    metadata["release"] = {**release, "weights_dtype": "float16" if half else "float32",
                           "weights_megabytes": round(weights_megabytes(state), 2),
                           "trained_bundle_weights_sha256": bundle.metadata["weights_sha256"]}
    extra: dict[str, Path | bytes] = {rel: bundle.file(rel) for rel in bundle.metadata["files"]
                                      if rel not in (WEIGHTS, INFERENCE, METADATA, "README.md")}
    extra["README.md"] = card.encode("utf-8")
    inference = {**bundle.inference, **({"calibration": calibration} if calibration else {})}
    return save_bundle(out, state, metadata, inference, extra, overwrite=overwrite)
