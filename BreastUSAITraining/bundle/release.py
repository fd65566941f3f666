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


def half_precision(state: dict[str, torch.Tensor], parts: tuple[str, ...] = ("",)) -> dict[str, torch.Tensor]:
    """Weight matrices and kernels (2 dimensions or more) whose name contains one of ``parts``
    (``""``: every one) -> float16. Vectors (biases, batch-norm scales and running statistics: a
    tiny share of the size, but what float16 rounds worst) and integer buffers stay as they are."""
    return {k: v.to(torch.float16) if v.is_floating_point() and v.dim() >= 2 and any(p in k for p in parts) else v
            for k, v in state.items()}


def weights_megabytes(state: dict[str, torch.Tensor]) -> float:
    return sum(v.numel() * v.element_size() for v in state.values()) / 1e6


def package_release(source: str | Path, out: str | Path, card: str, release: dict[str, Any], half: bool = True,
                    synthetic_only: bool = False, name: str | None = None, overwrite: bool = True,
                    calibration: dict[str, Any] | None = None, half_parts: tuple[str, ...] = ("",),
                    training_data: dict[str, Any] | None = None) -> Path:
    """Write the release bundle ``out`` from the trained bundle ``source`` (verified on load).

    Args:
        card: the model card (markdown), stored as ``README.md``.
        release: facts recorded under ``metadata["release"]`` (command, commit, figures...).
        half: store weight matrices and kernels as float16 (those whose name holds one of
            ``half_parts``; the release tool keeps in float32 what float16 would change by more
            than 1e-3 in probability).
        synthetic_only: the model was trained on phantom images only (``predict`` warns).
        name: the model's name in results (default: the source's).
        training_data: facts added to ``metadata["training"]["data"]`` (e.g. the case ids of a
            bundle trained before bundles recorded them).
        calibration: stored as ``inference["calibration"]`` (e.g. ``{"method": "temperature",
            "temperature": 1.8}``; the classifiers apply it to their probability).
    """
    bundle = load_bundle(source)
    state = half_precision(bundle.state_dict, half_parts) if half and half_parts else bundle.state_dict
    halved = sum(v.numel() for v in state.values() if v.dtype == torch.float16)
    total = sum(v.numel() for v in state.values() if v.is_floating_point())
    metadata = {k: v for k, v in bundle.metadata.items() if k not in _WRITTEN_BY_SAVE}
    if name:
        metadata["name"] = name
    if training_data:
        training = dict(metadata.get("training") or {})
        training["data"] = {**(training.get("data") or {}), **training_data}
        metadata["training"] = training
    metadata["synthetic_only"] = bool(synthetic_only)
    metadata["release"] = {**release, "weights_dtype": (f"float16 for {halved / max(total, 1):.0%} of the weights "
                                                        f"({', '.join(half_parts) or 'all'} kernels and matrices), "
                                                        "float32 for the rest" if halved else "float32"),
                           "weights_megabytes": round(weights_megabytes(state), 2),
                           "trained_bundle_weights_sha256": bundle.metadata["weights_sha256"]}
    extra: dict[str, Path | bytes] = {rel: bundle.file(rel) for rel in bundle.metadata["files"]
                                      if rel not in (WEIGHTS, INFERENCE, METADATA, "README.md")}
    extra["README.md"] = card.encode("utf-8")
    inference = {**bundle.inference, **({"calibration": calibration} if calibration else {})}
    return save_bundle(out, state, metadata, inference, extra, overwrite=overwrite)
