"""Atomic writes: a reader sees either the old complete file or the new complete file.

Every file the engine writes (images, segmentations, dataset.json, checkpoints,
bundles, reports) goes through these helpers: the content is written to a hidden
temporary file in the same folder, flushed to disk, then renamed over the target
with :func:`os.replace`, which is atomic on POSIX and Windows.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _give_normal_permissions(path: Path) -> None:
    """mkstemp/mkdtemp create private (0600/0700) entries; give the usual umask mode."""
    mode = 0o777 if path.is_dir() else 0o666
    os.chmod(path, mode & ~_umask())


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it to ``target``.

    The temporary name keeps the target's full suffix (``.seg.nrrd``, ``.nii.gz``) so
    writers that choose a format by extension work. On error the temporary file is
    removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(target.suffixes) or ".tmp"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        _give_normal_permissions(tmp)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(target: str | Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``target`` atomically."""
    write_bytes_atomic(target, text.encode("utf-8"))


def write_json_atomic(target: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``target`` atomically."""
    write_text_atomic(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def atomic_directory(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Build a folder in a hidden staging folder and move it into place at the end.

    If ``target`` exists it must be empty unless ``overwrite`` is true; the old folder
    is then swapped out only after the new one is complete. On error the staging
    folder is deleted and ``target`` is untouched.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{target} exists and is not a folder")
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise FileExistsError(f"{target} already exists and is not empty (use --overwrite to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    _give_normal_permissions(staging)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_in(staging, target)
    _fsync_dir(target.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    import ctypes
    import errno

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap_in(staging: Path, target: Path) -> None:
    """Put the finished ``staging`` folder at ``target``. With an atomic exchange the target
    never disappears, even for an instant, and two writers racing for one target both
    finish (the last one wins, each result whole); elsewhere the old folder is moved
    aside first."""
    import errno

    for _ in range(100):
        if target.exists():
            if _exchange(staging, target):
                shutil.rmtree(staging, ignore_errors=True)  # now holds the previous content
                return
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / "content")
            try:
                os.replace(staging, target)
            finally:
                shutil.rmtree(old, ignore_errors=True)
            return
        try:
            os.rename(staging, target)
            return
        except OSError as error:  # another writer put a folder there in between: exchange with it
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
    raise OSError(f"{target}: could not move the new folder into place (other writers kept replacing it)")
