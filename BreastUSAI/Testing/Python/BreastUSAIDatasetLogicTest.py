"""BreastUSAILib.DatasetLogic on real files: runs in Slicer (ctest) and under pytest."""

import os
import tempfile
import unittest

from BreastUSAILib import DatasetLogic


class BreastUSAIDatasetLogicTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.folder = os.path.join(self._tmp.name, "phantom")
        DatasetLogic.generatePhantomDataset(self.folder, kind="multimodal", cases=5, seed=11)

    def tearDown(self):
        self._tmp.cleanup()

    def test_generated_dataset_is_valid_and_summarised(self):
        self.assertEqual(DatasetLogic.validateDataset(self.folder), [])
        text = DatasetLogic.datasetSummaryText(self.folder)
        self.assertIn("us_doppler 5", text)
        self.assertIn("us_elastography 5", text)

    def test_broken_segment_reference_is_reported_with_item_and_field(self):
        import json

        path = os.path.join(self.folder, "dataset.json")
        with open(path) as handle:
            document = json.load(handle)
        item = (document["training"] or document["test"])[0]
        item["segment"] = "lesion_99"
        with open(path, "w") as handle:
            json.dump(document, handle)
        problems = DatasetLogic.validateDataset(self.folder)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn(item["case_id"], problems[0])
        self.assertIn("segment: segment 'lesion_99' not found", problems[0])


def runTest():
    """Entry point used by slicer.testing.runUnitTest."""
    suite = unittest.TestLoader().loadTestsFromTestCase(BreastUSAIDatasetLogicTest)
    return unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful()
