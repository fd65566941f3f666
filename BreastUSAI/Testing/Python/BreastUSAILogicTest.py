"""The module's Logic on a real MRML scene (slicer-core under pytest; Slicer's own scene when
Slicer runs it): load, annotate, segment, planes, classify, explain, export, background
runs, models folder and dependencies. Real files, real trained bundles, real nodes."""

import contextlib
import json
import os
import shutil
import tempfile
import unittest
from pathlib import Path

import numpy as np
from BreastUSAILogicFixtures import bundle, dicomFactory, phantom


def _logic(settings_path=None, runner_factory=None):
    from BreastUSAI import BreastUSAILogic
    from BreastUSAILib.HeadlessSlicer import clearScene, headlessScene
    from BreastUSAILib.ModelLibrary import JsonSettings

    scene = headlessScene()
    clearScene(scene)
    settings = JsonSettings(settings_path) if settings_path else None
    return BreastUSAILogic(scene=scene, settings=settings, runner_factory=runner_factory)


def _item(kind, index=0, pathology=None):
    from BreastUSAITraining.dataset import load_dataset
    from BreastUSAITraining.dataset.loader import lesion_dicts

    dataset = load_dataset(phantom(kind))
    items = [i for split in ("training", "test") for i in lesion_dicts(dataset, split) if i.get("segment")]
    if pathology:
        items = [i for i in items if i["pathology"] == pathology]
    return items[index]


def _oblique_geometry():
    from BreastUSAITraining.geometry import Geometry

    angle = 0.4
    rotation = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    return Geometry((0.6, 0.45, 1.2), (-12.0, 30.5, 7.25), tuple((rotation @ np.diag([1, -1, 1])).ravel()))



@contextlib.contextmanager
def _shipped_models(folder):
    """Point the engine's shipped-models folder (BREASTUSAI_MODELS) at ``folder`` for a block."""
    previous = os.environ.get("BREASTUSAI_MODELS")
    os.environ["BREASTUSAI_MODELS"] = str(folder)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("BREASTUSAI_MODELS", None)
        else:
            os.environ["BREASTUSAI_MODELS"] = previous

class BreastUSAILogicTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = Path(self._tmp.name)

    def tearDown(self):
        self._tmp.cleanup()

    # ------------------------------------------------------------------ 1. load
    def test_load_recognises_kinds_and_keeps_geometry(self):
        from BreastUSAITraining.imagefiles import ImageData, read_image, write_nrrd

        logic = _logic()
        geometry = _oblique_geometry()
        volume = np.random.default_rng(1).integers(0, 200, (9, 7, 11)).astype(np.int16)
        volume[0, 0, 0] = 999  # asymmetric: one corner marks (i, j, k) = (0, 0, 0)
        path = write_nrrd(ImageData(volume, geometry), self.tmp / "abvs.nrrd")
        node, guess = logic.loadImage(path)
        self.assertEqual(guess.kind, "abvs")
        self.assertEqual(node.GetAttribute("BreastUSAI.ImageKind"), "abvs")
        image = logic.imageOf(node)
        np.testing.assert_array_equal(image.array, volume)
        np.testing.assert_allclose(image.geometry.ijk_to_ras(), geometry.ijk_to_ras(), atol=1e-9)
        ras = np.array(node.GetOrigin())  # RAS position of voxel (0, 0, 0), where the marker is
        np.testing.assert_allclose(ras, geometry.index_to_ras(np.zeros(3)), atol=1e-9)

        item = _item("us2d")
        node2d, guess2d = logic.loadImage(item["us_bmode"])
        self.assertIsNone(guess2d.kind)  # a grey NRRD could be B-mode or a mammogram: the user is asked
        self.assertIn("B-mode ultrasound or a mammogram", guess2d.reason)
        self.assertEqual(node2d.GetImageData().GetDimensions()[2], 1)  # 2D image -> single-slice volume
        logic.setImageKind(node2d, "us_bmode")
        self.assertEqual(node2d.GetAttribute("BreastUSAI.ImageKind"), "us_bmode")
        with self.assertRaisesRegex(ValueError, "image kind must be one of"):
            logic.setImageKind(node2d, "ct")
        np.testing.assert_allclose(logic.imageOf(node2d).geometry.ijk_to_ras(), read_image(item["us_bmode"]).geometry.ijk_to_ras())

        colour = _item("multimodal")
        doppler, guess_doppler = logic.loadImage(colour["us_doppler"])
        self.assertIsNone(guess_doppler.kind)
        self.assertEqual(doppler.GetClassName(), "vtkMRMLVectorVolumeNode")
        self.assertEqual(logic.imageOf(doppler).array.shape[-1], 3)

        factory = dicomFactory()
        if factory is not None:
            mg = factory.write_mg(self.tmp / "mg.dcm", np.arange(40 * 30).reshape(40, 30) % 4000, view="MLO")
            mg_node, mg_guess = logic.loadImage(mg)
            self.assertEqual(mg_guess.kind, "mg_mlo")
            self.assertIn("MLO", mg_guess.reason)
            # the same mammogram as if Slicer's DICOM module had loaded it: recognised from its database tags
            import pydicom

            dataset = pydicom.dcmread(mg)
            mg_node.RemoveAttribute("BreastUSAI.ImageKind")
            mg_node.SetAttribute("DICOM.instanceUIDs", dataset.SOPInstanceUID)

            def instance_value(uid, tag):
                self.assertEqual(uid, dataset.SOPInstanceUID)
                element = dataset.get(tuple(int(part, 16) for part in tag.split(",")))
                return "" if element is None else "\\".join(map(str, element.value)) if element.VM > 1 else str(element.value)

            self.assertEqual(logic.recogniseSceneImage(mg_node, instance_value).kind, "mg_mlo")
            # what the panel shows when the user picks it: the recorded kind, in words
            self.assertEqual(logic.describeImageKind(mg_node), "mammography, medio-lateral oblique view")
            self.assertEqual(mg_node.GetAttribute("BreastUSAI.ImageKind"), "mg_mlo")
            self.assertIsNone(logic.recogniseSceneImage(node2d, instance_value).kind)  # not from DICOM: ask
            rgb = np.zeros((20, 24, 3), np.uint8)
            rgb[..., 0] = 200
            us_node, us_guess = logic.loadImage(factory.write_us_rgb(self.tmp / "us.dcm", rgb))
            self.assertIsNone(us_guess.kind)
            self.assertIn("Doppler or elastography", us_guess.reason)

        broken = self.tmp / "broken.nrrd"
        broken.write_bytes(b"NRRD0004\ntype: short\ndimension: 3\nsizes: 4 4\n")
        with self.assertRaises(Exception) as caught:
            logic.loadImage(broken)
        self.assertIn("broken.nrrd", str(caught.exception))

    # ---------------------------------------------------------- 2. annotate
    def test_annotations_survive_seg_nrrd_save_and_reload(self):
        logic = _logic()
        geometry = _oblique_geometry()
        from BreastUSAILib.SceneVolumes import volumeNodeFromImage
        from BreastUSAITraining.imagefiles import ImageData

        volume = volumeNodeFromImage(logic.scene, ImageData(np.zeros((8, 9, 10), np.uint8), geometry), "v", "abvs")
        segmentation = logic.createLesionSegmentation(volume)
        mask = np.zeros((8, 9, 10), bool)
        mask[2:5, 3:7, 1:4] = True
        mask[2, 3, 1] = False  # asymmetric
        lesion = logic.addLesion(segmentation, volume, mask, "lesion_1")
        note = "irregular margin: spiculated | 90% sure\nsecond line, é"
        logic.setLesionAnnotation(segmentation, lesion, pathology="malignant", birads="4c", modality="abvs", note=note,
                                  clinical={"age": 57, "palpable": True, "shape": "irregular", "x_site": "10 o'clock"})
        for wrong, message in (({"pathology": "cancer"}, "pathology must be one of"), ({"birads": "7"}, "BI-RADS must be"),
                               ({"clinical": {"age": 300}}, "clinical field age"), ({"clinical": {"weight": 3}}, "unknown clinical field")):
            with self.assertRaisesRegex(ValueError, message):
                logic.setLesionAnnotation(segmentation, lesion, **wrong)
        saved = logic.saveLesionSegmentation(segmentation, self.tmp / "lesions.seg.nrrd")
        self.assertEqual(sorted(p.name for p in self.tmp.iterdir()), ["lesions.seg.nrrd"])  # no temporary left
        logic.scene.RemoveNode(segmentation)
        reloaded = logic.loadLesionSegmentation(saved, volume)
        annotation = logic.lesionAnnotation(reloaded, lesion)
        self.assertEqual((annotation["pathology"], annotation["birads"], annotation["modality"], annotation["note"]),
                         ("malignant", "4C", "abvs", note))
        self.assertEqual(annotation["clinical"], {"age": 57, "palpable": True, "shape": "irregular", "x_site": "10 o'clock"})
        from BreastUSAILib.LesionMasks import lesionMask

        np.testing.assert_array_equal(lesionMask(reloaded, lesion, volume), mask)
        self.assertEqual(logic.parseClinicalText("age=52; palpable=true; shape=irregular"),
                         {"age": 52, "palpable": True, "shape": "irregular"})

        # the panel's form: selecting the lesion shows what is saved; saving a BI-RADS alone keeps the rest
        form = logic.annotationForm(reloaded, lesion)
        self.assertEqual((form["pathology"], form["birads"], form["note"]), ("malignant", "4C", note))
        self.assertEqual(logic.parseClinicalText(form["clinical"]),
                         {"age": 57, "palpable": True, "shape": "irregular", "x_site": "10 o'clock"})
        logic.saveAnnotationForm(reloaded, lesion, birads="5")
        after = logic.lesionAnnotation(reloaded, lesion)
        self.assertEqual((after["pathology"], after["birads"], after["note"]), ("malignant", "5", note))
        self.assertEqual(after["clinical"], annotation["clinical"])
        self.assertEqual(logic.annotationForm(None, ""), {"pathology": "", "birads": "", "clinical": "", "note": ""})

    def test_panel_lists_and_the_models_folder_field(self):
        logic = _logic(settings_path=self.tmp / "settings.json")
        choices = logic.panelChoices()
        self.assertEqual(choices["birads"][:3], ["", "0", "1"])  # every category, 0 and 1 included
        self.assertIn("2D ultrasound, B-mode (grey)", choices["image_kinds"].values())
        self.assertEqual(logic.imageKindFromWords("2D ultrasound, B-mode (grey)"), "us_bmode")
        with self.assertRaisesRegex(ValueError, "unknown image kind"):
            logic.imageKindFromWords("x-ray")
        folder = self.tmp / "models"
        folder.mkdir()
        for partial in ("", str(self.tmp / "mo"), str(self.tmp / "models/x")):  # keystrokes on the way
            self.assertFalse(logic.acceptModelsFolder(partial))
        self.assertIsNone(logic.modelsFolder())  # nothing remembered from a partial path
        self.assertTrue(logic.acceptModelsFolder(str(folder)))
        self.assertEqual(logic.modelsFolder(), folder.resolve())

    # ------------------------------------------- 3 + 8. segment, correct, re-classify
    def test_segment_in_process_then_correct_and_reclassify(self):
        from BreastUSAILib.LesionMasks import addLesionSegment, lesionMask
        from BreastUSAILib.PredictRunner import InProcessRunner
        from BreastUSAITraining.bundle import load_bundle
        from BreastUSAITraining.classification.inference import PlaneClassifier
        from BreastUSAITraining.imagefiles import read_image
        from BreastUSAITraining.segmentation.inference import LesionSegmenter

        logic = _logic(runner_factory=InProcessRunner)
        item = _item("us2d", pathology="malignant")
        volume, _ = logic.loadImage(item["us_bmode"], kind="us_bmode")
        loaded = logic.runPrediction(volume, [bundle("seg2d"), bundle("planes_2d")], device="cpu")
        segmentation = loaded["segmentation"]
        self.assertIsNotNone(segmentation, loaded["result"])
        image = read_image(item["us_bmode"])
        segmenter = LesionSegmenter(load_bundle(bundle("seg2d")), __import__("torch").device("cpu"))
        expected = segmenter.lesions(image, segmenter.probability(image))
        lesion_ids = [segmentation.GetSegmentation().GetNthSegmentID(n) for n in range(segmentation.GetSegmentation().GetNumberOfSegments())]
        self.assertEqual(len(lesion_ids), len(expected))
        for lesion, segment_id in zip(expected, lesion_ids):
            np.testing.assert_array_equal(lesionMask(segmentation, segment_id, volume), lesion.mask)
        self.assertEqual(len(loaded["heatmaps"]), len(expected))
        rows = logic.resultsTableRows()
        self.assertEqual({r["lesion"] for r in rows}, {lesion.lesion_id for lesion in expected})
        self.assertEqual({r["image"] for r in rows}, {volume.GetName()})

        # the reader corrects the lesion: the radiologist's mask replaces the AI's, then re-classifies
        from BreastUSAITraining.imagefiles import read_segmentation

        truth = read_segmentation(item["segmentation"]).on_grid(image.geometry, image.shape_kji).segment(item["segment"]).mask
        corrected = addLesionSegment(segmentation, volume, truth, "corrected")
        views = {"us_bmode": (volume, segmentation, corrected)}
        (row,) = logic.classifyLesion([bundle("planes_2d")], views, device="cpu")
        classifier = PlaneClassifier(load_bundle(bundle("planes_2d")), __import__("torch").device("cpu"))
        reference = classifier.classify(classifier.lesion_planes(image, truth))["malignant_probability"]
        self.assertAlmostEqual(row["probability"], reference, places=3)
        self.assertIn(("corrected", row["model"]), {(r["lesion"], r["model"]) for r in logic.resultsTableRows()})

    def test_a_lesion_known_to_be_there_is_outlined_below_threshold(self):
        from BreastUSAILib.PredictRunner import InProcessRunner

        logic = _logic(runner_factory=InProcessRunner)
        item = _item("us2d", pathology="malignant")
        volume, _ = logic.loadImage(item["us_bmode"], kind="us_bmode")
        models = [bundle("seg2d_strict"), bundle("planes_2d")]
        nothing = logic.runPrediction(volume, models, device="cpu")
        self.assertIsNone(nothing["segmentation"])
        self.assertIn("no lesion found", logic.predictionText(nothing))
        loaded = logic.runPrediction(volume, models, device="cpu", expectLesion=True)
        segmentation = loaded["segmentation"].GetSegmentation()
        self.assertEqual(segmentation.GetNumberOfSegments(), 1)
        tag = __import__("vtk").mutable("")
        self.assertTrue(segmentation.GetNthSegment(0).GetTag("BreastUSAI.Detection", tag))
        self.assertTrue(str(tag).startswith("below threshold"), str(tag))
        rows = [r for r in logic.resultsTableRows() if r["model"] == loaded["result"]["models"][1]["name"]]
        self.assertEqual(len(rows), 1)
        self.assertTrue(rows[0]["reason"].startswith("below threshold"))
        text = logic.predictionText(loaded)
        self.assertIn("below threshold", text)
        self.assertIn(rows[0]["model"], text)

    # ------------------------------------------------------------ 4. planes
    def test_slice_views_move_to_the_lesion_planes(self):
        from BreastUSAILib.HeadlessSlicer import sliceCompositeNodes, sliceNodes
        from BreastUSAILib.SceneVolumes import volumeNodeFromImage
        from BreastUSAITraining.imagefiles import ImageData
        from BreastUSAITraining.lesions import centroid_kji

        logic = _logic()
        geometry = _oblique_geometry()
        array = np.random.default_rng(2).integers(0, 100, (20, 24, 30)).astype(np.uint8)
        volume = volumeNodeFromImage(logic.scene, ImageData(array, geometry), "abvs", "abvs")
        mask = np.zeros(array.shape, bool)
        mask[6:12, 8:13, 10:21] = True
        mask[6:8, 8:10, 10:14] = False
        segmentation = logic.createLesionSegmentation(volume)
        lesion = logic.addLesion(segmentation, volume, mask, "lesion_1")
        placed = logic.showLesionPlanes(volume, segmentation, lesion)
        self.assertEqual(set(placed), {"Red", "Yellow", "Green"})
        centroid_ijk = centroid_kji(mask)[::-1]
        axes = geometry.ijk_to_ras()[:3, :3] / np.array(geometry.spacing)
        views = sliceNodes(logic.scene)
        for view, fixed, column in (("Red", 2, 0), ("Yellow", 0, 2), ("Green", 1, 0)):
            matrix = views[view].GetSliceToRAS()
            slice_to_ras = np.array([[matrix.GetElement(r, c) for c in range(4)] for r in range(4)])
            np.testing.assert_allclose(slice_to_ras[:3, 2], axes[:, fixed], atol=1e-6)     # normal
            np.testing.assert_allclose(slice_to_ras[:3, 0], axes[:, column], atol=1e-6)    # in-plane columns
            centre = slice_to_ras[:3, 3]
            # the plane passes through the lesion centroid along its fixed axis
            self.assertAlmostEqual(float(np.dot(centre - geometry.index_to_ras(centroid_ijk), axes[:, fixed])), 0.0,
                                   delta=geometry.spacing[fixed] / 2 + 1e-6)
            self.assertEqual(sliceCompositeNodes(logic.scene)[view].GetBackgroundVolumeID(), volume.GetID())
        crops = logic.planeCrops(volume, segmentation, lesion)
        self.assertEqual({k: v.shape for k, v in crops.items()},
                         {"transverse": (224, 224), "sagittal": (224, 224), "coronal": (224, 224)})

    # --------------------------------------------- 5 + 6. every family, explanations
    def test_classify_with_every_model_family_and_show_prototypes(self):
        from BreastUSAILib.LesionMasks import loadSegmentationFile
        from BreastUSAITraining.bundle import load_bundle
        from BreastUSAITraining.mupnet.explain import PrototypeExplainer
        from BreastUSAITraining.planes.lesion_crops import build_lesion_crop_samples

        logic = _logic()
        item = _item("multimodal")
        volumes = {kind: logic.loadImage(item[kind], kind=kind)[0] for kind in ("us_bmode", "us_doppler", "us_elastography")}
        segmentation = loadSegmentationFile(logic.scene, item["segmentation"], volumes["us_bmode"])
        for kind in ("us_doppler", "us_elastography"):
            logic.linkLesionImage(segmentation, volumes[kind])
        views = logic.lesionViews(segmentation, item["segment"])
        self.assertEqual(set(views), {"us_bmode", "us_doppler", "us_elastography"})
        (row,) = logic.classifyLesion([bundle("mupnet")], views, device="cpu")
        explainer = PrototypeExplainer(load_bundle(bundle("mupnet")), __import__("torch").device("cpu"))
        (sample,) = build_lesion_crop_samples([item], explainer.modalities, explainer.size, explainer.margin, False)
        reference = explainer.explain(sample["x"].astype(np.float32) / 255.0)[0]
        self.assertAlmostEqual(row["probability"], reference["malignant_probability"], places=3)
        self.assertEqual(len(row["details"]["contribution_scores"]), 6)
        patches = logic.prototypePatches([row])
        self.assertEqual(len(patches), 6)
        for patch in patches:
            self.assertTrue(Path(patch["image"]).is_file(), patch)
            self.assertTrue(str(patch["image"]).startswith(str(bundle("mupnet"))))
        self.assertAlmostEqual(sum(abs(p["contribution"]) for p in patches), 1.0, places=2)

        # the panel's Classify runs the same in the background worker (progress, Cancel): same rows
        self.addCleanup(logic.shutdown)
        runner = logic.startClassification([bundle("mupnet"), bundle("planes_2d")], views, device="cpu")
        self.assertEqual(runner.wait(300), "finished", runner.message + " ".join(runner.log[-3:]))
        background = {r["model"]: r for r in logic.collectClassification(runner)}
        in_process = {r["model"]: r for r in logic.classifyLesion([bundle("mupnet"), bundle("planes_2d")], views, device="cpu")}
        self.assertEqual(set(background), set(in_process))
        for model, row in in_process.items():
            self.assertAlmostEqual(background[model]["probability"], row["probability"], places=3)
            self.assertEqual((background[model]["prediction"], background[model]["lesion"]), (row["prediction"], row["lesion"]))
        self.assertEqual(len(logic.prototypePatches(list(background.values()))), 6)

        with self.assertRaisesRegex(ValueError, "needs mg_cc"):
            logic.classifyLesion([bundle("dlum")], views, device="cpu")
        mg_item = _item("mg")
        us = logic.loadImage(mg_item["us_bmode"], kind="us_bmode")[0]
        mg = logic.loadImage(mg_item["mg_cc"], kind="mg_cc")[0]
        us_seg = loadSegmentationFile(logic.scene, mg_item["segmentation"], us)
        mg_seg = loadSegmentationFile(logic.scene, mg_item["segmentation_mg_cc"], mg)
        (fusion,) = logic.classifyLesion([bundle("dlum")], {"us_bmode": (us, us_seg, mg_item["segment"]),
                                                             "mg_cc": (mg, mg_seg, mg_item["segment"])}, device="cpu")
        self.assertEqual(fusion["task"], "dlum")
        self.assertTrue(0.0 <= fusion["probability"] <= 1.0)

        us_item = _item("us2d")
        us_node = logic.loadImage(us_item["us_bmode"], kind="us_bmode")[0]
        us_lesions = loadSegmentationFile(logic.scene, us_item["segmentation"], us_node)
        for birads, expect_rule in (("4A", True), ("3", False)):
            logic.setLesionAnnotation(us_lesions, us_item["segment"], birads=birads)
            rows = logic.classifyLesion([bundle("dlr_lh"), bundle("dlr_bm")], logic.lesionViews(us_lesions, us_item["segment"]),
                                        device="cpu")
            restratified = rows[-1]
            self.assertEqual(restratified["task"], "restratify")
            if expect_rule:
                self.assertIn(restratified["decision"], ("downgrade", "keep", "upgrade"))
                self.assertIn(restratified["birads_suggestion"], ("3", "4A", "4B"))
            else:
                self.assertEqual(restratified["decision"], "not applicable")
        table = [r for r in logic.resultsTableRows() if r["model"].startswith("BI-RADS 4A")]
        self.assertEqual(len(table), 1)  # the same lesion + model replaces its row

    def test_heatmap_is_a_foreground_layer_with_its_colours_and_opacity(self):
        from BreastUSAILib.HeadlessSlicer import sliceCompositeNodes
        from BreastUSAILib.PredictRunner import InProcessRunner

        logic = _logic(runner_factory=InProcessRunner)
        item = _item("us2d", pathology="malignant")
        volume, _ = logic.loadImage(item["us_bmode"], kind="us_bmode")
        segmentation = logic.loadLesionSegmentation(item["segmentation"], volume)
        loaded = logic.runPrediction(volume, [bundle("planes_2d")], device="cpu", segmentation_node=segmentation, cam="gradcam++")
        heatmap = next(iter(loaded["heatmaps"].values()))
        heat = logic.imageOf(heatmap)
        self.assertEqual(heat.shape_kji, logic.imageOf(volume).shape_kji)
        np.testing.assert_allclose(heat.geometry.ijk_to_ras(), logic.imageOf(volume).geometry.ijk_to_ras(), atol=1e-6)
        self.assertTrue(0.0 <= heat.array.min() and heat.array.max() <= 1.0 and heat.array.max() > 0, (heat.array.min(), heat.array.max(), heat.array.dtype))
        logic.showHeatmap(heatmap, volume, 0.4)
        with self.assertRaises(ValueError) as refused:  # a heatmap is not an image the AI may read
            logic.startPrediction(heatmap, [bundle("planes_2d")], device="cpu", segmentation_node=segmentation)
        self.assertIn("heatmap or a label map", str(refused.exception))
        colour = heatmap.GetDisplayNode().GetColorNode()
        self.assertEqual(colour.GetName(), "BreastUSAI Heatmap")
        self.assertEqual(colour.GetNumberOfColors(), 256)
        rgba = [0.0] * 4
        colour.GetColor(0, rgba)
        self.assertEqual(rgba[3], 0.0)  # zero evidence is transparent: the image under it is not dimmed
        colour.GetColor(255, rgba)
        self.assertEqual(rgba[3], 1.0)
        alphas = []
        for index in range(256):
            colour.GetColor(index, rgba)
            alphas.append(rgba[3])
        self.assertEqual(alphas, sorted(alphas))  # opacity grows with the evidence
        display = heatmap.GetDisplayNode()
        self.assertTrue(display.GetApplyThreshold() and 0 < display.GetLowerThreshold() < 0.1)
        for composite in sliceCompositeNodes(logic.scene).values():
            self.assertEqual(composite.GetBackgroundVolumeID(), volume.GetID())
            self.assertEqual(composite.GetForegroundVolumeID(), heatmap.GetID())
            self.assertAlmostEqual(composite.GetForegroundOpacity(), 0.4)
        logic.setHeatmapOpacity(0.75)
        self.assertAlmostEqual(sliceCompositeNodes(logic.scene)["Red"].GetForegroundOpacity(), 0.75)
        with self.assertRaisesRegex(ValueError, "opacity"):
            logic.setHeatmapOpacity(1.5)

        # deep radiomics through the background path too: clinical record and BI-RADS go with the job
        logic.runPrediction(volume, [bundle("dlr_lh"), bundle("dlr_bm")], device="cpu", segmentation_node=segmentation,
                            clinical=item["clinical"], birads="4A")
        rows = {r["model"]: r for r in logic.resultsTableRows() if r["image"] == volume.GetName()}
        step = rows["BI-RADS 4A re-stratification (DLR_LH + DLR_BM)"]
        self.assertIn(step["decision"], ("downgrade", "keep", "upgrade"))
        self.assertIn(step["birads_suggestion"], ("3", "4A", "4B"))
        self.assertEqual(sum(r["task"] == "dlr" for r in rows.values()), 2)

    # ------------------------------------------------------------ 7. export
    def test_export_is_valid_trainable_idempotent_and_anonymous(self):
        from BreastUSAITraining.dataset.validate import validate_dataset_folder
        from BreastUSAITraining.segmentation.train import SegmentationOptions, train_segmentation
        from BreastUSAITraining.training import TrainingSettings

        logic = _logic()
        secrets = ["DOE^JANE", "PID-7741-XQ", "19610315", "ACC99812", "St Elsewhere", "MRN-55501"]
        for n in range(6):
            item = _item("us2d", index=n)
            volume, _ = logic.loadImage(item["us_bmode"], kind="us_bmode")
            volume.SetName(f"DOE^JANE {n}")  # what a DICOM-named node may look like
            logic.setPatientKey(volume, f" MRN-5550{n // 2 + 1} ")  # two images per patient (the panel's Patient field)
            self.assertEqual(logic.patientKey(volume), f"MRN-5550{n // 2 + 1}")
            segmentation = logic.loadLesionSegmentation(item["segmentation"], volume)
            segmentation.SetName("Jane Doe lesions")
            logic.setLesionAnnotation(segmentation, item["segment"], pathology=item["pathology"], birads=item["birads"] or "3",
                                      note="Patient DOE^JANE called back", clinical=item["clinical"])
        factory = dicomFactory()
        if factory is not None:  # a real DICOM with identifiers, annotated too
            rgb = np.zeros((40, 48, 3), np.uint8)
            rgb[10:30, 12:36] = 180
            dicom_node, _ = logic.loadImage(factory.write_us_rgb(self.tmp / "id.dcm", rgb), kind="us_bmode")
            dicom_lesions = logic.createLesionSegmentation(dicom_node)
            mask = np.zeros((1, 40, 48), bool)
            mask[0, 12:28, 14:34] = True
            lesion = logic.addLesion(dicom_lesions, dicom_node, mask, "DOE^JANE lesion")
            logic.setLesionAnnotation(dicom_lesions, lesion, pathology="benign", birads="3")
        unannotated = logic.createLesionSegmentation(volume, "draft")
        logic.addLesion(unannotated, volume, np.ones(logic.imageOf(volume).shape_kji, bool), "draft")
        out = self.tmp / "export"
        report = logic.exportAnnotations(str(out))
        self.assertEqual(report.cases, 7 if factory else 6)
        if factory is not None:  # its pixels may carry burned-in text: the export says so
            self.assertEqual(len(report.warnings), 1)
            self.assertIn("burned-in annotation", report.warnings[0])
        self.assertEqual(len(report.skipped), 1)
        self.assertEqual(validate_dataset_folder(out, deep=True), [])
        from BreastUSAITraining.cli.main import main

        self.assertEqual(main(["dataset", "validate", str(out), "--deep", "-q"]), 0)
        document = json.loads((out / "dataset.json").read_text())
        self.assertEqual(len({i["patient_id"] for i in document["training"]}), 4 if factory else 3)
        folds_of: dict = {}
        for i in document["training"]:  # one patient's images stay in one cross-validation fold
            folds_of.setdefault(i["patient_id"], set()).add(i.get("fold"))
        self.assertTrue(all(len(folds) == 1 for folds in folds_of.values()), folds_of)
        for i in document["training"]:
            self.assertRegex(i["case_id"], r"^case_\d{4}$")
            self.assertRegex(i["patient_id"], r"^patient_\d{4}$")
        first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        for data in first.values():
            for secret in secrets + ["Jane Doe", "called back"]:
                self.assertNotIn(secret.encode(), data)
        logic.exportAnnotations(str(out))  # again: same files, nothing left over
        second = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        self.assertEqual(first, second)  # byte for byte
        self.assertEqual([p.name for p in out.parent.iterdir() if p.name.startswith(".export")], [])
        train_segmentation(out, self.tmp / "seg_from_export", SegmentationOptions(size=32, base_channels=4),
                           TrainingSettings(run_dir=self.tmp / "run", epochs=1, batch_size=2, progress=False))
        self.assertTrue((self.tmp / "seg_from_export" / "models" / "model.pt").is_file())

    # --------------------------------------------------- 8. background process
    def test_background_prediction_in_a_real_subprocess_with_progress_and_cancel(self):
        from BreastUSAILib.PredictRunner import PredictJob, SubprocessRunner
        from BreastUSAILib.PredictWorker import WorkerRunner

        logic = _logic()
        self.addCleanup(logic.shutdown)
        item = _item("us2d", pathology="malignant")
        volume, _ = logic.loadImage(item["us_bmode"], kind="us_bmode")
        runner = logic.startPrediction(volume, [bundle("seg2d")], device="cpu")
        self.assertIsInstance(runner, WorkerRunner)  # the default: a run on the warm background worker
        fractions = []
        while runner.state == "running":
            runner.poll()
            fractions.append(runner.fraction)
            __import__("time").sleep(0.05)
        self.assertEqual(runner.state, "finished", runner.message + " " + " ".join(runner.log[-5:]))
        self.assertEqual(fractions, sorted(fractions))
        self.assertEqual([e["event"] for e in runner.events][0], "start")
        self.assertEqual(runner.events[-1]["event"], "finished")
        self.assertEqual(runner.fraction, 1.0)
        log = logic.logLines(runner.events)  # what the panel's log pane shows
        self.assertIn("input.nrrd: segment", log)
        self.assertEqual(log[-1], "finished: 1 done, 0 failed")
        loaded = logic.collectPrediction(runner)
        self.assertIsNotNone(loaded["segmentation"])

        job = PredictJob([str(item["us_bmode"])] * 1, [str(bundle("seg2d"))], str(self.tmp / "cancelled"), device="cpu")
        self.assertEqual(job.environment()["CUDA_VISIBLE_DEVICES"], "-1")
        self.assertIn("--progress", job.arguments())
        cancelled = SubprocessRunner()
        cancelled.start(job)
        cancelled.cancel()  # returns at once (the panel stays responsive); the tree is stopped in the background
        self.assertEqual(cancelled.state, "cancelled")
        cancelled.waitStopped()
        self.assertIsNotNone(cancelled.process.poll())
        out = self.tmp / "cancelled"
        if out.exists():  # either nothing, or a complete result: never a partial one
            for folder in out.iterdir():
                self.assertTrue(folder.name.startswith(".") or (folder / "result.json").is_file(), folder)

        failing = SubprocessRunner()
        failing.start(PredictJob([str(self.tmp / "missing.nrrd")], [str(bundle("seg2d"))], str(self.tmp / "f"), device="cpu"))
        self.assertEqual(failing.wait(120), "failed")
        self.assertIn("missing.nrrd", failing.message)

    def test_the_warm_worker_serves_runs_restarts_after_cancel_and_ends_with_the_module(self):
        """One background worker for every run (models loaded once); a failed input fails that run
        only; Cancel stops the worker and its children without blocking and the next run starts a
        fresh one; the module's shutdown ends it."""
        import psutil

        logic = _logic()
        self.addCleanup(logic.shutdown)
        item = _item("us2d", pathology="malignant")
        volume, _ = logic.loadImage(item["us_bmode"], kind="us_bmode")
        first = logic.runPrediction(volume, [bundle("seg2d"), bundle("planes_2d")], device="cpu", timeout_s=300,
                                    expectLesion=True)
        worker = logic.backgroundWorker()
        pid = worker.process.pid
        second = logic.runPrediction(volume, [bundle("seg2d"), bundle("planes_2d")], device="cpu", timeout_s=300,
                                     expectLesion=True)
        self.assertEqual((worker.starts, worker.process.pid), (1, pid))  # the same warm process answered
        self.assertEqual([l["malignant_probability"] for l in first["result"]["lesions"]],
                         [l["malignant_probability"] for l in second["result"]["lesions"]])

        from BreastUSAILib.PredictRunner import PredictJob
        from BreastUSAILib.PredictWorker import WorkerRunner

        failing = WorkerRunner(worker)
        failing.start(PredictJob([str(self.tmp / "missing.nrrd")], [str(bundle("seg2d"))], str(self.tmp / "f"), device="cpu"))
        self.assertEqual(failing.wait(120), "failed")
        self.assertIn("missing.nrrd", failing.message + " ".join(failing.log))
        self.assertEqual(worker.process.pid, pid)  # a bad input does not cost the warm worker

        running = logic.startPrediction(volume, [bundle("seg2d")], device="cpu")
        running.cancel()  # returns at once; the worker tree is stopped in the background
        self.assertEqual(running.state, "cancelled")
        running.waitStopped()
        self.assertFalse(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
        third = logic.runPrediction(volume, [bundle("seg2d")], device="cpu", timeout_s=300, expectLesion=True)
        self.assertIsNotNone(third["segmentation"])
        self.assertEqual(worker.starts, 2)
        process = worker.process
        logic.shutdown()
        self.assertIsNotNone(process.poll())

    def test_one_click_run_with_the_shipped_models_one_run_at_a_time_and_cleanup(self):
        """Run AI on this image: the shipped models for the image's kind (here a stand-in catalogue of
        tiny bundles); a second run is refused while one runs; a read without AI started meanwhile
        drops the results; cleanup stops the run and deletes the work folders (image copies)."""
        shipped = self.tmp / "shipped"
        for name, key, role in (("seg", "seg2d", "segmentation"), ("cls", "planes_2d", "classifier")):
            shutil.copytree(bundle(key), shipped / name)
        (shipped / "catalogue.json").write_text(json.dumps({"models": [
            {"folder": "seg", "image_kinds": ["us_bmode"], "role": "segmentation"},
            {"folder": "cls", "image_kinds": ["us_bmode"], "role": "classifier"}]}))
        logic = _logic()
        item = _item("us2d", pathology="malignant")
        volume, _ = logic.loadImage(item["us_bmode"], kind="us_bmode")
        with self.assertRaisesRegex(ValueError, "Load an image"):
            logic.runAIOnImage(None)
        with _shipped_models(shipped):
            runner = logic.runAIOnImage(volume, device="cpu")
            self.assertEqual(runner.state, "running")
            with self.assertRaisesRegex(ValueError, "A prediction is running"):
                logic.runAIOnImage(volume, device="cpu")
            work = Path(logic._pending[id(runner)][0].work)
            self.assertTrue((work / "input.nrrd").is_file())
            self.assertEqual(runner.wait(300), "finished", runner.message)
            loaded = logic.collectPrediction(runner)
            self.assertEqual([m["name"] for m in loaded["result"]["models"]],
                             [json.loads((shipped / n / "configs" / "metadata.json").read_text())["name"] for n in ("seg", "cls")])
            # a read without AI opens while a second run is under way: its results never reach the screen
            second = logic.runAIOnImage(volume, device="cpu")
            logic.startRead(self.tmp / "reads.csv", "R1", "case", "lesion_1", "without_ai")
            second.wait(300)
            self.assertIsNone(logic.collectPrediction(second))
            with self.assertRaisesRegex(ValueError, "read without AI"):
                logic.setHeatmapOpacity(0.6)
            logic.setHeatmapOpacity(0.0)  # hiding stays allowed
            with self.assertRaisesRegex(ValueError, "read without AI"):
                logic.runAIOnImage(volume, device="cpu")
            logic.cancelRead()
            third = logic.runAIOnImage(volume, device="cpu")
        logic.cleanup()  # the module closes (or the scene does) mid-run
        self.assertNotEqual(third.state, "running")
        self.assertIsNone(logic.backgroundWorker().process)  # the worker running it was stopped with its children
        self.assertFalse(work.exists())
        self.assertFalse(logic.predictionRunning())

    def test_each_result_lesion_can_be_shown_with_its_own_planes_and_heatmap(self):
        """The results list: choosing a lesion moves the three views to its planes and shows its
        heatmap (not the first lesion's); the results table becomes the table views' table; the
        embedded Segment Editor has its own parameter node."""
        from BreastUSAILib.HeadlessSlicer import sliceCompositeNodes
        from BreastUSAILib.LesionMasks import addLesionSegment
        from BreastUSAILib.PredictRunner import InProcessRunner

        logic = _logic(runner_factory=InProcessRunner)
        item = _item("us2d", pathology="malignant")
        volume, _ = logic.loadImage(item["us_bmode"], kind="us_bmode")
        drawn = logic.loadLesionSegmentation(item["segmentation"], volume)
        shape = logic.imageOf(volume).shape_kji
        second = np.zeros(shape, bool)
        second[0, 2:10, 2:10] = True  # a second lesion in a corner
        addLesionSegment(drawn, volume, second, "lesion_2")
        loaded = logic.runPrediction(volume, [bundle("planes_2d")], device="cpu", segmentation_node=drawn)
        lesions = logic.resultLesions(loaded)
        self.assertEqual(len(lesions), 2)
        for lesion_id in lesions:
            logic.focusLesion(loaded, lesion_id, 0.4)
            foreground = {node.GetForegroundVolumeID() for node in sliceCompositeNodes(logic.scene).values()}
            self.assertEqual(foreground, {loaded["heatmaps"][lesion_id].GetID()})
        with self.assertRaisesRegex(ValueError, "No lesion"):
            logic.focusLesion(loaded, "lesion_99")
        table = logic.showResultsTable()
        selection = logic.scene.GetNodeByID("vtkMRMLSelectionNodeSingleton")
        self.assertEqual(selection.GetActiveTableID(), table.GetID())
        self.assertIs(logic.segmentEditorNode(), logic.segmentEditorNode())
        import slicer

        abvs, _ = logic.loadImage(_item("abvs")["abvs"], kind="abvs")
        for node, layout in ((volume, "SlicerLayoutOneUpRedSliceView"), (abvs, "SlicerLayoutFourUpView")):
            self.assertEqual(logic.layoutFor(node), layout)
            self.assertIsInstance(getattr(slicer.vtkMRMLLayoutNode, layout), int)  # a layout Slicer has
        self.assertEqual((logic.volumeRenderingPreset(volume), logic.volumeRenderingPreset(abvs)), ("", "US-Fetal"))
        self.assertIsNone(logic.showVolumeRendering(volume))  # a 2D image: no 3D rendering
        rendering = logic.showVolumeRendering(abvs)
        self.assertTrue(rendering.GetVisibility())
        self.assertEqual(rendering.GetVolumeNodeID(), abvs.GetID())
        self.assertEqual(rendering.GetVolumePropertyNode().GetName(), "US-Fetal")
        self.assertIs(logic.showVolumeRendering(abvs), rendering)  # shown again: the same rendering, not a second one

    def test_a_frame_stack_loads_as_scrollable_frames_and_single_frames_go_to_the_ai(self):
        """Issue 22: captures without positions load as one node whose slices are the frames (in
        acquisition order), refused as an AI input as a whole; one frame taken out is a 2D image."""
        factory = dicomFactory()
        if factory is None:
            self.skipTest("the repository's DICOM writer is not here (installed module)")
        folder = self.tmp / "sweep"
        folder.mkdir()
        frames = [np.full((30, 40), 40 * n, np.uint8) for n in range(1, 4)]
        for name, number in (("c.dcm", 3), ("a.dcm", 1), ("b.dcm", 2)):
            factory.write_capture(folder / name, frames[number - 1], number, region_spacing_cm=(0.01, 0.02))
        logic = _logic()
        stack, guess = logic.loadImage(folder)
        self.assertEqual(guess.kind, "us_bmode")
        image = logic.imageOf(stack)
        self.assertEqual(image.shape_kji, (3, 30, 40))
        np.testing.assert_array_equal(image.array[:, 0, 0], [40, 80, 120])  # InstanceNumber order
        np.testing.assert_allclose(image.geometry.spacing[:2], (0.1, 0.2))
        with self.assertRaisesRegex(ValueError, "stack of 2D ultrasound frames"):
            logic.runAIOnImage(stack)
        from BreastUSAILib.HeadlessSlicer import sliceNodes

        red = sliceNodes(logic.scene)["Red"]
        centre = logic.imageOf(stack).geometry.index_to_ras(np.array([20.0, 15.0, 2.0]))  # the views on frame 3
        red.SetSliceToRASByNTP(0, 0, 1, 1, 0, 0, *centre, 0)
        red.UpdateMatrices()
        self.assertEqual(logic.frameShownInRed(stack), 2)
        second = logic.frameOfStack(stack, 1)
        frame = logic.imageOf(second)
        self.assertTrue(frame.is_2d)
        np.testing.assert_array_equal(frame.array[0], frames[1])
        self.assertEqual(logic.layoutFor(second), "SlicerLayoutOneUpRedSliceView")
        with self.assertRaisesRegex(ValueError, "does not exist"):
            logic.frameOfStack(stack, 3)

        # the reader's lesion on that frame goes back to the PACS as DICOM SEG + SR (Export as DICOM)
        import highdicom as hd
        import pydicom

        lesions = logic.createLesionSegmentation(second)
        mask = np.zeros((1, 30, 40), bool)
        mask[0, 10:20, 12:30] = True
        logic.addLesion(lesions, second, mask, "lesion_1")
        seg_path, sr_path = logic.exportAsDicom(second, lesions, self.tmp / "to_pacs")
        seg = hd.seg.segread(seg_path)
        source = pydicom.dcmread(folder / "b.dcm")
        pixels = seg.get_pixels_by_source_instance(source_sop_instance_uids=[source.SOPInstanceUID])
        np.testing.assert_array_equal(pixels[0, :, :, 0].astype(bool), mask[0])
        report = pydicom.dcmread(sr_path)
        self.assertIn(seg.SOPInstanceUID, str(report))
        self.assertIn(180.0 * 0.1 * 0.2, {float(v.NumericValue) for item in report.iterall()
                                         if item.keyword == "MeasuredValueSequence" for v in item.value})  # 180 px
        with self.assertRaisesRegex(ValueError, "not read from a DICOM file"):
            logic.exportAsDicom(stack, lesions, self.tmp / "no")

        # a frame of a cine loop: the SEG and SR reference that frame of the multi-frame instance
        loop = factory.write_us_cine(self.tmp / "loop.dcm", np.stack([np.repeat(f[..., None], 3, axis=2) for f in frames]),
                                     region_spacing_cm=(0.01, 0.02))
        cine, _ = logic.loadImage(loop, "us_bmode")
        third = logic.frameOfStack(cine, 2)
        on_third = logic.createLesionSegmentation(third)
        logic.addLesion(on_third, third, mask, "lesion_1")
        seg_path, sr_path = logic.exportAsDicom(third, on_third, self.tmp / "cine_to_pacs")
        seg, source = pydicom.dcmread(seg_path), pydicom.dcmread(loop)
        (reference,) = seg.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence
        self.assertEqual((reference.ReferencedSOPInstanceUID, reference.ReferencedSOPClassUID, reference.ReferencedFrameNumber),
                         (source.SOPInstanceUID, source.SOPClassUID, 3))
        self.assertIn(seg.SOPInstanceUID, str(pydicom.dcmread(sr_path)))

    def test_panel_selections_are_kept_in_the_scene_and_come_back_with_it(self):
        """The parameter node: what the panel had chosen survives saving and reopening the scene."""
        import slicer

        from BreastUSAILib.PanelSelections import panelSelections

        logic = _logic()
        self.assertIsNone(logic.selections()["inputVolume"])
        item = _item("us2d")
        volume, _ = logic.loadImage(item["us_bmode"], kind="us_bmode")
        segmentation = logic.loadLesionSegmentation(item["segmentation"], volume)
        logic.saveSelections(inputVolume=volume, segmentation=segmentation, device="cpu", heatmapOpacity=0.3)
        with self.assertRaisesRegex(ValueError, "device must be"):
            logic.saveSelections(device="gpu0")
        with self.assertRaisesRegex(KeyError, "unknown panel selection"):
            logic.saveSelections(colour="red")
        chosen = logic.selections()
        self.assertEqual((chosen["inputVolume"], chosen["segmentation"], chosen["device"], chosen["heatmapOpacity"]),
                         (volume, segmentation, "cpu", 0.3))
        path = self.tmp / "case.mrml"
        logic.scene.SetURL(str(path))
        self.assertTrue(logic.scene.Commit())
        reopened = slicer.vtkMRMLScene()
        reopened.SetURL(str(path))
        reopened.Import()
        again = panelSelections(reopened)
        self.assertEqual(again["inputVolume"].GetName(), volume.GetName())
        self.assertEqual(again["segmentation"].GetName(), segmentation.GetName())
        self.assertEqual((again["device"], again["heatmapOpacity"], again["linkedVolume"]), ("cpu", 0.3, None))

    # ------------------------------------------------ 9. models and settings
    def test_models_folder_is_listed_and_remembered(self):
        settings = self.tmp / "settings.json"
        folder = self.tmp / "models"
        folder.mkdir()
        for name in ("seg2d", "mupnet", "dlum"):
            shutil.copytree(bundle(name), folder / name)
        (folder / "broken" / "configs").mkdir(parents=True)
        logic = _logic(settings_path=settings)
        no_shipped = self.tmp / "no-shipped-models"
        no_shipped.mkdir()
        with _shipped_models(no_shipped):
            with self.assertRaisesRegex(ValueError, "models folder"):
                logic.listModels()
            logic.setModelsFolder(folder)
            again = _logic(settings_path=settings)  # a new session reads the remembered folder
            self.assertEqual(again.modelsFolder(), folder.resolve())
            entries = {e.path.name: e for e in again.listModels()}
        # shipped models (Resources/Models, here a stand-in catalogue) come first, flagged
        shipped = self.tmp / "shipped"
        shutil.copytree(bundle("seg2d"), shipped / "lesion-segmentation")
        (shipped / "catalogue.json").write_text(json.dumps({"models": [
            {"folder": "lesion-segmentation", "image_kinds": ["us_bmode"], "role": "segmentation", "synthetic_only": True}]}))
        with _shipped_models(shipped):
            listed = again.listModels()
            self.assertEqual([e.path.name for e in listed][:1], ["lesion-segmentation"])
            self.assertTrue(listed[0].shipped and listed[0].synthetic_only)
            self.assertIn("[shipped, SYNTHETIC ONLY]", listed[0].summary())
            self.assertEqual(len(listed), 5)
            self.assertEqual([e.path.name for e in _logic().listModels()], ["lesion-segmentation"])  # no folder chosen
        self.assertEqual(set(entries), {"seg2d", "mupnet", "dlum", "broken"})
        self.assertEqual(entries["seg2d"].task, "segmentation")
        self.assertEqual(entries["mupnet"].inputs, ["us_bmode", "us_doppler", "us_elastography"])
        self.assertEqual(entries["dlum"].inputs, ["us_bmode", "mg_cc"])
        self.assertIn("metadata.json is missing", entries["broken"].problem)
        self.assertIn("MUP-Net", entries["mupnet"].summary())
        from BreastUSAILib.ModelLibrary import missingInputMessage, missingModelMessage

        self.assertIn("mammography, cranio-caudal view", missingInputMessage(entries["dlum"], ["us_bmode"]))
        self.assertIsNone(missingInputMessage(entries["dlum"], ["us_bmode", "mg_cc"]))
        self.assertIn("No deep radiomics", missingModelMessage(list(entries.values()), "dlr"))

    # ------------------------------------------------------- reader study (SPEC 3.7)
    def test_reader_study_reads_are_timed_recorded_and_analysed(self):
        from BreastUSAITraining.errors import BreastUSAIError
        from BreastUSAITraining.readerstudy import run_reader_study

        logic = _logic()
        item = _item("us2d")
        node, _ = logic.loadImage(item["image"])
        case_id, lesion_ids = logic.readCaseOf(item["image"], node)
        self.assertEqual(case_id, item["case_id"])
        self.assertIn(item["lesion_id"] or "", lesion_ids)
        outside = self.tmp / "outside.nrrd"
        shutil.copy(item["image"], outside)
        self.assertEqual(logic.readCaseOf(str(outside), node), (node.GetName(), []))

        now = [0.0]
        logic.readClock = lambda: now[0]
        reads = self.tmp / "study" / "reads.csv"
        lesion = item["lesion_id"] or ""
        with self.assertRaisesRegex(ValueError, "reads file"):
            logic.startRead("", "R1", case_id, lesion, "without_ai", "junior")
        logic.startRead(str(reads), "R1", case_id, lesion, "without_ai", "junior")
        self.assertFalse(logic.aiAllowed())  # the AI stays hidden during a read without it
        with self.assertRaisesRegex(ValueError, "final assessment"):
            logic.finishRead("4")
        self.assertFalse(reads.exists())  # a refused read writes nothing, and stays open
        now[0] = 41.54
        row = logic.finishRead("4b")
        self.assertEqual((row["birads"], row["seconds"], row["mode"]), ("4B", "41.5", "without_ai"))
        self.assertTrue(logic.aiAllowed())
        with self.assertRaisesRegex(ValueError, "already read"):
            logic.startRead(str(reads), "R1", case_id, lesion, "without_ai", "junior")
        with self.assertRaisesRegex(ValueError, "group 'junior'"):
            logic.startRead(str(reads), "R1", case_id, lesion, "with_ai", "senior")
        now[0] = 100.0
        logic.startRead(str(reads), "R1", case_id, lesion, "with_ai", "junior")
        self.assertTrue(logic.aiAllowed())
        now[0] = 112.0
        logic.finishRead("5", "malignant")
        logic.startRead(str(reads), "R2", case_id, lesion, "without_ai")
        logic.cancelRead()  # nothing recorded
        self.assertEqual(reads.read_text().splitlines(), [
            "reader,group,case_id,lesion_id,mode,birads,call,seconds",
            f"R1,junior,{case_id},{lesion},without_ai,4B,,41.5",
            f"R1,junior,{case_id},{lesion},with_ai,5,malignant,12.0"])

        document = run_reader_study(reads, self.tmp / "analysis", data_dir=phantom("us2d"))
        r1 = document["readers"]["R1"]
        self.assertEqual(r1["with_against_without"]["paired_reads"], 1)
        self.assertAlmostEqual(r1["without_ai"]["reading_seconds"]["mean"], 41.5)
        self.assertEqual(r1["with_ai"]["tp"] + r1["with_ai"]["fp"], 1)  # called malignant with AI

        # a reads file kept in a spreadsheet (semicolons): its rows, extra columns and separator stay
        kept = self.tmp / "kept.csv"
        kept.write_text("reader;group;case_id;lesion_id;mode;birads;call;seconds;pathology\n"
                        "R9;;X1;;with_ai;3;;20;benign\n")
        logic.startRead(str(kept), "R1", case_id, lesion, "with_ai")
        logic.finishRead("2")
        lines = kept.read_text().splitlines()
        self.assertEqual(lines[1], "R9;;X1;;with_ai;3;;20;benign")
        self.assertTrue(lines[2].startswith(f"R1;;{case_id};{lesion};with_ai;2;;") and lines[2].endswith(";"))
        # a damaged reads file is named and left alone
        broken = self.tmp / "broken.csv"
        broken.write_bytes(b"reader,case_id\n\xff\xfe\x00")
        with self.assertRaisesRegex(BreastUSAIError, "broken.csv"):
            logic.startRead(str(broken), "R1", case_id, lesion, "with_ai")
        self.assertEqual(broken.read_bytes(), b"reader,case_id\n\xff\xfe\x00")

    # ------------------------------------------------------- 10. dependencies
    def test_dependency_install_keeps_slicer_packages_and_reports_failure(self):
        from BreastUSAILib import Dependencies

        self.assertEqual(Dependencies.missingRequirements(), [])
        self.assertEqual(Dependencies.installRequirements(lambda args: self.fail("nothing to install")), [])
        constraints = Dependencies.constraintsText()
        import numpy

        self.assertIn(f"numpy=={numpy.__version__}", constraints)
        self.assertIn("SimpleITK==", constraints)
        saved = dict(Dependencies.REQUIREMENTS)
        asked = []
        try:
            Dependencies.REQUIREMENTS["breastusai-absent-package"] = "breastusai-absent-package>=1"

            def pip_install(arguments):
                asked.append(arguments)
                raise RuntimeError("network unreachable")

            with self.assertRaisesRegex(RuntimeError, "breastusai-absent-package>=1 failed: network unreachable"):
                Dependencies.installRequirements(pip_install, self.tmp)
        finally:
            Dependencies.REQUIREMENTS.clear()
            Dependencies.REQUIREMENTS.update(saved)
        self.assertEqual(asked, [f'-c "{self.tmp / "slicer-constraints.txt"}" "breastusai-absent-package>=1"'])
        self.assertIn("numpy==", (self.tmp / "slicer-constraints.txt").read_text())

        # torch missing (a stock Slicer with the PyTorch extension, which installs no torch by itself):
        # the extension is asked first, then the pinned packages; a refusal ends with the user's message
        have_torch = {"value": False}

        def version_of(name):
            return None if name == "torch" and not have_torch["value"] else Dependencies.installedVersion(name)

        def install_torch():
            have_torch["value"] = True
            return True

        installed = Dependencies.installRequirements(lambda args: self.fail("nothing else missing"), self.tmp,
                                                     install_torch=install_torch, version_of=version_of)
        self.assertEqual(installed, ["torch"])
        have_torch["value"] = False
        with self.assertRaisesRegex(RuntimeError, "PyTorch is missing"):
            Dependencies.installRequirements(lambda args: None, self.tmp, install_torch=lambda: False, version_of=version_of)
        with self.assertRaisesRegex(RuntimeError, "PyTorch is missing"):
            Dependencies.installRequirements(lambda args: None, self.tmp, version_of=version_of)
        self.assertFalse(Dependencies.installTorchWithPyTorchExtension())  # no PyTorch extension outside Slicer


def runTest():
    """Entry point used by slicer.testing.runUnitTest."""
    suite = unittest.TestLoader().loadTestsFromTestCase(BreastUSAILogicTest)
    return unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful()
