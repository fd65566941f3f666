"""Geometry conventions and 3D volume round trips (NRRD, NIfTI, MetaImage, DICOM).

Arrays are asymmetric (every axis a different length, every voxel a different value)
and the direction matrix is an oblique rotation, so any axis swap, flip or lost
origin shows up."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from dicom_factory import IDENTIFIERS, write_enhanced_us_volume, write_series

from BreastUSAITraining.geometry import Geometry
from BreastUSAITraining.imagefiles import ImageData, read_volume, write_nrrd
from BreastUSAITraining.imagefiles.sitk_bridge import sitk_from_array


def oblique_direction() -> np.ndarray:
    """A proper rotation about (1, 2, 3) by 35 degrees: no axis stays aligned."""
    axis = np.array([1.0, 2.0, 3.0]) / np.linalg.norm([1.0, 2.0, 3.0])
    angle = np.radians(35.0)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


GEOMETRY = Geometry((0.5, 0.7, 1.3), (12.5, -40.25, 7.0), oblique_direction().ravel())
VOLUME = np.arange(5 * 7 * 11, dtype=np.int16).reshape(5, 7, 11) * 3 - 100  # (K, J, I)


def test_index_to_physical_matches_simpleitk():
    image = sitk_from_array(VOLUME, GEOMETRY)
    for ijk in [(0, 0, 0), (10, 6, 4), (3, 1, 2)]:
        ours = GEOMETRY.index_to_lps(np.array(ijk, dtype=float))
        theirs = image.TransformContinuousIndexToPhysicalPoint([float(v) for v in ijk])
        assert np.allclose(ours, theirs)
        assert np.allclose(GEOMETRY.lps_to_index(ours), ijk)
    ras = GEOMETRY.index_to_ras(np.array([3.0, 1.0, 2.0]))
    lps = GEOMETRY.index_to_lps(np.array([3.0, 1.0, 2.0]))
    assert np.allclose(ras, lps * [-1, -1, 1])
    assert np.allclose(GEOMETRY.ijk_to_ras()[:3, 3], [-12.5, 40.25, 7.0])


def test_geometry_from_matrix_is_the_inverse():
    again = Geometry.from_ijk_to_lps(GEOMETRY.ijk_to_lps())
    assert again.is_close(GEOMETRY)
    assert Geometry.from_dict(GEOMETRY.to_dict()) == GEOMETRY


def test_geometry_problems_are_named():
    assert GEOMETRY.problems() == []
    assert "spacing" in Geometry((0.0, 1.0, 1.0)).problems()[0]
    assert "orthonormal" in Geometry(direction=(1, 0, 0, 1, 1, 0, 0, 0, 1)).problems()[0]
    assert "origin" in Geometry(origin=(float("nan"), 0, 0)).problems()[0]


@pytest.mark.parametrize("suffix", [".nrrd", ".nii", ".nii.gz", ".mha", ".mhd"])
def test_volume_round_trip_keeps_array_and_geometry(tmp_path, suffix):
    path = tmp_path / f"volume{suffix}"
    sitk.WriteImage(sitk_from_array(VOLUME, GEOMETRY), str(path))
    image = read_volume(path)
    assert image.array.shape == VOLUME.shape
    assert np.array_equal(image.array, VOLUME)
    assert image.geometry.is_close(GEOMETRY, tolerance_mm=1e-4)  # NIfTI stores float32


def test_nrrd_writer_round_trip_with_mirrored_direction(tmp_path):
    mirrored = Geometry((0.2, 0.11, 0.5), (-90.0, 10.0, -40.0), np.diag([1.0, 1.0, -1.0]).ravel())
    image = ImageData(VOLUME.astype(np.uint8), mirrored, "memory", {"modality": "abvs", "PatientName": "X"})
    path = write_nrrd(image, tmp_path / "abvs.nrrd")
    again = read_volume(path)
    assert np.array_equal(again.array, VOLUME.astype(np.uint8))
    assert again.geometry.is_close(mirrored)
    assert again.meta == {"modality": "abvs"}  # only safe keys travel
    assert b"PatientName" not in path.read_bytes()


def test_nrrd_in_ras_space_is_read_in_lps(tmp_path):
    path = tmp_path / "ras.nrrd"
    header = (
        "NRRD0004\ntype: uint8\ndimension: 3\nspace: right-anterior-superior\nsizes: 4 3 2\n"
        "space directions: (0.5,0,0) (0,0.7,0) (0,0,1.3)\nkinds: domain domain domain\nencoding: raw\n"
        "space origin: (10,20,30)\n\n"
    )
    path.write_bytes(header.encode() + bytes(range(24)))
    image = read_volume(path)
    assert np.allclose(image.geometry.origin, (-10, -20, 30))
    assert np.allclose(image.geometry.direction_matrix, np.diag([-1.0, -1.0, 1.0]))
    assert image.array[1, 2, 3] == 1 * 12 + 2 * 4 + 3


def test_dicom_series_folder(tmp_path):
    direction = oblique_direction()
    folder = write_series(tmp_path / "series", VOLUME, (0.5, 0.7, 1.3), (12.5, -40.25, 7.0), direction)
    image = read_volume(folder)
    assert np.array_equal(image.array, VOLUME)
    assert image.geometry.is_close(GEOMETRY, tolerance_mm=1e-3)
    assert image.meta["Modality"] == "OT"
    assert all(value not in str(image.meta) for value in IDENTIFIERS.values())


def test_dicom_series_with_a_missing_slice_is_refused(tmp_path):
    folder = write_series(tmp_path / "gap", VOLUME, (0.5, 0.7, 1.3), (0, 0, 0), np.eye(3), skip_slice=2)
    with pytest.raises(Exception) as error:
        read_volume(folder)
    assert "unevenly spaced" in str(error.value) and str(folder) in str(error.value)


def test_folder_with_two_series_needs_a_choice(tmp_path):
    write_series(tmp_path / "both", VOLUME, (0.5, 0.7, 1.3), (0, 0, 0), np.eye(3))
    second = write_series(tmp_path / "other", VOLUME[:3], (0.5, 0.7, 1.3), (0, 0, 50), np.eye(3))
    for f in second.iterdir():
        f.rename(tmp_path / "both" / f"b_{f.name}")
    with pytest.raises(Exception) as error:
        read_volume(tmp_path / "both")
    assert "2 DICOM series" in str(error.value)
    import pydicom

    uid = pydicom.dcmread(next((tmp_path / "both").glob("b_*.dcm"))).SeriesInstanceUID
    chosen = read_volume(tmp_path / "both", series_uid=uid)
    assert chosen.array.shape[0] == 3


def test_enhanced_ultrasound_multiframe_geometry(tmp_path):
    """GDCM ignores functional groups of US volumes; our reader must not."""
    volume = (np.arange(6 * 5 * 9).reshape(6, 5, 9) % 251).astype(np.uint8)
    direction = oblique_direction()
    path = write_enhanced_us_volume(tmp_path / "abvs.dcm", volume, (0.2, 0.11, 0.5), (-80.0, 12.0, -30.0), direction)
    image = read_volume(path)
    assert np.array_equal(image.array, volume)
    expected = Geometry((0.2, 0.11, 0.5), (-80.0, 12.0, -30.0), direction.ravel())
    assert image.geometry.is_close(expected, tolerance_mm=1e-4)
    sitk_only = sitk.ReadImage(str(path))
    assert sitk_only.GetSpacing() == (1.0, 1.0, 1.0)  # the gap this reader closes


def test_enhanced_multiframe_without_positions_uses_slice_spacing(tmp_path):
    volume = np.zeros((4, 5, 6), np.uint8)
    path = write_enhanced_us_volume(tmp_path / "v.dcm", volume, (0.3, 0.2, 0.8), (0, 0, 0), np.eye(3), per_frame_positions=False)
    image = read_volume(path)
    assert np.allclose(image.geometry.spacing, (0.3, 0.2, 0.8))


def test_enhanced_multiframe_uneven_frames_are_refused(tmp_path):
    volume = np.zeros((4, 5, 6), np.uint8)
    path = write_enhanced_us_volume(tmp_path / "u.dcm", volume, (0.3, 0.2, 0.8), (0, 0, 0), np.eye(3), uneven=True)
    with pytest.raises(Exception) as error:
        read_volume(path)
    assert "unevenly spaced" in str(error.value) and "u.dcm" in str(error.value)
