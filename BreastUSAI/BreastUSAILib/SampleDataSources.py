"""The extension's own sample images for 3D Slicer's Sample Data module (category *BreastUSAI*):
the held-out BUSI and BUS-BRA demo images and the phantom ABVS volume that ship in
``Resources/SampleData`` - loaded from those files, nothing downloaded. Each is registered with
its sha256, so Slicer checks the copy it loads."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

CATEGORY = "BreastUSAI"


def sampleDataFolder() -> Path:
    from BreastUSAITraining.shipped import sample_data_folder

    return sample_data_folder()


def sampleDataSources(folder: Path | None = None) -> list[dict]:
    """One entry per sample image: ``sampleName`` (dataset, pathology and file, in words), ``path``,
    ``uri`` (file://), ``nodeName``, ``checksum`` ("SHA256:..."), ``kind`` (the image kind to record).
    A listed file that is missing raises FileNotFoundError naming it."""
    folder = Path(folder) if folder is not None else sampleDataFolder()
    manifest = folder / "manifest.csv"
    with open(manifest, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sources = []
    for row in rows:
        path = folder / row["image"]
        if not path.is_file():
            raise FileNotFoundError(f"{manifest}: sample image {row['image']} is missing")
        volume = path.suffix == ".nrrd"
        words = f"{row['dataset']} {row['pathology'] or ''} {path.stem}".replace("  ", " ").strip()
        sources.append({"sampleName": words, "path": str(path), "uri": path.resolve().as_uri(), "fileName": path.name,
                        "nodeName": path.stem, "kind": "abvs" if volume else "us_bmode",
                        "checksum": "SHA256:" + hashlib.sha256(path.read_bytes()).hexdigest()})
    return sources


def registerSampleData(sample_data_logic, folder: Path | None = None) -> int:
    """Register every sample with Slicer's ``SampleData.SampleDataLogic``; returns how many."""
    sources = sampleDataSources(folder)
    for source in sources:
        sample_data_logic.registerCustomSampleDataSource(
            category=CATEGORY, sampleName=source["sampleName"], uris=source["uri"], fileNames=source["fileName"],
            nodeNames=source["nodeName"], checksums=source["checksum"], loadFileType="VolumeFile")
    return len(sources)
