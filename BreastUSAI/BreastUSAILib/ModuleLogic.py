"""The module's Logic: everything BreastUSAI does, callable without a GUI.

One Logic serves both front ends: the 3D Slicer module (``BreastUSAI.py``, which adds
Slicer's ScriptedLoadableModuleLogic base) and the web app (``BreastUSAIWeb``, over
trame-slicer's scene). It works on any MRML scene from slicer-core or Slicer and delegates
to the other ``BreastUSAILib`` files (MRML side), which call the headless engine
``BreastUSAITraining``. Front ends bind widgets to these methods and decide nothing.
"""

import logging
import time
from pathlib import Path

import slicer


class ModuleLogic:
    """Everything the module does, callable without a GUI (each method has a test on a real scene).

    ``scene`` defaults to ``slicer.mrmlScene``; ``settings`` is QSettings in Slicer (any
    object with value / setValue elsewhere); ``runner_factory`` makes the prediction
    runner (default: a run on the warm background worker, one process kept alive between runs
    with its models loaded; tests may pass the in-process or the one-process runner).
    """

    def __init__(self, scene=None, settings=None, runner_factory=None):
        if scene is None:
            from BreastUSAILib.HeadlessSlicer import headlessScene

            scene = headlessScene()  # inside Slicer: slicer.mrmlScene
        self.scene = scene
        self.settings = settings
        self.runnerFactory = runner_factory
        self._worker = None  # the warm background worker, started by the first AI run
        self._models = {}
        self._pending = {}
        self._runners = {}
        self._workFolders = []
        self._recorder = None
        self.readClock = time.monotonic  # seconds; tests set their own clock

    # --- 1. Load
    @staticmethod
    def imageKinds():
        from BreastUSAILib.ImageKinds import IMAGE_KINDS

        return IMAGE_KINDS

    @staticmethod
    def panelChoices():
        """The panel's lists: image kinds (code -> words), pathologies and every BI-RADS category
        (empty first: not given). Needs no package beyond what 3D Slicer bundles."""
        from BreastUSAILib.ImageKinds import IMAGE_KINDS
        from BreastUSAILib.LesionAnnotations import BIRADS_CATEGORIES

        return {"image_kinds": dict(IMAGE_KINDS), "pathologies": ["", "benign", "malignant"],
                "birads": ["", *BIRADS_CATEGORIES]}

    @staticmethod
    def imageKindFromWords(words):
        """The kind code of a kind shown in words (or given as its code)."""
        from BreastUSAILib.ImageKinds import IMAGE_KINDS

        for code, text in IMAGE_KINDS.items():
            if words in (code, text):
                return code
        raise ValueError(f"unknown image kind {words!r}")

    def loadImage(self, path, kind=None):
        """Image file / DICOM folder -> volume node and the recognised kind (None: ask the user)."""
        from BreastUSAILib.SceneVolumes import loadImageFile

        return loadImageFile(self.scene, path, kind)

    def recogniseSceneImage(self, volume_node, instance_value=None):
        """Kind of an image already in the scene (e.g. loaded by the DICOM module); records it
        on the node when recognised, returns the guess (kind None: ask the user)."""
        from BreastUSAILib.ImageKinds import recogniseDicomNode
        from BreastUSAILib.SceneVolumes import setImageKind

        if instance_value is None:
            database = getattr(slicer, "dicomDatabase", None)
            instance_value = database.instanceValue if database is not None else (lambda uid, tag: "")
        guess = recogniseDicomNode(volume_node, instance_value)
        if guess.kind:
            setImageKind(volume_node, guess.kind)
        return guess

    def layoutFor(self, volume_node):
        """The view layout for an image: one large Red view for a 2D image, four-up for a volume."""
        image = self.imageOf(volume_node)
        return "SlicerLayoutOneUpRedSliceView" if image.is_2d else "SlicerLayoutFourUpView"

    def volumeRenderingPreset(self, volume_node):
        """Slicer's volume-rendering preset for the 3D view: "US-Fetal" (made for ultrasound volumes) for
        a volume such as an ABVS scan, "" for a 2D image (no 3D view)."""
        return "" if self.imageOf(volume_node).is_2d else "US-Fetal"

    def showVolumeRendering(self, volume_node):
        """Render a volume (an ABVS scan) in the 3D view with the preset of :meth:`volumeRenderingPreset`,
        through Slicer's Volume Rendering logic (``slicer.modules.volumerendering``); reuses the volume's
        rendering when it has one. A 2D image is not rendered: returns None. Returns the display node."""
        preset_name = self.volumeRenderingPreset(volume_node)
        if not preset_name:
            return None
        rendering = slicer.modules.volumerendering.logic()
        preset = rendering.GetPresetByName(preset_name)
        if preset is None:
            raise RuntimeError(f"Slicer's Volume Rendering has no preset {preset_name!r} to show {volume_node.GetName()}")
        display = rendering.GetFirstVolumeRenderingDisplayNode(volume_node)
        if display is None:
            display = rendering.CreateDefaultVolumeRenderingNodes(volume_node)
        display.GetVolumePropertyNode().Copy(preset)
        display.SetVisibility(True)
        return display

    def segmentEditorNode(self):
        """The Segment Editor parameter node the panel's embedded editor uses (one per scene)."""
        for index in range(self.scene.GetNumberOfNodesByClass("vtkMRMLSegmentEditorNode")):
            node = self.scene.GetNthNodeByClass(index, "vtkMRMLSegmentEditorNode")
            if node.GetName() == "BreastUSAI segment editor":
                return node
        node = self.scene.AddNewNodeByClass("vtkMRMLSegmentEditorNode", "BreastUSAI segment editor")
        node.SetHideFromEditors(True)
        return node

    def saveSelections(self, **chosen):
        """Keep the panel's selections in the scene's parameter node (saved with the scene):
        inputVolume, segmentation, linkedVolume (nodes), device, heatmapOpacity."""
        from BreastUSAILib.PanelSelections import saveSelections

        saveSelections(self.scene, **chosen)

    def selections(self):
        """The panel's selections recorded in the scene (a reopened scene gives them back)."""
        from BreastUSAILib.PanelSelections import panelSelections

        return panelSelections(self.scene)

    def describeImageKind(self, volume_node):
        """The image's kind in words for the panel: the recorded one; else, for an image Slicer's
        DICOM module loaded, the kind recognised from its DICOM tags (recorded on the node); else
        why the user must choose it."""
        from BreastUSAILib.ImageKinds import IMAGE_KINDS, KIND_ATTRIBUTE

        if volume_node is None:
            return "-"
        kind = volume_node.GetAttribute(KIND_ATTRIBUTE)
        if not kind and volume_node.GetAttribute("DICOM.instanceUIDs"):
            kind = self.recogniseSceneImage(volume_node).kind
        if kind:
            return IMAGE_KINDS.get(kind, kind)
        return "unknown - choose the image kind below"

    @staticmethod
    def checkAIInput(volume_node):
        """Refuse what the AI must not read: a heatmap it made, a label map."""
        from BreastUSAILib.HeatmapOverlay import HEATMAP_ATTRIBUTE
        from BreastUSAILib.SceneVolumes import FRAME_STACK_ATTRIBUTE

        if volume_node.GetAttribute(HEATMAP_ATTRIBUTE) or volume_node.IsA("vtkMRMLLabelMapVolumeNode"):
            raise ValueError(f"{volume_node.GetName()!r} is a heatmap or a label map, not an image: choose the image")
        if volume_node.GetAttribute(FRAME_STACK_ATTRIBUTE):
            raise ValueError(f"{volume_node.GetName()!r} is a stack of 2D ultrasound frames, not a volume: take the frame "
                             "to analyse (scroll to it, then 'Take this frame'), or run predict on the folder for all frames")

    def exportAsDicom(self, volume_node, segmentation_node, folder):
        """*Export as DICOM* for the PACS the image came from: the lesions as a DICOM SEG and a TID 1500
        SR (area when calibrated, the latest AI probability and call), referencing the source instance."""
        from BreastUSAILib.DicomExport import exportLesionsAsDicom

        return exportLesionsAsDicom(self.scene, volume_node, segmentation_node, folder)

    def frameShownInRed(self, stack_node):
        """The frame (0-based) of a frame-stack node the Red view shows: its slice centre in the
        stack's index space, rounded to the nearest frame."""
        import numpy as np

        from BreastUSAILib.HeadlessSlicer import sliceNodes

        red = sliceNodes(self.scene).get("Red")
        if red is None:
            raise ValueError("the scene has no Red slice view")
        centre_ras = np.array([red.GetSliceToRAS().GetElement(row, 3) for row in range(3)])
        image = self.imageOf(stack_node)
        lps = centre_ras * np.array([-1.0, -1.0, 1.0])
        k = float(image.geometry.lps_to_index(lps)[2])
        return int(min(max(round(k), 0), image.shape_kji[0] - 1))

    def frameOfStack(self, stack_node, index):
        """Frame ``index`` (0-based) of a frame-stack node as its own 2D image node, for the AI."""
        from BreastUSAILib.SceneVolumes import frameOfStack

        return frameOfStack(self.scene, stack_node, index)

    def setImageKind(self, volume_node, kind):
        from BreastUSAILib.SceneVolumes import setImageKind

        if volume_node is None:
            raise ValueError("Select an image first.")
        setImageKind(volume_node, kind)

    # --- 2. Annotate
    def createLesionSegmentation(self, volume_node, name=None):
        from BreastUSAILib.LesionMasks import createLesionSegmentation

        return createLesionSegmentation(self.scene, volume_node, name)

    def addLesion(self, segmentation_node, volume_node, mask, name):
        from BreastUSAILib.LesionMasks import addLesionSegment

        return addLesionSegment(segmentation_node, volume_node, mask, name)

    def setLesionAnnotation(self, segmentation_node, segment_id, **fields):
        from BreastUSAILib.LesionAnnotations import setLesionAnnotation

        setLesionAnnotation(segmentation_node, segment_id, **fields)

    def lesionAnnotation(self, segmentation_node, segment_id):
        from BreastUSAILib.LesionAnnotations import lesionAnnotation

        return lesionAnnotation(segmentation_node, segment_id)

    def annotationForm(self, segmentation_node, segment_id):
        """The form's texts for a lesion: its saved pathology, BI-RADS, clinical fields and note."""
        import json

        if segmentation_node is None or not segment_id:
            return {"pathology": "", "birads": "", "clinical": "", "note": ""}
        saved = self.lesionAnnotation(segmentation_node, segment_id)
        clinical = "; ".join(f"{k}={json.dumps(v) if not isinstance(v, str) else v}"
                             for k, v in sorted((saved.get("clinical") or {}).items()))
        return {"pathology": saved.get("pathology") or "", "birads": saved.get("birads") or "",
                "clinical": clinical, "note": saved.get("note") or ""}

    def saveAnnotationForm(self, segmentation_node, segment_id, pathology="", birads="", clinical="", note=""):
        """Save the form: a filled field replaces the saved value; an empty field keeps it (saving a
        BI-RADS alone never wipes the pathology, clinical data or note)."""
        fields = {"pathology": pathology or None, "birads": birads or None, "note": note or None,
                  "clinical": self.parseClinicalText(clinical) if clinical and clinical.strip() else None}
        self.setLesionAnnotation(segmentation_node, segment_id, **fields)

    @staticmethod
    def parseClinicalText(text):
        """``age=52; palpable=true; shape=irregular`` -> typed clinical dict (the panel's field)."""
        import json

        clinical = {}
        for part in filter(None, (p.strip() for p in (text or "").split(";"))):
            if "=" not in part:
                raise ValueError(f"clinical field {part!r}: write name=value")
            name, value = (v.strip() for v in part.split("=", 1))
            try:
                clinical[name] = json.loads(value)
            except json.JSONDecodeError:
                clinical[name] = value
        return clinical

    def saveLesionSegmentation(self, segmentation_node, path):
        from BreastUSAILib.LesionMasks import saveSegmentationFile

        return saveSegmentationFile(segmentation_node, path)

    def loadLesionSegmentation(self, path, volume_node=None):
        from BreastUSAILib.LesionMasks import loadSegmentationFile

        return loadSegmentationFile(self.scene, path, volume_node)

    def lesionViews(self, segmentation_node, segment_id):
        """Image kind -> (volume, segmentation, segment id) for every image of the lesion."""
        from BreastUSAILib.AnnotationExport import lesionImages

        return {kind: (volume, segmentation_node, segment_id) for kind, volume in lesionImages(segmentation_node).items()}

    def linkLesionImage(self, segmentation_node, volume_node):
        """``volume_node`` shows the same lesions as ``segmentation_node`` (co-registered, or with the
        lesion drawn on it under the same name): multimodal models and the export use it."""
        from BreastUSAILib.AnnotationExport import linkLesionImage

        if volume_node is None:
            raise ValueError("Choose the other image of these lesions first.")
        linkLesionImage(segmentation_node, volume_node)

    def setPatientKey(self, volume_node, key):
        """Group images of one patient for the export (any key; it is never written out)."""
        from BreastUSAILib.AnnotationExport import setPatientKey

        if volume_node is None:
            raise ValueError("Choose the image first.")
        setPatientKey(volume_node, key.strip())

    @staticmethod
    def patientKey(volume_node):
        from BreastUSAILib.AnnotationExport import patientKey

        return patientKey(volume_node) if volume_node is not None else ""

    # --- 3 and 8. Segment / predict in the background
    def startPrediction(self, volume_node, bundle_paths, device="auto", segmentation_node=None, out=None, cam="gradcam",
                        clinical=None, birads=None, expectLesion=False):
        """Write the image (and the corrected lesions, if given) to a work folder and start
        ``predict``; returns the runner (poll it, or ``wait()`` in blocking mode).
        ``expectLesion``: the image is known to hold a lesion; when no region passes the
        threshold the most probable one comes back, marked "below threshold"."""
        from BreastUSAILib.PredictRunner import stagePrediction

        if volume_node is None:
            raise ValueError("Select an image first.")
        self.checkAIInput(volume_node)
        self._checkCanRun(bundle_paths)
        job = stagePrediction(volume_node, bundle_paths, device, segmentation_node, out, cam, clinical, birads, expectLesion)
        return self._startRun(job, volume_node)

    def checkCanLoad(self):
        """A front end that shows one image at a time loads no other while the AI runs on it (its results
        come back onto that image): refused with the reason."""
        if self.predictionRunning():
            raise ValueError("The AI is running on the image shown: wait for it or cancel it before loading another.")

    def _checkCanRun(self, bundle_paths):
        """Refuse a run without models, during a read without AI, or while another run is under way."""
        if not bundle_paths:
            raise ValueError("Select at least one model.")
        if not self.aiAllowed():
            raise ValueError("A read without AI is open: finish it before running the AI.")
        if self.predictionRunning():
            raise ValueError("A prediction is running: wait for it or cancel it first.")

    def _startRun(self, job, volume_node):
        """Start ``job`` on a runner (the warm worker unless a factory was given) and remember it, its
        image and its work folder (deleted by :meth:`cleanup`); returns the runner."""
        runner = self.runnerFactory() if self.runnerFactory else self._workerRun()
        self._pending[id(runner)] = (job, volume_node)
        self._runners[id(runner)] = (runner, job)
        if job.work:
            self._workFolders.append(job.work)
        runner.start(job)
        return runner

    def runAIOnImage(self, volume_node, device="auto"):
        """The one-click path: the shipped models that fit the image's kind (segmentation, classifier,
        MUP-Net for B-mode; the phantom ABVS pair for a volume), started in the background."""
        from BreastUSAILib.ImageKinds import KIND_ATTRIBUTE
        from BreastUSAILib.ModelLibrary import shippedModelsFor

        if volume_node is None:
            raise ValueError("Load an image first.")
        models = shippedModelsFor(self.imageOf(volume_node).is_2d, volume_node.GetAttribute(KIND_ATTRIBUTE) or "")
        return self.startPrediction(volume_node, models, device=device)

    def predictionRunning(self):
        return any(runner.state == "running" for runner, _ in self._runners.values())

    def _workerRun(self):
        from BreastUSAILib.PredictWorker import PredictWorker, WorkerRunner

        if self._worker is None:
            self._worker = PredictWorker()
        return WorkerRunner(self._worker)

    def backgroundWorker(self):
        """The warm worker (None before the first AI run)."""
        return self._worker

    def shutdown(self):
        """The module closes (or Slicer quits): :meth:`cleanup`, then the background worker ends."""
        self.cleanup()
        if self._worker is not None:
            self._worker.stop()

    def cleanup(self):
        """Stop every prediction still running and delete the work folders (each holds a copy of the
        image); called when the module closes and when the scene is closed (the warm worker stays)."""
        import shutil

        for runner, _ in list(self._runners.values()):
            if runner.state == "running":
                runner.cancel(grace_s=0.5)
                if hasattr(runner, "waitStopped"):
                    runner.waitStopped()
        for folder in self._workFolders:
            shutil.rmtree(folder, ignore_errors=True)
        self._workFolders.clear()
        self._runners.clear()
        self._pending.clear()

    def collectPrediction(self, runner):
        """After the runner ends: the results in the scene (None when cancelled or failed, or when a
        read without AI started meanwhile: its results are dropped, never shown)."""
        from pathlib import Path

        from BreastUSAILib.PredictResults import loadPredictResult

        finished = self._finishedRun(runner)
        if finished is None:
            return None
        job, volume_node = finished
        loaded = loadPredictResult(self.scene, Path(job.out) / "input", volume_node)
        loaded["input"] = volume_node
        loaded["models"] = list(job.models)
        return loaded

    def runPrediction(self, volume_node, bundle_paths, device="auto", segmentation_node=None, timeout_s=None, cam="gradcam",
                      clinical=None, birads=None, expectLesion=False):
        """Blocking mode (tests, batch): start, wait, collect."""
        runner = self.startPrediction(volume_node, bundle_paths, device, segmentation_node, cam=cam, clinical=clinical,
                                      birads=birads, expectLesion=expectLesion)
        runner.wait(timeout_s)
        return self.collectPrediction(runner)

    def imageOf(self, volume_node):
        from BreastUSAILib.SceneVolumes import imageFromVolumeNode

        return imageFromVolumeNode(volume_node)

    # --- 4. Planes
    def showLesionPlanes(self, volume_node, segmentation_node, segment_id):
        from BreastUSAILib.PlaneViews import showLesionPlanes

        return showLesionPlanes(self.scene, volume_node, segmentation_node, segment_id)

    def planeCrops(self, volume_node, segmentation_node, segment_id):
        from BreastUSAILib.PlaneViews import planeCrops

        return planeCrops(volume_node, segmentation_node, segment_id)

    # --- 5. Classify
    def startClassification(self, bundle_paths, lesion_views, device="auto"):
        """*Classify selected lesion* in the background (the warm worker): every chosen model on the
        lesion as drawn or corrected, with its linked images and its annotation's clinical record
        and BI-RADS; progress and Cancel like a prediction. Returns the runner;
        :meth:`collectClassification` gives the rows when it ends."""
        from BreastUSAILib.LesionAnnotations import lesionAnnotation
        from BreastUSAILib.PredictRunner import stageClassification

        self._checkCanRun(bundle_paths)
        if not lesion_views:
            raise ValueError("Select a lesion first.")
        volume, segmentation, segment_id = next(iter(lesion_views.values()))
        self.checkAIInput(volume)
        annotation = lesionAnnotation(segmentation, segment_id)
        name = annotation["lesion_id"] or annotation["name"]
        job = stageClassification(lesion_views, name, bundle_paths, device, annotation["clinical"], annotation["birads"] or None)
        return self._startRun(job, volume)

    def _finishedRun(self, runner):
        """(job, volume node) of a run that ended well and may be shown; None when it was cancelled,
        when a read without AI started meanwhile (its results are dropped, never shown) or when the
        image was removed (scene closed) while it ran; RuntimeError with the reason when it failed."""
        job, volume_node = self._pending.pop(id(runner))
        self._runners.pop(id(runner), None)
        if not self.aiAllowed() or volume_node.GetScene() is None:
            return None
        if runner.state != "finished":
            if runner.state == "failed":
                raise RuntimeError(runner.message)
            return None
        if runner.errors:
            raise RuntimeError(runner.message + ": " + "; ".join(runner.errors))
        return job, volume_node

    def collectClassification(self, runner):
        """After a background classification ends: its rows (also in the results table); None when
        cancelled or when a read without AI started meanwhile."""
        from BreastUSAILib.LesionClassification import addResultRows
        from BreastUSAILib.PredictResults import readResult, resultRows

        finished = self._finishedRun(runner)
        if finished is None:
            return None
        job, volume_node = finished
        rows = resultRows(readResult(Path(job.out) / "input"), volume_node.GetName())
        addResultRows(self.scene, rows)
        return rows

    def classifyLesion(self, bundle_paths, lesion_views, device="auto"):
        """Every chosen model on one lesion (in this process); rows also go to the results table."""
        from BreastUSAILib.LesionClassification import LoadedModels, addResultRows, classifyLesion

        if device not in self._models:
            self._models[device] = LoadedModels.onDevice(device)
        rows = classifyLesion(self._models[device], bundle_paths, lesion_views)
        addResultRows(self.scene, rows)
        return rows

    @staticmethod
    def logLines(events):
        """Progress events of a background run as lines for the panel's log pane."""
        lines = []
        for event in events:
            kind = event.get("event")
            if kind == "stage":
                lines.append(f"{event['input']}: {event['stage']}")
            elif kind == "done":
                lines.append(f"{event['input']}: done, {event['lesions']} lesion(s)")
            elif kind == "error":
                lines.append(f"{event['input']}: FAILED - {event['message']}")
            elif kind == "finished":
                lines.append(f"finished: {event['succeeded']} done, {event['failed']} failed")
        return lines

    @staticmethod
    def resultsText(rows):
        lines = []
        for row in rows:
            probability = row.get("probability")
            line = f"{row['model']}: {row['prediction']}" + (f" ({probability:.2f})" if isinstance(probability, float) else "")
            if row.get("birads_suggestion"):
                line += f" - BI-RADS {row['birads_suggestion']}: {row['reason']}"
            elif row.get("reason"):
                line += f" - {row['reason']}"
            lines.append(line)
        return "\n".join(lines)

    def predictionText(self, loaded):
        """What a finished prediction found, for the results box: predict's message
        ("no lesion found", "below threshold ...") and one line per lesion and model."""
        from BreastUSAILib.PredictResults import resultRows

        document = loaded["result"]
        lines = [document["message"]] if document.get("message") else []
        for row in resultRows(document, ""):
            lines.append(f"{row['lesion']}: " + self.resultsText([row]))
        return "\n".join(lines)

    def resultsTableRows(self):
        from BreastUSAILib.LesionClassification import resultsTable, tableRows

        return tableRows(resultsTable(self.scene))

    # --- 6. Explain
    @staticmethod
    def resultLesions(loaded):
        """The lesion ids of a prediction's results, in their order (what the panel lists)."""
        return [lesion["id"] for lesion in (loaded or {}).get("result", {}).get("lesions", [])]

    def focusLesion(self, loaded, lesion_id, opacity=0.5):
        """One lesion of a prediction's results: the Red / Yellow / Green views on its transverse /
        sagittal / coronal planes and its own heatmap over the image (not the first lesion's)."""
        segmentation = loaded.get("segmentation")
        if segmentation is None:
            raise ValueError("These results hold no lesion.")
        segment_id = segmentation.GetSegmentation().GetSegmentIdBySegmentName(lesion_id)
        if not segment_id:
            raise ValueError(f"No lesion {lesion_id!r} in these results.")
        volume = loaded["input"]
        planes = self.showLesionPlanes(volume, segmentation, segment_id)
        heatmap = loaded.get("heatmaps", {}).get(lesion_id)
        if heatmap is not None and self.aiAllowed():
            self.showHeatmap(heatmap, volume, opacity)
        return planes

    @staticmethod
    def lesionSummaries(loaded):
        """One row per lesion of a prediction: lesion, size in mm, malignant probability, call, models."""
        from BreastUSAILib.LesionSummary import lesionSummaries

        return lesionSummaries((loaded or {}).get("result", {}))

    @staticmethod
    def lesionPrototypes(loaded, lesion_id):
        """MUP-Net's matched prototype patches for one lesion (image files from the bundles the run used),
        with their contribution scores, most contributing first."""
        from BreastUSAILib.LesionSummary import bundleRoots, prototypeMatches

        return prototypeMatches(loaded["result"], lesion_id, bundleRoots(loaded.get("models", [])))

    def showResultsTable(self):
        """Make the results table the one Slicer's table views show (the panel then switches to a
        layout with a table view); returns the table node."""
        from BreastUSAILib.LesionClassification import resultsTable

        table = resultsTable(self.scene)
        selection = self.scene.GetNodeByID("vtkMRMLSelectionNodeSingleton")
        if selection is not None:
            selection.SetActiveTableID(table.GetID())
        return table

    def showHeatmap(self, heatmap_node, background_node, opacity=0.5):
        from BreastUSAILib.HeatmapOverlay import showHeatmap

        showHeatmap(self.scene, heatmap_node, background_node, opacity)

    def setHeatmapOpacity(self, opacity):
        """The opacity slider; refused during a read without AI (only hiding, opacity 0, is allowed)."""
        from BreastUSAILib.HeatmapOverlay import setHeatmapOpacity

        if opacity > 0 and not self.aiAllowed():
            raise ValueError("A read without AI is open: the heatmap stays hidden until it is finished.")
        setHeatmapOpacity(self.scene, opacity)

    def prototypePatches(self, rows):
        """MUP-Net rows -> the matched prototype patches: image file (from the bundle), class,
        modality, source lesion and normalised contribution, ordered as the paper shows them."""
        patches = []
        for row in rows:
            if "prototypes" not in row.get("details", {}):
                continue
            root = next(p.bundle.root for p in self._loadedPredictors() if p.bundle.name == row["model"])
            for modality, matches in row["details"]["prototypes"].items():
                for name, match in matches.items():
                    patches.append({"model": row["model"], "modality": modality, "class": name,
                                    "prototype": match["prototype"], "contribution": match["contribution_normalised"],
                                    "source_case": match["source_case"],
                                    "image": str(root / match["patch_image"]) if match["patch_image"] else None,
                                    "source_image": str(root / match["source_image"]) if match["source_image"] else None})
        return patches

    def _loadedPredictors(self):
        for models in self._models.values():
            yield from models.predictors.values()

    # --- 7. Export
    def exportAnnotations(self, folder, segmentation_nodes=None, include_notes=False):
        from BreastUSAILib.AnnotationExport import exportAnnotations

        if not folder:
            raise ValueError("Choose an export folder.")
        return exportAnnotations(self.scene, folder, segmentation_nodes, include_notes=include_notes)

    # --- 9. Models and settings
    def setModelsFolder(self, folder):
        from BreastUSAILib.ModelLibrary import rememberModelsFolder

        return rememberModelsFolder(self.settings, folder)

    def acceptModelsFolder(self, text):
        """The models-folder field changed (every keystroke): remember it only when it names an
        existing folder; returns whether it did."""
        if not text or not Path(text).is_dir():
            return False
        self.setModelsFolder(text)
        return True

    def modelsFolder(self):
        from BreastUSAILib.ModelLibrary import rememberedModelsFolder

        return rememberedModelsFolder(self.settings) if self.settings is not None else None

    def listModels(self):
        """The shipped models first, then the bundles of the chosen models folder (if any)."""
        from BreastUSAILib.ModelLibrary import listModels, listShippedModels

        shipped = listShippedModels()
        folder = self.modelsFolder()
        if folder is None:
            if not shipped:
                raise ValueError("Choose a models folder first (no model ships with this copy).")
            return shipped
        known = {entry.path.resolve() for entry in shipped}
        return shipped + [entry for entry in listModels(folder) if entry.path.resolve() not in known]

    # --- 10. Dependencies
    @staticmethod
    def missingDependencies():
        from BreastUSAILib.Dependencies import missingRequirements

        return missingRequirements()

    @staticmethod
    def installDependencies(pip_install, install_torch=None):
        """torch first (through the PyTorch extension), then the pinned packages (see Dependencies)."""
        from BreastUSAILib.Dependencies import installRequirements

        return installRequirements(pip_install, install_torch=install_torch)

    # --- Reader study (SPEC 3.7)
    def readCaseOf(self, image_path=None, volume_node=None):
        """The case id (and its lesion ids) to record a read under: the image's case when the
        file belongs to a dataset folder, else the volume node's name."""
        from BreastUSAILib.ReaderStudy import datasetCaseOf

        found = datasetCaseOf(image_path) if image_path else None
        if found:
            return found
        if volume_node is None:
            raise ValueError("Load an image (or give the case id) before starting a read.")
        return volume_node.GetName(), []

    def startRead(self, reads_path, reader, case_id, lesion_id, mode, group=""):
        """Open a read (the clock starts); reads go to the CSV ``reads_path``."""
        from BreastUSAILib.ReaderStudy import ReadRecorder

        if not reads_path:
            raise ValueError("Choose the reads file (CSV) first.")
        if self._recorder is None or self._recorder.path != Path(reads_path) or self._recorder.pending is None:
            self._recorder = ReadRecorder(reads_path, clock=self.readClock)
        self._recorder.start(reader, case_id, lesion_id, mode, group)
        return self._recorder.pending

    def finishRead(self, birads, call=""):
        """Close the open read with the reader's BI-RADS and call; returns the row written."""
        if self._recorder is None:
            raise ValueError("No read is open: start one first.")
        return self._recorder.finish(birads, call)

    def cancelRead(self):
        if self._recorder is not None:
            self._recorder.cancel()

    def aiAllowed(self):
        """False while a read without AI is open: the AI stays hidden until it is finished."""
        return self._recorder is None or self._recorder.aiAllowed()

    # --- Datasets (sample data, validation)
    def generatePhantomDataset(self, folder, kind="all", cases=8, seed=0):
        """Write a phantom sample dataset into ``folder`` (new or empty); returns its path."""
        from BreastUSAILib import DatasetLogic

        logging.info("BreastUSAI: generating a %s phantom dataset in %s", kind, folder)
        return str(DatasetLogic.generatePhantomDataset(folder, kind=kind, cases=cases, seed=seed))

    def validateDataset(self, folder):
        """Violations of the dataset contract in ``folder`` (empty list: valid)."""
        from BreastUSAILib import DatasetLogic

        return DatasetLogic.validateDataset(folder, deep=True)

    def datasetReport(self, folder):
        """Validation result, then the summary when valid - the text the panel shows."""
        from BreastUSAILib import DatasetLogic

        violations = self.validateDataset(folder)
        if violations:
            return f"{len(violations)} problem(s) in {folder}:\n" + "\n".join(f"- {v}" for v in violations)
        return "Valid dataset.\n\n" + DatasetLogic.datasetSummaryText(folder)
