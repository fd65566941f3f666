"""A Slicer-logic export run as its own process (so the suite can SIGKILL it midway):
load ``cases`` phantom images and their lesions into a real MRML scene (slicer-core),
annotate them, and export to ``out``.

    python export_job.py DATASET OUT CASES
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "BreastUSAI"))
sys.path.insert(0, str(REPO / "Testing"))


def build_scene_and_export(dataset: Path, out: Path, cases: int):
    from slicer_standin import install_scripted_module_standin

    install_scripted_module_standin()
    from BreastUSAI import BreastUSAILogic
    from BreastUSAITraining.dataset import load_dataset
    from BreastUSAITraining.dataset.loader import lesion_dicts

    logic = BreastUSAILogic()
    items = [i for i in lesion_dicts(load_dataset(dataset), "training") + lesion_dicts(load_dataset(dataset), "test")][:cases]
    for item in items:
        volume, _ = logic.loadImage(item["us_bmode"], kind="us_bmode")
        segmentation = logic.loadLesionSegmentation(item["segmentation"], volume)
        logic.setLesionAnnotation(segmentation, item["segment"], pathology=item["pathology"], birads=item["birads"] or "3")
    return logic.exportAnnotations(str(out))


if __name__ == "__main__":
    report = build_scene_and_export(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
    print(f"exported {report.lesions} lesions")
