"""B-mode rendering of one ultrasound plane: breast layers, speckle and a lesion.

Coordinates: rows are depth (skin at row 0, going posterior), columns lateral. The
same slice renderer draws 2D images and every transverse slice of an ABVS volume.
Echogenicity model (relative): skin 0.85, subcutaneous fat 0.3, fibroglandular
tissue 0.65, retromammary fat 0.3, pectoral muscle 0.45 (striated), pleura bright,
lung/rib shadow dark; depth attenuation partly compensated by time-gain control.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .lesion_traits import LesionTraits
from .speckle import smooth_noise, speckle

#: Layer boundaries as fractions of the field-of-view depth (skin end is absolute).
_LAYER_FRACTIONS = (0.24, 0.66, 0.76, 0.9)
_LAYER_ECHO = (0.85, 0.3, 0.65, 0.3, 0.45, 0.15)


@dataclass
class LayerModel:
    """Smooth, wavy layer boundaries: depth (mm) as a function of lateral and elevational position."""

    fov_depth_mm: float
    skin_mm: float
    bases: np.ndarray        # (4,) mean boundary depth (mm) below the skin layer
    amplitudes: np.ndarray   # (4, 2) wave amplitudes (mm)
    wavelengths: np.ndarray  # (4, 2, 2) lateral / elevational wavelengths (mm)
    phases: np.ndarray       # (4, 2)

    @classmethod
    def sample(cls, rng: np.random.Generator, fov_depth_mm: float) -> "LayerModel":
        fractions = np.asarray(_LAYER_FRACTIONS) + rng.uniform(-0.04, 0.04, size=4)
        return cls(
            fov_depth_mm=fov_depth_mm,
            skin_mm=float(np.clip(rng.uniform(1.2, 2.2), 0.5, 0.08 * fov_depth_mm)),
            bases=fractions * fov_depth_mm,
            amplitudes=rng.uniform(0.02, 0.05, size=(4, 2)) * fov_depth_mm,
            wavelengths=rng.uniform(25.0, 70.0, size=(4, 2, 2)),
            phases=rng.uniform(0, 2 * np.pi, size=(4, 2)),
        )

    def boundaries(self, lateral_mm: np.ndarray, elevation_mm: float = 0.0) -> np.ndarray:
        """(5, I) depths of: skin end, fat end, gland end, retromammary end, muscle end."""
        out = np.empty((5, lateral_mm.size), dtype=np.float32)
        out[0] = self.skin_mm
        for b in range(4):
            wave = np.zeros(lateral_mm.size)
            for w in range(2):
                lam_x, lam_z = self.wavelengths[b, w]
                wave += self.amplitudes[b, w] * np.sin(2 * np.pi * (lateral_mm / lam_x + elevation_mm / lam_z) + self.phases[b, w])
            out[b + 1] = self.bases[b] + wave
        out[1:] = np.maximum.accumulate(np.maximum(out[1:], out[0] + 0.5), axis=0)
        return out


def tissue_echo(
    rng: np.random.Generator, boundaries: np.ndarray, depth_mm: np.ndarray, pixel_mm: tuple[float, float]
) -> np.ndarray:
    """Echogenicity (J, I) of normal breast tissue below the given boundaries."""
    d = depth_mm[:, None].astype(np.float32)
    layer = np.zeros((depth_mm.size, boundaries.shape[1]), dtype=np.int8)
    for b in range(5):
        layer += (d >= boundaries[b][None, :]).astype(np.int8)
    echo = np.asarray(_LAYER_ECHO, dtype=np.float32)[layer]
    texture = smooth_noise(rng, echo.shape, (1.0 / pixel_mm[0], 2.0 / pixel_mm[1]))
    echo *= 1.0 + 0.18 * texture * np.isin(layer, (1, 2, 3))
    striation = 0.12 * np.sin(2 * np.pi * d / 1.1 + 0.3 * texture)
    echo += np.where(layer == 4, striation, 0.0).astype(np.float32)
    pleura = np.abs(d - boundaries[4][None, :]) < 0.4
    echo[pleura] = 0.9
    return echo


def add_lesion(
    rng: np.random.Generator,
    echo: np.ndarray,
    field: np.ndarray,
    traits: LesionTraits,
    depth_mm: np.ndarray,
    pixel_mm: tuple[float, float],
    shadow_depth_mm: float,
) -> np.ndarray:
    """Draw the lesion into ``echo`` (in place) from its distance ``field``; returns the mask.

    ``field`` < 1 inside. Posterior enhancement / shadowing runs down each column
    under the lesion, weighted by how much lesion the column crosses.
    """
    inside = field < 1.0
    if not inside.any():
        return inside
    texture = smooth_noise(rng, echo.shape, (0.6 / pixel_mm[0], 0.9 / pixel_mm[1]))
    lesion_echo = traits.echo * (1.0 + traits.heterogeneity * texture)
    echo[inside] = np.clip(lesion_echo[inside], 0.01, None)
    if traits.halo > 1.0:
        rim = (field >= 1.0) & (field < 1.15)
        echo[rim] *= traits.halo
    if traits.kind == "fibroadenoma":
        capsule = (field >= 0.96) & (field < 1.02)
        echo[capsule] = np.maximum(echo[capsule], 0.55)
    if traits.calcifications:
        rows, cols = np.nonzero(field < 0.8)
        if rows.size:
            picks = rng.choice(rows.size, size=min(traits.calcifications, rows.size), replace=False)
            for p in picks:
                echo[rows[p], max(cols[p] - 1, 0) : cols[p] + 1] = 1.3
    # posterior features, column by column
    if abs(traits.posterior - 1.0) > 1e-3:
        crossing = inside.sum(axis=0).astype(np.float32)
        weight = gaussian_filter1d(crossing / max(crossing.max(), 1.0), sigma=max(0.8 / pixel_mm[1], 1.0))
        bottom = np.where(inside.any(axis=0), inside.shape[0] - 1 - np.argmax(inside[::-1], axis=0), 0)
        below = np.arange(echo.shape[0])[:, None] > bottom[None, :]
        distance = np.clip(depth_mm[:, None] - depth_mm[bottom][None, :], 0, None)
        fade = np.exp(-distance / shadow_depth_mm)
        factor = 1.0 + (traits.posterior - 1.0) * weight[None, :] * fade
        echo *= np.where(below & (weight[None, :] > 0.02), factor, 1.0).astype(np.float32)
    return inside


def to_uint8(rng: np.random.Generator, echo: np.ndarray, depth_mm: np.ndarray, pixel_mm: tuple[float, float]) -> np.ndarray:
    """Speckle, attenuation with time-gain compensation, log-like compression -> uint8."""
    attenuation = np.exp(-0.012 * depth_mm)[:, None].astype(np.float32)
    intensity = echo * speckle(rng, echo.shape, pixel_mm) ** 0.75 * attenuation
    grey = 235.0 * np.power(np.clip(intensity, 0, None) / 1.1, 0.65) + rng.normal(0, 2.0, size=echo.shape)
    return np.clip(grey, 0, 255).astype(np.uint8)


def lesion_centre_2d(
    rng: np.random.Generator, traits: LesionTraits, boundaries: np.ndarray, lateral_mm: np.ndarray, fov_depth_mm: float
) -> tuple[float, float]:
    """A (lateral, depth) centre in mm inside the gland, keeping the lesion in the field of view."""
    from .lesion_shape import reach_mm, semi_axes_mm

    reach = reach_mm(traits)
    _, a_dep, _ = semi_axes_mm(traits)
    width = float(lateral_mm[-1] - lateral_mm[0])
    x = float(rng.uniform(lateral_mm[0] + min(reach, width / 2 - 1), lateral_mm[-1] - min(reach, width / 2 - 1)))
    column = int(np.argmin(np.abs(lateral_mm - x)))
    top = float(boundaries[1, column]) + 0.5 * a_dep
    bottom = float(boundaries[2, column])
    low, high = max(top, a_dep + 1.0), min(max(bottom, top + 0.1), fov_depth_mm - a_dep - 1.0)
    y = float(rng.uniform(min(low, high), max(low, high)))
    return x, y
