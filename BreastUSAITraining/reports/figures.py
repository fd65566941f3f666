"""Saving matplotlib figures: atomically, as PNG, and closed afterwards."""

from __future__ import annotations

from pathlib import Path

from ..atomic import atomic_path


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` (PNG) atomically and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)
    return path
