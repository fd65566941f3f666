"""2D ultrasound / mammography readers and the explicit colour rule."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import IDENTIFIERS, write_mg, write_us_palette, write_us_rgb
from PIL import Image

from BreastUSAITraining.imagefiles import read_image_2d
from BreastUSAITraining.imagefiles.colour import apply_colour_mode, colour_mode_for, to_grey

ROWS, COLS = 6, 9  # asymmetric


def grey_pattern() -> np.ndarray:
    return (np.arange(ROWS * COLS).reshape(ROWS, COLS) * 4).astype(np.uint8)


def rgb_pattern() -> np.ndarray:
    rgb = np.zeros((ROWS, COLS, 3), np.uint8)
    rgb[..., 0] = grey_pattern()
    rgb[..., 1] = 255 - grey_pattern()
    rgb[2, 7] = (10, 200, 30)
    return rgb


@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp"])
def test_lossless_grey_formats_round_trip(tmp_path, suffix):
    path = tmp_path / f"bmode{suffix}"
    Image.fromarray(grey_pattern()).save(path)
    image = read_image_2d(path)
    assert image.array.shape == (1, ROWS, COLS)
    assert np.array_equal(image.plane, grey_pattern())
    assert image.geometry.spacing == (1.0, 1.0, 1.0) and image.meta["spacing_known"] == "0"


def test_known_spacing_is_applied(tmp_path):
    path = tmp_path / "b.png"
    Image.fromarray(grey_pattern()).save(path)
    image = read_image_2d(path, spacing_mm=(0.12, 0.15))
    assert image.geometry.spacing == (0.12, 0.15, 1.0) and "spacing_known" not in image.meta


def test_jpeg_reads_close_to_the_original(tmp_path):
    path = tmp_path / "b.jpg"
    smooth = np.tile(np.linspace(40, 200, 64).astype(np.uint8), (48, 1))
    Image.fromarray(smooth).save(path, quality=95)
    image = read_image_2d(path)
    assert image.plane.shape == (48, 64)
    assert np.abs(image.plane.astype(int) - smooth).max() < 6


def test_colour_rule_grey_for_bmode_keep_for_doppler(tmp_path):
    path = tmp_path / "doppler.png"
    Image.fromarray(rgb_pattern()).save(path)
    grey = read_image_2d(path)  # default: grey
    kept = read_image_2d(path, colour="keep")
    assert grey.plane.shape == (ROWS, COLS) and grey.plane.dtype == np.uint8
    assert kept.plane.shape == (ROWS, COLS, 3) and np.array_equal(kept.plane, rgb_pattern())
    r, g, b = 10, 200, 30
    assert grey.plane[2, 7] == round(0.299 * r + 0.587 * g + 0.114 * b)
    assert colour_mode_for("us_bmode") == "grey" and colour_mode_for("mg_cc") == "grey"
    assert colour_mode_for("us_doppler") == "keep" and colour_mode_for("us_elastography") == "keep"


def test_grey_image_read_with_keep_stays_grey(tmp_path):
    path = tmp_path / "g.png"
    Image.fromarray(grey_pattern()).save(path)
    assert read_image_2d(path, colour="keep").plane.shape == (ROWS, COLS)


def test_palette_and_alpha_are_expanded(tmp_path):
    palette_path = tmp_path / "p.png"
    indices = (np.arange(ROWS * COLS).reshape(ROWS, COLS) % 3).astype(np.uint8)
    img = Image.fromarray(indices, mode="P")
    img.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (768 - 9))
    img.save(palette_path)
    kept = read_image_2d(palette_path, colour="keep").plane
    assert tuple(kept[0, 0]) == (255, 0, 0) and tuple(kept[0, 1]) == (0, 255, 0) and tuple(kept[0, 2]) == (0, 0, 255)
    rgba_path = tmp_path / "a.png"
    rgba = np.dstack([rgb_pattern(), np.full((ROWS, COLS), 128, np.uint8)])
    Image.fromarray(rgba, mode="RGBA").save(rgba_path)
    assert np.array_equal(read_image_2d(rgba_path, colour="keep").plane, rgb_pattern())


def test_sixteen_bit_png_and_tiff_keep_their_range(tmp_path):
    values = (np.arange(ROWS * COLS).reshape(ROWS, COLS) * 70).astype(np.uint16)  # up to 3710
    for suffix in (".png", ".tif"):
        path = tmp_path / f"mg{suffix}"
        Image.fromarray(values).save(path)
        image = read_image_2d(path)
        assert image.plane.dtype == np.uint16
        assert np.array_equal(image.plane, values)


def test_float_tiff_with_nan_is_refused(tmp_path):
    values = np.ones((ROWS, COLS), np.float32)
    values[1, 1] = np.nan
    path = tmp_path / "nan.tif"
    Image.fromarray(values, mode="F").save(path)
    with pytest.raises(Exception) as error:
        read_image_2d(path)
    assert "NaN" in str(error.value) and "nan.tif" in str(error.value)


def test_dicom_ultrasound_rgb_with_calibrated_region(tmp_path):
    path = write_us_rgb(tmp_path / "us.dcm", rgb_pattern(), region_spacing_cm=(0.012, 0.015))
    kept = read_image_2d(path, colour="keep")
    assert np.array_equal(kept.plane, rgb_pattern())
    assert np.allclose(kept.geometry.spacing[:2], (0.12, 0.15))
    assert kept.meta["Modality"] == "US" and kept.meta["BurnedInAnnotation"] == "YES"
    assert all(value not in str(kept.meta) for value in IDENTIFIERS.values())
    assert read_image_2d(path).plane.shape == (ROWS, COLS)


def test_dicom_ultrasound_without_calibration_is_flagged(tmp_path):
    path = write_us_rgb(tmp_path / "us.dcm", rgb_pattern())
    assert read_image_2d(path).meta["spacing_known"] == "0"


def test_dicom_palette_colour_is_applied(tmp_path):
    lut = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]])
    indices = (np.arange(ROWS * COLS).reshape(ROWS, COLS) % 4).astype(np.uint8)
    kept = read_image_2d(write_us_palette(tmp_path / "pal.dcm", indices, lut), colour="keep").plane
    assert kept.shape == (ROWS, COLS, 3)
    assert np.array_equal(kept[0, :4], lut)


def test_dicom_mammogram_monochrome1_is_shown_white_on_high(tmp_path):
    stored = (np.arange(ROWS * COLS).reshape(ROWS, COLS) * 70).astype(np.uint16)
    image = read_image_2d(write_mg(tmp_path / "mg.dcm", stored, monochrome1=True))
    assert image.plane.dtype == np.uint16
    # MONOCHROME1: the lowest stored value is the brightest; the reader shows it high
    assert image.plane[0, 0] == image.plane.max() and image.plane[-1, -1] == image.plane.min()
    assert np.array_equal(image.plane, 4095 - stored)
    assert np.allclose(image.geometry.spacing[:2], (0.07, 0.085))
    assert image.meta["ViewPosition"] == "CC"
    plain = read_image_2d(write_mg(tmp_path / "mg2.dcm", stored, monochrome1=False))
    assert np.array_equal(plain.plane, stored)


def test_to_grey_and_colour_mode_shapes():
    rgb = rgb_pattern()[None]
    assert apply_colour_mode(rgb, "grey").shape == (1, ROWS, COLS)
    assert apply_colour_mode(rgb, "keep").shape == (1, ROWS, COLS, 3)
    assert to_grey(np.array([[1000, 2000, 3000]], np.uint16)).dtype == np.uint16
    with pytest.raises(ValueError):
        apply_colour_mode(rgb, "sepia")
