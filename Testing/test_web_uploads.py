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
    app.state.export_folder = str(tmp_path / "elsewhere")
    app.export()
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
