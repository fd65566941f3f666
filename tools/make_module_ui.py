"""Regenerate BreastUSAI.ui (Qt Designer XML) from the section list below.

    python tools/make_module_ui.py

Kept as code so the panel's structure is reviewable in one screen; the .ui file it writes
is what Slicer loads (and what Qt Designer can open and edit).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

# (section title, object name, [(label or None, widget class, object name, {property: value})])
SECTIONS = [
    ("Input", "inputCollapsibleButton", [
        ("Image file:", "ctkPathLineEdit", "imagePathLineEdit",
         {"toolTip": "ABVS volume, 2D ultrasound or mammogram: NRRD, NIfTI, MetaImage, PNG/JPEG or a DICOM file / series folder."}),
        (None, "QPushButton", "loadImageButton", {"text": "Load image", "toolTip": "Read the file with its geometry and recognise its kind from the DICOM tags."}),
        ("DICOM folder:", "ctkPathLineEdit", "dicomFolderPathLineEdit",
         {"filters": "ctkPathLineEdit::Dirs", "toolTip": "A folder holding one DICOM series (the file browser above picks files only)."}),
        (None, "QPushButton", "loadFolderButton", {"text": "Load DICOM folder"}),
        (None, "QPushButton", "takeFrameButton",
         {"text": "Take this frame (of a frame stack)",
          "toolTip": "Ultrasound captures / cine loops load as frames the Red view scrolls through; the AI reads one "
                     "frame: scroll to it and take it out as its own 2D image."}),
        ("Image:", "qMRMLNodeComboBox", "inputVolumeSelector",
         {"nodeTypes": ["vtkMRMLScalarVolumeNode", "vtkMRMLVectorVolumeNode"], "hideChildNodeTypes": ["vtkMRMLLabelMapVolumeNode"],
          "noneEnabled": True, "addEnabled": False,
          "removeEnabled": False, "toolTip": "The image the AI reads (background of the slice views)."}),
        ("Recognised kind:", "QLabel", "imageKindLabel", {"text": "-"}),
        ("Patient:", "QLineEdit", "patientKeyLineEdit",
         {"placeholderText": "any key, e.g. the hospital number (never exported)",
          "toolTip": "Images with the same key are one patient: the export keeps them together (one patient, one "
                     "cross-validation fold). Press Enter to set it on the image."}),
        ("Image kind:", "QComboBox", "imageKindComboBox", {"toolTip": "Set when the kind could not be recognised (e.g. PNG files)."}),
        (None, "QPushButton", "setKindButton", {"text": "Set image kind"}),
        (None, "QPushButton", "runAIButton",
         {"text": "Run AI on this image",
          "toolTip": "One click: the shipped models for this image's kind find the lesions, classify them and explain "
                     "the call (heatmap, MUP-Net prototypes), in the background with progress and Cancel."}),
    ]),
    ("Lesions && annotation", "lesionsCollapsibleButton", [
        ("Lesions:", "qMRMLNodeComboBox", "segmentationSelector",
         {"nodeTypes": ["vtkMRMLSegmentationNode"], "noneEnabled": True, "addEnabled": True, "renameEnabled": True,
          "toolTip": "Lesion segments: draw them with the Segment Editor or let the AI segment them."}),
        # its own segmentation combo hidden: it follows segmentationSelector (a connection below), and the
        # panel reads the node and the segment id from this one widget, so they always belong together
        ("Lesion:", "qMRMLSegmentSelectorWidget", "segmentSelectorWidget",
         {"segmentationNodeSelectorVisible": False, "noneEnabled": True}),
        ("Same lesions on:", "qMRMLNodeComboBox", "linkedVolumeSelector",
         {"nodeTypes": ["vtkMRMLScalarVolumeNode", "vtkMRMLVectorVolumeNode"], "noneEnabled": True, "addEnabled": False,
          "removeEnabled": False,
          "toolTip": "Another image of these lesions (the Doppler or elastography frame, the mammogram) for multimodal "
                     "MUP-Net and DL-UM; set its image kind first."}),
        (None, "QPushButton", "linkImageButton", {"text": "Link that image to these lesions"}),
        ("Pathology:", "QComboBox", "pathologyComboBox", {"toolTip": "Biopsy / follow-up result; empty when unknown."}),
        ("BI-RADS:", "QComboBox", "biradsComboBox", {}),
        ("Clinical:", "QLineEdit", "clinicalLineEdit",
         {"placeholderText": "age=52; palpable=true; shape=irregular", "toolTip": "Clinical fields of the dataset schema, name=value separated by ;"}),
        ("Note:", "QPlainTextEdit", "noteTextEdit", {"toolTip": "Free text; not exported unless asked (it may name a person)."}),
        (None, "QPushButton", "saveAnnotationButton", {"text": "Save annotation to the lesion"}),
        (None, "QPushButton", "planesButton", {"text": "Show transverse / sagittal / coronal planes",
                                               "toolTip": "Red: transverse, Yellow: sagittal, Green: coronal, through the lesion centroid."}),
    ]),
    ("AI models", "modelsCollapsibleButton", [
        ("Models folder:", "ctkPathLineEdit", "modelsFolderPathLineEdit",
         {"filters": "ctkPathLineEdit::Dirs", "toolTip": "Folder of model bundles; remembered between sessions."}),
        ("Models:", "QListWidget", "modelsListWidget", {"selectionMode": "QAbstractItemView::MultiSelection"}),
        ("Device:", "QComboBox", "deviceComboBox", {"toolTip": "auto: CUDA when present. cpu hides the GPUs."}),
        (None, "QCheckBox", "expectLesionCheckBox",
         {"text": "The image holds a lesion (annotating)",
          "toolTip": "When no region passes the threshold, outline the most probable one, marked 'below threshold', instead of none."}),
        (None, "QPushButton", "segmentButton", {"text": "Segment and classify (background)"}),
        (None, "QPushButton", "classifyButton", {"text": "Classify selected lesion"}),
        (None, "QProgressBar", "progressBar", {"value": 0}),
        ("Status:", "QLabel", "statusLabel", {"text": "-"}),
        (None, "QPushButton", "cancelButton", {"text": "Cancel"}),
        ("Log:", "QPlainTextEdit", "logTextEdit",
         {"readOnly": True, "maximumBlockCount": 500,
          "toolTip": "What the background AI run reports: each stage, each input done or failed, warnings."}),
        (None, "QPushButton", "installButton", {"text": "Install Python packages",
                                                "toolTip": "Installs what the AI needs with pip; Slicer's numpy, SimpleITK, VTK and torch stay as they are."}),
    ]),
    ("Correct lesions", "correctCollapsibleButton", [
        (None, "qMRMLSegmentEditorWidget", "segmentEditorWidget",
         {"toolTip": "Slicer's Segment Editor on the AI's lesions (selected automatically when results arrive): "
                     "paint, erase, scissors, islands; then re-classify the corrected lesion or export it."}),
    ]),
    ("Results && explanations", "resultsCollapsibleButton", [
        ("Results:", "QPlainTextEdit", "resultsTextEdit", {"readOnly": True}),
        ("Lesion:", "QComboBox", "resultLesionComboBox",
         {"toolTip": "Choose a lesion of the results: the three views jump to its transverse / sagittal / coronal "
                     "planes and its heatmap is shown. The full results table is in the table view."}),
        ("Heatmap opacity:", "ctkSliderWidget", "heatmapOpacitySlider",
         {"minimum": 0.0, "maximum": 1.0, "singleStep": 0.05, "value": 0.5}),
        ("Prototypes:", "QListWidget", "prototypeListWidget",
         {"viewMode": "QListView::IconMode", "toolTip": "MUP-Net: the matched prototype patches with their contribution scores."}),
    ]),
    ("Reader study", "readerStudyCollapsibleButton", [
        ("Reads file:", "ctkPathLineEdit", "readsFilePathLineEdit",
         {"filters": "ctkPathLineEdit::Files|ctkPathLineEdit::Writable",
          "toolTip": "CSV the reads are appended to; analyse it with: python -m BreastUSAITraining reader-study"}),
        ("Reader:", "QLineEdit", "readerLineEdit", {"placeholderText": "R1", "toolTip": "The reader's name or code."}),
        ("Group:", "QLineEdit", "readGroupLineEdit", {"placeholderText": "junior / middle / senior"}),
        ("Mode:", "QComboBox", "readModeComboBox",
         {"toolTip": "without_ai: the AI stays hidden until the read is finished; with_ai: AI results may be shown."}),
        ("Case:", "QLineEdit", "readCaseLineEdit", {"toolTip": "The case id of the dataset the image comes from."}),
        ("Lesion:", "QLineEdit", "readLesionLineEdit", {"toolTip": "The lesion id (empty when the case has one lesion)."}),
        (None, "QPushButton", "fillReadCaseButton", {"text": "Take case and lesion from the image and selected segment"}),
        (None, "QPushButton", "startReadButton", {"text": "Start read (the clock starts)"}),
        ("BI-RADS:", "QComboBox", "readBiradsComboBox", {}),
        ("Call:", "QComboBox", "readCallComboBox", {"toolTip": "Empty: malignant from BI-RADS 4A up."}),
        (None, "QPushButton", "finishReadButton", {"text": "Finish read and record it"}),
        (None, "QPushButton", "cancelReadButton", {"text": "Cancel read"}),
        ("Read:", "QLabel", "readStatusLabel", {"text": "-"}),
    ]),
    ("Export", "exportCollapsibleButton", [
        ("Export folder:", "ctkPathLineEdit", "exportFolderPathLineEdit", {"filters": "ctkPathLineEdit::Dirs|ctkPathLineEdit::Writable"}),
        (None, "QPushButton", "exportButton", {"text": "Export annotations (dataset.json)"}),
        (None, "QPushButton", "exportDicomButton",
         {"text": "Export lesions as DICOM SEG + SR (for the PACS)",
          "toolTip": "The selected lesions on the chosen DICOM image, with their area and the AI's probability and call, "
                     "as DICOM objects referencing that image; patient and study copied from it (same PACS)."}),
        ("Sample data folder:", "ctkPathLineEdit", "sampleFolderPathLineEdit", {"filters": "ctkPathLineEdit::Dirs|ctkPathLineEdit::Writable"}),
        (None, "QPushButton", "generateSampleButton", {"text": "Generate phantom sample dataset"}),
        ("Dataset folder:", "ctkPathLineEdit", "datasetFolderPathLineEdit", {"filters": "ctkPathLineEdit::Dirs"}),
        (None, "QPushButton", "validateDatasetButton", {"text": "Validate dataset"}),
        ("Report:", "QPlainTextEdit", "datasetReportTextEdit", {"readOnly": True}),
    ]),
]
MRML_WIDGETS = ("qMRMLNodeComboBox", "qMRMLSegmentSelectorWidget", "qMRMLSegmentEditorWidget")


def _property(name: str, value) -> str:
    if isinstance(value, bool):
        body = f"<bool>{'true' if value else 'false'}</bool>"
    elif isinstance(value, (int, float)) and name in ("value", "minimum", "maximum", "singleStep") and isinstance(value, float):
        body = f"<double>{value}</double>"
    elif isinstance(value, int):
        body = f"<number>{value}</number>"
    elif isinstance(value, list):
        body = "<stringlist>" + "".join(f"<string>{escape(v)}</string>" for v in value) + "</stringlist>"
    elif name == "filters":
        body = f"<set>{value}</set>"
    elif "::" in str(value):
        body = f"<enum>{value}</enum>"
    else:
        body = f"<string>{escape(str(value))}</string>"
    return f'<property name="{name}">{body}</property>'


def build() -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<ui version="4.0">', " <class>BreastUSAI</class>",
           ' <widget class="qMRMLWidget" name="BreastUSAI">', '  <layout class="QVBoxLayout" name="verticalLayout">']
    mrml = []
    for title, section, rows in SECTIONS:
        out += ["   <item>", f'    <widget class="ctkCollapsibleButton" name="{section}">', f"     {_property('text', title.replace('&&', '&'))}",
                f'     <layout class="QFormLayout" name="{section}Layout">']
        for row, (label, cls, name, props) in enumerate(rows):
            if label:
                out += [f'      <item row="{row}" column="0">', f'       <widget class="QLabel" name="{name}Label">',
                        f"        {_property('text', label)}", "       </widget>", "      </item>",
                        f'      <item row="{row}" column="1">']
            else:
                out.append(f'      <item row="{row}" column="0" colspan="2">')
            out.append(f'       <widget class="{cls}" name="{name}">')
            out += [f"        {_property(k, v)}" for k, v in props.items()]
            out += ["       </widget>", "      </item>"]
            if cls in MRML_WIDGETS:
                mrml.append(name)
        out += ["     </layout>", "    </widget>", "   </item>"]
    out += ['   <item><spacer name="verticalSpacer"><property name="orientation"><enum>Qt::Vertical</enum></property></spacer></item>',
            "  </layout>", " </widget>", " <customwidgets>"]
    for cls, header, container in (("qMRMLWidget", "qMRMLWidget.h", 1), ("ctkCollapsibleButton", "ctkCollapsibleButton.h", 1),
                                   ("ctkPathLineEdit", "ctkPathLineEdit.h", 0), ("ctkSliderWidget", "ctkSliderWidget.h", 0),
                                   ("qMRMLNodeComboBox", "qMRMLNodeComboBox.h", 0),
                                   ("qMRMLSegmentSelectorWidget", "qMRMLSegmentSelectorWidget.h", 0),
                                   ("qMRMLSegmentEditorWidget", "qMRMLSegmentEditorWidget.h", 0)):
        out += ["  <customwidget>", f"   <class>{cls}</class>", "   <extends>QWidget</extends>", f"   <header>{header}</header>",
                f"   <container>{container}</container>", "  </customwidget>"]
    out += [" </customwidgets>", " <resources/>", " <connections>"]
    for name in mrml:
        out += ["  <connection>", "   <sender>BreastUSAI</sender>", "   <signal>mrmlSceneChanged(vtkMRMLScene*)</signal>",
                f"   <receiver>{name}</receiver>", "   <slot>setMRMLScene(vtkMRMLScene*)</slot>", "  </connection>"]
    out += ["  <connection>", "   <sender>segmentationSelector</sender>", "   <signal>currentNodeChanged(vtkMRMLNode*)</signal>",
            "   <receiver>segmentSelectorWidget</receiver>", "   <slot>setCurrentNode(vtkMRMLNode*)</slot>", "  </connection>"]
    out += [" </connections>", "</ui>", ""]
    return "\n".join(out)


if __name__ == "__main__":
    path = Path(__file__).resolve().parents[1] / "BreastUSAI" / "Resources" / "UI" / "BreastUSAI.ui"
    path.write_text(build(), encoding="utf-8")
    print(f"wrote {path}")
