"""The lesion's outline, in millimetres, shared by every modality.

A lesion is an ellipsoid (semi-axes: lateral, depth, elevation) whose radius is
modulated by direction: low-order undulation (lobulation) plus narrow spikes
(spicules). The modulation pattern is fixed by ``traits.shape_seed``, so the 2D
image, the ABVS volume and the mammogram show the same lesion.
"""

from __future__ import annotations

import numpy as np

from .lesion_traits import LesionTraits


def semi_axes_mm(traits: LesionTraits) -> tuple[float, float, float]:
    """(lateral, depth, elevation) semi-axes in mm."""
    if traits.aspect <= 1.0:
        lateral = traits.diameter_mm / 2.0
        depth = lateral * traits.aspect
    else:
        depth = traits.diameter_mm / 2.0
        lateral = depth / traits.aspect
    return lateral, depth, lateral * traits.elevation_ratio


class LesionOutline:
    """Radius modulation r(direction) >= 0 around 1 for one lesion."""

    def __init__(self, traits: LesionTraits) -> None:
        rng = np.random.default_rng(traits.shape_seed)
        self.traits = traits
        self.harmonics = rng.integers(2, 7, size=4)
        self.amplitudes = rng.uniform(0.4, 1.0, size=4) * traits.lobulation
        self.phases = rng.uniform(0, 2 * np.pi, size=4)
        # 3D: undulation along random axes, spikes along random directions
        self.wave_axes = _unit(rng.normal(size=(4, 3)))
        spike_dirs = rng.normal(size=(max(traits.spicules, 0), 3))
        spike_dirs[:, 1] *= 0.6  # fewer spikes straight up/down
        self.spike_dirs = _unit(spike_dirs) if traits.spicules else np.zeros((0, 3))
        self.spike_angles = np.arctan2(self.spike_dirs[:, 1], self.spike_dirs[:, 0]) if traits.spicules else np.zeros(0)
        self.spike_lengths = rng.uniform(0.6, 1.0, size=traits.spicules) * traits.spicule_length
        self.spike_width = 0.035  # radians, angular half-width of a spike

    def radius_2d(self, theta: np.ndarray) -> np.ndarray:
        """Relative radius at polar angle ``theta`` (radians) in the lateral-depth plane."""
        r = np.ones_like(theta)
        for n, a, p in zip(self.harmonics, self.amplitudes, self.phases):
            r = r + a * np.cos(n * theta + p)
        for angle, length in zip(self.spike_angles, self.spike_lengths):
            delta = np.angle(np.exp(1j * (theta - angle)))
            r = r + length * np.exp(-((delta / self.spike_width) ** 2))
        return np.maximum(r, 0.2)

    def radius_3d(self, unit: np.ndarray) -> np.ndarray:
        """Relative radius along unit directions ``unit`` of shape (..., 3) (lateral, depth, elevation)."""
        r = np.ones(unit.shape[:-1])
        for axis, n, a, p in zip(self.wave_axes, self.harmonics, self.amplitudes, self.phases):
            r = r + a * np.cos(n * np.arccos(np.clip(unit @ axis, -1, 1)) + p)
        for direction, length in zip(self.spike_dirs, self.spike_lengths):
            cos_angle = np.clip(unit @ direction, -1, 1)
            r = r + length * np.exp(-((np.arccos(cos_angle) / self.spike_width) ** 2))
        return np.maximum(r, 0.2)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def lesion_field_2d(
    outline: LesionOutline, lateral_mm: np.ndarray, depth_mm: np.ndarray, centre_mm: tuple[float, float],
    rotation_rad: float = 0.0, scale: float = 1.0,
) -> np.ndarray:
    """Normalised distance field on a 2D grid: < 1 inside the lesion, 1 on its border.

    ``lateral_mm`` (I,) and ``depth_mm`` (J,) are pixel-centre coordinates; returns (J, I).
    ``rotation_rad`` / ``scale`` give other projections of the same lesion (mammography).
    """
    a_lat, a_dep, _ = semi_axes_mm(outline.traits)
    x = lateral_mm[None, :] - centre_mm[0]
    y = depth_mm[:, None] - centre_mm[1]
    if rotation_rad:
        c, s = np.cos(rotation_rad), np.sin(rotation_rad)
        x, y = c * x + s * y, -s * x + c * y
    u, v = x / (a_lat * scale), y / (a_dep * scale)
    rho = np.hypot(u, v)
    return rho / outline.radius_2d(np.arctan2(v, u))


def lesion_field_3d(
    outline: LesionOutline, lateral_mm: np.ndarray, depth_mm: np.ndarray, elevation_mm: float,
    centre_mm: tuple[float, float, float],
) -> np.ndarray:
    """Normalised distance field (J, I) on one transverse slice at ``elevation_mm``."""
    a_lat, a_dep, a_ele = semi_axes_mm(outline.traits)
    x = (lateral_mm[None, :] - centre_mm[0]) / a_lat
    y = (depth_mm[:, None] - centre_mm[1]) / a_dep
    z = np.full_like(x * y, (elevation_mm - centre_mm[2]) / a_ele)
    x, y = np.broadcast_arrays(x, y)
    stacked = np.stack([x, y, z], axis=-1)
    rho = np.linalg.norm(stacked, axis=-1)
    return rho / outline.radius_3d(_unit(stacked))


def reach_mm(traits: LesionTraits) -> float:
    """Largest distance from the centre any part of the lesion can reach (bounding box)."""
    longest = max(semi_axes_mm(traits))
    return longest * (1.0 + 1.2 * traits.lobulation + traits.spicule_length * (traits.spicules > 0)) + 1.0
