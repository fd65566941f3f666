"""The web app (issue 21), end to end in a real headless Chromium driven by Playwright.

The server is the real ``python -m BreastUSAIWeb`` in a child process (trame-slicer's views on
a slicer-core scene, the shipped models on the warm worker); the browser is Debian's chromium
(``.ci/run`` installs it). Every check reads what a user would see: the view's pixels in a
screenshot, the page's text; the export is read back from disk and validated by the engine.
Set ``BREASTUSAI_SCREENSHOTS=DIR`` to keep the screenshots of the main states (the README's).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run_cli
from PIL import Image

from BreastUSAIWeb.child_server import CHROMIUM, CHROMIUM_FLAGS, start_child_server, stop_child_server

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    """(address, work folder) of a started app; stopped (and its worker with it) after the module."""
    work = tmp_path_factory.mktemp("web")
    log = (work / "server.log").open("w")
    try:
        server, address = start_child_server(work, log)
    except RuntimeError as error:
        pytest.fail(f"{error}:\n" + (work / "server.log").read_text()[-3000:])
    yield address, work
    stop_child_server(server)
    log.close()


@pytest.fixture(scope="module")
def page(web_server):
    """One browser tab on the app, waited until the websocket has brought the sample image."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed here (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        tab.set_default_timeout(180_000)  # a busy 2-core machine: generous, a hang still fails
        tab.goto(web_server[0])
        tab.wait_for_selector("#run-ai")
        tab.wait_for_function("document.querySelector('#image-name').innerText.length > 0")
        yield tab
        browser.close()


def view_pixels(tab, settle_s: float = 1.5) -> np.ndarray:
    """The views' area as the user sees it (RGB, int), after the server's next frames arrived."""
    time.sleep(settle_s)
    return np.asarray(Image.open(io.BytesIO(tab.locator("#views").screenshot())).convert("RGB")).astype(int)


def keep_screenshot(tab, name: str) -> None:
    folder = os.environ.get("BREASTUSAI_SCREENSHOTS")
    if folder:
        shot = Image.open(io.BytesIO(tab.screenshot())).convert("RGB")
        shot.quantize(256).save(Path(folder) / f"{name}.png", optimize=True)  # README-sized


def choose(tab, field: str, text: str) -> None:
    """Pick ``text`` in the Vuetify select whose input has id ``field``."""
    tab.locator(f".v-input:has(input#{field}) .v-field").click()
    tab.locator(".v-overlay .v-list-item", has_text=text).first.click()


def error_text(tab) -> str:
    return tab.inner_text("#error") if tab.locator("#error").count() else ""


def run_ai(tab) -> None:
    tab.click("#run-ai")
    tab.wait_for_selector(".lesion-row", timeout=120_000)


def test_page_opens_on_the_sample_and_shows_the_image(page):
    assert page.inner_text("#image-name") == "malignant_139.png"
    assert "B-mode" in page.inner_text("#image-kind")
    pixels = view_pixels(page)
    assert pixels.std() > 20, "the slice view is blank"
    keep_screenshot(page, "1-sample-opened")


def test_run_ai_shows_lesion_heatmap_and_the_row_moves_the_view(page):
    before = view_pixels(page, 0.5)
    run_ai(page)
    row = page.inner_text(".lesion-row")
    assert row.startswith("lesion_1") and " mm" in row and ("malignant" in row or "benign" in row), row
    with_heatmap = view_pixels(page)
    colour = np.abs(with_heatmap[..., 0] - with_heatmap[..., 2]).mean() - np.abs(before[..., 0] - before[..., 2]).mean()
    assert colour > 10, "no coloured heatmap / outline appeared over the grey image"
    assert page.locator("#prototypes img").count() >= 1, "MUP-Net's matched prototypes are not shown"
    keep_screenshot(page, "2-ai-results-heatmap-prototypes")
    page.locator("#opacity-box .v-slider-track").click(position={"x": 2, "y": 2})  # opacity to 0
    without = view_pixels(page)
    assert np.abs(without - with_heatmap).mean() > 5, "moving the opacity slider did not change the view"
    page.click("#fit")
    whole = view_pixels(page)
    page.click(".lesion-row")
    focused = view_pixels(page)
    assert np.abs(focused - whole).mean() > 5, "clicking the lesion row did not move the view"
    assert error_text(page) == ""


