"""Ultrasound DICOM as scanners export it (issue 22, item 1): a folder of single-frame captures with
no position in space, and a cine loop, are read as 2D frame stacks - ordered by InstanceNumber,
then time, then file name; spacing from the Sequence of Ultrasound Regions (cm -> mm); RGB frames
made grey for the B-mode models - and ``predict`` analyses every frame and writes a summary.
Real files written with pydicom, real pixels (a BUSI sample image), the shipped models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run_cli
from dicom_factory import SECONDARY_CAPTURE, US_IMAGE, write_capture, write_series, write_us_cine, write_ybr_422
from PIL import Image

from BreastUSAITraining.imagefiles import read_image
from BreastUSAITraining.imagefiles.frame_stack import is_frame_stack, read_frame_stack

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "Resources" / "SampleData" / "busi" / "malignant_139.png"


def _frames(count: int) -> list[np.ndarray]:
    """The sample image moved a few pixels per frame, like a sweep."""
    grey = np.asarray(Image.open(SAMPLE).convert("L"))
    return [np.roll(grey, 4 * n, axis=1) for n in range(count)]


@pytest.fixture
def captures(tmp_path) -> Path:
    folder = tmp_path / "sweep"
    folder.mkdir()
    frames = _frames(3)
    # file names disagree with the acquisition order on purpose: InstanceNumber decides
    for name, number, frame in (("a.dcm", 3, frames[2]), ("b.dcm", 1, frames[0]), ("c.dcm", 2, frames[1])):
        write_capture(folder / name, frame, number, region_spacing_cm=(0.01, 0.012), sop_class=SECONDARY_CAPTURE,
                      series_uid="1.2.3.4.5")
    return folder


def test_a_folder_of_captures_is_a_frame_stack_in_acquisition_order(captures):
    assert is_frame_stack(captures)
    stack = read_frame_stack(captures)
    assert stack.labels == ["b.dcm", "c.dcm", "a.dcm"]
    expected = _frames(3)
    for frame, pixels in zip(stack.frames, expected):
        assert frame.is_2d and np.array_equal(frame.array[0], pixels)
        assert np.allclose(frame.geometry.spacing[:2], (0.1, 0.12))  # 0.01 cm, 0.012 cm -> mm
        assert frame.meta.get("spacing_known") != "0"


def test_frames_without_instance_numbers_follow_time_then_name(tmp_path):
    folder = tmp_path / "untimed"
    folder.mkdir()
    frames = _frames(3)
    write_capture(folder / "z.dcm", frames[0], None, "101500.00", sop_class=US_IMAGE)
    write_capture(folder / "y.dcm", frames[1], None, "101501.00", sop_class=US_IMAGE)
    write_capture(folder / "x.dcm", frames[2], None, "", sop_class=US_IMAGE)  # no time: after the timed ones? by name
    stack = read_frame_stack(folder)
    assert stack.labels == ["x.dcm", "z.dcm", "y.dcm"]  # empty time sorts first, then 10:15:00, 10:15:01
    assert all(f.meta.get("spacing_known") == "0" for f in stack.frames)  # no calibration: sizes in pixels


def test_a_cine_loop_is_a_frame_stack_and_a_positioned_series_is_not(tmp_path):
    rgb = np.stack([np.repeat(f[..., None], 3, axis=2) for f in _frames(4)])
    rgb[..., 0] = np.clip(rgb[..., 0].astype(int) + 30, 0, 255)  # colour (e.g. a Doppler box would be)
    cine = write_us_cine(tmp_path / "cine.dcm", rgb.astype(np.uint8), region_spacing_cm=(0.008, 0.008))
    assert is_frame_stack(cine)
    stack = read_frame_stack(cine)
    assert stack.labels == ["frame 1", "frame 2", "frame 3", "frame 4"]
    assert stack.frames[0].array.shape == (1, *rgb.shape[1:])
    assert np.allclose(stack.frames[2].geometry.spacing[:2], (0.08, 0.08))
    assert np.array_equal(stack.frames[3].array[0], rgb[3])
    series = tmp_path / "ct"
    write_series(series, np.arange(3 * 8 * 8, dtype=np.int16).reshape(3, 8, 8), (0.5, 0.5, 2.0), (0.0, 0.0, 0.0), np.eye(3))
    assert not is_frame_stack(series)  # slices with positions stay a volume
    assert read_image(series).shape_kji[0] == 3


def test_predict_analyses_every_frame_and_writes_a_summary(captures, tmp_path):
    out = tmp_path / "out"
    result = run_cli("predict", str(captures), "--out", str(out), "--expect-lesion", "--progress", "none")
    assert result.returncode == 0, result.stderr
    folder = out / "sweep"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["kind"] == "2D frame stack" and summary["frames"] == summary["frames_done"] == 3
    assert [f["frame"] for f in summary["per_frame"]] == ["b.dcm", "c.dcm", "a.dcm"]
    assert summary["size_unit"] == "mm2" and summary["frames_with_lesions"] == ["b.dcm", "c.dcm", "a.dcm"]
    largest = summary["largest_lesion"]
    assert largest["frame"] in summary["frames_with_lesions"] and 0 <= largest["malignant_probability"] <= 1
    for entry in summary["per_frame"]:
        document = json.loads((folder / entry["folder"] / "result.json").read_text())
        assert document["image"]["kind"] == "2d" and np.allclose(document["image"]["spacing"][:2], (0.1, 0.12))
        assert (folder / entry["folder"] / "lesions.seg.nrrd").is_file()
    sizes = [lesion["area_mm2"] for entry in summary["per_frame"]
             for lesion in json.loads((folder / entry["folder"] / "result.json").read_text())["lesions"]]
    assert largest["size"] == max(sizes) and largest["size"] > 1  # mm2 on a 0.1 x 0.12 mm grid


def test_a_cine_loop_through_predict_reports_sizes_in_pixels_without_calibration(tmp_path):
    rgb = np.stack([np.repeat(f[..., None], 3, axis=2) for f in _frames(2)]).astype(np.uint8)
    cine = write_us_cine(tmp_path / "loop.dcm", rgb)
    out = tmp_path / "out"
    result = run_cli("predict", str(cine), "--out", str(out), "--expect-lesion", "--progress", "none")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "loop" / "summary.json").read_text())
    assert summary["frames"] == 2 and summary["size_unit"] == "pixels"
    assert summary["largest_lesion"]["size"] == max(lesion["voxels"] for frame in summary["per_frame"] for lesion in
                                                    json.loads((out / "loop" / frame["folder"] / "result.json")
                                                               .read_text())["lesions"])


def test_a_folder_of_several_series_gives_one_input_per_series(tmp_path):
    """A scanner export often mixes series (two sweeps, a screenshot): each is its own input, listed."""
    folder = tmp_path / "study"
    folder.mkdir()
    frames = _frames(3)
    write_capture(folder / "s1_a.dcm", frames[0], 1, region_spacing_cm=(0.01, 0.01), series_uid="1.2.3.1")
    write_capture(folder / "s1_b.dcm", frames[1], 2, region_spacing_cm=(0.01, 0.01), series_uid="1.2.3.1")
    write_capture(folder / "s2_a.dcm", frames[2], 1, series_uid="1.2.3.2")
    out = tmp_path / "out"
    result = run_cli("predict", str(folder), "--out", str(out), "--expect-lesion", "--progress", "none", "-v")
    assert result.returncode == 0, result.stderr
    outputs = sorted(p.name for p in out.iterdir())
    assert len(outputs) == 2 and all(name.startswith("study_series") for name in outputs), outputs
    summaries = [json.loads((out / name / "summary.json").read_text()) for name in outputs]
    assert sorted(s["frames"] for s in summaries) == [1, 2]
    assert sorted(s["size_unit"] for s in summaries) == ["mm2", "pixels"]
    assert result.stderr.count("study: series 1.2.3.") == 2  # each series is listed with its files


def test_the_ultrasound_region_crops_the_scanners_overlays_away(tmp_path):
    """A frame with text and a scale beside the tissue: the image the models see is the tissue region,
    on a sub-grid that keeps its place in patient space and its calibrated spacing."""
    from BreastUSAITraining.imagefiles import read_image

    tissue = _frames(1)[0]
    frame = np.zeros((tissue.shape[0] + 60, tissue.shape[1] + 80), np.uint8)
    frame[40 : 40 + tissue.shape[0], 50 : 50 + tissue.shape[1]] = tissue
    frame[5:20, 5:300] = 255  # burned-in text band
    frame[:, -10:] = 200      # a depth scale
    path = write_capture(tmp_path / "overlay.dcm", frame, 1, region_spacing_cm=(0.01, 0.01), sop_class=US_IMAGE)
    import pydicom

    ds = pydicom.dcmread(path)
    region = ds.SequenceOfUltrasoundRegions[0]
    region.RegionLocationMinX0, region.RegionLocationMinY0 = 50, 40
    region.RegionLocationMaxX1, region.RegionLocationMaxY1 = 50 + tissue.shape[1] - 1, 40 + tissue.shape[0] - 1
    ds.save_as(path)
    image = read_image(path)
    assert image.shape_kji == (1, *tissue.shape) and np.array_equal(image.array[0], tissue)
    assert image.meta["ultrasound_region"] == f"50,40,{49 + tissue.shape[1]},{39 + tissue.shape[0]}"
    assert np.allclose(image.geometry.spacing[:2], (0.1, 0.1))
    full_origin = np.zeros(3)  # the capture has no position: the full frame's pixel (0, 0) is at 0
    assert np.allclose(image.geometry.index_to_lps(np.zeros(3)), full_origin + [50 * 0.1, 40 * 0.1, 0])


def test_import_images_takes_every_frame_of_a_cine_loop_as_a_case_of_one_patient(tmp_path):
    from BreastUSAITraining.dataset import load_dataset

    source = tmp_path / "src"
    source.mkdir()
    rgb = np.stack([np.repeat(f[..., None], 3, axis=2) for f in _frames(3)]).astype(np.uint8)
    write_us_cine(source / "loop.dcm", rgb, region_spacing_cm=(0.01, 0.01))
    mapping = tmp_path / "mapping.csv"
    result = run_cli("dataset", "import-images", str(source), "--out", str(tmp_path / "data"), "--kind", "us_bmode",
                     "--mapping", str(mapping), "-q")
    assert result.returncode == 0, result.stderr
    dataset = load_dataset(tmp_path / "data")
    assert len(dataset.items) == 3 and len({i.patient_id for i in dataset.items}) == 1
    image = read_image(dataset.path(dataset.items[1].images["us_bmode"]))
    assert image.shape_kji == (1, *rgb.shape[1:3]) and not image.is_colour  # grey, as the B-mode models read it
    assert np.allclose(image.geometry.spacing[:2], (0.1, 0.1))
    assert "loop.dcm#frame2" in mapping.read_text()


def _dicom_valid(path: Path) -> None:
    """Debian's dciodvfy (dicom3tools) finds no error - when it is installed (.ci/run installs it)."""
    import shutil
    import subprocess

    if shutil.which("dciodvfy") is None:
        return
    run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    errors = [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")]
    assert not errors, errors


def test_dicom_out_writes_a_seg_per_frame_referencing_its_source(tmp_path):
    """predict --dicom-out (issue 22 item 3, SEG): one DICOM SEG per analysed DICOM image, its segments the
    lesions (labels = lesion ids, automatic, the model named), referencing the source instance, the
    mask on the source's full frame (an ultrasound-region crop padded back), identifiers copied."""
    import highdicom as hd
    import pydicom

    from BreastUSAITraining.imagefiles import read_segmentation

    folder = tmp_path / "sweep"
    folder.mkdir()
    tissue = _frames(1)[0]
    frame = np.zeros((tissue.shape[0] + 30, tissue.shape[1] + 40), np.uint8)
    frame[20:20 + tissue.shape[0], 25:25 + tissue.shape[1]] = tissue
    source = write_capture(folder / "f1.dcm", frame, 1, region_spacing_cm=(0.01, 0.01), sop_class=US_IMAGE)
    ds = pydicom.dcmread(source)
    region = ds.SequenceOfUltrasoundRegions[0]
    region.RegionLocationMinX0, region.RegionLocationMinY0 = 25, 20
    region.RegionLocationMaxX1, region.RegionLocationMaxY1 = 24 + tissue.shape[1], 19 + tissue.shape[0]
    ds.save_as(source)
    out = tmp_path / "out"
    result = run_cli("predict", str(source), "--out", str(out), "--expect-lesion", "--dicom-out", "--progress", "none")
    assert result.returncode == 0, result.stderr
    document = json.loads((out / "f1" / "result.json").read_text())
    assert document["dicom_out"]["written"] is True and document["dicom_out"]["algorithm"].startswith("automatic: lesion-segmentation")
    seg = hd.seg.segread(out / "f1" / "lesions.seg.dcm")
    assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4" and seg.PatientID == ds.PatientID
    assert seg.StudyInstanceUID == ds.StudyInstanceUID and seg.SeriesInstanceUID != ds.SeriesInstanceUID
    labels = [seg.get_segment_description(n).segment_label for n in range(1, seg.number_of_segments + 1)]
    assert labels == [lesion["id"] for lesion in document["lesions"]]
    pixels = seg.get_pixels_by_source_instance(source_sop_instance_uids=[ds.SOPInstanceUID])  # (1, rows, cols, segments)
    assert pixels.shape[1:3] == frame.shape
    region_image = read_image(source)  # the tissue region predict analysed
    drawn = read_segmentation(out / "f1" / "lesions.seg.nrrd").on_grid(region_image.geometry, region_image.shape_kji)
    drawn = drawn.segments[0].mask[0]
    assert np.array_equal(pixels[0, 20:20 + tissue.shape[0], 25:25 + tissue.shape[1], 0].astype(bool), drawn)
    assert pixels[0, :20].sum() == 0  # nothing on the overlay band

    # the SR: one planar ROI group per lesion, referencing its SEG frame, area (calibrated) and probability
    report = pydicom.dcmread(out / "f1" / "lesions.sr.dcm")
    assert report.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34" and report.PatientID == ds.PatientID
    text = str(report)
    assert seg.SOPInstanceUID in text and ds.SOPInstanceUID in text
    lesion = document["lesions"][0]
    values = {float(v.NumericValue) for item in report.iterall() if item.keyword == "MeasuredValueSequence" for v in item.value}
    assert lesion["malignant_probability"] in values and lesion["area_mm2"] in values
    assert lesion["id"] in text and ("Malignant (AI call)" in text) == (lesion["prediction"] == "malignant")
    _dicom_valid(out / "f1" / "lesions.seg.dcm")
    _dicom_valid(out / "f1" / "lesions.sr.dcm")

    png = run_cli("predict", str(SAMPLE), "--out", str(tmp_path / "png"), "--expect-lesion", "--dicom-out", "--progress", "none")
    assert png.returncode == 0 and "no DICOM written" in png.stderr
    note = json.loads((tmp_path / "png" / SAMPLE.stem / "result.json").read_text())["dicom_out"]
    assert note["written"] is False and "not a DICOM file" in note["reason"]
    assert not (tmp_path / "png" / SAMPLE.stem / "lesions.seg.dcm").exists()


def test_dicom_out_of_a_cine_loop_references_each_frame_of_the_multi_frame_instance(tmp_path):
    """A cine loop (US Multi-frame, no Frame of Reference) through predict --dicom-out: per analysed frame a
    SEG and an SR whose image references name the real instance, its multi-frame SOP class and the frame;
    the SEG's mask is that frame's lesions; dciodvfy finds no error."""
    import pydicom

    from BreastUSAITraining.imagefiles import read_segmentation

    frames = _frames(3)
    loop = write_us_cine(tmp_path / "loop.dcm", np.stack([np.repeat(f[..., None], 3, axis=2) for f in frames]).astype(np.uint8),
                         region_spacing_cm=(0.01, 0.01))
    source = pydicom.dcmread(loop)
    out = tmp_path / "out"
    result = run_cli("predict", str(loop), "--out", str(out), "--expect-lesion", "--dicom-out", "--progress", "none")
    assert result.returncode == 0, result.stderr
    for number in (1, 2, 3):
        folder = out / "loop" / f"frame_{number:04d}"
        document = json.loads((folder / "result.json").read_text())
        assert document["dicom_out"]["written"] is True and document["dicom_out"]["source_frame"] == number
        seg = pydicom.dcmread(folder / "lesions.seg.dcm")
        references = [item for group in seg.PerFrameFunctionalGroupsSequence for derivation in group.DerivationImageSequence
                      for item in derivation.SourceImageSequence]
        assert {(r.ReferencedSOPInstanceUID, r.ReferencedSOPClassUID, int(r.ReferencedFrameNumber)) for r in references} == {
            (source.SOPInstanceUID, source.SOPClassUID, number)}
        assert seg.PatientID == source.PatientID and seg.StudyInstanceUID == source.StudyInstanceUID
        drawn = read_segmentation(folder / "lesions.seg.nrrd")  # on the analysed (ultrasound-region) grid
        pixels = seg.pixel_array.reshape(len(drawn.segments), int(source.Rows), int(source.Columns))  # the full frame
        assert [int(plane.sum()) for plane in pixels] == [int(segment.mask.sum()) for segment in drawn.segments]
        report = pydicom.dcmread(folder / "lesions.sr.dcm")
        frames_named = {int(item.ReferencedFrameNumber) for item in report.iterall()
                        if item.keyword == "ReferencedSOPSequence" for item in item.value
                        if item.get("ReferencedSOPInstanceUID") == source.SOPInstanceUID and "ReferencedFrameNumber" in item}
        assert frames_named == {number} and seg.SOPInstanceUID in str(report)
        _dicom_valid(folder / "lesions.seg.dcm")
        _dicom_valid(folder / "lesions.sr.dcm")


def test_ybr_full_422_frames_are_read_as_their_grey_picture(tmp_path):
    """YBR_FULL_422 (uncompressed, chroma subsampled) as scanners store captures: decoded to the
    grey picture the B-mode models were trained on, pixel for pixel."""
    folder = tmp_path / "ybr"
    folder.mkdir()
    frames = [f[:, : f.shape[1] // 2 * 2] for f in _frames(2)]  # 4:2:2 needs an even width
    for number, frame in enumerate(frames, start=1):
        write_ybr_422(folder / f"y{number}.dcm", frame, number, series_uid="1.2.3.9")
    stack = read_frame_stack(folder)
    assert stack.frames[0].meta["PhotometricInterpretation"] == "YBR_FULL_422"
    for frame, expected in zip(stack.frames, frames):
        picture = read_image(frame.source)
        assert not picture.is_colour and np.array_equal(picture.array[0], expected)
    result = run_cli("predict", str(folder), "--out", str(tmp_path / "out"), "--expect-lesion", "--progress", "none")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out" / "ybr" / "summary.json").read_text())["frames_done"] == 2
