"""The web app: trame-slicer's views over one MRML scene, the page's controls bound to the Logic.

Every handler is the same verb as the Slicer panel's and calls the same Logic method
(``ModuleLogic``); what a handler adds is only the page's side: which state to refresh, which
message to show. A handler that fails shows the Logic's one-line message in the page's error
bar and changes nothing else.

The app is one shared workspace: every browser tab sees the same scene and the same state
(trame's model), and the Logic runs one AI job at a time, so a second tab cannot start a run
over the first's or half-change its results; exports are swapped in whole (atomic).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from trame.app import TrameApp
from trame_server.utils.asynchronous import create_task
from trame_slicer.core import LayoutManager, SlicerApp
from trame_slicer.rca_view import register_rca_factories
from trame_slicer.segmentation import (
    SegmentationEffectErase,
    SegmentationEffectIslands,
    SegmentationEffectNoTool,
    SegmentationEffectPaint,
    SegmentationEffectScissors,
)
from trame_slicer.views import Layout, LayoutDirection, ViewLayoutDefinition

from BreastUSAILib.ModelLibrary import JsonSettings
from BreastUSAILib.ModuleLogic import ModuleLogic

from .page import buildPage
from .uploads import ClientUpload, saveUpload

log = logging.getLogger("BreastUSAIWeb")

#: segment editor tools offered on the page (name on the button -> trame-slicer effect)
EDIT_TOOLS = {"none": SegmentationEffectNoTool, "paint": SegmentationEffectPaint, "erase": SegmentationEffectErase,
              "scissors": SegmentationEffectScissors, "islands": SegmentationEffectIslands}

#: Slicer layout the Logic asks for -> this page's layout
LAYOUTS = {"SlicerLayoutOneUpRedSliceView": "image", "SlicerLayoutFourUpView": "volume"}


class BreastUSAIWebApp(TrameApp):
    """``work``: the app's folder (uploads, settings, default export); ``roots``: the server folders
    a user may load from or export to by path; ``sample``: the image opened on start (or None)."""

    def __init__(self, server=None, work: Path = Path("breastusai-web"), roots: list[Path] | None = None,
                 sample: Path | None = None, sample_kind: str | None = None, max_upload_mb: float = 500.0, models: Path | None = None):
        super().__init__(server)
        self.work = Path(work).resolve()
        (self.work / "uploads").mkdir(parents=True, exist_ok=True)
        self.roots = [Path(root).resolve() for root in (roots or [])] + [self.work]
        self.maxUploadBytes = int(max_upload_mb * 1e6)
        self.slicerApp = SlicerApp()
        register_rca_factories(self.slicerApp.view_manager, self.server)
        self.layouts = LayoutManager(self.slicerApp.scene, self.slicerApp.view_manager, self.server)
        axial, sagittal, coronal = (ViewLayoutDefinition.axial_view(), ViewLayoutDefinition.sagittal_view(),
                                    ViewLayoutDefinition.coronal_view())
        self.layouts.register_layout_dict({
            "image": Layout(LayoutDirection.Vertical, [axial]),
            "volume": Layout(LayoutDirection.Horizontal, [Layout(LayoutDirection.Vertical, [axial, sagittal]),
                                                          Layout(LayoutDirection.Vertical,
                                                                 [ViewLayoutDefinition.threed_view(), coronal])]),
        })
        self.layouts.set_layout("image")
        self.logic = ModuleLogic(scene=self.slicerApp.scene, settings=JsonSettings(self.work / "settings.json"))
        if models is not None:
            self.logic.setModelsFolder(str(models))
        self.editor = self.slicerApp.segmentation_editor
        for tool in EDIT_TOOLS.values():
            if not self.editor.is_effect_type_registered(tool):
                self.editor.register_effect_type(tool)
        self.volume = None
        self.results = None
        self.runner = None
        self._defaults()
        buildPage(self)
        self.server.controller.on_server_ready.add(self._startWatching)
        if sample is not None:
            self.loadPath(str(sample), trusted=True, kind=sample_kind)

    # --- state
    def _defaults(self) -> None:
        state = self.state
        state.trame__title = "BreastUSAI"
        state.update({
            "image_name": "", "image_kind": "", "kind_choices": [{"value": k, "title": v}
                                                                 for k, v in self.logic.imageKinds().items()],
            "chosen_kind": None, "error": "", "status": "Load an image to start.", "server_path": "",
            "running": False, "progress": 0, "lesion_rows": [], "selected_lesion": "", "heatmap_opacity": 0.5,
            "prototypes": [], "edit_tool": "none", "pathology": "", "birads": "", "clinical": "", "note": "",
            "choices": self.logic.panelChoices(), "export_folder": str(self.work / "export"), "export_report": "",
            "upload_files": None, "log": "", "model_choices": [], "chosen_models": [],
        })
        self.listModels()

    @contextmanager
    def shownErrors(self, names: dict[str, str] | None = None):
        """Like Slicer's tryWithErrorDisplay: a failing step shows its one-line message on the page
        (and in the server log) instead of breaking the page; the previous message is cleared.
        ``names``: server paths -> the names the user knows them by (an upload's own file name)."""
        self.state.error = ""
        try:
            yield
        except Exception as error:  # noqa: BLE001 - every failure of a step is the user's to read
            message = str(error) or type(error).__name__
            for path, name in (names or {}).items():
                message = message.replace(path, name)
            self.state.error = message
            log.warning("%s", message)

    def _allowed(self, text: str) -> Path:
        """A path typed on the page, only inside the folders the app was started with."""
        path = Path(text).expanduser().resolve()
        if not any(path == root or path.is_relative_to(root) for root in self.roots):
            raise ValueError(f"{text}: outside the folders this app may read and write "
                             f"({', '.join(str(root) for root in self.roots)}; start it with --files DIR to add one)")
        return path

    # --- 1. Load
    def loadPath(self, text: str, trusted: bool = False, kind: str | None = None) -> None:
        """Load an image file or DICOM folder from the server's disk (inside ``--files`` folders;
        ``trusted``: the app's own sample, whose ``kind`` is known)."""
        with self.shownErrors():
            self.logic.checkCanLoad()
            path = Path(text) if trusted else self._allowed(text)
            self._show(*self.logic.loadImage(str(path), kind), name=path.name)

    def onUpload(self, files: list[dict[str, Any]] | None) -> None:
        """An upload: saved under generated names in the work folder, then loaded like a path. An
        unreadable file shows the reader's message; the image already shown stays."""
        if not files:
            return
        uploads = [ClientUpload.from_client(item) for item in (files if isinstance(files, list) else [files])]
        self.state.upload_files = None
        shown_as = uploads[0].name if len(uploads) == 1 else "the uploaded DICOM series"
        names: dict[str, str] = {}
        with self.shownErrors(names):
            self.logic.checkCanLoad()
            path = saveUpload(uploads, self.work / "uploads", self.maxUploadBytes)
            names[str(path)] = shown_as
            self._show(*self.logic.loadImage(str(path)), name=shown_as)

    def _show(self, node, guess, name: str) -> None:
        self.volume = node
        self.results = None
        self.layouts.set_layout(LAYOUTS.get(self.logic.layoutFor(node), "image"))
        self.slicerApp.display_manager.show_volume(node, vr_preset=self.logic.volumeRenderingPreset(node),
                                                   do_reset_views=True)
        self._frameThreeD()
        self.editor.set_active_effect_type(SegmentationEffectNoTool)
        self.state.update({"image_name": name, "lesion_rows": [], "selected_lesion": "", "prototypes": [],
                           "edit_tool": "none", "pathology": "", "birads": "", "clinical": "", "note": "",
                           "image_kind": self.logic.describeImageKind(node) if guess.kind else
                           f"unknown - choose the kind ({guess.reason})",
                           "status": f"Loaded {name}."})

    def fitViews(self) -> None:
        """Every view back to the whole image (after zooming to a lesion)."""
        self.slicerApp.display_manager.reset_views()
        self._frameThreeD()

    def _frameThreeD(self) -> None:
        """The 3D views framed on the image's RAS bounds (trame-slicer's reset frames them on what the
        renderer holds at that moment, before the volume rendering has bounds: the volume came out small)."""
        if self.volume is None:
            return
        bounds = [0.0] * 6
        self.volume.GetRASBounds(bounds)
        for view in self.slicerApp.view_manager.get_threed_views():
            view.renderer().ResetCamera(bounds)
            view.renderer().ResetCameraClippingRange()
            view.schedule_render()

    def setKind(self, kind: str) -> None:
        with self.shownErrors():
            self.logic.setImageKind(self.volume, kind)
            self.state.image_kind = self.logic.describeImageKind(self.volume)

    # --- 2. Run the AI (background process: the page stays live)
    def listModels(self) -> None:
        """The model list: shipped models first, then the bundles of the ``--models`` folder."""
        with self.shownErrors():
            self.state.model_choices = [{"title": entry.summary(), "value": str(entry.path), "props": {"disabled": not entry.usable}}
                                        for entry in self.logic.listModels()]

    def runAI(self, chosen_models: list[str] | None = None) -> None:
        """The chosen models (bundle folders) on the image shown; none chosen: the shipped models that fit its kind."""
        with self.shownErrors():
            chosen = list(chosen_models or [])
            self.runner = (self.logic.startPrediction(self.volume, chosen) if chosen
                           else self.logic.runAIOnImage(self.volume))
            self.state.update({"running": True, "progress": 0, "status": "Running the AI ...", "log": ""})

    def cancel(self) -> None:
        if self.runner is not None:
            self.runner.cancel()

    def _startWatching(self, **_kwargs) -> None:
        create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            if self.runner is not None:
                with self.state:
                    self.pollRun()

    def pollRun(self) -> None:
        """Progress, log lines and, when the run ends, its results in the scene and on the page."""
        runner = self.runner
        lines = self.logic.logLines(runner.poll())
        if lines:
            self.state.log = "\n".join([*self.state.log.splitlines(), *lines][-200:])
        self.state.progress = int(100 * runner.fraction)
        self.state.status = runner.message
        if runner.state == "running":
            return
        self.runner = None
        self.state.running = False
        loaded = None
        with self.shownErrors():
            loaded = self.logic.collectPrediction(runner)
        if self.state.error:
            self.state.status = "The AI run failed."
            return
        if not loaded:
            self.state.status = "Cancelled."
            return
        self.results = loaded
        rows = self.logic.lesionSummaries(loaded)
        self.state.lesion_rows = rows
        self.state.status = self.logic.predictionText(loaded) or "Done."
        if rows:
            self.selectLesion(rows[0]["lesion"])

    # --- 3. Results
    def selectLesion(self, lesion_id: str) -> None:
        """A results row clicked: the views go to its planes, its heatmap and prototypes are shown,
        and the annotation form and the segment editor take that lesion."""
        if self.results is None or not lesion_id:
            return
        with self.shownErrors():
            self.logic.focusLesion(self.results, lesion_id, float(self.state.heatmap_opacity))
            self.state.prototypes = [self._patchForPage(patch) for patch in self.logic.lesionPrototypes(self.results, lesion_id)]
            self.state.selected_lesion = lesion_id
            segmentation = self.results["segmentation"]
            segment_id = segmentation.GetSegmentation().GetSegmentIdBySegmentName(lesion_id)
            self.editor.set_active_segmentation(segmentation, self.volume)
            self.editor.set_active_segment_id(segment_id)
            form = self.logic.annotationForm(segmentation, segment_id)
            self.state.update({key: form[key] for key in ("pathology", "birads", "clinical", "note")})
            self._render()

    @staticmethod
    def _patchForPage(patch: dict[str, Any]) -> dict[str, Any]:
        image = ""
        if patch["image"]:
            image = "data:image/png;base64," + base64.b64encode(Path(patch["image"]).read_bytes()).decode("ascii")
        return {"title": f"{patch['class']} prototype {patch['prototype']}", "contribution": f"{patch['contribution']:.2f}",
                "source": f"from {patch['source_case']}" + (f" (BI-RADS {patch['source_birads']})" if patch["source_birads"] else ""),
                "image": image}

    def setOpacity(self, value: float) -> None:
        with self.shownErrors():
            self.logic.setHeatmapOpacity(float(value))
            self._render()

    def _render(self) -> None:
        for view in self.slicerApp.view_manager.get_views():
            view.schedule_render()

    # --- 4. Annotate
    def setTool(self, name: str) -> None:
        """The segment editor's tool on the selected lesion (paint, erase, scissors, islands, none)."""
        with self.shownErrors():
            if name != "none" and self.editor.active_segmentation_node is None:
                raise ValueError("Choose a lesion in the results table first.")
            self.editor.set_active_effect_type(EDIT_TOOLS[name])

    def saveAnnotation(self, pathology: str = "", birads: str = "", clinical: str = "", note: str = "") -> None:
        """The form's fields as the page held them when *Save* was clicked."""
        with self.shownErrors():
            segmentation, segment_id = self._selectedSegment()
            self.logic.saveAnnotationForm(segmentation, segment_id, pathology=pathology or "", birads=birads or "",
                                          clinical=clinical or "", note=note or "")
            self.state.status = f"Saved the annotation of {self.state.selected_lesion}."

    def _selectedSegment(self):
        if self.results is None or not self.state.selected_lesion or self.results.get("segmentation") is None:
            raise ValueError("Choose a lesion in the results table first.")
        segmentation = self.results["segmentation"]
        return segmentation, segmentation.GetSegmentation().GetSegmentIdBySegmentName(self.state.selected_lesion)

    # --- 5. Export
    def export(self, folder: str) -> None:
        """The annotated lesions as a dataset ``train`` reads (anonymous; the folder replaced whole)."""
        with self.shownErrors():
            report = self.logic.exportAnnotations(str(self._allowed(folder)))
            self.state.export_report = "\n".join([f"Exported {report.lesions} lesion(s) of {report.cases} case(s) to "
                                                  f"{report.folder}.", *report.warnings, *report.skipped])

    def exportDicom(self, folder: str) -> None:
        """The AI's lesions of a DICOM image as a DICOM SEG + TID 1500 SR (for the same PACS: patient and
        study identifiers copied from the source) into ``folder``."""
        with self.shownErrors():
            segmentation, _ = self._selectedSegment()
            folder = self._allowed(folder)
            written = self.logic.exportAsDicom(self.volume, segmentation, str(folder))
            self.state.export_report = "Wrote " + ", ".join(Path(path).name for path in written) + f" to {folder}."

    def shutdown(self) -> None:
        self.logic.shutdown()
