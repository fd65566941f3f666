"""SimpleITK image <-> numpy array + :class:`Geometry`, always as 3D."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from ..geometry import Geometry


def geometry_from_sitk(image: sitk.Image) -> Geometry:
    """Geometry of a 2D or 3D SimpleITK image, promoted to 3D (2D: k axis = L-P normal)."""
    if image.GetDimension() == 3:
        return Geometry(image.GetSpacing(), image.GetOrigin(), image.GetDirection())
    if image.GetDimension() == 2:
        d2 = np.asarray(image.GetDirection(), dtype=float).reshape(2, 2)
        d3 = np.eye(3)
        d3[:2, :2] = d2
        return Geometry((*image.GetSpacing(), 1.0), (*image.GetOrigin(), 0.0), d3.ravel())
    raise ValueError(f"only 2D and 3D images have a geometry, got {image.GetDimension()}D")


def array_from_sitk(image: sitk.Image) -> np.ndarray:
    """Pixel array in (K, J, I) or (K, J, I, C) order; 2D images get K = 1."""
    array = sitk.GetArrayFromImage(image)
    if image.GetDimension() == 2:
        array = array[np.newaxis]
    return array


def sitk_from_array(array: np.ndarray, geometry: Geometry) -> sitk.Image:
    """A 3D SimpleITK image from a (K, J, I) or (K, J, I, C) array and its geometry."""
    is_vector = array.ndim == 4
    image = sitk.GetImageFromArray(np.ascontiguousarray(array), isVector=is_vector)
    image.SetSpacing(geometry.spacing)
    image.SetOrigin(geometry.origin)
    image.SetDirection(geometry.direction)
    return image
