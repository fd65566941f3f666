"""What a person reads about a run: a CSV per epoch, TensorBoard scalars, a PNG of the curves."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

from ..atomic import write_text_atomic

log = logging.getLogger(__name__)


def write_history_csv(path: str | Path, history: list[dict[str, Any]]) -> None:
    """Rewrite the whole CSV atomically (one row per finished epoch)."""
    columns: list[str] = []
    for row in history:
        columns += [key for key in row if key not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for row in history:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    write_text_atomic(path, buffer.getvalue())


class TensorBoardLog:
    """TensorBoard scalars; silently absent when tensorboard is not installed."""

    def __init__(self, folder: Path, first_epoch: int) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # optional in Slicer's Python
            log.info("tensorboard not installed: no TensorBoard log")
            self._writer = None
            return
        self._writer = SummaryWriter(str(folder), purge_step=first_epoch)

    def add(self, epoch: int, row: dict[str, Any]) -> None:
        if self._writer is None:
            return
        for key, value in row.items():
            if isinstance(value, (int, float)) and key != "epoch":
                self._writer.add_scalar(key.replace("val_", "val/").replace("train_", "train/"), value, epoch)
        self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def plot_history(path: str | Path, history: list[dict[str, Any]], metric: str, title: str) -> Path:
    """Loss (left) and the validation metric (right) per epoch, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..reports.figures import save_figure

    epochs = [row["epoch"] for row in history]
    fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=(9, 3.4))
    ax_loss.plot(epochs, [row.get("train_loss") for row in history], label="training loss")
    if any("val_loss" in row for row in history):
        ax_loss.plot(epochs, [row.get("val_loss") for row in history], label="validation loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss")
    ax_loss.legend()
    key = f"val_{metric}"
    ax_metric.plot(epochs, [row.get(key) for row in history], marker="o", color="tab:green")
    ax_metric.set_xlabel("epoch")
    ax_metric.set_ylabel(f"validation {metric}")
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)
