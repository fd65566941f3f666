"""Which device a run uses: ``auto`` (CUDA when present, else CPU), ``cpu`` or ``cuda``."""

from __future__ import annotations

import os

import torch

from ..errors import UsageError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(choice: str = "auto", local_rank: int | None = None) -> torch.device:
    """The torch device for ``choice``; ``cuda`` without a GPU is a usage error.

    ``local_rank`` (from torchrun) picks the GPU of this process on multi-GPU nodes.
    ``CUDA_VISIBLE_DEVICES=-1`` hides every GPU, so ``auto`` falls back to the CPU.
    """
    if choice not in DEVICE_CHOICES:
        raise UsageError(f"--device must be one of {', '.join(DEVICE_CHOICES)}, got {choice!r}")
    has_cuda = torch.cuda.is_available()
    if choice == "cuda" and not has_cuda:
        raise UsageError("--device cuda was asked for but no CUDA GPU is visible (use --device cpu or auto)")
    if choice == "cpu" or not has_cuda:
        return torch.device("cpu")
    index = local_rank if local_rank is not None else int(os.environ.get("LOCAL_RANK", 0))
    return torch.device("cuda", index % torch.cuda.device_count())


def describe_device(device: torch.device) -> str:
    """'cpu (2 threads)' or 'cuda:0 (NVIDIA H100 80GB HBM3)'."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"
