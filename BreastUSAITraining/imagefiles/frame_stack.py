"""Ultrasound DICOM as scanners and video grabbers export it: a **2D frame stack**, not a volume.

* a folder of single-frame files (Secondary Capture, US Image Storage) with no
  ImagePositionPatient: each file is one 2D frame, ordered by InstanceNumber, then acquisition
  (or content) time, then file name;
* a multi-frame ultrasound file (US Multi-frame Image Storage: a cine loop) whose frames carry no
  position in space: each frame is one 2D frame, in file order.

Each frame keeps its file's pixel spacing (PixelSpacing, else the calibrated Sequence of
Ultrasound Regions in cm -> mm; ``meta["spacing_known"] = "0"`` when neither exists), colour
handling and safe tags, exactly as a single file read by :func:`~.dicom.read_dicom_file`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputFileError
from ..geometry import Geometry
from .colour import apply_colour_mode
from .dicom import _read_header, is_dicom_file, quiet_pydicom, read_dicom_file
from .image import ImageData

#: DICOM SOP classes of ultrasound / video captures (Secondary Capture, US, US multi-frame)
US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"


@dataclass
class FrameStack:
    """A sequence of 2D frames from one acquisition: ``frames[n]`` is ``(1, J, I)`` (or RGB ``(1, J, I, 3)``),
    ``labels[n]`` names it (its file, or ``frame N`` of a cine file)."""

    source: str
    frames: list[ImageData] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)


def _dicom_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return files if files and all(is_dicom_file(p) for p in files) else []


def is_frame_stack(path: str | Path) -> bool:
    """Does ``path`` hold a 2D frame stack (cheap: headers only)?"""
    path = Path(path)
    with quiet_pydicom():
        if path.is_dir():
            files = _dicom_files(path)
            return bool(files) and all("ImagePositionPatient" not in _read_header(p) for p in files)
        if path.is_file() and is_dicom_file(path):
            ds = _read_header(path)
            return (int(ds.get("NumberOfFrames", 1) or 1) > 1 and str(ds.get("SOPClassUID", "")) == US_MULTIFRAME
                    and "PerFrameFunctionalGroupsSequence" not in ds and "ImagePositionPatient" not in ds)
    return False


def _order(path: Path) -> tuple:
    ds = _read_header(path)
    number = ds.get("InstanceNumber")
    time = str(ds.get("AcquisitionTime") or ds.get("ContentTime") or "")
    return (int(number) if number not in (None, "") else 1 << 30, time, path.name)


def read_frame_stack(path: str | Path, colour: str = "keep") -> FrameStack:
    """The frames of a folder of single-frame files, or of one cine file (InputFileError naming
    the file when a frame cannot be read); ``colour`` as :func:`~.readers.read_image` takes it
    (``"grey"`` for B-mode and mammography, ``"keep"`` for Doppler / elastography)."""
    path = Path(path)
    stack = _read_frames(path)
    for frame in stack.frames:
        frame.array = apply_colour_mode(frame.array, colour)
    return stack


def _read_frames(path: Path) -> FrameStack:
    stack = FrameStack(str(path))
    with quiet_pydicom():
        if path.is_dir():
            files = _dicom_files(path)
            if not files:
                raise InputFileError(path, "no DICOM file in this folder")
            for file in sorted(files, key=_order):
                image = read_dicom_file(file)
                if not image.is_2d:
                    raise InputFileError(file, f"a frame of the stack has {image.shape_kji[0]} frames itself")
                stack.frames.append(image)
                stack.labels.append(file.name)
            return stack
        cine = read_dicom_file(path)
    for number in range(cine.shape_kji[0]):
        spacing = cine.geometry.spacing
        frame = ImageData(cine.array[number : number + 1].copy(),
                          Geometry((spacing[0], spacing[1], 1.0), cine.geometry.origin, cine.geometry.direction),
                          f"{path}#frame{number + 1}", dict(cine.meta))
        stack.frames.append(frame)
        stack.labels.append(f"frame {number + 1}")
    return stack
