"""PNG overlays a person can look at: heatmap in colour over the grey image, lesion outline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from ..atomic import atomic_path
from ..preprocessing import normalise_intensity

LESION_OUTLINE = (0, 255, 120)


def _colourise(heat: np.ndarray) -> np.ndarray:
    from matplotlib import colormaps

    return (colormaps["jet"](np.clip(heat, 0, 1))[..., :3] * 255).astype(np.float32)


def blend(grey: np.ndarray, heat: np.ndarray | None, outline: np.ndarray | None = None, opacity: float = 0.4) -> np.ndarray:
    """(H, W) grey (any range) + (H, W) heat in [0, 1] (+ bool mask) -> (H, W, 3) uint8.

    Heat is shown where it exceeds 0.1, with opacity growing with the heat."""
    base = np.repeat(normalise_intensity(grey)[..., None] * 255.0, 3, axis=2)
    if heat is not None:
        alpha = (opacity * np.clip((heat - 0.1) / 0.9, 0, 1))[..., None]
        base = base * (1 - alpha) + _colourise(heat) * alpha
    if outline is not None and outline.any():
        edge = outline & ~ndimage.binary_erosion(outline, iterations=max(1, min(outline.shape) // 200))
        base[edge] = LESION_OUTLINE
    return np.clip(base, 0, 255).astype(np.uint8)


def _save_png(rgb: np.ndarray, path: Path) -> Path:
    with atomic_path(path) as tmp:
        Image.fromarray(rgb).save(tmp, format="PNG")
    return path


def save_image_overlay(path: str | Path, grey: np.ndarray, heat: np.ndarray | None, mask: np.ndarray | None) -> Path:
    """The whole 2D image with its heatmap and lesion outline."""
    return _save_png(blend(grey, heat, mask), Path(path))


def save_plane_overlays(path: str | Path, crops: dict[str, np.ndarray], maps: dict[str, np.ndarray], titles: dict[str, str]) -> Path:
    """The lesion's plane crops side by side, each with its Grad-CAM, captioned."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(crops), figsize=(3.2 * len(crops), 3.5), squeeze=False)
    for ax, (plane, crop) in zip(axes[0], crops.items()):
        ax.imshow(blend(crop, maps.get(plane)))
        ax.set_title(titles.get(plane, plane), fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path
