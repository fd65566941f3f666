"""Reliability and security (issue 6): the quick run of the whole suite, plus one regression
test per failure the fuzzer found (each was a crash before its fix).

The long run (2,500 fuzzed files, 20 training kills, 500 predictions in one process) is
``make reliability``; its figures are in benchmarks/results/reliability.json."""

from __future__ import annotations

import gzip
import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from BreastUSAITraining.errors import InputFileError  # noqa: E402


@pytest.mark.slow
def test_quick_reliability_suite_holds_in_every_category(tmp_path):
    import reliability

    result = reliability.run_suite(dict(reliability.QUICK), seed=3, work=tmp_path, progress=False)
    categories = result["categories"]
    assert set(categories) == {"fuzzed inputs", "killed runs", "tampered / hostile models", "hostile datasets", "privacy", "load"}
    for name, category in categories.items():
        assert category["tried"] > 0 and category["held"] == category["tried"], (name, json.dumps(category["details"])[:3000])
    fuzz = categories["fuzzed inputs"]["details"]
    assert fuzz["tried"] == reliability.QUICK["fuzz"] and fuzz["refused"] > 0 and fuzz["predict_runs"] > 0
    training = categories["killed runs"]["details"]["training"]
    assert training["kills"] == reliability.QUICK["training_kills"] and training["runs_with_identical_weights"] >= 1
    assert not any("PAYLOAD" in str(r["problem"]) for r in categories["tampered / hostile models"]["details"])
    assert categories["load"]["details"]["memory"]["growth_after_warmup"] < 0.05


def _metaimage(path: Path, ndims: str) -> Path:
    path.write_bytes(f"ObjectType = Image\nNDims = {ndims}\nDimSize = 4 3 2\nElementType = MET_UCHAR\n"
                     "ElementDataFile = LOCAL\n".encode() + bytes(24))
    return path


@pytest.mark.parametrize("ndims", ["-1", "0", "99", "two"])
def test_metaimage_with_hostile_ndims_is_refused_not_a_segfault(tmp_path, ndims):
    """Found by the fuzzer: ITK crashed the process (SIGSEGV) on NDims = -1."""
    from BreastUSAITraining.imagefiles import read_image

    with pytest.raises(InputFileError, match="NDims"):
        read_image(_metaimage(tmp_path / "x.mha", ndims))


def test_metaimage_with_nan_spacing_is_refused(tmp_path):
    from BreastUSAITraining.imagefiles import read_image

    path = tmp_path / "x.mha"
    path.write_bytes(b"ObjectType = Image\nNDims = 3\nDimSize = 4 3 2\nElementSpacing = nan 1 1\nElementType = MET_UCHAR\n"
                     b"ElementDataFile = LOCAL\n" + bytes(24))
    with pytest.raises(InputFileError, match="ElementSpacing"):
        read_image(path)


def test_nifti_with_nan_voxel_offset_is_refused(tmp_path):
    """Found by the fuzzer: a NaN vox_offset escaped as ValueError."""
    import SimpleITK as sitk

    from BreastUSAITraining.imagefiles import read_image

    path = tmp_path / "x.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((2, 3, 4), np.int16)), str(path))
    raw = bytearray(gzip.decompress(path.read_bytes()))
    struct.pack_into("<f", raw, 108, float("nan"))
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(InputFileError, match="vox_offset"):
        read_image(path)


def test_dicom_with_a_damaged_value_representation_is_refused(tmp_path):
    """Found by the fuzzer: pydicom's NotImplementedError on an unknown VR escaped."""
    from dicom_factory import write_mg

    from BreastUSAITraining.imagefiles import read_image

    path = write_mg(tmp_path / "mg.dcm", np.arange(20 * 16).reshape(20, 16))
    data = bytearray(path.read_bytes())
    at = data.index(bytes.fromhex("28000200") + b"US")  # (0028,0002) SamplesPerPixel, explicit VR little endian
    data[at + 4 : at + 6] = b"U["
    path.write_bytes(bytes(data))
    with pytest.raises(InputFileError, match="mg.dcm"):
        read_image(path)


def test_dataset_with_unhashable_ids_and_control_characters_is_reported(tmp_path):
    """Found by the fuzzer: a dict as lesion_id (TypeError) and a NUL in a path (ValueError)."""
    from BreastUSAITraining.dataset.validate import validate_dataset_folder
    from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset

    folder = tmp_path / "d"
    generate_phantom_dataset(folder, PhantomSettings(kind="us2d", cases=4, image_size=32, seed=1), progress=False)
    document = json.loads((folder / "dataset.json").read_text())
    document["training"][0]["lesion_id"] = {}
    document["training"][1]["segmentation"] = "lesion_1\x00"
    document["training"][2]["fold"] = {"a": 1}
    (folder / "dataset.json").write_text(json.dumps(document))
    found = [str(v) for v in validate_dataset_folder(folder, deep=True)]
    assert any("lesion_id" in v for v in found) and any("control characters" in v for v in found), found


