"""The web app started in a child process and a headless Chromium for it: what the end-to-end tests
and ``benchmarks/web_latency.py`` both drive (one way to start, wait for and stop the server)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[1]
#: Debian's chromium (Playwright cannot download its own browser here)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: headless, no sandbox (root in CI), and none of Chromium's own network traffic (the machine's network is closed)
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_child_server(work: Path, log: IO | int = subprocess.DEVNULL, timeout_s: float = 120) -> tuple[subprocess.Popen, str]:
    """``python -m BreastUSAIWeb`` on a free port, ``work/app`` its work folder, ``work`` the one folder a
    typed path may use; returns (process, address) once the page answers. RuntimeError when it exits or
    does not answer within ``timeout_s`` (the process is killed)."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "BreastUSAIWeb", "--port", str(port), "--work", str(work / "app"),
                               "--files", str(work)], stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    address = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(address, timeout=2)
            return server, address
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("the web app did not start") from None
            time.sleep(0.5)


def stop_child_server(server: subprocess.Popen) -> None:
    """Stop the app (its warm worker ends with it: its stdin closes)."""
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
