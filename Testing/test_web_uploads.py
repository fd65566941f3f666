"""Uploads to the web app (issue 21): generated names inside the work folder, size limits,
unknown kinds refused before anything is written; the page's path fields stay inside the
folders the app was started with. Real files on disk; no browser needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from BreastUSAIWeb.uploads import ClientUpload, UploadRefused, saveUpload


def test_an_upload_gets_a_generated_name_inside_the_uploads_folder(tmp_path):
    uploads = tmp_path / "uploads"
    saved = saveUpload([ClientUpload("../../etc/passwd.png", b"\x89PNG data")], uploads, 1000)
    assert saved.name == "upload.png" and saved.parent.parent == uploads
    assert saved.read_bytes() == b"\x89PNG data"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["upload.png"]
    again = saveUpload([ClientUpload("scan.nii.gz", b"x")], uploads, 1000)
    assert again.name == "upload.nii.gz" and again.parent != saved.parent


def test_a_dicom_series_becomes_one_folder_of_numbered_files(tmp_path):
    folder = saveUpload([ClientUpload("IM0001", b"a"), ClientUpload("/abs/IM0002.dcm", b"b")], tmp_path, 1000)
    assert sorted(p.name for p in folder.iterdir()) == ["0001.dcm", "0002.dcm"]


@pytest.mark.parametrize(("files", "words"), [
    ([ClientUpload("big.nrrd", b"x" * 2000)], "more than"),
    ([ClientUpload("empty.png", b"")], "empty"),
    ([ClientUpload("notes.txt", b"hello")], "not an image file"),
    ([ClientUpload("a.png", b"x"), ClientUpload("b.png", b"y")], "DICOM series"),
    ([], "no file"),
])
def test_refused_uploads_write_nothing(tmp_path, files, words):
    with pytest.raises(UploadRefused, match=words):
        saveUpload(files, tmp_path / "uploads", 1000)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_client_upload_joins_chunked_content():
    assert ClientUpload.from_client({"name": "a.png", "content": [b"ab", b"cd"]}).content == b"abcd"


def test_paths_typed_on_the_page_stay_inside_the_allowed_folders(tmp_path):
    from BreastUSAIWeb.app import BreastUSAIWebApp

    allowed = tmp_path / "images"
    allowed.mkdir()
    app = BreastUSAIWebApp(work=tmp_path / "work", roots=[allowed])
    app.export(str(tmp_path / "elsewhere"))
    assert "outside the folders" in app.state.error and not (tmp_path / "elsewhere").exists()
    app.loadPath(str(Path("/etc/hostname")))
    assert "outside the folders" in app.state.error and app.volume is None
    app.loadPath(str(allowed / "missing.png"))
    assert "missing.png" in app.state.error
    app.shutdown()


def test_web_command_passes_its_arguments_to_the_web_app():
    import subprocess
    import sys

    shown = subprocess.run([sys.executable, "-m", "BreastUSAITraining", "web", "--help"], capture_output=True, text=True,
                           timeout=60)
    assert shown.returncode == 0 and "--max-upload-mb" in shown.stdout and "no login" in shown.stdout
    refused = subprocess.run([sys.executable, "-m", "BreastUSAIWeb", "--host", "0.0.0.0", "--open", "/no/such.png"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "there is no login" in refused.stderr and "/no/such.png" in refused.stderr


EXPORT_LOOP = r"""
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import numpy as np
from BreastUSAIWeb.app import BreastUSAIWebApp

app = BreastUSAIWebApp(work=Path(sys.argv[2]), roots=[Path(sys.argv[2])])
node, _ = app.logic.loadImage(sys.argv[3], "abvs")
segmentation = app.logic.createLesionSegmentation(node)
mask = np.zeros(app.logic.imageOf(node).shape_kji, dtype=bool)
mask[10:20, 20:40, 20:40] = True
segment = app.logic.addLesion(segmentation, node, mask, "lesion_1")
app.logic.setLesionAnnotation(segmentation, segment, pathology="benign", birads="3")
print("exporting", flush=True)
while True:
    app.export(sys.argv[4])
    assert not app.state.error, app.state.error
"""


def test_stopping_the_server_mid_export_leaves_the_previous_export_whole(tmp_path, repo):
    """The web app's export in a loop (a phantom ABVS volume, ~2 MB per export) killed at four
    moments: every time the export folder is a whole dataset that ``validate --deep`` accepts."""
    import signal
    import subprocess
    import sys
    import time

    from cli_helpers import run_cli

    volume = repo / "Resources" / "SampleData" / "phantom" / "phantom_abvs.nrrd"
    folder = tmp_path / "app" / "export"
    for delay in (0.05, 0.17, 0.41, 0.83):
        child = subprocess.Popen([sys.executable, "-c", EXPORT_LOOP, str(repo), str(tmp_path / "app"), str(volume), str(folder)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "exporting"
        if not folder.exists():
            time.sleep(3)  # the first run: let one export finish so there is a previous one to keep
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        result = run_cli("dataset", "validate", str(folder), "--deep")
        assert result.returncode == 0, f"killed after {delay} s: " + result.stdout + result.stderr


def test_run_ai_with_chosen_models_from_a_models_folder(tmp_path, repo):
    """The page's model list holds the shipped models and a --models folder's bundles; the chosen ones
    run (here only a copy of the segmentation bundle: lesions without a probability)."""
    import shutil
    import time

    from BreastUSAIWeb.app import BreastUSAIWebApp

    models = tmp_path / "models"
    shutil.copytree(repo / "Resources" / "Models" / "lesion-segmentation", models / "my-segmentation")
    sample = repo / "Resources" / "SampleData" / "busi" / "malignant_139.png"
    app = BreastUSAIWebApp(work=tmp_path / "work", roots=[tmp_path], sample=sample, sample_kind="us_bmode", models=models)
    try:
        paths = [choice["value"] for choice in app.state.model_choices]
        assert str(models / "my-segmentation") in paths and len(paths) == 6, paths  # 5 shipped + ours
        app.runAI([str(models / "my-segmentation")])
        assert app.state.running and not app.state.error, app.state.error
        app.loadPath(str(sample))  # another tab cannot swap the image under a run
        assert "The AI is running" in app.state.error and app.state.image_name == sample.name
        deadline = time.monotonic() + 300
        while app.runner is not None and time.monotonic() < deadline:
            time.sleep(0.2)
            app.pollRun()
        assert not app.state.error, app.state.error
        (row,) = app.state.lesion_rows
        assert row["probability"] is None and row["call"] == "" and row["models"] == ""
    finally:
        app.shutdown()
