"""No header may send a reader outside its input's folder (issue 22, item 2): NRRD ``data file``
(one name, ``LIST``, a pattern) and MetaImage ``ElementDataFile`` pointing at an absolute path,
``..`` or a symlink that leaves the folder are refused, naming the header; data beside the header
still reads. Real files on disk: the "secret" voxels exist and would be read if followed."""

from __future__ import annotations

import numpy as np
import pytest

from BreastUSAITraining.errors import InputFileError
from BreastUSAITraining.imagefiles import read_image, read_segmentation

SHAPE = (4, 5, 6)  # k, j, i


def _raw(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.full(SHAPE, value, dtype=np.uint8).tofile(path)
    return path


def _nhdr(folder, data_file, extra=""):
    header = folder / "image.nhdr"
    header.write_text("NRRD0004\ntype: uint8\ndimension: 3\nspace: left-posterior-superior\n"
                      f"sizes: {SHAPE[2]} {SHAPE[1]} {SHAPE[0]}\nspace directions: (1,0,0) (0,1,0) (0,0,1)\n"
                      f"space origin: (0,0,0)\nencoding: raw\ndata file: {data_file}\n{extra}")
    return header


def _mhd(folder, data_file):
    header = folder / "image.mhd"
    header.write_text(f"ObjectType = Image\nNDims = 3\nDimSize = {SHAPE[2]} {SHAPE[1]} {SHAPE[0]}\n"
                      f"ElementType = MET_UCHAR\nElementSpacing = 1 1 1\nElementDataFile = {data_file}\n")
    return header


@pytest.fixture()
def places(tmp_path):
    inside, outside = tmp_path / "case", tmp_path / "elsewhere"
    inside.mkdir()
    secret = _raw(outside / "secret.raw", 200)
    _raw(inside / "voxels.raw", 7)
    return inside, secret


def test_detached_data_beside_the_header_reads(places):
    inside, _ = places
    assert read_image(_nhdr(inside, "voxels.raw")).array.max() == 7
    (inside / "image.nhdr").unlink()
    assert read_image(_mhd(inside, "voxels.raw")).array.max() == 7


@pytest.mark.parametrize("kind", ["nhdr", "mhd"])
@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink", "list", "pattern"])
def test_a_header_pointing_outside_is_refused(places, kind, how):
    inside, secret = places
    if how == "symlink":
        (inside / "link.raw").symlink_to(secret)
    reference = {"absolute": str(secret), "dotdot": "../elsewhere/secret.raw", "symlink": "link.raw",
                 "list": "LIST\nvoxels.raw\n../elsewhere/secret.raw", "pattern": "../elsewhere/secret%d.raw 1 1 1"}[how]
    if how == "pattern":
        _raw(secret.parent / "secret1.raw", 200)
    header = _nhdr(inside, reference) if kind == "nhdr" else _mhd(inside, reference)
    with pytest.raises(InputFileError) as info:
        read_image(header)
    assert str(header) in str(info.value)
    assert "outside its folder" in str(info.value) or "absolute path" in str(info.value)


def test_a_segmentation_with_a_detached_data_file_outside_is_refused(places):
    inside, secret = places
    header = inside / "lesions.seg.nrrd"
    header.write_text(_nhdr(inside, str(secret)).read_text() + "Segment0_ID:=lesion_1\n")
    with pytest.raises(InputFileError, match="absolute path"):
        read_segmentation(header)
