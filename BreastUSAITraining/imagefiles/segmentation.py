"""3D Slicer segmentation files (``.seg.nrrd``), read and written with ``slicerio``.

A segmentation holds named segments, each a binary mask on one voxel grid, with a
colour and free key/value tags (used for lesion metadata). Overlapping segments are
stored in separate layers (a 4D file), exactly as Slicer does.

Masks here are numpy bool arrays in ``(K, J, I)`` order, like every image array of
this package; slicerio works in ``(I, J, K)`` order and the conversion happens only
in this file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nrrd
import numpy as np
import SimpleITK as sitk
import slicerio

from ..atomic import atomic_path
from ..errors import InputFileError
from ..geometry import Geometry
from .detached_data import check_nrrd_data_files
from .image import max_image_bytes

#: Colour given to lesions when none is set (Slicer's "tissue" pinkish red).
DEFAULT_COLOURS = [
    (0.89, 0.35, 0.30), (0.30, 0.69, 0.29), (0.22, 0.49, 0.72), (0.60, 0.31, 0.64),
    (1.00, 0.50, 0.00), (0.65, 0.34, 0.16), (0.97, 0.51, 0.75), (0.40, 0.76, 0.65),
]

_TAG_SAFE = re.compile(r"^[^|:]*$")


@dataclass
class Segment:
    """One segment: ``name``, ``mask`` (K, J, I) bool, RGB ``colour`` in [0, 1] (None: a
    default colour by position), ``segment_id`` (defaults to the name) and free tags."""

    name: str
    mask: np.ndarray
    colour: tuple[float, float, float] | None = None
    segment_id: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.mask = np.asarray(self.mask, dtype=bool)
        self.segment_id = self.segment_id or self.name


@dataclass
class SegmentationData:
    """Segments on one voxel grid of shape ``shape_kji`` placed by ``geometry``."""

    segments: list[Segment]
    geometry: Geometry
    shape_kji: tuple[int, int, int]
    source: str = "<memory>"

    def names(self) -> list[str]:
        return [s.name for s in self.segments]

    def segment(self, name: str) -> Segment:
        """The segment called ``name`` (or with that id); InputFileError if absent."""
        for candidate in self.segments:
            if candidate.name == name or candidate.segment_id == name:
                return candidate
        raise InputFileError(self.source, f"no segment named {name!r} (segments: {', '.join(self.names()) or 'none'})")

    def union(self) -> np.ndarray:
        """All segments merged into one bool mask (K, J, I)."""
        out = np.zeros(self.shape_kji, dtype=bool)
        for s in self.segments:
            out |= s.mask
        return out

    def on_grid(self, geometry: Geometry, shape_kji: tuple[int, int, int]) -> "SegmentationData":
        """The same segments on another grid (e.g. the reference image's).

        Slicer crops ``.seg.nrrd`` files to the segments' extent. When the target grid
        has the same spacing and direction and an integer voxel offset, the masks are
        padded / cropped exactly; otherwise they are resampled (nearest neighbour).
        """
        shape_kji = tuple(int(v) for v in shape_kji)
        if geometry.is_close(self.geometry) and shape_kji == self.shape_kji:
            return self
        same_axes = np.allclose(geometry.spacing, self.geometry.spacing, atol=1e-5) and np.allclose(
            geometry.direction, self.geometry.direction, atol=1e-6
        )
        offset = geometry.lps_to_index(np.asarray(self.geometry.origin))  # our (0,0,0) in target ijk
        moved: list[Segment] = []
        if same_axes and np.allclose(offset, np.round(offset), atol=1e-3):
            shift_ijk = np.round(offset).astype(int)
            for s in self.segments:
                mask = np.zeros(shape_kji, dtype=bool)
                src = [slice(None)] * 3
                dst = [slice(None)] * 3
                for axis_kji, axis_ijk in ((0, 2), (1, 1), (2, 0)):
                    start = shift_ijk[axis_ijk]
                    lo, hi = max(start, 0), min(start + self.shape_kji[axis_kji], shape_kji[axis_kji])
                    if hi <= lo:
                        break
                    dst[axis_kji] = slice(lo, hi)
                    src[axis_kji] = slice(lo - start, hi - start)
                else:
                    mask[tuple(dst)] = s.mask[tuple(src)]
                moved.append(Segment(s.name, mask, s.colour, s.segment_id, dict(s.tags)))
        else:
            from .sitk_bridge import sitk_from_array

            reference = sitk.Image([int(shape_kji[2]), int(shape_kji[1]), int(shape_kji[0])], sitk.sitkUInt8)
            reference.SetSpacing(geometry.spacing)
            reference.SetOrigin(geometry.origin)
            reference.SetDirection(geometry.direction)
            for s in self.segments:
                source = sitk_from_array(s.mask.astype(np.uint8), self.geometry)
                resampled = sitk.Resample(source, reference, sitk.Transform(), sitk.sitkNearestNeighbor, 0)
                moved.append(Segment(s.name, sitk.GetArrayFromImage(resampled).astype(bool), s.colour, s.segment_id, dict(s.tags)))
        return SegmentationData(moved, geometry, shape_kji, self.source)


def read_segmentation(path: str | Path) -> SegmentationData:
    """Read a Slicer ``.seg.nrrd`` file; every problem raises InputFileError naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file not found")
    if path.stat().st_size == 0:
        raise InputFileError(path, "file is empty (0 bytes)")
    check_nrrd_data_files(path)  # a detached 'data file' may not lead out of the file's folder
    try:
        header = nrrd.read_header(str(path))
    except Exception as error:  # pynrrd raises several types on corrupt headers
        raise InputFileError(path, f"not a readable NRRD segmentation header ({type(error).__name__}: {error})") from None
    if not any(key.startswith(("Segment", "Segmentation_")) for key in header):
        raise InputFileError(path, "not a 3D Slicer segmentation (no Segment or Segmentation fields in the header)")
    sizes = np.asarray(header.get("sizes", []), dtype=np.float64)
    if int(header.get("dimension", 0)) not in (3, 4) or sizes.size not in (3, 4) or np.any(sizes <= 0):
        raise InputFileError(path, f"segmentation must be 3D (or 4D layers), header says sizes {sizes.astype(int).tolist()}")
    if float(np.prod(sizes)) > max_image_bytes():
        raise InputFileError(path, f"header claims {sizes.astype(int).tolist()} voxels, over the size limit")
    try:
        seg = slicerio.read_segmentation(str(path))
    except Exception as error:
        raise InputFileError(path, f"truncated or corrupt segmentation data ({type(error).__name__}: {error})") from None
    voxels = seg.get("voxels")
    if voxels is None or voxels.ndim not in (3, 4):
        raise InputFileError(path, f"segmentation voxels must be 3D (or 4D layers), got {None if voxels is None else voxels.shape}")
    try:
        geometry = Geometry.from_ijk_to_lps(np.asarray(seg["ijkToLPS"], dtype=float))
    except (KeyError, ValueError) as error:
        raise InputFileError(path, f"segmentation has no valid geometry ({error})") from None
    if geometry.problems():
        raise InputFileError(path, "invalid geometry: " + "; ".join(geometry.problems()))
    shape_ijk = voxels.shape[-3:]
    segments = []
    for index, entry in enumerate(seg.get("segments", [])):
        name = entry.get("name") or entry.get("id") or f"Segment_{index + 1}"
        try:
            mask_ijk = slicerio.segment_mask(seg, entry)
        except Exception as error:
            raise InputFileError(path, f"segment {name!r}: invalid label layer or value ({error})") from None
        colour = tuple(float(c) for c in entry.get("color", DEFAULT_COLOURS[index % len(DEFAULT_COLOURS)]))[:3]
        tags = {str(k): str(v) for k, v in (entry.get("tags") or {}).items()}
        segments.append(Segment(name, np.transpose(mask_ijk, (2, 1, 0)), colour, str(entry.get("id", name)), tags))
    return SegmentationData(segments, geometry, (shape_ijk[2], shape_ijk[1], shape_ijk[0]), str(path))


def write_segmentation(path: str | Path, segmentation: SegmentationData) -> Path:
    """Write a ``.seg.nrrd`` file atomically (overlapping segments go to extra layers).

    Tag keys and values may not contain ``|`` or ``:`` (the file's separators).
    """
    path = Path(path)
    if not path.name.endswith(".seg.nrrd"):
        raise ValueError(f"{path}: a segmentation file name must end with .seg.nrrd")
    shape_ijk = tuple(reversed(segmentation.shape_kji))
    seg = slicerio.create_segmentation(shape_ijk, segmentation.geometry.ijk_to_lps())
    seg["containedRepresentationNames"] = ["Binary labelmap"]
    seg["masterRepresentation"] = "Binary labelmap"
    for index, s in enumerate(segmentation.segments):
        if s.mask.shape != tuple(segmentation.shape_kji):
            raise ValueError(f"segment {s.name!r} mask shape {s.mask.shape} != segmentation shape {segmentation.shape_kji}")
        for key, value in s.tags.items():
            if not (_TAG_SAFE.match(key) and _TAG_SAFE.match(value)):
                raise ValueError(f"segment {s.name!r} tag {key!r}: keys and values may not contain '|' or ':'")
        colour = s.colour if s.colour is not None else DEFAULT_COLOURS[index % len(DEFAULT_COLOURS)]
        entry = {"id": s.segment_id, "name": s.name, "color": [float(c) for c in colour]}
        if s.tags:
            entry["tags"] = dict(s.tags)
        slicerio.add_segment(seg, np.transpose(s.mask, (2, 1, 0)), entry)
    with atomic_path(path) as tmp:
        slicerio.write_segmentation(str(tmp), seg)
        _drop_write_time(Path(tmp))
    return path


def _drop_write_time(path: Path) -> None:
    """Remove the ``# on <date> (GMT).`` comment pynrrd puts in every header, so the same
    segments always give the same bytes (a re-export is identical, not just equivalent)."""
    data = path.read_bytes()
    end = data.find(b"\n\n")
    if end < 0:
        return
    header = re.sub(rb"^# on [^\n]*\(GMT\)\.\n", b"", data[: end + 1], count=1, flags=re.M)
    path.write_bytes(header + data[end + 1 :])
