"""Post-processing, plane extraction and heatmap back-projection, checked numerically on
asymmetric volumes with an oblique geometry."""

from __future__ import annotations

import numpy as np
import pytest
from test_geometry_and_volumes import oblique_direction

from BreastUSAITraining.explain import heatmap_from_planes
from BreastUSAITraining.geometry import Geometry
from BreastUSAITraining.lesions import BELOW_THRESHOLD_TAG, Lesion, lesions_from_mask, most_probable_region
from BreastUSAITraining.planes import extract_planes, plane_crop_2d

GEOMETRY = Geometry((0.2, 0.11, 0.5), (10.0, -20.0, 30.0), oblique_direction().ravel())
SHAPE = (40, 60, 90)  # K, J, I


def _box(k, j, i) -> np.ndarray:
    mask = np.zeros(SHAPE, dtype=bool)
    mask[k[0]:k[1], j[0]:j[1], i[0]:i[1]] = True
    return mask


def test_components_become_lesions_largest_first_small_ones_dropped():
    big, small, speck = _box((5, 15), (10, 30), (10, 40)), _box((20, 30), (40, 50), (60, 70)), _box((35, 36), (2, 3), (2, 4))
    probability = np.where(big | small | speck, 230, 10).astype(np.uint8)
    lesions = lesions_from_mask(probability >= 128, GEOMETRY, probability, min_size_mm=0.5, min_voxels=5)
    assert [l.lesion_id for l in lesions] == ["lesion_1", "lesion_2"]
    assert np.array_equal(lesions[0].mask, big) and np.array_equal(lesions[1].mask, small)
    assert lesions[0].bbox_ijk == ((10, 10, 5), (39, 29, 14))
    assert lesions[0].probability == pytest.approx(230 / 255)
    facts = lesions[0].describe(GEOMETRY)
    assert facts["volume_mm3"] == pytest.approx(big.sum() * 0.2 * 0.11 * 0.5)
    assert np.allclose(facts["centroid_ras"], GEOMETRY.index_to_ras(np.array([24.5, 19.5, 9.5])), atol=1e-3)
    corners = GEOMETRY.index_to_ras(np.array([[9.5, 9.5, 4.5], [39.5, 29.5, 14.5], [9.5, 29.5, 14.5], [39.5, 9.5, 4.5]]))
    assert np.all(np.array(facts["bbox_ras"]["min"]) <= corners.min(axis=0) + 1e-3)
    assert np.all(np.array(facts["bbox_ras"]["max"]) >= corners.max(axis=0) - 1e-3)
    assert lesions_from_mask(np.zeros(SHAPE, bool), GEOMETRY) == []


def test_a_lesion_known_to_be_there_gets_the_most_probable_region():
    """Nothing passed the threshold: the region around the peak where p >= peak / 2, flagged
    as below threshold; a second, weaker blob and the faint halo around the peak are left out."""
    probability = np.full(SHAPE, 3, dtype=np.uint8)
    core, halo, other = _box((8, 14), (12, 28), (12, 38)), _box((6, 16), (10, 30), (10, 40)), _box((20, 30), (40, 50), (60, 70))
    probability[halo] = 40
    probability[core] = 100
    probability[10, 20, 25] = 110          # the peak (0.43)
    probability[other] = 90                # weaker than the peak but above half of it: not connected, left out
    assert lesions_from_mask(probability >= 128, GEOMETRY, probability) == []
    [lesion] = most_probable_region(probability, GEOMETRY, min_size_mm=0.5, min_voxels=5)
    assert np.array_equal(lesion.mask, core)
    assert lesion.probability == pytest.approx((100 * (core.sum() - 1) + 110) / core.sum() / 255)
    assert "below threshold" in lesion.tags[BELOW_THRESHOLD_TAG] and "0.43" in lesion.tags[BELOW_THRESHOLD_TAG]
    assert most_probable_region(np.zeros(SHAPE, np.uint8), GEOMETRY) == []
    speck = np.zeros(SHAPE, np.uint8)
    speck[5, 5, 5] = 60
    assert most_probable_region(speck, GEOMETRY, min_size_mm=0.5, min_voxels=5) == []
    unit = most_probable_region(probability.astype(np.float32) / 255, GEOMETRY, min_size_mm=0.5, min_voxels=5)[0]
    assert np.array_equal(unit.mask, core)


