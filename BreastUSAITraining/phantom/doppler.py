"""Colour Doppler: flow signals drawn over the B-mode image inside a colour box.

Vascularity follows the Adler grade: 0 none, 1 one or two peripheral dots, 2 a few
vessels with one entering the lesion, 3 many penetrating, branching vessels (more
common in cancers). Flow towards the probe is red, away is blue.
"""

from __future__ import annotations

import numpy as np

from .lesion_traits import LesionTraits
from .ultrasound2d import BModePlane

_VESSELS_BY_GRADE = {0: (0, 0), 1: (1, 2), 2: (3, 4), 3: (5, 8)}


def colour_box(plane: BModePlane, margin: float = 0.6) -> tuple[slice, slice]:
    """Rows / columns of a box around the lesion (whole image centre if no lesion)."""
    height, width = plane.mask.shape
    if plane.mask.any():
        rows, cols = np.nonzero(plane.mask)
        r0, r1, c0, c1 = rows.min(), rows.max(), cols.min(), cols.max()
    else:
        r0, r1, c0, c1 = height // 3, 2 * height // 3, width // 3, 2 * width // 3
    dr, dc = int((r1 - r0 + 1) * margin) + 4, int((c1 - c0 + 1) * margin) + 4
    return slice(max(r0 - dr, 0), min(r1 + dr + 1, height)), slice(max(c0 - dc, 0), min(c1 + dc + 1, width))


def _vessel(rng: np.random.Generator, start: np.ndarray, heading: float, steps: int, step_px: float) -> np.ndarray:
    points = [start]
    angle = heading
    for _ in range(steps):
        angle += rng.normal(0, 0.25)
        points.append(points[-1] + step_px * np.array([np.sin(angle), np.cos(angle)]))
    return np.asarray(points)


def render_doppler(rng: np.random.Generator, plane: BModePlane, traits: LesionTraits) -> np.ndarray:
    """RGB colour Doppler image (J, I, 3) uint8 matching ``plane``."""
    grey = plane.image
    rgb = np.repeat(grey[..., None], 3, axis=2).astype(np.float32)
    rows_box, cols_box = colour_box(plane)
    flow = np.zeros(grey.shape, dtype=np.float32)  # signed velocity, -1..1
    low, high = _VESSELS_BY_GRADE[traits.adler_grade]
    count = int(rng.integers(low, high + 1)) if high else 0
    rows, cols = np.nonzero(plane.mask)
    centre = np.array([rows.mean(), cols.mean()]) if rows.size else np.array(grey.shape) / 2
    radius = max(np.sqrt(rows.size / np.pi), 3.0) if rows.size else 10.0
    for v in range(count):
        angle = rng.uniform(0, 2 * np.pi)
        start = centre + 1.4 * radius * np.array([np.sin(angle), np.cos(angle)])
        penetrating = traits.adler_grade >= 2 and (v == 0 or rng.random() < 0.5)
        heading = angle + np.pi + (rng.normal(0, 0.3) if penetrating else rng.choice([-1, 1]) * np.pi / 2)
        length = int((1.6 if penetrating else 0.7) * radius / 1.5) + 2
        path = _vessel(rng, start, heading, length, 1.5)
        speed = rng.uniform(0.5, 1.0) * (1 if rng.random() < 0.5 else -1)
        for r, c in np.round(path).astype(int):  # a vessel about 3 pixels wide
            flow[max(r - 1, 0) : max(r + 2, 0), max(c - 1, 0) : max(c + 2, 0)] = speed
    inside_box = np.zeros(grey.shape, dtype=bool)
    inside_box[rows_box, cols_box] = True
    towards = inside_box & (flow > 0)
    away = inside_box & (flow < 0)
    rgb[towards] = np.stack([120 + 135 * flow[towards], 20 * flow[towards], np.zeros(towards.sum())], axis=1)
    rgb[away] = np.stack([np.zeros(away.sum()), 60 * -flow[away], 120 + 135 * -flow[away]], axis=1)
    # thin box outline, as scanners draw it
    r0, r1, c0, c1 = rows_box.start, rows_box.stop - 1, cols_box.start, cols_box.stop - 1
    rgb[[r0, r1], c0 : c1 + 1] = 180
    rgb[r0 : r1 + 1, [c0, c1]] = 180
    return np.clip(rgb, 0, 255).astype(np.uint8)
