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


#
# BreastUSAI
#
class BreastUSAI(ScriptedLoadableModule):
    """Module description shown by Slicer."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "BreastUSAI"
        self.parent.categories = ["Ultrasound"]
        self.parent.dependencies = []
        self.parent.contributors = ["BreastUSAI contributors"]
        self.parent.helpText = (
            "Breast ultrasound and mammography AI: load ABVS volumes and 2D ultrasound / mammography images, "
            "annotate lesions with pathology, BI-RADS and clinical data, run published models with heatmaps and "
            "prototype explanations, and export annotations for headless training with BreastUSAITraining. "
            "Research use only: not a medical device."
        )
        self.parent.acknowledgementText = (
            "Builds on MONAI, SimpleITK, slicerio and 3D Slicer. Methods follow MUP-Net (Commun Med 2024), "
            "CLDLR (Sci Rep 2024), DL-UM (Breast Cancer Res 2025), DLR_LH/DLR_BM (QIMS 2025) and the ABVS "
            "three-plane network (2025); sample data from the BreastUSAI phantom generator; BUSI "
            "(Al-Dhabyani et al., Data in Brief 2020) for evaluation."
        )


#
# BreastUSAIWidget
#
class BreastUSAIWidget(ScriptedLoadableModuleWidget):
    """Binds the .ui file to Logic methods; holds no decisions of its own."""

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/BreastUSAI.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = BreastUSAILogic()
        self.ui.generateSampleButton.connect("clicked(bool)", self.onGenerateSample)
        self.ui.validateDatasetButton.connect("clicked(bool)", self.onValidateDataset)

    def onGenerateSample(self):
        folder = self.ui.sampleFolderPathLineEdit.currentPath
        with slicer.util.tryWithErrorDisplay("Could not generate the sample dataset.", waitCursor=True):
            self.logic.generatePhantomDataset(folder)
            self.ui.datasetFolderPathLineEdit.currentPath = folder
            self.ui.datasetReportTextEdit.setPlainText(self.logic.datasetReport(folder))

    def onValidateDataset(self):
        folder = self.ui.datasetFolderPathLineEdit.currentPath
        with slicer.util.tryWithErrorDisplay("Could not read the dataset.", waitCursor=True):
            self.ui.datasetReportTextEdit.setPlainText(self.logic.datasetReport(folder))


#
# BreastUSAILogic
#
class BreastUSAILogic(ScriptedLoadableModuleLogic):
    """Everything the module does, callable without a GUI."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)

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
    """Runs inside Slicer (Reload and Test, ctest) and under pytest on slicer-core."""

    def setUp(self):
        scene = getattr(slicer, "mrmlScene", None)
        if scene is not None:
            scene.Clear()

    def runTest(self):
        self.setUp()
        self.test_PhantomDatasetReport()

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