def test_planes_go_through_the_lesion_and_report_positions():
    volume = np.random.default_rng(0).integers(0, 60, SHAPE).astype(np.uint8)
    mask = _box((10, 21), (20, 31), (30, 61))     # i 30..60, j 20..30, k 10..20
    mask[12, 20:31, 30:61] = False                  # make slice 12 thinner, and slice 18 ...
    mask[18, 15:35, 25:66] = True                   # ... the largest transverse section
    volume[mask] = 200
    planes = extract_planes(volume, GEOMETRY, mask, "TSC", frames=3, size=48)
    transverse = planes.frames["T"]
    centroid = np.argwhere(mask).mean(axis=0)[::-1]
    assert transverse[0].index == round(centroid[2]) and transverse[0].reason == "centroid"
    assert transverse[1].index == 18 and transverse[1].reason == "largest section"
    assert len({f.index for f in transverse}) == 3
    assert planes.frames["S"][0].index == round(centroid[0]) and planes.frames["C"][0].index == round(centroid[1])
    assert planes.stack("TSC").shape == (3, 3, 48, 48)
    description = planes.describe(GEOMETRY)["sagittal"][0]
    assert description["fixed_axis"] == "i"
    assert np.allclose(description["centre_ras"], GEOMETRY.index_to_ras(np.array(planes.frames["S"][0].centre_ijk)), atol=1e-3)
    assert np.allclose(description["normal_ras"], GEOMETRY.direction_matrix[:, 0] * [-1, -1, 1], atol=1e-6)
    # the bright lesion fills the middle of every crop, the margin shows darker tissue
    for plane in "TSC":
        crop = planes.frames[plane][0].image
        assert crop[20:28, 20:28].mean() > 0.8 and crop[:3].mean() < 0.5


def test_crop_keeps_the_true_shape_of_a_wide_lesion():
    image = np.zeros((80, 120), np.float32)
    mask = np.zeros((80, 120), bool)
    mask[35:45, 20:100] = True  # 80 px wide, 10 px tall
    image[mask] = 1.0
    frame = plane_crop_2d(image, Geometry((0.1, 0.1, 1.0)), mask, size=64, margin=0.3)
    rows = np.flatnonzero(frame.image.max(axis=1) > 0.5)
    cols = np.flatnonzero(frame.image.max(axis=0) > 0.5)
    assert (cols.max() - cols.min()) / (rows.max() - rows.min() + 1) > 5  # still wider than tall


def test_heatmap_maps_back_onto_the_input_voxels():
    volume = np.zeros(SHAPE, np.uint8)
    mask = _box((10, 21), (20, 31), (30, 61))
    volume[mask] = 100
    planes = extract_planes(volume, GEOMETRY, mask, "TSC", frames=1, size=32)
    # each plane's map is hot in its top-left quarter only
    hot = np.zeros((32, 32), np.float32)
    hot[:16, :16] = 1.0
    box = heatmap_from_planes(SHAPE, GEOMETRY, Lesion("lesion_1", mask).bbox_ijk, planes, {p: hot for p in "TSC"})
    full = box.on_full_grid(SHAPE)
    assert full.max() == pytest.approx(1.0) and full.min() == 0.0
    window = planes.frames["T"][0].window
    # transverse map's top-left = small depth (j) and small lateral (i); the sagittal's = small j, small k
    k_hot = int(np.floor(planes.frames["S"][0].window.centre_mm[1] / 0.5)) - 2
    j_hot = int(np.floor(window.centre_mm[0] / 0.11)) - 3
    i_hot = int(np.floor(window.centre_mm[1] / 0.2)) - 3
    k_cold, j_cold, i_cold = k_hot + 5, j_hot + 8, i_hot + 8
    assert full[k_hot, j_hot, i_hot] == pytest.approx(1.0)
    assert full[k_cold, j_cold, i_cold] == pytest.approx(0.0)
    geometry = box.geometry(GEOMETRY)
    first = np.array([box.offset_kji[2], box.offset_kji[1], box.offset_kji[0]], dtype=float)
    assert np.allclose(geometry.index_to_lps(np.zeros(3)), GEOMETRY.index_to_lps(first))
    assert geometry.spacing == GEOMETRY.spacing and geometry.direction == GEOMETRY.direction
