"""The training loop every model family shares.

A model family describes itself as a :class:`TrainingTask` (its network, data, loss
and validation metric); :func:`train` does the rest: device choice, deterministic
per-epoch seeds, AMP and channels-last on CUDA, DistributedDataParallel under
torchrun, validation every epoch, best-model selection (or the last epoch, ``keep="last"``:
no choice made on the validation data), atomic resumable
checkpoints, CSV / TensorBoard logs and a progress bar.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from ..errors import InputFileError, UsageError
from . import distributed
from .checkpoint import BEST, LAST, load_checkpoint, save_checkpoint
from .choices import KEEP, OPTIMISERS, SCHEDULERS
from .device import describe_device, resolve_device
from .history import TensorBoardLog, plot_history, write_history_csv
from .seeding import epoch_seed, make_deterministic, seed_everything
from .task import TrainingTask

log = logging.getLogger(__name__)


@dataclass
class TrainingSettings:
    """How to train (the CLI's common options)."""

    run_dir: Path
    epochs: int = 30
    batch_size: int = 16
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    optimiser: str = "adamw"
    momentum: float = 0.9
    scheduler: str = "cosine"
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    channels_last: bool = True
    num_workers: int = 0
    resume: bool = False
    progress: bool = True
    max_steps_per_epoch: int | None = None
    keep: str = "best"  # which epoch becomes the bundle: "best" validation metric, or "last" (selectable) epoch

    def problems(self) -> list[str]:
        found = []
        if self.epochs < 1:
            found.append(f"--epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            found.append(f"--batch-size must be at least 1, got {self.batch_size}")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            found.append(f"--lr must be a positive number, got {self.learning_rate}")
        if self.optimiser not in OPTIMISERS:
            found.append(f"--optimiser must be one of {', '.join(OPTIMISERS)}, got {self.optimiser!r}")
        if self.scheduler not in SCHEDULERS:
            found.append(f"--scheduler must be one of {', '.join(SCHEDULERS)}, got {self.scheduler!r}")
        if self.keep not in KEEP:
            found.append(f"--keep must be best or last, got {self.keep!r}")
        return found

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_dir"] = str(self.run_dir)
        return data


@dataclass
class TrainingResult:
    """The outcome: ``model`` holds the kept epoch's weights (on CPU, eval mode): the best
    validation epoch, or the last one under ``keep="last"``; ``best_metric`` / ``best_epoch``
    describe that kept epoch."""

    model: nn.Module
    best_metric: float | None
    best_epoch: int
    history: list[dict[str, Any]]
    device: str
    seconds: float
    world_size: int = 1
    is_main: bool = True
    rank_digests: list[str] = field(default_factory=list)
    resumed_from_epoch: int = 0
    #: the autocast dtype the steps ran in ("bfloat16" / "float16" on CUDA), "off" (always on CPU,
    #: whatever ``settings.amp`` asked)
    mixed_precision: str = "off"


def _optimiser(settings: TrainingSettings, model: nn.Module, task: TrainingTask) -> torch.optim.Optimizer:
    params = task.parameter_groups(model, settings.learning_rate)
    if settings.optimiser == "sgd":
        return torch.optim.SGD(params, lr=settings.learning_rate, momentum=settings.momentum,
                               weight_decay=settings.weight_decay, nesterov=True)
    if settings.optimiser == "adam":
        return torch.optim.Adam(params, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    return torch.optim.AdamW(params, lr=settings.learning_rate, weight_decay=settings.weight_decay)


def _scheduler(settings: TrainingSettings, optimiser: torch.optim.Optimizer):
    if settings.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=settings.epochs, eta_min=settings.learning_rate * 0.01)
    if settings.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(optimiser, step_size=max(1, settings.epochs // 3), gamma=0.1)
    return torch.optim.lr_scheduler.LambdaLR(optimiser, lambda _epoch: 1.0)


def _amp_dtype(device: torch.device) -> torch.dtype | None:
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _to_channels_last(batch: Any) -> Any:
    if isinstance(batch, torch.Tensor) and batch.dim() == 4:
        return batch.contiguous(memory_format=torch.channels_last)
    if isinstance(batch, dict):
        return {k: _to_channels_last(v) for k, v in batch.items()}
    return batch


def _resume_state(settings: TrainingSettings, task: TrainingTask) -> dict[str, Any] | None:
    path = settings.run_dir / "checkpoints" / LAST
    if not settings.resume:
        if path.exists():
            raise UsageError(f"{settings.run_dir} already holds a run (checkpoint {path}); "
                             "add --resume to continue it or choose another --run-dir")
        return None
    if not path.exists():
        log.warning("--resume: no checkpoint in %s yet, starting from epoch 1", path.parent)
        return None
    state = load_checkpoint(path)
    if state.get("fingerprint") != task.fingerprint():
        raise InputFileError(path, "this checkpoint belongs to a different model or dataset configuration; "
                             f"checkpoint: {state.get('fingerprint')}, now: {task.fingerprint()}")
    return state


def train(task: TrainingTask, settings: TrainingSettings) -> TrainingResult:
    """Train ``task`` under ``settings``; see the module docstring."""
    problems = settings.problems()
    if problems:
        raise UsageError("; ".join(problems))
    started = time.perf_counter()
    context = distributed.context_from_environment()
    device = resolve_device(settings.device, context.local_rank if context.enabled else None)
    context = distributed.start(device)
    try:
        return _train(task, settings, context, device, started)
    finally:
        distributed.stop(context)


def _train(task: TrainingTask, settings: TrainingSettings, context: distributed.DistributedContext,
           device: torch.device, started: float) -> TrainingResult:
    settings.run_dir = Path(settings.run_dir)
    checkpoints = settings.run_dir / "checkpoints"
    make_deterministic()
    seed_everything(settings.seed)
    model = task.build_model()
    use_channels_last = settings.channels_last and device.type == "cuda"
    model = model.to(device)
    if use_channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimiser = _optimiser(settings, model, task)
    scheduler = _scheduler(settings, optimiser)
    amp_dtype = _amp_dtype(device) if settings.amp else None
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)

    state = _resume_state(settings, task) if context.is_main else None
    state = context.broadcast_object(state)
    first_epoch, best_metric, best_epoch, history = 1, None, 0, []
    if state is not None:
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        if "scaler" in state:
            scaler.load_state_dict(state["scaler"])
        first_epoch = int(state["epoch"]) + 1
        best_metric, best_epoch = state.get("best_metric"), int(state.get("best_epoch", 0))
        history = list(state.get("history", []))
        if context.is_main:
            log.info("resuming %s after epoch %d (best %s %s at epoch %d)", task.name, first_epoch - 1,
                     task.metric, best_metric, best_epoch)
    resumed_from = first_epoch - 1

    wrapped: nn.Module = model
    if context.enabled:
        wrapped = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    data = task.training_data()
    collate = task.collate
    if len(data) == 0:
        raise UsageError(f"{task.name}: no training samples")
    if context.is_main:
        settings.run_dir.mkdir(parents=True, exist_ok=True)
        log.info("%s: %d training samples, device %s, %d process(es), AMP %s", task.name, len(data),
                 describe_device(device), context.world_size, amp_dtype or "off")
    board = TensorBoardLog(settings.run_dir / "tensorboard", first_epoch) if context.is_main else None

    for epoch in range(first_epoch, settings.epochs + 1):
        seed = epoch_seed(settings.seed, epoch, context.rank)
        seed_everything(seed)
        task.set_epoch_seed(seed)
        task.on_epoch_start(model, epoch)
        if context.enabled:
            sampler = DistributedSampler(data, num_replicas=context.world_size, rank=context.rank, shuffle=True, seed=settings.seed)
            sampler.set_epoch(epoch)
            loader = DataLoader(data, batch_size=settings.batch_size, sampler=sampler, num_workers=settings.num_workers,
                                collate_fn=collate, drop_last=len(data) > settings.batch_size * context.world_size)
        else:
            generator = torch.Generator().manual_seed(seed)
            loader = DataLoader(data, batch_size=settings.batch_size, shuffle=True, generator=generator,
                                num_workers=settings.num_workers, collate_fn=collate, drop_last=len(data) > settings.batch_size)
        wrapped.train()
        epoch_start = time.perf_counter()
        total_loss, samples, steps = 0.0, 0, 0
        bar = tqdm(loader, desc=f"{task.name} epoch {epoch}/{settings.epochs}", leave=False,
                   disable=not (settings.progress and context.is_main), unit="batch")
        for batch in bar:
            if settings.max_steps_per_epoch is not None and steps >= settings.max_steps_per_epoch:
                break
            if use_channels_last:
                batch = _to_channels_last(batch)
            optimiser.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
                loss = task.training_loss(wrapped, batch, device)
            if not torch.isfinite(loss):
                raise UsageError(f"{task.name}: the training loss became {loss.item()} at epoch {epoch}; "
                                 "lower --lr or check the data")
            scaler.scale(loss).backward()
            scaler.step(optimiser)
            scaler.update()
            size = _batch_size(batch)
            total_loss += float(loss.detach()) * size
            samples += size
            steps += 1
            bar.set_postfix(loss=f"{total_loss / max(samples, 1):.4f}")
        scheduler.step()
        task.on_epoch_end(model, epoch, device)
        train_seconds = time.perf_counter() - epoch_start
        context.average_buffers(model)
        if context.enabled:
            totals = torch.tensor([total_loss, samples], dtype=torch.float64)
            torch.distributed.all_reduce(totals)
            total_loss, samples = float(totals[0]), int(totals[1])

        row: dict[str, Any] = {"epoch": epoch, "train_loss": total_loss / max(samples, 1),
                               "lr": optimiser.param_groups[0]["lr"],
                               "train_samples_per_s": samples / max(train_seconds, 1e-9)}
        if context.is_main:
            model.eval()
            with torch.no_grad(), torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
                figures = task.validate(model, device)
            row.update({f"val_{k}": float(v) for k, v in figures.items()})
            value = figures.get(task.metric)
            selectable = task.selectable(epoch)
            lower_is_better = task.metric_goal == "min"
            improved = value is not None and math.isfinite(value) and (
                best_metric is None or (value < best_metric if lower_is_better else value > best_metric))
            # no validation data, or --keep last: the last (selectable) epoch is kept, whatever its metric
            if selectable and (improved or not figures or settings.keep == "last"):
                best_metric, best_epoch = (float(value) if value is not None else None), epoch
                save_checkpoint(checkpoints / BEST, {"model": model.state_dict(), "epoch": epoch})
            row["seconds"] = time.perf_counter() - epoch_start
            history.append(row)
            save_checkpoint(checkpoints / LAST, {
                "epoch": epoch, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(),
                "best_metric": best_metric, "best_epoch": best_epoch, "history": history,
                "fingerprint": task.fingerprint(), "settings": settings.to_json(),
            })
            write_history_csv(settings.run_dir / "training_log.csv", history)
            board.add(epoch, row)
            shown = f" val {task.metric} {value:.4f}" if value is not None else ""
            kept = "best" if settings.keep == "best" else "kept"
            best = f" ({kept} {best_metric:.4f} @ {best_epoch})" if best_metric is not None else ""
            log.info("%s epoch %d/%d: loss %.4f%s%s, %.1f s", task.name, epoch, settings.epochs,
                     row["train_loss"], shown, best, row["seconds"])
        context.barrier()

    digests = context.gather_objects(distributed.weights_digest(model))
    if board is not None:
        board.close()
    if context.is_main and history:
        plot_history(settings.run_dir / "training_curves.png", history, task.metric, f"{task.name} training")
    context.barrier()
    best_path = checkpoints / BEST
    if best_path.exists():
        model.load_state_dict(load_checkpoint(best_path)["model"])
    model = model.to("cpu").to(memory_format=torch.contiguous_format).eval()
    return TrainingResult(model, best_metric, best_epoch, history, describe_device(device),
                          time.perf_counter() - started, context.world_size, context.is_main, digests, resumed_from,
                          str(amp_dtype).removeprefix("torch.") if amp_dtype else "off")


def _batch_size(batch: Any) -> int:
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0])
    if isinstance(batch, dict):
        for value in batch.values():
            if isinstance(value, torch.Tensor):
                return int(value.shape[0])
    if isinstance(batch, (list, tuple)) and batch:
        return _batch_size(batch[0])
    return 1
