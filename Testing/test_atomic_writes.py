"""Writes are atomic: a reader sees the old complete file or the new one, never half."""

from __future__ import annotations

import os
import stat

import pytest

from BreastUSAITraining.atomic import atomic_directory, atomic_path, write_json_atomic, write_text_atomic


def test_failed_write_leaves_the_old_file_and_no_debris(tmp_path):
    target = tmp_path / "dataset.json"
    write_text_atomic(target, "old complete content")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half of the new")
            raise RuntimeError("killed midway")
    assert target.read_text() == "old complete content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset.json"]


def test_written_files_get_normal_permissions(tmp_path):
    target = tmp_path / "a.json"
    write_json_atomic(target, {"a": 1})
    mode = stat.S_IMODE(os.stat(target).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_suffix_is_kept_for_format_detection(tmp_path):
    with atomic_path(tmp_path / "x.seg.nrrd") as tmp:
        assert tmp.name.endswith(".seg.nrrd")
        tmp.write_bytes(b"x")


def test_directory_is_built_aside_and_swapped_in(tmp_path):
    target = tmp_path / "export"
    with atomic_directory(target) as staging:
        (staging / "a.txt").write_text("first")
    assert (target / "a.txt").read_text() == "first"
    with pytest.raises(FileExistsError):
        with atomic_directory(target):
            pass
    with pytest.raises(RuntimeError):
        with atomic_directory(target, overwrite=True) as staging:
            (staging / "a.txt").write_text("second, incomplete")
            raise RuntimeError("killed")
    assert (target / "a.txt").read_text() == "first"
    with atomic_directory(target, overwrite=True) as staging:
        (staging / "b.txt").write_text("second")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
