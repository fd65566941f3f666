"""Mammography-like crops (12-bit, CC and MLO) around the same lesion.

Background: fibroglandular texture with a power-law spectrum (about 1/f^3, as
measured on real mammograms). The mass adds density with a dome profile; cancers
keep their spicules and radiating strands and often carry a cluster of fine
calcifications, benign masses are smooth and may hold a coarse calcification. The
MLO view shows the lesion rotated and, sometimes, the pectoral muscle in a corner.
Pixel values: 0..4095 (12 bits stored in uint16), brighter = denser.
"""

from __future__ import annotations

import numpy as np

from .lesion_shape import LesionOutline, lesion_field_2d, semi_axes_mm
from .lesion_traits import LesionTraits


def power_law_noise(rng: np.random.Generator, size: int, beta: float = 3.0) -> np.ndarray:
    """Zero-mean, unit-SD 2D noise with power spectrum ~ 1 / f**beta."""
    freq = np.fft.fftfreq(size)
    radius = np.hypot(freq[:, None], freq[None, :])
    radius[0, 0] = 1.0
    spectrum = (rng.standard_normal((size, size)) + 1j * rng.standard_normal((size, size))) / radius ** (beta / 2)
    spectrum[0, 0] = 0
    field = np.real(np.fft.ifft2(spectrum))
    return (field - field.mean()) / max(float(field.std()), 1e-9)


def render_mammogram(
    rng: np.random.Generator, traits: LesionTraits, size_px: int, pixel_mm: float, view: str
) -> tuple[np.ndarray, np.ndarray]:
    """(image uint16 (J, I), mass mask bool (J, I)) for ``view`` "cc" or "mlo"."""
    if view not in ("cc", "mlo"):
        raise ValueError(f"view must be 'cc' or 'mlo', got {view!r}")
    coords = (np.arange(size_px) + 0.5) * pixel_mm
    density = 0.45 + 0.12 * power_law_noise(rng, size_px) + 0.1 * np.linspace(-1, 1, size_px)[None, :]
    image = 1300.0 + 900.0 * density
    centre = (coords[-1] / 2 + rng.normal(0, 1.0), coords[-1] / 2 + rng.normal(0, 1.0))
    rotation = 0.0 if view == "cc" else np.pi / 4 + rng.normal(0, 0.15)
    outline = LesionOutline(traits)
    field = lesion_field_2d(outline, coords, coords, centre, rotation_rad=rotation, scale=0.9)
    mask = field < 1.0
    dome = np.sqrt(np.clip(1.0 - field**2, 0.0, 1.0))
    contrast = 500.0 if traits.kind == "cyst" else (950.0 if traits.malignant else 750.0)
    image += contrast * dome
    if traits.spicules:
        # faint strands radiating beyond the spicule tips
        a_lat = semi_axes_mm(traits)[0]
        yy, xx = np.meshgrid(coords - centre[1], coords - centre[0], indexing="ij")
        angle = np.arctan2(yy, xx) - rotation
        radius = np.hypot(xx, yy)
        for spike_angle in outline.spike_angles:
            delta = np.angle(np.exp(1j * (angle - spike_angle)))
            strand = np.exp(-((delta * radius / 0.25) ** 2)) * (radius < 2.2 * a_lat) * (radius > 0.5 * a_lat)
            image += 260.0 * strand
    if traits.calcifications:
        rows, cols = np.nonzero(field < (1.3 if traits.malignant else 0.7))
        if rows.size:
            if traits.malignant:  # cluster of fine, pleomorphic specks
                picks = rng.choice(rows.size, size=min(3 * traits.calcifications, rows.size), replace=False)
                for p in picks:
                    image[rows[p], cols[p]] += rng.uniform(1200, 1800)
            else:  # one or two coarse "popcorn" calcifications
                for p in rng.choice(rows.size, size=min(traits.calcifications, rows.size), replace=False):
                    r, c = rows[p], cols[p]
                    image[max(r - 2, 0) : r + 3, max(c - 2, 0) : c + 3] += 1500
    if view == "mlo" and rng.random() < 0.5:
        yy, xx = np.mgrid[0:size_px, 0:size_px]
        image += 450.0 * (xx + yy < size_px * rng.uniform(0.2, 0.45))
    image += rng.normal(0, 25.0, size=image.shape)
    return np.clip(image, 0, 4095).astype(np.uint16), mask
