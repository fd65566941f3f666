"""``dataset import-images``: a hospital's folder of images -> an anonymous, valid dataset."""

from __future__ import annotations

import json

import numpy as np
from cli_helpers import run_cli
from dicom_factory import IDENTIFIERS, write_mg, write_us_rgb
from PIL import Image


def test_import_images_with_masks_labels_and_patients(tmp_path):
    source = tmp_path / "DOE^JANE exams"
    (source / "visit 2").mkdir(parents=True)
    rgb = np.zeros((40, 48, 3), np.uint8)
    rgb[10:30, 12:36] = 150
    write_us_rgb(source / "DOE_JANE_a.dcm", rgb, (0.01, 0.01))
    write_us_rgb(source / "visit 2" / "DOE_JANE_b.dcm", rgb, (0.01, 0.01))
    Image.fromarray(rgb[..., 0]).save(source / "anonymous.png")
    masks = tmp_path / "masks"
    masks.mkdir()
    mask = np.zeros((40, 48), np.uint8)
    mask[10:30, 12:36] = 1
    Image.fromarray(mask * 255).save(masks / "DOE_JANE_a_mask.png")
    Image.fromarray(mask * 255).save(masks / "anonymous_mask.png")
    (tmp_path / "labels.csv").write_text("file,pathology,birads\nDOE_JANE_a.dcm,malignant,4C\nanonymous.png,benign,3\n")
    out = tmp_path / "dataset"
    inside = run_cli("dataset", "import-images", str(source), "--out", str(out), "--kind", "us_bmode",
                     "--mapping", str(out / "map.csv"))
    assert inside.returncode == 2 and "outside the dataset" in inside.stderr
    result = run_cli("dataset", "import-images", str(source), "--out", str(out), "--kind", "us_bmode", "--masks", str(masks),
                     "--labels", str(tmp_path / "labels.csv"), "--mapping", str(tmp_path / "map.csv"))
    assert result.returncode == 0, result.stderr
    assert "3 images of 2 patient(s), 2 lesion(s)" in result.stdout
    assert result.stderr.count("burned-in annotation") == 2  # both DICOM files carry BurnedInAnnotation = YES (a warning: stderr)
    assert run_cli("dataset", "validate", str(out), "--deep").returncode == 0
    items = {i["case_id"]: i for i in json.loads((out / "dataset.json").read_text())["training"]}
    by_pathology = {i["pathology"]: i for i in items.values()}
    assert by_pathology["malignant"]["birads"] == "4C" and by_pathology["malignant"]["segment"] == "lesion_1"
    assert by_pathology["benign"]["segment"] == "lesion_1"
    dicom_cases = [i for i in items.values() if i["pathology"] != "benign"]
    assert len({i["patient_id"] for i in dicom_cases}) == 1  # same DICOM PatientID -> one pseudonym
    secrets = [v.encode() for v in IDENTIFIERS.values()] + [b"DOE", b"JANE", b"anonymous", b"visit"]
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes() + str(path.relative_to(out)).encode()
            assert not [s for s in secrets if s in data], path
    mapping = (tmp_path / "map.csv").read_text()
    assert "DOE_JANE_a.dcm" in mapping and "case_0001" in mapping


def test_import_images_skips_what_is_not_the_kind_and_reports_it(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    write_mg(source / "mg.dcm", np.arange(30 * 20).reshape(30, 20) % 4000)
    (source / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    result = run_cli("dataset", "import-images", str(source), "--out", str(tmp_path / "d"), "--kind", "abvs")
    assert result.returncode == 2 and "no image could be imported" in result.stderr
    ok = run_cli("dataset", "import-images", str(source), "--out", str(tmp_path / "d"), "--kind", "mg_cc")
    assert ok.returncode == 0, ok.stderr
    assert "skipped:" in ok.stdout and "broken.png" in ok.stdout
