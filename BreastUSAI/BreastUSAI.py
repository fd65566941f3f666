"""BreastUSAI: breast ultrasound and mammography AI in 3D Slicer.

A thin scripted module: the Widget binds ``Resources/UI/BreastUSAI.ui`` to Logic
methods, the Logic delegates to ``BreastUSAILib`` (MRML side), which calls the
headless engine ``BreastUSAITraining``. Every decision lives in Logic / BreastUSAILib
so that tests can exercise it without a GUI.
"""

import logging
import os
import time
from pathlib import Path

import slicer
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)

import BreastUSAILib  # noqa: F401  (puts the engine of a source checkout on sys.path)

try:  # 3D Slicer 5.4 and later translate module texts (Slicer's Language Packs)
    from slicer.i18n import tr as _
    from slicer.i18n import translate
except ImportError:  # an older Slicer, or slicer-core without the application: the English text

    def _(text):
        return text

    def translate(context, text):
        return text


#
# BreastUSAI
#
class BreastUSAI(ScriptedLoadableModule):
    """Module description shown by Slicer."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("BreastUSAI")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Ultrasound")]
        self.parent.dependencies = []
        self.parent.contributors = ["BreastUSAI contributors"]
        self.parent.helpText = _(
            "Breast ultrasound and mammography AI: load ABVS volumes and 2D ultrasound / mammography images, "
            "annotate lesions with pathology, BI-RADS and clinical data, run published models with heatmaps and "
            "prototype explanations, and export annotations for headless training with BreastUSAITraining. "
            "Research use only: not a medical device."
        )
        self.parent.acknowledgementText = _(
            "Builds on MONAI, SimpleITK, slicerio and 3D Slicer. Methods follow MUP-Net (Commun Med 2024), "
            "CLDLR (Sci Rep 2024), DL-UM (Breast Cancer Res 2025), DLR_LH/DLR_BM (QIMS 2025) and the ABVS "
            "three-plane network (2025); sample data from the BreastUSAI phantom generator; BUSI "
            "(Al-Dhabyani et al., Data in Brief 2020) for evaluation."
        )
        app = getattr(slicer, "app", None)
        if app is not None:  # the sample images appear in the Sample Data module once Slicer has started
            app.connect("startupCompleted()", registerSampleData)


def registerSampleData():
    """Slicer's Sample Data module, category BreastUSAI: the held-out BUSI / BUS-BRA images and the
    phantom ABVS volume that ship with the extension, loaded from its own files (no download)."""
    import SampleData

    from BreastUSAILib.SampleDataSources import registerSampleData as register

    try:
        register(SampleData.SampleDataLogic)
    except (OSError, ValueError) as error:  # a checkout without the sample images: the module still works
        logging.warning("BreastUSAI sample data not registered: %s", error)


#
# BreastUSAIWidget
#
class BreastUSAIWidget(ScriptedLoadableModuleWidget):
    """Binds the .ui file to Logic methods; holds no decisions of its own."""

    def setup(self):
        import qt

        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/BreastUSAI.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = BreastUSAILogic(scene=slicer.mrmlScene, settings=qt.QSettings())
        self.runner = None
        self.timer = qt.QTimer()
        self.timer.setInterval(200)
        self.timer.connect("timeout()", self.onPollPrediction)
        # Close scene: stop the AI and drop its pending results (they would load against removed nodes)
        self.sceneCloseTag = slicer.mrmlScene.AddObserver(slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.ui.segmentEditorWidget.setMRMLSegmentEditorNode(self.logic.segmentEditorNode())
        ui = self.ui
        # Buttons first (the install button above all): nothing before this line may need a package that a
        # stock 3D Slicer lacks, so the panel always appears and can install what is missing.
        ui.installButton.connect("clicked(bool)", self.onInstallDependencies)
        ui.loadImageButton.connect("clicked(bool)", self.onLoadImage)
        ui.loadFolderButton.connect("clicked(bool)", self.onLoadFolder)
        ui.takeFrameButton.connect("clicked(bool)", self.onTakeFrame)
        ui.segmentSelectorWidget.connect("currentSegmentChanged(QString)", self.onLesionSelected)
        ui.setKindButton.connect("clicked(bool)", self.onSetKind)
        ui.patientKeyLineEdit.connect("editingFinished()", self.onPatientKey)
        ui.inputVolumeSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.onInputVolumeChanged)
        ui.linkImageButton.connect("clicked(bool)", self.onLinkImage)
        ui.segmentationSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.saveSelections)
        ui.linkedVolumeSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.saveSelections)
        ui.saveAnnotationButton.connect("clicked(bool)", self.onSaveAnnotation)
        ui.segmentButton.connect("clicked(bool)", self.onSegment)
        ui.runAIButton.connect("clicked(bool)", self.onRunAI)
        ui.classifyButton.connect("clicked(bool)", self.onClassify)
        ui.planesButton.connect("clicked(bool)", self.onPlanes)
        ui.cancelButton.connect("clicked(bool)", self.onCancel)
        ui.heatmapOpacitySlider.connect("valueChanged(double)", self.onHeatmapOpacity)
        ui.resultLesionComboBox.connect("currentTextChanged(QString)", self.onResultLesion)
        ui.modelsFolderPathLineEdit.connect("currentPathChanged(QString)", self.onModelsFolder)
        ui.exportButton.connect("clicked(bool)", self.onExport)
        ui.exportDicomButton.connect("clicked(bool)", self.onExportDicom)
        ui.generateSampleButton.connect("clicked(bool)", self.onGenerateSample)
        ui.validateDatasetButton.connect("clicked(bool)", self.onValidateDataset)
        lists = self.logic.panelChoices()
        for words in lists["image_kinds"].values():
            ui.imageKindComboBox.addItem(words)
        ui.pathologyComboBox.addItems(lists["pathologies"])
        ui.biradsComboBox.addItems(lists["birads"])
        ui.deviceComboBox.addItems(["auto", "cpu", "cuda"])
        ui.readModeComboBox.addItems(["without_ai", "with_ai"])
        ui.readBiradsComboBox.addItems(["", "1", "2", "3", "4A", "4B", "4C", "5"])
        ui.readCallComboBox.addItems(["", "benign", "malignant"])
        ui.fillReadCaseButton.connect("clicked(bool)", self.onFillReadCase)
        ui.startReadButton.connect("clicked(bool)", self.onStartRead)
        ui.finishReadButton.connect("clicked(bool)", self.onFinishRead)
        ui.cancelReadButton.connect("clicked(bool)", self.onCancelRead)
        folder = self.logic.modelsFolder()
        if folder:
            ui.modelsFolderPathLineEdit.currentPath = str(folder)
        self.onModelsFolder()
        missing = self.logic.missingDependencies()
        if missing:
            ui.statusLabel.text = _("Missing Python packages: {packages} - press 'Install Python packages'").format(
                packages=", ".join(missing))

    # --- Input
    def onLoadImage(self):
        self._load(self.ui.imagePathLineEdit.currentPath)

    def onLoadFolder(self):
        self._load(self.ui.dicomFolderPathLineEdit.currentPath)

    def onTakeFrame(self):
        with slicer.util.tryWithErrorDisplay(_("Could not take the frame.")):
            stack = self.ui.inputVolumeSelector.currentNode()
            if stack is None:
                raise ValueError(_("Load a frame stack first."))
            frame = self.logic.frameOfStack(stack, self.logic.frameShownInRed(stack))
            self.ui.inputVolumeSelector.setCurrentNode(frame)
            slicer.util.setSliceViewerLayers(background=frame, fit=True)

    def _load(self, path):
        with slicer.util.tryWithErrorDisplay(_("Could not load the image."), waitCursor=True):
            node, guess = self.logic.loadImage(path)
            self.ui.inputVolumeSelector.setCurrentNode(node)
            self.ui.imageKindLabel.text = self.logic.describeImageKind(node) if guess.kind else _(
                "unknown - choose: {reason}").format(reason=guess.reason)
            layout_manager = getattr(getattr(slicer, "app", None), "layoutManager", lambda: None)()
            if layout_manager is not None:  # a 2D image in one large view, a volume in the three planes + 3D
                layout_manager.setLayout(getattr(slicer.vtkMRMLLayoutNode, self.logic.layoutFor(node)))
            slicer.util.setSliceViewerLayers(background=node, fit=True)

    def onSetKind(self):
        with slicer.util.tryWithErrorDisplay(_("Could not set the image kind.")):
            kind = self.logic.imageKindFromWords(self.ui.imageKindComboBox.currentText)
            self.logic.setImageKind(self.ui.inputVolumeSelector.currentNode(), kind)
            self.ui.imageKindLabel.text = self.ui.imageKindComboBox.currentText

    def onPatientKey(self):
        with slicer.util.tryWithErrorDisplay(_("Could not set the patient.")):
            self.logic.setPatientKey(self.ui.inputVolumeSelector.currentNode(), self.ui.patientKeyLineEdit.text)

    def enter(self):
        """The module is shown: the panel takes the selections the scene holds (a reopened scene);
        the embedded Segment Editor starts listening to the views."""
        self.restoreSelections()
        self.ui.segmentEditorWidget.setupViewObservations()

    def exit(self):
        self.saveSelections()
        self.ui.segmentEditorWidget.removeViewObservations()

    def restoreSelections(self):
        chosen = self.logic.selections()
        for key, selector in (("inputVolume", self.ui.inputVolumeSelector), ("segmentation", self.ui.segmentationSelector),
                              ("linkedVolume", self.ui.linkedVolumeSelector)):
            if chosen[key] is not None:
                selector.setCurrentNode(chosen[key])
        self.ui.deviceComboBox.currentText = chosen["device"]
        self.ui.heatmapOpacitySlider.value = chosen["heatmapOpacity"]

    def saveSelections(self, *_args):
        with slicer.util.tryWithErrorDisplay(_("Could not keep the panel's selections in the scene.")):
            self.logic.saveSelections(inputVolume=self.ui.inputVolumeSelector.currentNode(),
                                      segmentation=self.ui.segmentationSelector.currentNode(),
                                      linkedVolume=self.ui.linkedVolumeSelector.currentNode(),
                                      device=self.ui.deviceComboBox.currentText or "auto",
                                      heatmapOpacity=self.ui.heatmapOpacitySlider.value)

    def onInputVolumeChanged(self, *_args):
        """Show the chosen image's kind (recognised from its DICOM tags when Slicer's DICOM module
        loaded it) and its patient key."""
        self.saveSelections()
        node = self.ui.inputVolumeSelector.currentNode()
        self.ui.patientKeyLineEdit.text = self.logic.patientKey(node)
        with slicer.util.tryWithErrorDisplay(_("Could not tell the image's kind.")):
            self.ui.imageKindLabel.text = self.logic.describeImageKind(node)

    # --- Lesions & annotation
    def onLinkImage(self):
        with slicer.util.tryWithErrorDisplay(_("Could not link the image to the lesions.")):
            segmentation = self.ui.segmentSelectorWidget.currentNode()
            if segmentation is None:
                raise ValueError("Select the lesions (a segmentation) first.")
            self.logic.linkLesionImage(segmentation, self.ui.linkedVolumeSelector.currentNode())
            kinds = ", ".join(self.logic.lesionViews(segmentation, "").keys())
            self.ui.statusLabel.text = _("The lesions of {name} are now on: {kinds}").format(name=segmentation.GetName(), kinds=kinds)

    def _lesion(self):
        segmentation = self.ui.segmentSelectorWidget.currentNode()  # node and segment from one widget
        segment_id = self.ui.segmentSelectorWidget.currentSegmentID()
        if segmentation is None or not segment_id:
            raise ValueError("Select a segmentation and a lesion segment first.")
        return segmentation, segment_id

    def onLesionSelected(self, *_args):
        """Show the selected lesion's saved annotation in the form (empty fields when it has none)."""
        segmentation = self.ui.segmentSelectorWidget.currentNode()  # node and segment from one widget
        segment_id = self.ui.segmentSelectorWidget.currentSegmentID()
        form = self.logic.annotationForm(segmentation, segment_id)
        self.ui.pathologyComboBox.currentText = form["pathology"]
        self.ui.biradsComboBox.currentText = form["birads"]
        self.ui.clinicalLineEdit.text = form["clinical"]
        self.ui.noteTextEdit.setPlainText(form["note"])

    def onSaveAnnotation(self):
        with slicer.util.tryWithErrorDisplay(_("Could not save the annotation.")):
            segmentation, segment_id = self._lesion()
            self.logic.saveAnnotationForm(segmentation, segment_id, pathology=self.ui.pathologyComboBox.currentText,
                                          birads=self.ui.biradsComboBox.currentText, note=self.ui.noteTextEdit.toPlainText(),
                                          clinical=self.ui.clinicalLineEdit.text)

    def onPlanes(self):
        with slicer.util.tryWithErrorDisplay(_("Could not show the lesion planes.")):
            segmentation, segment_id = self._lesion()
            self.logic.showLesionPlanes(self.ui.inputVolumeSelector.currentNode(), segmentation, segment_id)

    # --- AI models
    def onModelsFolder(self, *_args):
        """currentPathChanged fires on every keystroke: only an existing folder is taken and remembered;
        a partial path changes nothing and shows no message."""
        if not self.logic.acceptModelsFolder(self.ui.modelsFolderPathLineEdit.currentPath):
            if self.ui.modelsListWidget.count:
                return
        self.ui.modelsListWidget.clear()
        try:
            for entry in self.logic.listModels():
                self.ui.modelsListWidget.addItem(entry.summary())
        except (ValueError, ImportError) as error:
            self.ui.statusLabel.text = str(error)

    def _checkedModels(self):
        entries = self.logic.listModels()
        rows = [self.ui.modelsListWidget.row(item) for item in self.ui.modelsListWidget.selectedItems()]
        return [entries[r] for r in rows]

    def _checkAIAllowed(self):
        if not self.logic.aiAllowed():
            raise ValueError("A read without AI is open: finish it before running the AI.")

    def _setBusy(self, busy):
        """While a prediction runs only Cancel is live among the AI buttons (a second run would orphan the first)."""
        for button in (self.ui.segmentButton, self.ui.runAIButton, self.ui.classifyButton):
            button.enabled = not busy
        self.ui.cancelButton.enabled = busy

    def onSegment(self):
        with slicer.util.tryWithErrorDisplay(_("Could not start the AI.")):
            self._checkAIAllowed()
            volume = self.ui.inputVolumeSelector.currentNode()
            self.runner = self.logic.startPrediction(volume, [e.path for e in self._checkedModels()],
                                                     device=self.ui.deviceComboBox.currentText,
                                                     expectLesion=self.ui.expectLesionCheckBox.checked)
            self.ui.progressBar.value = 0
            self._setBusy(True)
            self.timer.start()

    def onRunAI(self):
        with slicer.util.tryWithErrorDisplay(_("Could not start the AI.")):
            self.runner = self.logic.runAIOnImage(self.ui.inputVolumeSelector.currentNode(),
                                                  device=self.ui.deviceComboBox.currentText)
            self.ui.progressBar.value = 0
            self._setBusy(True)
            self.timer.start()

    def onPollPrediction(self):
        if self.runner is None:
            return
        for line in self.logic.logLines(self.runner.poll()):
            self.ui.logTextEdit.appendPlainText(line)
        self.ui.progressBar.value = int(100 * self.runner.fraction)
        self.ui.statusLabel.text = self.runner.message
        if self.runner.state != "running":
            self.timer.stop()
            self._setBusy(False)
            with slicer.util.tryWithErrorDisplay(_("Could not load the AI results.")):
                if getattr(self, "runnerIsClassification", False):
                    rows = self.logic.collectClassification(self.runner)
                    if rows:
                        self.showClassification(rows)
                else:
                    loaded = self.logic.collectPrediction(self.runner)
                    if loaded:
                        self.ui.resultsTextEdit.setPlainText(self.logic.predictionText(loaded))
                        self.showResults(loaded)
            self.runnerIsClassification = False
            self.runner = None

    def showResults(self, loaded):
        """The results table in a view, the lesions listed; the first lesion shown (views + heatmap)."""
        self.lastResults = loaded
        table = self.logic.showResultsTable()
        layout_manager = getattr(getattr(slicer, "app", None), "layoutManager", lambda: None)()
        if layout_manager is not None:
            layout_manager.setLayout(slicer.vtkMRMLLayoutNode.SlicerLayoutFourUpTableView)
            slicer.app.applicationLogic().PropagateTableSelection()
        self.ui.resultLesionComboBox.clear()
        self.ui.resultLesionComboBox.addItems(self.logic.resultLesions(loaded))
        if self.logic.resultLesions(loaded):
            self.onResultLesion(self.logic.resultLesions(loaded)[0])
        return table

    def onResultLesion(self, lesion_id):
        """A lesion chosen in the results: the views jump to its planes and show its heatmap."""
        if not lesion_id or getattr(self, "lastResults", None) is None:
            return
        with slicer.util.tryWithErrorDisplay(_("Could not show the lesion.")):
            self.logic.focusLesion(self.lastResults, lesion_id, self.ui.heatmapOpacitySlider.value)
            editor = self.ui.segmentEditorWidget
            editor.setSegmentationNode(self.lastResults["segmentation"])
            # Slicer 5.4 renamed the master volume to source volume
            setSource = editor.setSourceVolumeNode if hasattr(editor, "setSourceVolumeNode") else editor.setMasterVolumeNode
            setSource(self.lastResults["input"])

    def onCancel(self):
        if self.runner is not None:
            self.runner.cancel()

    def onHeatmapOpacity(self, value):
        with slicer.util.tryWithErrorDisplay(_("Could not show the heatmap.")):
            self.logic.setHeatmapOpacity(value)

    def onSceneStartClose(self, *_args):
        self.timer.stop()
        self.runner = None
        self._setBusy(False)
        self.logic.cleanup()

    def cleanup(self):
        """The module is closed (or Slicer quits): stop a running prediction, remove its work files."""
        self.timer.stop()
        slicer.mrmlScene.RemoveObserver(self.sceneCloseTag)
        self.logic.shutdown()

    def onClassify(self):
        """Classify the selected lesion in the background (progress and Cancel, the panel stays live)."""
        with slicer.util.tryWithErrorDisplay(_("Could not classify the lesion.")):
            self._checkAIAllowed()
            segmentation, segment_id = self._lesion()
            self.runner = self.logic.startClassification([e.path for e in self._checkedModels()],
                                                         self.logic.lesionViews(segmentation, segment_id),
                                                         device=self.ui.deviceComboBox.currentText)
            self.runnerIsClassification = True
            self._setBusy(True)
            self.timer.start()

    def showClassification(self, rows):
        import qt

        self.ui.resultsTextEdit.setPlainText(self.logic.resultsText(rows))
        self.ui.prototypeListWidget.clear()
        for patch in self.logic.prototypePatches(rows):
            item = qt.QListWidgetItem(qt.QIcon(patch["image"]), f"{patch['class']} {patch['contribution']:+.2f}")
            self.ui.prototypeListWidget.addItem(item)

    # --- Reader study
    def onFillReadCase(self):
        with slicer.util.tryWithErrorDisplay(_("Could not tell the case of this image.")):
            case_id, lesion_ids = self.logic.readCaseOf(self.ui.imagePathLineEdit.currentPath,
                                                        self.ui.inputVolumeSelector.currentNode())
            self.ui.readCaseLineEdit.text = case_id
            segmentation = self.ui.segmentSelectorWidget.currentNode()
            segment_id = self.ui.segmentSelectorWidget.currentSegmentID()
            segment = segmentation.GetSegmentation().GetSegment(segment_id) if segmentation and segment_id else None
            self.ui.readLesionLineEdit.text = segment.GetName() if segment else (lesion_ids[0] if len(lesion_ids) == 1 else "")

    def onStartRead(self):
        ui = self.ui
        with slicer.util.tryWithErrorDisplay(_("Could not start the read.")):
            read = self.logic.startRead(ui.readsFilePathLineEdit.currentPath, ui.readerLineEdit.text, ui.readCaseLineEdit.text,
                                        ui.readLesionLineEdit.text, ui.readModeComboBox.currentText, ui.readGroupLineEdit.text)
            if not self.logic.aiAllowed():
                ui.resultsTextEdit.setPlainText("")
                ui.prototypeListWidget.clear()
                self.logic.setHeatmapOpacity(0.0)
            ui.readStatusLabel.text = _("Reading {case} {lesion} ({mode}) ...").format(case=read["case_id"], lesion=read["lesion_id"],
                                                                                      mode=read["mode"])

    def onFinishRead(self):
        ui = self.ui
        with slicer.util.tryWithErrorDisplay(_("Could not record the read.")):
            row = self.logic.finishRead(ui.readBiradsComboBox.currentText, ui.readCallComboBox.currentText)
            ui.readStatusLabel.text = _("Recorded {case} {lesion}: BI-RADS {birads} in {seconds} s").format(
                case=row["case_id"], lesion=row["lesion_id"], birads=row["birads"], seconds=row["seconds"])

    def onCancelRead(self):
        self.logic.cancelRead()
        self.ui.readStatusLabel.text = _("Read cancelled (nothing recorded)")

    # --- Export
    def onExport(self):
        with slicer.util.tryWithErrorDisplay(_("Could not export the annotations."), waitCursor=True):
            report = self.logic.exportAnnotations(self.ui.exportFolderPathLineEdit.currentPath)
            self.ui.datasetReportTextEdit.setPlainText(f"Exported {report.lesions} lesion(s) of {report.cases} case(s) to "
                                                       f"{report.folder}.\n" + "\n".join(report.warnings + report.skipped))

    def onExportDicom(self):
        with slicer.util.tryWithErrorDisplay(_("Could not export the lesions as DICOM."), waitCursor=True):
            segmentation = self.ui.segmentSelectorWidget.currentNode()
            if segmentation is None:
                raise ValueError(_("Select the lesions (a segmentation) first."))
            written = self.logic.exportAsDicom(self.ui.inputVolumeSelector.currentNode(), segmentation,
                                               self.ui.exportFolderPathLineEdit.currentPath)
            self.ui.datasetReportTextEdit.setPlainText("\n".join(str(path) for path in written))

    def onGenerateSample(self):
        folder = self.ui.sampleFolderPathLineEdit.currentPath
        with slicer.util.tryWithErrorDisplay(_("Could not generate the sample dataset."), waitCursor=True):
            self.logic.generatePhantomDataset(folder)
            self.ui.datasetFolderPathLineEdit.currentPath = folder
            self.ui.datasetReportTextEdit.setPlainText(self.logic.datasetReport(folder))

    def onValidateDataset(self):
        folder = self.ui.datasetFolderPathLineEdit.currentPath
        with slicer.util.tryWithErrorDisplay(_("Could not read the dataset."), waitCursor=True):
            self.ui.datasetReportTextEdit.setPlainText(self.logic.datasetReport(folder))

    def onInstallDependencies(self):
        from BreastUSAILib.Dependencies import RESTART_MESSAGE, installTorchWithPyTorchExtension

        with slicer.util.tryWithErrorDisplay(_("Could not install the Python packages."), waitCursor=True):
            installed = self.logic.installDependencies(slicer.util.pip_install, installTorchWithPyTorchExtension)
            self.ui.statusLabel.text = (_("Installed {packages}").format(packages=", ".join(installed)) if installed
                                        else _("All packages present"))
        if installed and slicer.util.confirmOkCancelDisplay(RESTART_MESSAGE + " Restart now?"):
            slicer.util.restart()