def test_edited_and_annotated_lesion_is_exported_as_a_valid_dataset(page, web_server):
    work = web_server[1]
    if not page.locator(".lesion-row").count():
        run_ai(page)
    page.click(".lesion-row")
    choose(page, "pathology", "malignant")
    choose(page, "birads", "4C")
    page.fill("input#clinical", "age=54")
    time.sleep(0.5)
    page.click("#save-annotation")
    page.wait_for_function("document.querySelector('#status').innerText.includes('Saved the annotation')")

    def export(name: str) -> Path:
        page.fill("input#export-folder", str(work / name))
        time.sleep(0.5)
        page.click("#export")
        page.wait_for_function(f"document.querySelector('#export-report').innerText.includes('{name}')")
        return work / name

    def stroke(tool: str) -> None:
        page.click(f"#tool-{tool}")
        time.sleep(0.5)
        box = page.locator("#views").bounding_box()
        page.mouse.move(box["x"] + 500, box["y"] + 450)  # below the lesion, inside the image
        page.mouse.down()
        for step in range(20):
            page.mouse.move(box["x"] + 500 + 8 * step, box["y"] + 450 + 4 * step)
            time.sleep(0.05)
        page.mouse.up()
        time.sleep(1)

    before = export("export-before-edit")
    page.click("#fit")
    stroke("paint")
    keep_screenshot(page, "3-segment-editor-paint")
    page.click("#tool-none")
    after = export("export-after-edit")
    assert error_text(page) == ""
    stroke("erase")  # the same stroke erased: back to the AI's outline
    page.click("#tool-none")
    erased = export("export-after-erase")

    from BreastUSAITraining.imagefiles.segmentation import read_segmentation

    def voxels(folder: Path) -> int:
        (seg,) = (folder / "segmentations").glob("*.seg.nrrd")
        return int(read_segmentation(seg).segment("lesion_1").mask.sum())

    assert voxels(after) > voxels(before) + 500, "the paint stroke did not reach the exported lesion"
    painted, left = voxels(after) - voxels(before), voxels(erased) - voxels(before)
    assert 0 <= left < 0.05 * painted, f"the erase stroke left {left} of the {painted} painted voxels"  # (edge pixels)
    result = run_cli("dataset", "validate", str(after), "--deep")
    assert result.returncode == 0, result.stdout + result.stderr
    (item,) = json.loads((after / "dataset.json").read_text())["training"]
    assert (item["pathology"], item["birads"], item["clinical"]) == ("malignant", "4C", {"age": 54})
    assert "malignant_139" not in (after / "dataset.json").read_text(), "the export names the source file"


def test_corrupt_upload_shows_its_error_and_keeps_the_image(page, web_server):
    corrupt = web_server[1] / "scan.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3)
    before = view_pixels(page, 0.5)
    page.set_input_files("input#upload", str(corrupt))
    page.wait_for_selector("#error")
    message = error_text(page)
    assert "scan.png" in message and "PNG" in message, message
    assert str(web_server[1]) not in message, "the message shows the server's upload path"
    assert page.inner_text("#image-name") == "malignant_139.png"
    assert np.abs(view_pixels(page) - before).mean() < 1, "the image shown changed"
    keep_screenshot(page, "4-corrupt-upload-refused")


