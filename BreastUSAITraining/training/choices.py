"""The choices of the shared training options (torch-free: the CLI and the checks read these)."""

from __future__ import annotations

OPTIMISERS = ("adamw", "adam", "sgd")
SCHEDULERS = ("cosine", "step", "none")
KEEP = ("best", "last")
DEVICES = ("auto", "cpu", "cuda")