#
# BreastUSAILogic
#
class BreastUSAILogic(ScriptedLoadableModuleLogic):
    """Everything the module does, callable without a GUI (each method has a test on a real scene).

    ``scene`` defaults to ``slicer.mrmlScene``; ``settings`` is QSettings in Slicer (any
    object with value / setValue elsewhere); ``runner_factory`` makes the prediction
    runner (default: a run on the warm background worker, one process kept alive between runs
    with its models loaded; tests may pass the in-process or the one-process runner).
    """

    def __init__(self, scene=None, settings=None, runner_factory=None):
        ScriptedLoadableModuleLogic.__init__(self)
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


#
# BreastUSAITest
#
class BreastUSAITest(ScriptedLoadableModuleTest):
    """Runs inside Slicer (Reload and Test, ctest) and under pytest on slicer-core.

    ``runTest`` runs this module's own check, then the logic test suites of
    ``Testing/Python`` (the same files pytest runs) against the application's scene.
    """

    def setUp(self):
        scene = getattr(slicer, "mrmlScene", None)
        if scene is not None:
            scene.Clear()

    def runTest(self):
        self.setUp()
        self.test_PhantomDatasetReport()
        self.runLogicSuites()

    def logicSuite(self):
        """The logic test suites of ``Testing/Python`` as one unittest suite (None when not installed)."""
        import sys
        import unittest

        testing = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Testing", "Python")
        if not os.path.isdir(testing):
            return None
        if testing not in sys.path:
            sys.path.insert(0, testing)
        import BreastUSAIDatasetLogicTest
        import BreastUSAILogicTest

        suite = unittest.TestSuite()
        for module in (BreastUSAIDatasetLogicTest, BreastUSAILogicTest):
            suite.addTests(unittest.TestLoader().loadTestsFromModule(module))
        return suite

    def runLogicSuites(self):
        import unittest

        suite = self.logicSuite()
        if suite is None:
            logging.info("BreastUSAI: Testing/Python not found; only the module check ran")
            return
        result = unittest.TextTestRunner(verbosity=2).run(suite)
        self.assertTrue(result.wasSuccessful(), f"{len(result.failures)} failure(s), {len(result.errors)} error(s)")

    def test_PhantomDatasetReport(self):
        import tempfile

        logic = BreastUSAILogic()
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, "sample")
            logic.generatePhantomDataset(folder, kind="us2d", cases=6, seed=3)
            self.assertEqual(logic.validateDataset(folder), [])
            report = logic.datasetReport(folder)
            self.assertIn("Valid dataset", report)
            self.assertIn("Images: 6", report)
            os.remove(os.path.join(folder, "images", os.listdir(os.path.join(folder, "images"))[0]))
            problems = logic.validateDataset(folder)
            self.assertTrue(any("file not found" in p for p in problems), problems)
