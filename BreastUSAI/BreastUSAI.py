"""BreastUSAI: breast ultrasound and mammography AI in 3D Slicer.

A thin scripted module: the Widget binds ``Resources/UI/BreastUSAI.ui`` to Logic
methods, the Logic delegates to ``BreastUSAILib`` (MRML side), which calls the
headless engine ``BreastUSAITraining``. Every decision lives in Logic / BreastUSAILib
so that tests can exercise it without a GUI.
"""

import logging
import os

import slicer
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)

import BreastUSAILib  # noqa: F401  (puts the engine of a source checkout on sys.path)
from BreastUSAILib.ModuleLogic import ModuleLogic

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
            if self.logic.showVolumeRendering(node) is not None and layout_manager is not None:
                layout_manager.threeDWidget(0).threeDView().resetFocalPoint()  # the 3D view framed on the volume

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
class BreastUSAILogic(ScriptedLoadableModuleLogic, ModuleLogic):
    """Slicer's logic base + the shared Logic (``BreastUSAILib/ModuleLogic.py``), which the web
    app uses too. ``scene`` defaults to ``slicer.mrmlScene``; ``settings`` is QSettings here."""

    def __init__(self, scene=None, settings=None, runner_factory=None):
        ScriptedLoadableModuleLogic.__init__(self)
        ModuleLogic.__init__(self, scene=scene, settings=settings, runner_factory=runner_factory)


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
