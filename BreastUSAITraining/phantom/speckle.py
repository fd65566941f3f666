"""Ultrasound speckle and smooth tissue texture."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter


def speckle(rng: np.random.Generator, shape: tuple[int, int], pixel_mm: tuple[float, float]) -> np.ndarray:
    """Multiplicative Rayleigh speckle (mean 1), elongated laterally like a real beam.

    ``shape`` is (J, I) = (depth, lateral); ``pixel_mm`` is (depth, lateral) pixel size.
    The resolution cell is about 0.3 mm axially and 0.6 mm laterally.
    """
    sigma = (max(0.3 / pixel_mm[0] / 2.0, 0.4), max(0.6 / pixel_mm[1] / 2.0, 0.6))
    real = gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma)
    imag = gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma)
    amplitude = np.hypot(real, imag)
    return amplitude / max(float(amplitude.mean()), 1e-6)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma_px: float | tuple[float, ...]) -> np.ndarray:
    """Zero-mean, unit-SD smooth random field (tissue texture)."""
    field = gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma_px)
    return (field - field.mean()) / max(float(field.std()), 1e-6)