def test_bundle_metadata_with_a_non_digest_file_entry_is_refused(tmp_path):
    """Found by the fuzzer: files/<name> = -1 escaped as TypeError."""
    import torch

    from BreastUSAITraining.bundle import load_bundle, save_bundle

    bundle = save_bundle(tmp_path / "b", {"w": torch.zeros(3)}, {"task": "segmentation", "name": "x", "version": "1"}, {})
    load_bundle(bundle)  # whole before the edit
    meta = json.loads((bundle / "configs" / "metadata.json").read_text())
    meta["files"]["configs/inference.json"] = -1
    (bundle / "configs" / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(InputFileError, match="sha256"):
        load_bundle(bundle)


def test_two_writers_racing_for_one_folder_both_finish_whole(tmp_path):
    """The directory swap is an atomic exchange: racing writers never fail or leave a gap."""
    import threading

    from BreastUSAITraining.atomic import atomic_directory

    target = tmp_path / "result"
    errors = []

    def writer(label: str) -> None:
        try:
            for n in range(30):
                with atomic_directory(target, overwrite=True) as staging:
                    (staging / "a.txt").write_text(f"{label}{n}")
                    (staging / "b.txt").write_text(f"{label}{n}")
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    with atomic_directory(target) as staging:
        (staging / "a.txt").write_text("first")
        (staging / "b.txt").write_text("first")
    threads = [threading.Thread(target=writer, args=(name,)) for name in "xy"]
    for thread in threads:
        thread.start()
    missing = 0
    while any(t.is_alive() for t in threads):
        missing += not target.is_dir()  # with the atomic exchange the folder never disappears
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert missing == 0
    assert (target / "a.txt").read_text() == (target / "b.txt").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["result"]


def test_fuzz_seed_files_and_mutations_are_the_same_on_every_run(tmp_path):
    """A failure is reported by seed and case number: that must rebuild the same bytes."""
    from reliability_suite import mutate
    from reliability_suite.seeds import write_seed_images, write_seed_segmentation

    runs = []
    for run in ("a", "b"):
        seeds = write_seed_images(tmp_path / run)
        seeds["lesions.seg.nrrd"] = write_seed_segmentation(tmp_path / run)
        runs.append({name: Path(path).read_bytes() for name, path in seeds.items()})
    assert runs[0] == runs[1]
    data = runs[0]["us.dcm"]
    first = mutate.dicom_tag_edit(data, np.random.default_rng([5, 17, 1]), ".dcm")
    again = mutate.dicom_tag_edit(data, np.random.default_rng([5, 17, 1]), ".dcm")
    assert first == again


def test_damaged_dicom_leaks_no_identifier_to_the_log_and_never_blocks_the_fuzzer(tmp_path, capfd, caplog):
    """Found by the full run (seed 0, case 1267): pydicom's validation warnings printed raw
    element values - the patient's name and id - to stderr and the log, and their volume
    filled the worker's stderr pipe until it blocked (reported as a hang)."""
    from reliability_suite.fuzz import _materialise, plan_case
    from reliability_suite.seeds import write_seed_images

    from BreastUSAITraining.imagefiles import read_image

    images = write_seed_images(tmp_path / "seeds")
    seeds = {**{k: str(v) for k, v in images.items()}, "lesions.seg.nrrd": "", "dataset": "", "bundle": ""}
    plan = plan_case(seeds, 0, 1267)
    assert (plan["source"], plan["mutation"]) == ("us.dcm", "bit_flips")
    path = _materialise(plan, seeds, tmp_path, 0)
    with pytest.raises(InputFileError, match="case_1267.dcm"):
        read_image(path, colour="keep")
    captured = capfd.readouterr()
    for secret in ("DOE^JANE", "PID-7741-XQ", "St Elsewhere"):
        assert secret not in captured.err + captured.out + caplog.text


@pytest.mark.parametrize("suffix", [".nrrd", ".mha"])
def test_fuzzed_headers_that_send_the_reader_outside_are_refused(tmp_path, suffix):
    """The fuzzer's detached-data mutation (issue 22): every hostile target - outside the folder, an
    absolute path, a device, in a LIST or a file pattern - is refused by the reader, naming the file."""
    import numpy as np
    import SimpleITK as sitk
    from reliability_suite.mutate import OUTSIDE_DATA, detached_data_outside

    from BreastUSAITraining.imagefiles import read_image

    seed = tmp_path / f"seed{suffix}"
    sitk.WriteImage(sitk.GetImageFromArray(np.arange(24, dtype=np.uint8).reshape(2, 3, 4)), str(seed))
    (tmp_path / "case").mkdir()
    for number, target in enumerate(OUTSIDE_DATA):
        data, _, what = detached_data_outside(seed.read_bytes(), np.random.default_rng(0), suffix, target)
        path = tmp_path / "case" / f"hostile{number}{suffix}"
        path.write_bytes(data)
        with pytest.raises(InputFileError) as refused:
            read_image(path)
        assert str(path) in str(refused.value) and ("outside" in str(refused.value) or "absolute" in str(refused.value)
                                                    or "pattern" in str(refused.value)), (what, str(refused.value))