def test_uploads_a_png_whose_kind_is_asked_and_a_dicom_series_whose_kind_is_read(page, web_server):
    from dicom_factory import US_IMAGE, write_capture

    png = web_server[1] / "upload" / "my scan.png"
    png.parent.mkdir()
    shutil.copy(REPO / "Resources" / "SampleData" / "busi" / "benign_115.png", png)
    page.set_input_files("input#upload", str(png))
    page.wait_for_function("document.querySelector('#image-name').innerText == 'my scan.png'")
    assert "unknown - choose the kind" in page.inner_text("#image-kind")
    choose(page, "kind", "B-mode")
    page.wait_for_function("document.querySelector('#image-kind').innerText.includes('B-mode')")
    grey = np.asarray(Image.open(png).convert("L"))
    frames = [write_capture(png.parent / "IM1", grey[: grey.shape[0] // 2 * 2, : grey.shape[1] // 2 * 2], 1,
                            region_spacing_cm=(0.01, 0.01), sop_class=US_IMAGE)]  # grey US Image Storage, calibrated
    page.set_input_files("input#upload", [str(frame) for frame in frames])
    page.wait_for_function("document.querySelector('#image-name').innerText == 'IM1'")
    assert "B-mode" in page.inner_text("#image-kind") and error_text(page) == ""
    run_ai(page)  # the DICOM image's lesions back as DICOM: SEG + SR into the export folder
    page.fill("input#export-folder", str(web_server[1] / "dicom-out"))
    time.sleep(0.5)
    page.click("#export-dicom")
    page.wait_for_function("document.querySelector('#export-report').innerText.includes('dicom-out')")
    import pydicom

    written = {path.name: pydicom.dcmread(path) for path in (web_server[1] / "dicom-out").iterdir()}
    modalities = sorted(dataset.Modality for dataset in written.values())
    assert modalities == ["SEG", "SR"], written
    uploads = list((web_server[1] / "app" / "uploads").rglob("*"))
    assert not [path for path in uploads if "scan" in path.name or path.name.startswith("IM")], "a client name became a path"


def test_abvs_volume_opens_in_three_planes_and_3d(page, web_server):
    volume = web_server[1] / "volume.nrrd"
    shutil.copy(REPO / "Resources" / "SampleData" / "phantom" / "phantom_abvs.nrrd", volume)
    page.fill("input#server-path", str(volume))
    time.sleep(0.5)
    page.click("#load")
    page.wait_for_function("document.querySelector('#image-name').innerText == 'volume.nrrd'")
    assert "automated breast volume" in page.inner_text("#image-kind")
    assert page.input_value("input#clinical") == "", "the previous lesion's annotation is still in the form"
    time.sleep(2)
    views = page.locator("#views .remote-controlled-area")
    shown = [views.nth(i) for i in range(views.count()) if views.nth(i).is_visible()]
    assert len(shown) == 4, "an ABVS volume is shown in the three planes + 3D"
    slices = [np.asarray(Image.open(io.BytesIO(view.screenshot())).convert("L")).astype(int) for view in shown]
    assert sum(pixels.std() > 10 for pixels in slices) >= 3, "a plane view of the volume is blank"
    boxes = [view.bounding_box() for view in shown]
    three_d = slices[max(range(4), key=lambda i: (round(boxes[i]["x"]), -boxes[i]["y"]))]  # the top-right view
    background = np.concatenate([three_d[:, :4], three_d[:, -4:]], axis=1).mean(axis=1, keepdims=True)  # row gradient
    footprint = np.mean(np.abs(three_d - background) > 12)
    assert footprint > 0.15, f"the 3D view shows the volume on {footprint:.1%} of its area: not framed on it"
    keep_screenshot(page, "5-abvs-volume-three-planes-3d")
    page.click("#run-ai")  # a long run on the volume: a second tab sees it and cannot swap the image under it
    page.wait_for_function("!document.querySelector('#cancel').disabled")
    second = page.context.browser.new_page()
    second.goto(web_server[0])
    second.wait_for_selector("#run-ai")
    second.wait_for_function("document.querySelector('#image-name').innerText == 'volume.nrrd'")
    assert second.locator("#run-ai").is_disabled() and second.locator("#load").is_disabled()
    assert second.locator("input#upload").is_disabled()  # (the server refuses a load during a run too: test_web_uploads)
    second.close()
    page.click("#cancel")
    page.wait_for_function("document.querySelector('#status').innerText.includes('Cancelled')", timeout=60_000)
    assert page.locator(".lesion-row").count() == 0 and not page.locator("#run-ai").is_disabled()
