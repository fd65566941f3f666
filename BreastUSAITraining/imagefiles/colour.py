"""The explicit colour rule for 2D ultrasound and mammography.

* ``"grey"`` (default): colour pixels are converted to grey with ITU-R BT.601 luma
  (0.299 R + 0.587 G + 0.114 B) - right for B-mode, where colour is only overlay
  (measurement callipers, Doppler boxes) and for mammography.
* ``"keep"``: RGB is kept (3 channels) - for colour Doppler and elastography, whose
  colour *is* the signal. A grey image read with ``"keep"`` stays grey.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

ColourMode = Literal["grey", "keep"]
COLOUR_MODES: tuple[str, ...] = ("grey", "keep")

#: Modalities whose colour carries information and is kept by default.
COLOUR_MODALITIES = ("us_doppler", "us_elastography")

LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])


def colour_mode_for(modality: str) -> ColourMode:
    """Default colour rule of a modality: keep colour for Doppler / elastography, else grey."""
    return "keep" if modality in COLOUR_MODALITIES else "grey"


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """Convert (..., 3) RGB to grey luma; uint8 input stays uint8 (rounded)."""
    luma = rgb[..., :3].astype(np.float64) @ LUMA_WEIGHTS
    if rgb.dtype == np.uint8:
        return np.clip(np.rint(luma), 0, 255).astype(np.uint8)
    if rgb.dtype == np.uint16:
        return np.clip(np.rint(luma), 0, 65535).astype(np.uint16)
    return luma.astype(np.float32)


def apply_colour_mode(array: np.ndarray, mode: str) -> np.ndarray:
    """Apply the colour rule to a (K, J, I) or (K, J, I, C) array (C = 3 or 4; alpha dropped)."""
    if mode not in COLOUR_MODES:
        raise ValueError(f"colour mode must be one of {COLOUR_MODES}, got {mode!r}")
    if array.ndim == 3:
        return array
    rgb = array[..., :3]
    return np.ascontiguousarray(rgb) if mode == "keep" else to_grey(rgb)
