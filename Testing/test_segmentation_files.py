"""Slicer .seg.nrrd read / write with slicerio: names, colours, tags, label values,
overlapping segments, geometry, and Slicer's cropped-extent files."""

from __future__ import annotations

import nrrd
import numpy as np
import pytest
import SimpleITK as sitk
import slicerio
from test_geometry_and_volumes import oblique_direction

from BreastUSAITraining.errors import InputFileError
from BreastUSAITraining.geometry import Geometry
from BreastUSAITraining.imagefiles import Segment, SegmentationData, read_segmentation, write_segmentation
from BreastUSAITraining.imagefiles.sitk_bridge import sitk_from_array

SHAPE = (5, 7, 11)  # (K, J, I)
GEOMETRY = Geometry((0.5, 0.7, 1.3), (12.5, -40.25, 7.0), oblique_direction().ravel())


def masks():
    first = np.zeros(SHAPE, bool)
    first[1:4, 2:5, 3:9] = True
    second = np.zeros(SHAPE, bool)
    second[3:5, 0:3, 7:11] = True
    second[3, 3, 8] = True  # overlaps the first lesion
    third = np.zeros(SHAPE, bool)
    third[0, 6, 0] = True  # a one-voxel lesion in a corner
    return first, second, third


def test_round_trip_with_overlap_colours_and_tags(tmp_path):
    first, second, third = masks()
    data = SegmentationData(
        [
            Segment("lesion_1", first, (0.9, 0.1, 0.1), tags={"pathology": "malignant", "birads": "4C"}),
            Segment("lesion_2", second, (0.1, 0.8, 0.2), segment_id="Segment_7", tags={"pathology": "benign"}),
            Segment("lesion_3", third),
        ],
        GEOMETRY,
        SHAPE,
    )
    path = write_segmentation(tmp_path / "lesions.seg.nrrd", data)
    again = read_segmentation(path)
    assert again.names() == ["lesion_1", "lesion_2", "lesion_3"]
    assert again.shape_kji == SHAPE and again.geometry.is_close(GEOMETRY)
    for original, read in zip(data.segments, again.segments):
        assert np.array_equal(original.mask, read.mask), original.name
    assert again.segment("lesion_1").tags == {"pathology": "malignant", "birads": "4C"}
    assert again.segment("Segment_7").name == "lesion_2"
    assert np.allclose(again.segment("lesion_2").colour, (0.1, 0.8, 0.2))
    assert np.array_equal(again.union(), first | second | third)
    # overlapping segments are stored in two layers, as Slicer does
    raw = slicerio.read_segmentation(str(path))
    assert raw["voxels"].ndim == 4
    assert {s["layer"] for s in raw["segments"]} == {0, 1}


def test_segmentation_geometry_matches_an_image_written_by_simpleitk(tmp_path):
    """Mask voxel (k, j, i) must sit where image voxel (k, j, i) sits."""
    first, _, _ = masks()
    path = write_segmentation(tmp_path / "a.seg.nrrd", SegmentationData([Segment("lesion_1", first)], GEOMETRY, SHAPE))
    header = nrrd.read_header(str(path))
    image = sitk_from_array(np.zeros(SHAPE, np.uint8), GEOMETRY)
    origin = np.asarray(header["space origin"])
    assert np.allclose(origin, image.GetOrigin())
    directions = np.asarray(header["space directions"])[-3:]
    index = np.array([3, 2, 1])  # (i, j, k)
    assert np.allclose(origin + index @ directions, image.TransformIndexToPhysicalPoint([3, 2, 1]))


def test_empty_segmentation_round_trip(tmp_path):
    path = write_segmentation(tmp_path / "none.seg.nrrd", SegmentationData([], GEOMETRY, SHAPE))
    again = read_segmentation(path)
    assert again.names() == [] and again.union().shape == SHAPE and not again.union().any()


