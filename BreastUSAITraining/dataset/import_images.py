"""``dataset import-images``: a folder of a hospital's images -> an anonymous dataset.

Every image (NRRD / NIfTI / MetaImage / PNG / JPEG / DICOM file, or, for ABVS, a DICOM
series folder) becomes a case ``case_0001``...; images of one patient (same DICOM
PatientID) share a pseudonym ``patient_0001``... so folds keep them together. Nothing
else of the source is written: not the file names, not a DICOM tag - only voxels and
geometry. Masks (``<stem>.seg.nrrd`` or ``<stem>_mask.<ext>`` in ``--masks``) become
lesion segments; labels (``--labels`` CSV: ``file,pathology[,birads]``) the pathology.
Which source file became which case may be written to ``--mapping`` (a CSV), which must
lie outside the dataset so that the export itself stays anonymous.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ..atomic import atomic_directory, write_text_atomic
from ..errors import InputFileError, UsageError
from ..imagefiles import (
    SUPPORTED_SUFFIXES,
    ImageData,
    Segment,
    SegmentationData,
    read_image,
    read_segmentation,
    write_nrrd,
    write_segmentation,
)
from ..imagefiles.colour import colour_mode_for
from ..imagefiles.dicom import is_dicom_file, quiet_pydicom
from ..imagefiles.frame_stack import is_frame_stack, read_frame_stack
from .contract import Dataset, LesionItem, save_dataset
from .folds import assign_folds, link_groups
from .schema import BIRADS_CATEGORIES, MODALITIES, PATHOLOGIES

MASK_SUFFIXES = (".nrrd", ".png", ".nii.gz", ".nii", ".mha", ".bmp", ".tif")


@dataclass
class ImageImportReport:
    out: Path
    images: int = 0
    lesions: int = 0
    patients: int = 0
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in (".seg.nrrd", ".nii.gz"):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _stem(path: Path) -> str:
    return path.name[: len(path.name) - len(_suffix(path))] if _suffix(path) else path.name


def find_images(source: Path, kind: str) -> list[Path]:
    """Image files under ``source`` (recursive, sorted); for ABVS a folder of DICOM files is one series."""
    found: list[Path] = []
    for folder in sorted([source, *(p for p in source.rglob("*") if p.is_dir())]):
        if any(part.startswith(".") for part in folder.relative_to(source).parts):
            continue
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        dicom = [p for p in files if is_dicom_file(p)]
        if kind == "abvs" and dicom and len(dicom) == len(files) and len(dicom) > 1:
            found.append(folder)
            continue
        found += [p for p in files if p in dicom or (_suffix(p) in SUPPORTED_SUFFIXES and _suffix(p) != ".seg.nrrd")]
    return found


def _patient_key(path: Path) -> str:
    """The DICOM PatientID (read, never written) or, without one, the file itself."""
    import pydicom

    first = path if path.is_file() else next(p for p in sorted(path.iterdir()) if p.is_file())
    if is_dicom_file(first):
        try:
            with quiet_pydicom():
                value = str(pydicom.dcmread(first, stop_before_pixels=True, specific_tags=["PatientID"]).get("PatientID", "")).strip()
        except Exception:  # noqa: BLE001 - an unreadable header only loses the grouping
            value = ""
        if value:
            return f"dicom:{value}"
    return f"file:{path}"


def _labels(path: Path | None) -> dict[str, dict[str, str]]:
    if path is None:
        return {}
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and "file" not in rows[0]:
        raise InputFileError(path, "labels CSV needs a 'file' column (and 'pathology', optionally 'birads')")
    labels = {}
    for number, row in enumerate(rows, start=2):
        pathology = (row.get("pathology") or "").strip().lower() or None
        birads = (row.get("birads") or "").strip().upper() or None
        if pathology is not None and pathology not in PATHOLOGIES:
            raise InputFileError(path, f"line {number}: pathology must be one of {', '.join(PATHOLOGIES)}, got {pathology!r}")
        if birads is not None and birads not in BIRADS_CATEGORIES:
            raise InputFileError(path, f"line {number}: BI-RADS must be one of {', '.join(BIRADS_CATEGORIES)}, got {birads!r}")
        labels[_stem(Path(row["file"].strip()))] = {"pathology": pathology, "birads": birads}
    return labels


def _masks(masks: Path | None, image_path: Path, image: ImageData) -> list[Segment]:
    if masks is None:
        return []
    stem = _stem(image_path)
    seg_file = masks / f"{stem}.seg.nrrd"
    if seg_file.is_file():
        segmentation = read_segmentation(seg_file).on_grid(image.geometry, image.shape_kji)
        return [Segment(f"lesion_{n}", s.mask, s.colour) for n, s in enumerate(segmentation.segments, start=1) if s.mask.any()]
    for suffix in MASK_SUFFIXES:
        mask_file = masks / f"{stem}_mask{suffix}"
        if mask_file.is_file():
            mask = read_image(mask_file, colour="grey", spacing_mm=image.geometry.spacing[:2]).array > 0
            if mask.shape[:3] != image.shape_kji:
                raise InputFileError(mask_file, f"mask shape {mask.shape[:3]} differs from its image's {image.shape_kji}")
            return [Segment("lesion_1", mask)] if mask.any() else []
    return []


def _cine_frames(path: Path, kind: str) -> tuple[list[ImageData], list[str]]:
    """A cine loop's frames, in colour or grey as ``kind`` wants (B-mode grey, Doppler colour)."""
    stack = read_frame_stack(path, colour=colour_mode_for(kind))
    return stack.frames, stack.labels


