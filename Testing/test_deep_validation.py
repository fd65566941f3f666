"""``dataset validate --deep`` reads every image and segmentation whole (issue 22): truncated pixel
data, NaN voxels and a detached data file outside the folder are violations naming the file,
where a header-only check had passed them."""

from __future__ import annotations

import json
import shutil

import numpy as np
from cli_helpers import run_cli

from BreastUSAITraining.geometry import Geometry
from BreastUSAITraining.imagefiles import ImageData, write_nrrd


def _copy(phantom_us2d, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(phantom_us2d, folder)
    items = json.loads((folder / "dataset.json").read_text())["training"]
    return folder, [item["images"]["us_bmode"] for item in items]


def test_deep_validation_reads_every_voxel(phantom_us2d, tmp_path):
    folder, images = _copy(phantom_us2d, tmp_path)
    assert run_cli("dataset", "validate", str(folder), "--deep").returncode == 0
    truncated, nan_image = folder / images[0], folder / images[1]
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) - 200])  # header intact, pixel data cut short
    original = nan_image.read_bytes()
    write_nrrd(ImageData(np.full((1, 8, 9), np.nan, np.float32), Geometry()), nan_image)
    header_only = run_cli("dataset", "validate", str(folder))
    assert header_only.returncode == 0  # the quick check reads headers only
    deep = run_cli("dataset", "validate", str(folder), "--deep", "--json")
    assert deep.returncode == 2
    found = json.loads(deep.stdout)["violations"]
    text = json.dumps(found)
    assert images[0] in text and images[1] in text
    assert "NaN or infinite" in text
    nan_image.write_bytes(original)


def test_deep_validation_refuses_a_detached_file_outside_the_folder(phantom_us2d, tmp_path):
    folder, images = _copy(phantom_us2d, tmp_path)
    outside = tmp_path / "outside.raw"
    np.zeros((8, 9), np.uint8).tofile(outside)
    header = folder / images[0]
    header.write_text("NRRD0004\ntype: uint8\ndimension: 2\nsizes: 9 8\nencoding: raw\n"
                      f"data file: {outside}\n")
    deep = run_cli("dataset", "validate", str(folder), "--deep", "--json")
    assert deep.returncode == 2 and "absolute path" in deep.stdout
