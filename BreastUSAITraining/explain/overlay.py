"""PNG overlays a person can look at: heatmap in colour over the grey image, lesion outline.
Drawn with numpy + Pillow (no plotting library on the prediction path: it is fast)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from ..atomic import atomic_path
from ..preprocessing import normalise_intensity

LESION_OUTLINE = (0, 255, 120)
REFERENCE_OUTLINE = (0, 255, 120)   # the radiologist's outline: green
FOUND_OUTLINE = (255, 150, 0)       # the AI's outline: orange
CAPTION_PX = 18


def jet(heat: np.ndarray) -> np.ndarray:
    """The classic 'jet' colour map (blue - cyan - yellow - red) of values in [0, 1] -> (..., 3) in [0, 255]."""
    x = np.clip(heat, 0.0, 1.0)[..., None] * 4.0
    rgb = np.clip(1.5 - np.abs(x - np.array([3.0, 2.0, 1.0])), 0.0, 1.0)
    return (rgb * 255.0).astype(np.float32)


def blend(grey: np.ndarray, heat: np.ndarray | None, outline: np.ndarray | None = None, opacity: float = 0.4) -> np.ndarray:
    """(H, W) grey (any range) + (H, W) heat in [0, 1] (+ bool mask) -> (H, W, 3) uint8.

    Heat is shown where it exceeds 0.1, with opacity growing with the heat."""
    base = np.repeat(normalise_intensity(grey)[..., None] * 255.0, 3, axis=2)
    if heat is not None:
        alpha = (opacity * np.clip((heat - 0.1) / 0.9, 0, 1))[..., None]
        base = base * (1 - alpha) + jet(heat) * alpha
    if outline is not None and outline.any():
        base[_edge(outline)] = LESION_OUTLINE
    return np.clip(base, 0, 255).astype(np.uint8)


def _edge(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, iterations=max(1, min(mask.shape) // 200))


def save_outline_comparison(path: str | Path, grey: np.ndarray, heat: np.ndarray | None, reference: np.ndarray | None,
                            found: np.ndarray | None) -> Path:
    """The whole 2D image with the heatmap, the reference outline in green and the AI's outline in orange."""
    picture = blend(grey, heat, None)
    for mask, colour in ((reference, REFERENCE_OUTLINE), (found, FOUND_OUTLINE)):
        if mask is not None and mask.any():
            picture[_edge(mask)] = colour
    return _save_png(Image.fromarray(picture), Path(path))


def _save_png(image: Image.Image, path: Path) -> Path:
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG", compress_level=1)  # 5x faster than the default 6, files ~15% larger
    return path


def save_image_overlay(path: str | Path, grey: np.ndarray, heat: np.ndarray | None, mask: np.ndarray | None) -> Path:
    """The whole 2D image with its heatmap and lesion outline."""
    return _save_png(Image.fromarray(blend(grey, heat, mask)), Path(path))


def save_plane_overlays(path: str | Path, crops: dict[str, np.ndarray], maps: dict[str, np.ndarray], titles: dict[str, str],
                        tile_px: int = 224) -> Path:
    """The lesion's plane crops side by side, each with its heatmap, captioned above."""
    tiles = []
    for plane, crop in crops.items():
        tile = Image.fromarray(blend(crop, maps.get(plane))).resize((tile_px, tile_px), Image.Resampling.BILINEAR)
        canvas = Image.new("RGB", (tile_px, tile_px + CAPTION_PX), (255, 255, 255))
        canvas.paste(tile, (0, CAPTION_PX))
        ImageDraw.Draw(canvas).text((4, 3), titles.get(plane, plane), fill=(0, 0, 0))
        tiles.append(canvas)
    sheet = Image.new("RGB", (len(tiles) * (tile_px + 4) - 4, tile_px + CAPTION_PX), (255, 255, 255))
    for n, tile in enumerate(tiles):
        sheet.paste(tile, (n * (tile_px + 4), 0))
    return _save_png(sheet, Path(path))
