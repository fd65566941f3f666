"""Strain elastography: a colour stiffness map blended over B-mode inside a box.

Colour scale as most vendors show it: red = soft, green = intermediate, blue = hard.
The lesion's stiffness follows its Tsukuba score (1 soft .. 5 hard, hard extending
beyond the margin for 5); cancers are usually hard.
"""

from __future__ import annotations

import numpy as np

from .doppler import colour_box
from .lesion_traits import LesionTraits
from .speckle import smooth_noise
from .ultrasound2d import BModePlane


def stiffness_colour(stiffness: np.ndarray) -> np.ndarray:
    """Map stiffness in [0, 1] (0 soft) to RGB in [0, 255] (red -> green -> blue)."""
    s = np.clip(stiffness, 0, 1)[..., None]
    red = np.array([220.0, 40.0, 30.0])
    green = np.array([40.0, 200.0, 60.0])
    blue = np.array([30.0, 60.0, 220.0])
    return np.where(s < 0.5, red + (green - red) * (s / 0.5), green + (blue - green) * ((s - 0.5) / 0.5))


def render_elastography(rng: np.random.Generator, plane: BModePlane, traits: LesionTraits) -> np.ndarray:
    """RGB elastography image (J, I, 3) uint8 matching ``plane``."""
    grey = plane.image.astype(np.float32)
    rows_box, cols_box = colour_box(plane, margin=0.9)
    stiffness = 0.3 + 0.08 * smooth_noise(rng, grey.shape, 4.0)
    if plane.field is not None:
        lesion_stiffness = (traits.elasticity_score - 1) / 4.0
        extent = 1.25 if traits.elasticity_score == 5 else 1.0
        inside = plane.field < extent
        stiffness = np.where(inside, lesion_stiffness + 0.05 * smooth_noise(rng, grey.shape, 2.0), stiffness)
    colour = stiffness_colour(stiffness)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    box = (rows_box, cols_box)
    rgb[box] = 0.35 * rgb[box] + 0.65 * colour[box]
    return np.clip(rgb, 0, 255).astype(np.uint8)
