"""Deterministic seeds.

The engine re-seeds every random source at the start of every epoch from
``(seed, epoch, rank)``. A run resumed from the checkpoint of epoch ``e`` therefore
draws exactly the same augmentations and batch orders as an uninterrupted run, with
no random-generator state to store in the checkpoint.
"""

from __future__ import annotations

import random

import numpy as np
import torch


def epoch_seed(seed: int, epoch: int, rank: int = 0) -> int:
    """One 31-bit seed for (run seed, epoch, process rank)."""
    return int(np.random.SeedSequence([seed, epoch, rank]).generate_state(1)[0] & 0x7FFFFFFF)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def make_deterministic() -> None:
    """Ask torch for deterministic kernels where it has them (cuDNN included)."""
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
