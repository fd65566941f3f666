"""Bad input gives one documented error type, InputFileError, naming the file and the
problem - never a crash, a hang or a silent mis-read."""

from __future__ import annotations

import gzip

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from dicom_factory import write_enhanced_us_volume, write_mg, write_us_rgb
from PIL import Image

from BreastUSAITraining.errors import BreastUSAIError, InputFileError
from BreastUSAITraining.geometry import Geometry
from BreastUSAITraining.imagefiles import read_image, read_image_2d, read_volume
from BreastUSAITraining.imagefiles.sitk_bridge import sitk_from_array


def expect_error(call, path, *phrases):
    with pytest.raises(InputFileError) as info:
        call()
    message = str(info.value)
    assert isinstance(info.value, BreastUSAIError)
    assert str(path) in message, message
    assert info.value.path == str(path)
    for phrase in phrases:
        assert phrase in message, message
    return message


def write_volume(path, array, geometry=Geometry((0.5, 0.6, 0.7))):
    sitk.WriteImage(sitk_from_array(array, geometry), str(path), False)
    return path


def test_missing_file(tmp_path):
    expect_error(lambda: read_volume(tmp_path / "nope.nrrd"), tmp_path / "nope.nrrd", "file not found")


def test_zero_size_files(tmp_path):
    for name in ("empty.nrrd", "empty.png", "empty.dcm", "empty.nii.gz"):
        path = tmp_path / name
        path.touch()
        expect_error(lambda: read_image(path), path, "empty (0 bytes)")


@pytest.mark.parametrize("suffix", [".nrrd", ".mha", ".nii"])
def test_truncated_volume_pixel_data(tmp_path, suffix):
    path = write_volume(tmp_path / f"t{suffix}", np.arange(6 * 7 * 8, dtype=np.float32).reshape(6, 7, 8))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 400])
    expect_error(lambda: read_volume(path), path, "truncated or corrupt pixel data")


def test_truncated_compressed_nrrd(tmp_path):
    path = tmp_path / "c.nrrd"
    sitk.WriteImage(sitk_from_array(np.random.default_rng(2).random((6, 7, 8)).astype(np.float32), Geometry()), str(path), True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    expect_error(lambda: read_volume(path), path, "truncated or corrupt pixel data")


def test_metaimage_with_truncated_raw_file(tmp_path):
    path = write_volume(tmp_path / "m.mhd", np.arange(6 * 7 * 8, dtype=np.float32).reshape(6, 7, 8))
    raw = tmp_path / "m.raw"
    raw.write_bytes(raw.read_bytes()[:100])
    expect_error(lambda: read_volume(path), path, "truncated or corrupt pixel data")


def test_truncated_gzip_nifti(tmp_path):
    path = tmp_path / "t.nii.gz"
    write_volume(path, np.random.default_rng(0).random((6, 7, 8)).astype(np.float32))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    expect_error(lambda: read_volume(path), path, "corrupt")


def test_corrupt_nrrd_header(tmp_path):
    path = tmp_path / "bad.nrrd"
    path.write_bytes(b"NRRD0004\ntype: banana\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n\n" + bytes(8))
    expect_error(lambda: read_volume(path), path, "unreadable or corrupt header")


def test_text_file_with_image_extension(tmp_path):
    for name in ("notes.png", "notes.jpg"):
        path = tmp_path / name
        path.write_text("this is not an image\n")
        expect_error(lambda: read_image(path), path, "not a readable")


def test_truncated_png_and_jpeg(tmp_path):
    image = np.random.default_rng(1).integers(0, 255, (64, 80), dtype=np.uint8)
    for name in ("t.png", "t.jpg"):
        path = tmp_path / name
        Image.fromarray(image).save(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        expect_error(lambda: read_image_2d(path), path, "truncated or corrupt image data")


def test_four_dimensional_image(tmp_path):
    path = tmp_path / "four.nrrd"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((2, 3, 4, 5), np.uint8), isVector=False), str(path))
    expect_error(lambda: read_volume(path), path, "4 dimensions", "only 2D and 3D")


def test_nan_and_inf_voxels(tmp_path):
    array = np.ones((3, 4, 5), np.float32)
    array[1, 2, 3] = np.nan
    array[0, 0, 0] = np.inf
    path = write_volume(tmp_path / "nan.nrrd", array)
    expect_error(lambda: read_volume(path), path, "2 NaN or infinite value(s)")


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "scan.xyz"
    path.write_bytes(b"\x00" * 64)
    expect_error(lambda: read_image(path), path, "unsupported file type .xyz")


