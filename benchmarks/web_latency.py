"""How long a web-app user waits (issue 21): with the server warm (models already loaded by a first
run on the same kind of image), seconds from the *Run AI* click to the heatmap on screen, measured
through a real browser (Debian's chromium driven by Playwright), for a BUSI sample image and for a
full-size phantom ABVS volume (843 x 546 x 318 voxels, the scanner's size); and the peak memory
(VmHWM) of the server process and of its background worker.

"On screen" = the results table has its lesion row and the screenshot of the views shows the coloured
heatmap (mean |red - blue| of the view's pixels more than 10 above the grey image's), polled every
~0.1 s (a screenshot takes part of that, so the figure is an upper bound by up to ~0.2 s).

    python benchmarks/web_latency.py [--repeats 5] [--volume-repeats 2] [--volume FILE]

Writes ``results/web_latency.json``; the README table is rendered from it.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(HERE)]

from machine import machine_info  # noqa: E402

from BreastUSAITraining.atomic import write_json_atomic  # noqa: E402
from BreastUSAIWeb.child_server import CHROMIUM, CHROMIUM_FLAGS, start_child_server, stop_child_server  # noqa: E402

RESULT = HERE / "results" / "web_latency.json"
SAMPLE = REPO / "Resources" / "SampleData" / "busi" / "malignant_139.png"
def _colour(page) -> float:
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(page.locator("#views").screenshot())).convert("RGB")).astype(int)
    return float(np.abs(pixels[..., 0] - pixels[..., 2]).mean())


def _load(page, path: Path) -> None:
    page.fill("input#server-path", str(path))
    time.sleep(0.3)
    page.click("#load")
    page.wait_for_function(f"document.querySelector('#image-name').innerText == '{path.name}'", timeout=600_000)
    page.wait_for_function("document.querySelectorAll('.lesion-row').length == 0")
    time.sleep(2)


def _click_to_heatmap(page, path: Path) -> float:
    """Load ``path`` afresh (no results, no heatmap), click Run AI, seconds until the heatmap shows."""
    _load(page, path)
    grey = _colour(page)
    started = time.perf_counter()
    page.click("#run-ai")
    page.wait_for_selector(".lesion-row", timeout=900_000)
    while _colour(page) < grey + 10:
        if time.perf_counter() - started > 900:
            raise SystemExit("no heatmap after 15 min")
        time.sleep(0.05)
    return time.perf_counter() - started


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs on the BUSI image (default 5)")
    parser.add_argument("--volume-repeats", type=int, default=2, help="timed runs on the full ABVS volume (default 2)")
    parser.add_argument("--volume", type=Path, help="a full-size phantom ABVS .nrrd (default: generate one, ~2 min)")
    parser.add_argument("--note", default="", help="a remark stored with the result (e.g. another job paused)")
    args = parser.parse_args()
    import psutil
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        shutil.copy(SAMPLE, work / SAMPLE.name)
        volume = args.volume
        if volume is None:
            subprocess.run([sys.executable, "-m", "BreastUSAITraining", "-q", "phantom", "--kind", "abvs", "--abvs-size",
                            "full", "--cases", "2", "--out", str(work / "phantom")], check=True)
            volume = sorted((work / "phantom" / "images").glob("*.nrrd"))[0]
        shutil.copy(volume, work / "abvs_full.nrrd")
        server, address = start_child_server(work, timeout_s=240)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.set_default_timeout(600_000)
                page.goto(address)
                page.wait_for_selector("#run-ai")
                warm_up_2d = _click_to_heatmap(page, work / SAMPLE.name)
                image_s = [_click_to_heatmap(page, work / SAMPLE.name) for _ in range(args.repeats)]
                print("BUSI image:", [round(s, 2) for s in image_s], flush=True)
                warm_up_3d = _click_to_heatmap(page, work / "abvs_full.nrrd")
                volume_s = [_click_to_heatmap(page, work / "abvs_full.nrrd") for _ in range(args.volume_repeats)]
                print("ABVS volume:", [round(s, 2) for s in volume_s], flush=True)
                browser.close()
            workers = psutil.Process(server.pid).children(recursive=True)
            memory = {"server_peak_mb": _peak_mb(server.pid), "worker_peak_mb": max((_peak_mb(w.pid) for w in workers),
                                                                                      default=None)}
        finally:
            for child in psutil.Process(server.pid).children(recursive=True):
                child.kill()
            stop_child_server(server)
    result = {
        "machine": machine_info(), "note": args.note, "goal_2d_s": 2.0,
        "busi_image": {"file": SAMPLE.name, "warm_up_s": round(warm_up_2d, 2), "runs_s": [round(s, 2) for s in image_s],
                       "median_s": round(statistics.median(image_s), 2), "goal_met": statistics.median(image_s) < 2.0},
        "abvs_full_volume": {"shape_kji": [318, 546, 843], "warm_up_s": round(warm_up_3d, 2),
                             "runs_s": [round(s, 2) for s in volume_s], "median_s": round(statistics.median(volume_s), 2)},
        **memory,
        "measured": "Run AI click -> lesion row + heatmap colours in the view's screenshot (browser: Debian chromium, "
                    "headless, Playwright); server warm (a first run of the same kind not counted)",
    }
    write_json_atomic(RESULT, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
