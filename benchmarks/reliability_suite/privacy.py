"""Privacy: DICOM inputs carrying a patient's name, id, birth date, accession number,
institution (and a burned-in-annotation flag) go through the Slicer logic's export and
``dataset import-images``; then every byte of every output file is scanned for those
values (and the parts of the name). The source file and folder names carry the
identifiers too, as they often do in practice. Held: no identifier anywhere in the output,
case / patient ids are pseudonyms, and the source mapping (if kept) is outside.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def _factory():
    sys.path.insert(0, str(REPO / "Testing"))
    import dicom_factory

    return dicom_factory


def identifier_strings() -> list[bytes]:
    identifiers = _factory().IDENTIFIERS
    values = list(identifiers.values())
    parts = [p for p in identifiers["PatientName"].split("^") if len(p) >= 3]  # family and given name alone too
    strings = set(values) | set(parts) | {"1961-03-15", "MRN-55501"}
    return sorted({s.encode() for s in strings} | {s.lower().encode() for s in strings})


def write_identified_dicoms(folder: Path, count: int = 4) -> list[Path]:
    """``count`` ultrasound DICOM files with identifiers in the tags and in the file names."""
    factory = _factory()
    folder = folder / "DOE^JANE PID-7741-XQ"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    files = []
    for n in range(count):
        plane = (rng.random((48, 56)) * 200).astype(np.uint8)
        plane[14:34, 16:40] = 30
        files.append(factory.write_us_rgb(folder / f"DOE_JANE_19610315_{n}.dcm", np.stack([plane] * 3, -1), (0.01, 0.01)))
    return files


def scan(folder: Path, secrets: list[bytes]) -> dict:
    found = []
    files = [p for p in folder.rglob("*") if p.is_file()]
    for path in files:
        data = path.read_bytes() + str(path.relative_to(folder)).encode()
        found += [f"{path.relative_to(folder)}: {s.decode()}" for s in secrets if s in data]
    return {"files_scanned": len(files), "identifiers_checked": len(secrets), "found": found}


def slicer_export_privacy(work: Path) -> dict:
    sys.path.insert(0, str(REPO / "BreastUSAI"))
    sys.path.insert(0, str(REPO / "Testing"))
    from slicer_standin import install_scripted_module_standin

    install_scripted_module_standin()
    from BreastUSAI import BreastUSAILogic
    from BreastUSAILib.AnnotationExport import setPatientKey
    from BreastUSAILib.HeadlessSlicer import clearScene

    logic = BreastUSAILogic()
    clearScene(logic.scene)
    for path in write_identified_dicoms(work / "slicer_in"):
        volume, _ = logic.loadImage(path, kind="us_bmode")  # node named after the file: DOE_JANE_...
        setPatientKey(volume, "PID-7741-XQ")
        lesions = logic.createLesionSegmentation(volume, "DOE^JANE lesions")
        mask = np.zeros(logic.imageOf(volume).shape_kji, bool)
        mask[0, 14:34, 16:40] = True
        segment = logic.addLesion(lesions, volume, mask, "DOE^JANE lesion")
        logic.setLesionAnnotation(lesions, segment, pathology="benign", birads="3", note="DOE^JANE, MRN-55501",
                                  clinical={"age": 65})
    out = work / "slicer_export"
    report = logic.exportAnnotations(str(out))
    result = scan(out, identifier_strings())
    document = json.loads((out / "dataset.json").read_text())
    ids = [i["case_id"] for i in document["training"] + document["test"]] + [i["patient_id"] for i in document["training"] + document["test"]]
    result["pseudonyms_only"] = all(re.fullmatch(r"(case|patient)_\d{4}", i) for i in ids)
    result["lesions"] = report.lesions
    result["burned_in_warnings"] = len(report.warnings)  # every source carries BurnedInAnnotation = YES
    result["held"] = not result["found"] and result["pseudonyms_only"] and len(report.warnings) == report.cases
    return result


def import_privacy(work: Path) -> dict:
    from BreastUSAITraining.dataset.import_images import import_images

    source = work / "import_in"
    files = write_identified_dicoms(source)
    masks = work / "import_masks"
    masks.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    for path in files[:2]:
        mask = np.zeros((48, 56), np.uint8)
        mask[14:34, 16:40] = 255
        Image.fromarray(mask).save(masks / f"{path.stem}_mask.png")
    labels = work / "labels.csv"
    labels.write_text("file,pathology,birads\n" + "".join(f"{p.name},benign,3\n" for p in files))
    out = work / "imported"
    mapping = work / "mapping.csv"
    report = import_images(source, out, "us_bmode", masks, labels, mapping, progress=False)
    result = scan(out, identifier_strings())
    document = json.loads((out / "dataset.json").read_text())
    items = document["training"] + document["test"]
    result["pseudonyms_only"] = all(re.fullmatch(r"case_\d{4}", i["case_id"]) and re.fullmatch(r"patient_\d{4}", i["patient_id"])
                                    for i in items)
    result["one_patient"] = len({i["patient_id"] for i in items}) == 1  # all files share the DICOM PatientID
    result["mapping_outside"] = mapping.is_file() and not mapping.resolve().is_relative_to(out.resolve())
    result["images"], result["lesions"] = report.images, report.lesions
    result["burned_in_warnings"] = len(report.warnings)
    result["held"] = len(report.warnings) == report.images and not result["found"] and result["pseudonyms_only"] and result["one_patient"] and result["mapping_outside"]
    return result
