"""Which kind of breast image a file or node holds: ABVS, B-mode, Doppler, elastography,
mammography CC or MLO (the dataset contract's modality names).

Recognised from the descriptive DICOM tags the engine keeps (Modality, ViewPosition,
PhotometricInterpretation, ImageType, SOP class) and from the image's shape. When the
tags cannot settle it (a PNG, a colour ultrasound frame without an ImageType hint) the
answer is ``None`` with a reason, and the module asks the user.
"""

from __future__ import annotations

from dataclasses import dataclass

from BreastUSAITraining.dataset.schema import MODALITIES

#: The kinds a user can pick, with the words the panel shows.
IMAGE_KINDS: dict[str, str] = dict(MODALITIES)

#: Node attribute that records an image node's kind.
KIND_ATTRIBUTE = "BreastUSAI.ImageKind"

MAMMOGRAPHY_SOP_PREFIX = "1.2.840.10008.5.1.4.1.1.1.2"  # digital mammography X-ray image storage (+ .1 for processing)
DOPPLER_WORDS = ("DOPPLER", "CFM", "CDFI", "COLOR FLOW", "COLOUR FLOW", "POWER")
ELASTO_WORDS = ("ELAST", "SWE", "STRAIN", "SHEAR")


@dataclass(frozen=True)
class KindGuess:
    """The recognised kind (None: ask the user) and why."""

    kind: str | None
    reason: str


def recogniseImageKind(meta: dict[str, str], shape_kji: tuple[int, int, int], colour: bool) -> KindGuess:
    """Kind of an image from its safe DICOM tags ``meta``, its (K, J, I) shape and colour."""
    modality = meta.get("Modality", "").upper()
    sop = meta.get("SOPClassUID", "")
    image_type = meta.get("ImageType", "").upper()
    slices = shape_kji[0]
    if modality == "MG" or sop.startswith(MAMMOGRAPHY_SOP_PREFIX):
        view = meta.get("ViewPosition", "").upper()
        if view in ("CC", "XCC", "XCCL", "XCCM", "FB"):
            return KindGuess("mg_cc", f"DICOM mammogram, view position {view}")
        if view in ("MLO", "ML", "LMO", "SIO"):
            return KindGuess("mg_mlo", f"DICOM mammogram, view position {view}")
        return KindGuess(None, f"DICOM mammogram without a CC / MLO view position ({view or 'none'})")
    if modality == "US" or not modality:
        source = "DICOM ultrasound" if modality else "image file without DICOM tags"
        if slices > 1:
            return KindGuess("abvs", f"{source}: a volume of {slices} slices (automated breast volume scan)")
        if any(word in image_type for word in ELASTO_WORDS):
            return KindGuess("us_elastography", f"{source}: ImageType {image_type}")
        if any(word in image_type for word in DOPPLER_WORDS):
            return KindGuess("us_doppler", f"{source}: ImageType {image_type}")
        if colour:
            return KindGuess(None, f"{source}: a colour frame, Doppler or elastography cannot be told from its tags")
        if modality:
            return KindGuess("us_bmode", f"{source}: a grey 2D frame")
        return KindGuess(None, f"{source}: a grey 2D image could be B-mode ultrasound or a mammogram")
    return KindGuess(None, f"DICOM modality {modality} is neither ultrasound (US) nor mammography (MG)")


def checkKind(kind: str) -> str:
    """``kind`` if it is one of :data:`IMAGE_KINDS`, else ValueError listing them."""
    if kind not in IMAGE_KINDS:
        raise ValueError(f"image kind must be one of {', '.join(IMAGE_KINDS)}, got {kind!r}")
    return kind


#: DICOM tags read for recognition, as Slicer's DICOM database names them ("group,element").
DICOM_TAGS = {"Modality": "0008,0060", "SOPClassUID": "0008,0016", "ImageType": "0008,0008",
              "PhotometricInterpretation": "0028,0004", "ViewPosition": "0018,5101"}


def recogniseDicomNode(node, instance_value) -> KindGuess:
    """Kind of a volume loaded by Slicer's DICOM module (attribute ``DICOM.instanceUIDs``).

    ``instance_value(uid, "gggg,eeee") -> str`` looks a tag up; inside Slicer it is
    ``slicer.dicomDatabase.instanceValue``.
    """
    uids = (node.GetAttribute("DICOM.instanceUIDs") or "").split()
    if not uids:
        return KindGuess(None, f"{node.GetName()!r} was not loaded from DICOM: choose its kind")
    meta = {key: str(instance_value(uids[0], tag) or "").strip() for key, tag in DICOM_TAGS.items()}
    data = node.GetImageData()
    i, j, k = data.GetDimensions() if data is not None else (0, 0, 0)
    colour = data is not None and data.GetNumberOfScalarComponents() == 3
    return recogniseImageKind({key: value for key, value in meta.items() if value}, (k, j, i), colour)
