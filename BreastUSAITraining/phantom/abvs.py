"""ABVS volumes: a 3D automated breast ultrasound scan holding one or more lesions.

Axes: i lateral (patient right -> left, LPS +x), j depth (skin -> chest wall,
LPS +y, posterior), k the transducer sweep (feet -> head, LPS +z). So k-slices are
the transverse (axial) planes the scanner acquires, i-slices are sagittal and
j-slices are the coronal planes that ABVS reconstructs (where cancers show the
"retraction phenomenon": spicules converging on the mass).

Sizes: see :data:`.presets.ABVS_SIZES` (``full`` is the scanner's field of view).
Each transverse slice draws from its own seeded random stream, so a slice is the
same whatever the volume size rendered around it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from ..geometry import Geometry
from .bmode import LayerModel, add_lesion, tissue_echo, to_uint8
from .lesion_shape import LesionOutline, lesion_field_3d, reach_mm, semi_axes_mm
from .lesion_traits import LesionTraits
from .presets import ABVS_SIZES


@dataclass
class AbvsVolume:
    """A rendered ABVS volume: ``array`` (K, J, I) uint8, one mask (K, J, I) per lesion."""

    array: np.ndarray
    masks: list[np.ndarray]
    geometry: Geometry
    traits: list[LesionTraits]
    centres_mm: list[tuple[float, float, float]]  # (lateral, depth, elevation) from the volume corner


def max_lesion_diameter_mm(size: str) -> float:
    (k, j, i), (si, sj, sk) = ABVS_SIZES[size]
    return float(min(0.4 * j * sj, 0.3 * i * si, 0.3 * k * sk, 35.0))


def _place_lesions(
    rng: np.random.Generator, traits: list[LesionTraits], layers: LayerModel,
    extent_mm: tuple[float, float, float],
) -> list[tuple[float, float, float]]:
    """Centres (lateral, depth, elevation) mm inside the gland, lesions apart from each other."""
    centres: list[tuple[float, float, float]] = []
    width, depth, length = extent_mm
    for t in traits:
        reach = reach_mm(t)
        _, a_dep, a_ele = semi_axes_mm(t)
        for _attempt in range(200):
            x = rng.uniform(min(reach, width / 2), max(width - reach, width / 2))
            z = rng.uniform(min(a_ele + 1, length / 2), max(length - a_ele - 1, length / 2))
            b = layers.boundaries(np.array([x]), z)[:, 0]
            low, high = max(b[1] + 0.5 * a_dep, a_dep + 0.5), min(b[2], depth - a_dep - 0.5)
            y = rng.uniform(min(low, high), max(low, high))
            if all(np.hypot(x - c[0], z - c[2]) > reach + reach_mm(o) for c, o in zip(centres, traits)):
                break
        centres.append((float(x), float(y), float(z)))
    return centres


def render_abvs(
    seed: int,
    traits: list[LesionTraits],
    size: str = "small",
    laterality: str = "right",
    progress: bool = False,
) -> AbvsVolume:
    """Render an ABVS volume of preset ``size`` holding ``traits`` lesions (deterministic in ``seed``)."""
    (n_k, n_j, n_i), spacing = ABVS_SIZES[size]
    s_i, s_j, s_k = spacing
    lateral = (np.arange(n_i) + 0.5) * s_i
    depth = (np.arange(n_j) + 0.5) * s_j
    elevation = (np.arange(n_k) + 0.5) * s_k
    rng = np.random.default_rng([seed, 0])
    layers = LayerModel.sample(rng, n_j * s_j)
    centres = _place_lesions(rng, traits, layers, (n_i * s_i, n_j * s_j, n_k * s_k))
    outlines = [LesionOutline(t) for t in traits]
    reaches = [reach_mm(t) for t in traits]
    nipple = (n_i * s_i / 2 + rng.normal(0, 3), n_k * s_k / 2 + rng.normal(0, 3), float(rng.uniform(4.0, 6.0)))

    volume = np.empty((n_k, n_j, n_i), dtype=np.uint8)
    masks = [np.zeros((n_k, n_j, n_i), dtype=bool) for _ in traits]
    for k in tqdm(range(n_k), desc="Rendering ABVS slices", unit="slice", disable=not progress):
        slice_rng = np.random.default_rng([seed, 1, k])
        z = float(elevation[k])
        echo = tissue_echo(slice_rng, layers.boundaries(lateral, z), depth, (s_j, s_i))
        for n, (t, outline, centre, reach) in enumerate(zip(traits, outlines, centres, reaches)):
            if abs(z - centre[2]) > reach:
                continue
            c0 = max(int((centre[0] - reach) / s_i), 0)
            c1 = min(int((centre[0] + reach) / s_i) + 2, n_i)
            r0 = max(int((centre[1] - reach) / s_j), 0)
            field = lesion_field_3d(outline, lateral[c0:c1], depth[r0:], z, centre)
            inside = add_lesion(slice_rng, echo[r0:, c0:c1], field, t, depth[r0:], (s_j, s_i), 2.5 * reach)
            masks[n][k, r0:, c0:c1] = inside
        # nipple shadow: the classic dark column below the nipple on ABVS
        dx = lateral - nipple[0]
        in_nipple = dx**2 + (z - nipple[1]) ** 2 < nipple[2] ** 2
        if in_nipple.any():
            echo[:, in_nipple] *= np.where(depth[:, None] < 2.0, 0.6, 0.45).astype(np.float32)
        volume[k] = to_uint8(slice_rng, echo, depth, (s_j, s_i))

    width = n_i * s_i
    centre_x = -90.0 if laterality == "right" else 90.0  # LPS x: patient right is negative
    origin = (centre_x - width / 2 + s_i / 2, 10.0 + s_j / 2, -n_k * s_k / 2 + s_k / 2)
    geometry = Geometry(spacing, origin, (1, 0, 0, 0, 1, 0, 0, 0, 1))
    return AbvsVolume(volume, masks, geometry, list(traits), centres)