def test_unsupported_pixel_type(tmp_path):
    path = tmp_path / "complex.nrrd"
    complex_image = sitk.RealAndImaginaryToComplex(sitk.Image([4, 3, 2], sitk.sitkFloat32), sitk.Image([4, 3, 2], sitk.sitkFloat32))
    sitk.WriteImage(complex_image, str(path))
    expect_error(lambda: read_volume(path), path, "unsupported pixel type")


def test_header_claiming_huge_size_is_refused_before_allocation(tmp_path):
    path = write_volume(tmp_path / "huge.nrrd", np.zeros((4, 5, 6), np.uint8))
    data = path.read_bytes().replace(b"sizes: 6 5 4", b"sizes: 60000 50000 40000")
    path.write_bytes(data)
    expect_error(lambda: read_volume(path), path, "over the limit")


def test_size_limit_follows_the_environment(tmp_path, monkeypatch):
    path = write_volume(tmp_path / "v.nrrd", np.zeros((10, 10, 10), np.uint8))
    monkeypatch.setenv("BREASTUSAI_MAX_IMAGE_BYTES", "1000")
    expect_error(lambda: read_volume(path), path, "over the limit")


def test_huge_png_header_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((100, 100), np.uint8)).save(path)
    monkeypatch.setenv("BREASTUSAI_MAX_IMAGE_BYTES", "5000")
    expect_error(lambda: read_image_2d(path), path, "over the size limit")


def test_dicom_claiming_huge_frames_is_refused(tmp_path):
    path = write_us_rgb(tmp_path / "big.dcm", np.zeros((4, 5, 3), np.uint8))
    ds = pydicom.dcmread(path)
    ds.Rows, ds.Columns, ds.NumberOfFrames = 60000, 60000, 900
    ds.save_as(path)
    expect_error(lambda: read_image(path), path, "more than the limit")


def test_truncated_dicom_pixel_data(tmp_path):
    path = write_mg(tmp_path / "mg.dcm", np.arange(40 * 50, dtype=np.uint16).reshape(40, 50))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1500])
    message = expect_error(lambda: read_image(path), path)
    assert "DICOM" in message


def test_dicom_without_pixels(tmp_path):
    path = write_us_rgb(tmp_path / "sr.dcm", np.zeros((4, 5, 3), np.uint8))
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path)
    expect_error(lambda: read_image(path), path, "no pixel data")


def test_corrupt_dicom_header(tmp_path):
    path = tmp_path / "junk.dcm"
    path.write_bytes(b"\x00" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff" + b"\x01" * 40)
    expect_error(lambda: read_image(path), path)


def test_two_dimensional_image_is_not_a_volume(tmp_path):
    path = tmp_path / "b.png"
    Image.fromarray(np.zeros((8, 9), np.uint8)).save(path)
    expect_error(lambda: read_volume(path), path, "expected a 3D volume, found a 2D image of 8 x 9 pixels")


def test_volume_is_not_a_2d_image(tmp_path):
    path = write_volume(tmp_path / "v.nrrd", np.zeros((3, 4, 5), np.uint8))
    expect_error(lambda: read_image_2d(path), path, "expected a 2D image, found a volume of 3 slices")


def test_colour_volume_is_not_an_abvs_volume(tmp_path):
    path = tmp_path / "rgb.nrrd"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((3, 4, 5, 3), np.uint8), isVector=True), str(path))
    expect_error(lambda: read_volume(path), path, "colour")


def test_multipage_tiff(tmp_path):
    path = tmp_path / "stack.tif"
    frames = [Image.fromarray(np.full((5, 6), v, np.uint8)) for v in (1, 2, 3)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    expect_error(lambda: read_image_2d(path), path, "3 pages/frames")


def test_enhanced_volume_with_sheared_frames(tmp_path):
    # frames advance along i instead of the image normal: a sheared stack
    path = write_enhanced_us_volume(tmp_path / "shear.dcm", np.zeros((4, 5, 6), np.uint8), (0.3, 0.2, 0.8), (0, 0, 0),
                                    np.array([[1.0, 0, 1.0], [0, 1.0, 0], [0, 0, 0]]))
    expect_error(lambda: read_volume(path), path, "perpendicular")


def test_gzip_bomb_like_nrrd_is_bounded(tmp_path):
    """A small file whose header claims a volume beyond the limit never reaches decoding."""
    path = tmp_path / "bomb.nrrd"
    header = b"NRRD0004\ntype: uint8\ndimension: 3\nsizes: 4000 4000 4000\nencoding: gzip\n\n"
    path.write_bytes(header + gzip.compress(b"\x00" * 10_000))
    expect_error(lambda: read_volume(path), path, "over the limit")
