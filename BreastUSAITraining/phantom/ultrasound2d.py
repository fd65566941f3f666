"""A 2D breast ultrasound image (B-mode) with or without a lesion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bmode import LayerModel, add_lesion, lesion_centre_2d, tissue_echo, to_uint8
from .lesion_shape import LesionOutline, lesion_field_2d, reach_mm
from .lesion_traits import LesionTraits


@dataclass
class BModePlane:
    """A rendered plane: ``image`` (J, I) uint8, lesion ``mask`` (J, I) bool, the lesion's
    distance ``field`` (< 1 inside; None without lesion), its centre (lateral, depth) mm
    and the pixel size (depth, lateral) mm."""

    image: np.ndarray
    mask: np.ndarray
    field: np.ndarray | None
    centre_mm: tuple[float, float] | None
    pixel_mm: tuple[float, float]


def max_lesion_diameter_mm(height_px: int, width_px: int, pixel_mm: float) -> float:
    """Largest lesion that fits the field of view with its margin."""
    return 0.45 * min(height_px, width_px) * pixel_mm


def render_bmode(
    rng: np.random.Generator, traits: LesionTraits | None, height_px: int, width_px: int, pixel_mm: float
) -> BModePlane:
    """Render a B-mode image of ``height_px`` x ``width_px`` square pixels of ``pixel_mm``."""
    depth_mm = (np.arange(height_px) + 0.5) * pixel_mm
    lateral_mm = (np.arange(width_px) + 0.5) * pixel_mm
    fov = height_px * pixel_mm
    layers = LayerModel.sample(rng, fov)
    boundaries = layers.boundaries(lateral_mm)
    echo = tissue_echo(rng, boundaries, depth_mm, (pixel_mm, pixel_mm))
    mask = np.zeros((height_px, width_px), dtype=bool)
    field = None
    centre = None
    if traits is not None:
        centre = lesion_centre_2d(rng, traits, boundaries, lateral_mm, fov)
        field = lesion_field_2d(LesionOutline(traits), lateral_mm, depth_mm, centre).astype(np.float32)
        mask = add_lesion(rng, echo, field, traits, depth_mm, (pixel_mm, pixel_mm), shadow_depth_mm=2.5 * reach_mm(traits))
    image = to_uint8(rng, echo, depth_mm, (pixel_mm, pixel_mm))
    return BModePlane(image, mask, field, centre, (pixel_mm, pixel_mm))