def _import_one(image: ImageData, path: Path, source_name: str, kind: str, staging: Path, report: "ImageImportReport",
                pseudonyms: dict[str, str], label_rows: dict[str, dict[str, str]], masks_dir: Path | None,
                mapping_rows: list) -> list[LesionItem]:
    """One image (or one frame of a cine loop) as a case: voxels and geometry written, its lesion items."""
    report.images += 1
    case_id = f"case_{report.images:04d}"
    if image.meta.get("BurnedInAnnotation", "").strip().upper() == "YES":
        report.warnings.append(f"{case_id}: the source DICOM says the pixels carry burned-in annotation (text "
                               "that may identify the patient); check or mask it before sharing the dataset")
    patient = pseudonyms.setdefault(_patient_key(path), f"patient_{len(pseudonyms) + 1:04d}")
    image_rel = f"images/{case_id}_{kind}.nrrd"
    write_nrrd(ImageData(image.array, image.geometry), staging / image_rel)  # voxels and geometry only
    label = label_rows.get(_stem(path), {})
    segments = _masks(masks_dir, path, image) if source_name == str(path) else []  # masks name whole files, not frames
    common = dict(case_id=case_id, patient_id=patient, images={kind: image_rel}, birads=label.get("birads"))
    items: list[LesionItem] = []
    if segments:
        seg_rel = f"segmentations/{case_id}.seg.nrrd"
        write_segmentation(staging / seg_rel, SegmentationData(segments, image.geometry, image.shape_kji))
        items += [LesionItem(lesion_id=s.name, segmentation={kind: seg_rel}, segment=s.name,
                             pathology=label.get("pathology"), **common) for s in segments]
        report.lesions += len(segments)
    else:  # no mask: one lesion item without a segment yet (a lesion-free image when labelled normal)
        lesion = None if label.get("pathology") == "normal" else "lesion_1"
        items.append(LesionItem(lesion_id=lesion, pathology=label.get("pathology"), **common))
    mapping_rows.append((source_name, case_id, patient))
    return items


def import_images(source: str | Path, out: str | Path, kind: str, masks: str | Path | None = None,
                  labels: str | Path | None = None, mapping: str | Path | None = None, n_folds: int = 5, seed: int = 0,
                  overwrite: bool = False, progress: bool = True) -> ImageImportReport:
    """Convert the images under ``source`` into the dataset folder ``out`` (written atomically)."""
    source, out = Path(source), Path(out)
    if kind not in MODALITIES:
        raise UsageError(f"--kind must be one of {', '.join(MODALITIES)}, got {kind!r}")
    if not source.is_dir():
        raise InputFileError(source, "source folder not found")
    if mapping is not None and Path(mapping).resolve().is_relative_to(out.resolve()):
        raise UsageError(f"--mapping {mapping} must lie outside the dataset folder {out}: it links cases to source files")
    masks_dir = Path(masks) if masks else None
    label_rows = _labels(Path(labels) if labels else None)
    files = find_images(source, kind)
    if not files:
        raise InputFileError(source, f"no image file found ({', '.join(SUPPORTED_SUFFIXES)} or DICOM)")
    report = ImageImportReport(out)
    pseudonyms: dict[str, str] = {}
    mapping_rows = []
    items: list[LesionItem] = []
    try:
        with atomic_directory(out, overwrite=overwrite) as staging:
            for path in tqdm(files, desc="Importing images", unit="image", disable=not progress):
                try:
                    image = read_image(path, colour=colour_mode_for(kind))
                    # a cine loop (ultrasound frames without positions) gives one 2D image per frame
                    frames = ([(frame, f"{path}#{label.replace(' ', '')}") for frame, label in
                               zip(*_cine_frames(path, kind))] if kind != "abvs" and not image.is_2d and is_frame_stack(path)
                              else [(image, str(path))])
                except InputFileError as error:
                    report.skipped.append(str(error))
                    continue
                for image, source_name in frames:
                    if (kind == "abvs") == image.is_2d:
                        report.skipped.append(f"{path}: {'a 2D image' if image.is_2d else 'a volume'} is not a {kind} image")
                        continue
                    items += _import_one(image, path, source_name, kind, staging, report, pseudonyms, label_rows,
                                         masks_dir, mapping_rows)
            if not items:
                raise InputFileError(source, "no image could be imported: " + "; ".join(report.skipped[:3]))
            groups = len(link_groups(items))
            if groups >= 2:
                items = assign_folds(items, n_folds=min(n_folds, groups), seed=seed)
            save_dataset(Dataset(staging, f"Imported {kind} images", items,
                                 description=f"{report.images} {MODALITIES[kind]} images imported by BreastUSAI; "
                                             "case and patient ids are pseudonyms",
                                 extra={"source": {"images": report.images, "skipped": len(report.skipped)}}))
    except FileExistsError as error:
        raise InputFileError(out, str(error)) from None
    report.patients = len(pseudonyms)
    if mapping is not None:
        lines = ["source,case_id,patient_id"] + [",".join(f'"{v}"' for v in row) for row in mapping_rows]
        write_text_atomic(Path(mapping), "\n".join(lines) + "\n")
    return report
