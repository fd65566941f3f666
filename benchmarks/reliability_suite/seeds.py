"""Valid seed files of every format the tool reads, written into one folder.

Each seed is small (tens of kB) so thousands of mutations stay fast. Returns
{name: path}; names say the format and the reader that takes them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def _dicom_factory():
    testing = REPO / "Testing"
    if str(testing) not in sys.path:
        sys.path.insert(0, str(testing))
    import dicom_factory

    return dicom_factory


def write_seed_images(folder: Path) -> dict[str, Path]:
    """Images: NRRD (gzip 3D, raw 2D), NIfTI (.nii, .nii.gz), MetaImage, PNG (grey, RGB), JPEG, DICOM US and MG."""
    from BreastUSAITraining.geometry import Geometry
    from BreastUSAITraining.imagefiles import ImageData, write_nrrd

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    volume = rng.integers(0, 3000, (8, 10, 12)).astype(np.int16)
    plane = (rng.random((40, 48)) * 255).astype(np.uint8)
    plane[10:25, 15:35] = 40  # a dark "lesion"
    geometry = Geometry((0.5, 0.6, 1.5), (3.0, -4.0, 5.0))
    seeds = {"volume.nrrd": write_nrrd(ImageData(volume, geometry), folder / "volume.nrrd"),
             "plane_raw.nrrd": write_nrrd(ImageData(plane[None], Geometry((0.1, 0.1, 1.0))), folder / "plane_raw.nrrd",
                                          compress=False)}
    image = sitk.GetImageFromArray(volume)
    image.SetSpacing((0.5, 0.6, 1.5))
    for name in ("volume.nii", "volume.nii.gz", "volume.mha"):
        sitk.WriteImage(image, str(folder / name), useCompression=name.endswith(".gz"))
        seeds[name] = folder / name
    Image.fromarray(plane).save(folder / "grey.png")
    Image.fromarray(np.stack([plane, plane // 2, 255 - plane], axis=-1)).save(folder / "colour.png")
    Image.fromarray(plane).save(folder / "plane.jpg", quality=90)
    seeds.update({"grey.png": folder / "grey.png", "colour.png": folder / "colour.png", "plane.jpg": folder / "plane.jpg"})
    factory = _dicom_factory()
    seeds["us.dcm"] = factory.write_us_rgb(folder / "us.dcm", np.stack([plane] * 3, axis=-1), region_spacing_cm=(0.01, 0.01))
    seeds["mg.dcm"] = factory.write_mg(folder / "mg.dcm", (plane.astype(np.uint16) * 16))
    for number, name in enumerate(("us.dcm", "mg.dcm")):
        _fixed_uids(seeds[name], number)
    return seeds


def _fixed_uids(path: Path, number: int) -> None:
    """Replace the random UIDs with fixed ones, so a seed file (and every mutation of it) is
    the same byte for byte on every run: a fuzz failure reproduces from its case number."""
    import pydicom

    dataset = pydicom.dcmread(path)
    root = f"1.2.826.0.1.3680043.10.1234.{number}"
    dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = f"{root}.1"
    dataset.StudyInstanceUID, dataset.SeriesInstanceUID = f"{root}.2", f"{root}.3"
    dataset.save_as(path, enforce_file_format=True)


def write_seed_segmentation(folder: Path) -> Path:
    from BreastUSAITraining.geometry import Geometry
    from BreastUSAITraining.imagefiles.segmentation import Segment, SegmentationData, write_segmentation

    mask = np.zeros((1, 40, 48), bool)
    mask[0, 10:25, 15:35] = True
    data = SegmentationData([Segment("lesion_1", mask, (1.0, 0.0, 0.0), tags={"BreastUSAI.Pathology": "benign"})],
                            Geometry((0.1, 0.1, 1.0)), (1, 40, 48))
    return write_segmentation(folder / "lesions.seg.nrrd", data)


def write_seed_dataset(folder: Path) -> Path:
    """A small phantom dataset folder (dataset.json + images + masks)."""
    from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset

    generate_phantom_dataset(folder, PhantomSettings(kind="us2d", cases=6, image_size=48, seed=1), progress=False)
    json.loads((folder / "dataset.json").read_text())
    return folder


def write_seed_bundle(folder: Path, dataset: Path) -> Path:
    """A tiny trained segmentation bundle (1 epoch on the seed dataset)."""
    from BreastUSAITraining.segmentation.train import SegmentationOptions, train_segmentation
    from BreastUSAITraining.training import TrainingSettings

    return train_segmentation(dataset, folder, SegmentationOptions(size=32, base_channels=4),
                              TrainingSettings(run_dir=folder.parent / f"{folder.name}.run", epochs=1, batch_size=4,
                                               progress=False))


def write_all_seeds(folder: Path) -> dict[str, Path]:
    """Every seed: images, ``lesions.seg.nrrd``, ``dataset`` (folder), ``bundle`` (folder), made afresh."""
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    seeds = write_seed_images(folder / "images")
    seeds["lesions.seg.nrrd"] = write_seed_segmentation(folder)
    seeds["dataset"] = write_seed_dataset(folder / "dataset")
    seeds["bundle"] = write_seed_bundle(folder / "bundle", seeds["dataset"])
    return seeds
