"""Start a background process without a console window, and stop it with everything it started.

``os.killpg`` and ``signal.SIGKILL`` do not exist on Windows, and a process started there
opens a console window unless told not to. The process tree is found and stopped with
psutil (as SlicerMONAIAuto3DSeg does) on every platform; without psutil the fallbacks are
the process group (POSIX) and ``taskkill /T`` (Windows).

Stopping never blocks the caller: :func:`terminateTree` asks politely and returns the
processes it asked; :func:`killTree` (called later, e.g. from the next timer tick) ends
whatever is still alive.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from typing import Any

WINDOWS = sys.platform.startswith("win")


def startHidden(command: list[str], env: dict[str, str], stdin: Any = None) -> subprocess.Popen:
    """``Popen`` with stdout piped (text, line-buffered), no console window on Windows, and its own
    process group on POSIX; ``stdin=subprocess.PIPE`` for a process that takes requests."""
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True, "bufsize": 1,
                               "env": env, "stdin": stdin}
    if WINDOWS:
        options["creationflags"] = subprocess.CREATE_NO_WINDOW | subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        options["start_new_session"] = True
    return subprocess.Popen(command, **options)


def _tree(pid: int) -> list:
    import psutil

    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def terminateTree(pid: int) -> list:
    """Ask the process and all its descendants to stop (SIGTERM / TerminateProcess); returns them."""
    try:
        import psutil
    except ImportError:
        _fallback(pid, kill=False)
        return []
    members = _tree(pid)
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            member.terminate()
    return members


def killTree(pid: int, members: list | None = None) -> None:
    """Kill the process and every descendant still alive (found again, or those ``terminateTree`` asked)."""
    try:
        import psutil
    except ImportError:
        _fallback(pid, kill=True)
        return
    for member in {*(members or []), *_tree(pid)}:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            member.kill()


def treeAlive(pid: int, members: list | None = None) -> bool:
    """Is the process, or any of ``members``, still running?"""
    try:
        import psutil
    except ImportError:
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False
    alive = False
    for member in {*(members or []), *_tree(pid)}:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            alive = alive or (member.is_running() and member.status() != psutil.STATUS_ZOMBIE)
    return alive


def _fallback(pid: int, kill: bool) -> None:
    if WINDOWS:
        subprocess.run(["taskkill", "/T", "/F", "/PID", str(pid)], capture_output=True,
                       creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL if kill else signal.SIGTERM)
