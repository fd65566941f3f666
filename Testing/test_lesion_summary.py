"""The results rows a front end shows (lesion, size in mm, probability, call, models) and MUP-Net's
matched prototype patches, read from a real ``predict`` run of the shipped models (issue 21)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cli_helpers import run_cli

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "BreastUSAI"))

from BreastUSAILib.LesionSummary import bundleRoots, lesionSize, lesionSummaries, prototypeMatches  # noqa: E402


def test_rows_and_prototypes_of_a_real_prediction(tmp_path):
    image = REPO / "Resources" / "SampleData" / "busi" / "malignant_139.png"
    result = run_cli("predict", str(image), "--out", str(tmp_path / "out"), "--threads", "1")
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "out" / "malignant_139" / "result.json").read_text())
    rows = lesionSummaries(document)
    assert [row["lesion"] for row in rows] == [lesion["id"] for lesion in document["lesions"]]
    first, lesion = rows[0], document["lesions"][0]
    box = lesion["bbox_ijk"]
    assert first["size"] == f"{box['max'][0] - box['min'][0] + 1:.1f} x {box['max'][1] - box['min'][1] + 1:.1f} mm"
    assert first["probability"] == round(lesion["malignant_probability"], 4) and first["call"] == lesion["prediction"]
    assert first["models"] == "lesion-classifier, bmode-mupnet"
    roots = bundleRoots(sorted((REPO / "Resources" / "Models").glob("*/")))
    patches = prototypeMatches(document, first["lesion"], roots)
    assert len(patches) == 2 and patches[0]["contribution"] >= patches[1]["contribution"]
    assert abs(sum(p["contribution"] for p in patches) - 1.0) < 1e-3
    for patch in patches:
        assert Path(patch["image"]).is_file() and Path(patch["image"]).is_relative_to(roots["bmode-mupnet"].resolve())
    assert prototypeMatches(document, first["lesion"], {}) [0]["image"] is None  # no bundle folder known: no file


def test_volume_sizes_count_every_axis_and_a_patch_outside_the_bundle_is_refused(tmp_path):
    lesion = {"bbox_ijk": {"min": [2, 3, 4], "max": [2, 6, 9]}, "bbox_ras": {"min": [0, 0, 0], "max": [1, 1, 1]}}
    assert lesionSize(lesion, [0.5, 0.5, 2.0], [20, 20, 20]) == "0.5 x 2.0 x 12.0 mm"
    assert lesionSize(lesion, [0.5, 0.5, 1.0], [1, 20, 20]) == "0.5 x 2.0 mm"
    assert lesionSize({}, [1, 1, 1], [1, 2, 2]) == ""
    bundle = tmp_path / "bundle"
    (bundle / "configs").mkdir(parents=True)
    (tmp_path / "secret.png").write_bytes(b"x")
    document = {"lesions": [{"id": "lesion_1", "prototype_explanations": {"bundle": {"prototypes": {"us_bmode": {"benign": {
        "prototype": 0, "contribution_normalised": 1.0, "source_case": "c", "patch_image": "../secret.png",
        "source_image": ""}}}}}}]}
    (patch,) = prototypeMatches(document, "lesion_1", bundleRoots([bundle]))
    assert patch["image"] is None
