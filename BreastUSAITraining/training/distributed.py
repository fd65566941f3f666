"""Data-parallel training under ``torchrun``.

``torchrun --nproc_per_node=N -m BreastUSAITraining train ...`` sets ``WORLD_SIZE``,
``RANK`` and ``LOCAL_RANK``; :func:`start` then joins the process group (``nccl`` on
GPU, ``gloo`` on CPU). Only rank 0 logs, validates and writes checkpoints and the
bundle; the other ranks wait at barriers. Without torchrun everything degrades to a
single process with no process group.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands: ``rank`` of ``world_size`` (1 without torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def broadcast_object(self, value):
        """Rank 0's ``value`` on every rank."""
        if not self.enabled:
            return value
        holder = [value]
        dist.broadcast_object_list(holder, src=0)
        return holder[0]

    def average_buffers(self, module: torch.nn.Module) -> None:
        """Average floating-point buffers (BatchNorm running statistics) over the ranks.

        DDP synchronises gradients, and copies rank 0's buffers at each forward, but
        the last forward of an epoch leaves every rank with its own running statistics;
        averaging them makes the replicas identical and the statistics cover all data.
        """
        if not self.enabled:
            return
        for buffer in module.buffers():
            if buffer.is_floating_point():
                dist.all_reduce(buffer.data)
                buffer.data /= self.world_size

    def gather_objects(self, value) -> list:
        """``value`` of every rank, in rank order (on every rank)."""
        if not self.enabled:
            return [value]
        out: list = [None] * self.world_size
        dist.all_gather_object(out, value)
        return out


def context_from_environment() -> DistributedContext:
    """The context torchrun describes in the environment (single process otherwise)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistributedContext()
    return DistributedContext(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))


def start(device: torch.device) -> DistributedContext:
    """Join the process group when launched by torchrun; a no-op otherwise."""
    context = context_from_environment()
    if context.enabled and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend)
    return context


def stop(context: DistributedContext) -> None:
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()


def weights_digest(module: torch.nn.Module) -> str:
    """sha256 over every parameter and buffer (names, shapes, bytes): equal digests on
    every rank prove the replicas ended identical."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        data = tensor.detach().to("cpu").contiguous()
        digest.update(str(tuple(data.shape)).encode())
        digest.update(data.numpy().tobytes() if data.dtype != torch.bfloat16 else data.float().numpy().tobytes())
    return digest.hexdigest()