def test_missing_segment_is_named(tmp_path):
    first, _, _ = masks()
    path = write_segmentation(tmp_path / "a.seg.nrrd", SegmentationData([Segment("lesion_1", first)], GEOMETRY, SHAPE))
    with pytest.raises(InputFileError) as info:
        read_segmentation(path).segment("lesion_9")
    assert "lesion_9" in str(info.value) and "lesion_1" in str(info.value) and str(path) in str(info.value)


def test_plain_nrrd_is_not_a_segmentation(tmp_path):
    path = tmp_path / "plain.seg.nrrd"
    sitk.WriteImage(sitk_from_array(np.zeros(SHAPE, np.uint8), GEOMETRY), str(path))
    with pytest.raises(InputFileError) as info:
        read_segmentation(path)
    assert "not a 3D Slicer segmentation" in str(info.value)


def test_truncated_and_empty_segmentation_files(tmp_path):
    first, _, _ = masks()
    path = write_segmentation(tmp_path / "t.seg.nrrd", SegmentationData([Segment("lesion_1", first)], GEOMETRY, SHAPE))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 30])
    with pytest.raises(InputFileError) as info:
        read_segmentation(path)
    assert str(path) in str(info.value) and "corrupt" in str(info.value)
    empty = tmp_path / "e.seg.nrrd"
    empty.touch()
    with pytest.raises(InputFileError, match="empty"):
        read_segmentation(empty)


def test_tag_separators_are_refused(tmp_path):
    first, _, _ = masks()
    data = SegmentationData([Segment("lesion_1", first, tags={"note": "a|b"})], GEOMETRY, SHAPE)
    with pytest.raises(ValueError, match="may not contain"):
        write_segmentation(tmp_path / "x.seg.nrrd", data)


def test_slicer_cropped_segmentation_is_placed_on_the_reference_grid(tmp_path):
    """Slicer crops .seg.nrrd to the segments' extent; on_grid restores the full grid exactly."""
    first, _, _ = masks()
    k0, j0, i0 = 1, 2, 3
    cropped_mask = first[k0:4, j0:5, i0:9]
    cropped_origin = GEOMETRY.index_to_lps(np.array([i0, j0, k0], float))
    cropped = SegmentationData([Segment("lesion_1", cropped_mask)], Geometry(GEOMETRY.spacing, tuple(cropped_origin), GEOMETRY.direction), cropped_mask.shape)
    path = write_segmentation(tmp_path / "cropped.seg.nrrd", cropped)
    placed = read_segmentation(path).on_grid(GEOMETRY, SHAPE)
    assert placed.shape_kji == SHAPE
    assert np.array_equal(placed.segment("lesion_1").mask, first)


def test_segmentation_on_a_finer_grid_is_resampled(tmp_path):
    coarse = np.zeros((2, 2, 2), bool)
    coarse[1, 1, 1] = True
    seg = SegmentationData([Segment("lesion_1", coarse)], Geometry((2.0, 2.0, 2.0)), (2, 2, 2))
    fine = seg.on_grid(Geometry((1.0, 1.0, 1.0), (-0.5, -0.5, -0.5)), (4, 4, 4))
    assert fine.segment("lesion_1").mask.sum() == 8
    assert fine.segment("lesion_1").mask[2:, 2:, 2:].all()


def test_segmentation_files_carry_no_write_time(tmp_path):
    """pynrrd stamps every header with the time of writing; ours must give the same bytes for
    the same segments (found when a re-export differed by one second)."""
    import numpy as np

    from BreastUSAITraining.geometry import Geometry
    from BreastUSAITraining.imagefiles import Segment, SegmentationData, read_segmentation, write_segmentation

    mask = np.zeros((1, 6, 7), bool)
    mask[0, 2:4, 1:5] = True
    data = SegmentationData([Segment("lesion_1", mask)], Geometry((0.5, 0.5, 1.0)), (1, 6, 7))
    path = write_segmentation(tmp_path / "a.seg.nrrd", data)
    assert b"(GMT)" not in path.read_bytes()
    assert read_segmentation(path).segment("lesion_1").mask.sum() == mask.sum()
