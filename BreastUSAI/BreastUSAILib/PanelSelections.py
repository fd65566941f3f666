"""The panel's selections kept in the scene, so a saved scene reopens as it was: one
``vtkMRMLScriptedModuleNode`` (attribute ``ModuleName`` = BreastUSAI, the way Slicer's own
parameter nodes are found) holding the chosen image, lesions and linked image as node references
and the device and heatmap opacity as parameters. Saved and loaded with the scene by MRML itself."""

from __future__ import annotations

from typing import Any

MODULE_NAME = "BreastUSAI"
NODE_NAME = "BreastUSAI panel"
REFERENCES = {"inputVolume": "InputVolume", "segmentation": "LesionSegmentation", "linkedVolume": "LinkedVolume"}
PARAMETERS = {"device": ("Device", "auto"), "heatmapOpacity": ("HeatmapOpacity", "0.5")}


def selectionsNode(scene, create: bool = True):
    """The scene's BreastUSAI parameter node (created when missing and ``create``)."""
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLScriptedModuleNode")):
        node = scene.GetNthNodeByClass(index, "vtkMRMLScriptedModuleNode")
        if node.GetAttribute("ModuleName") == MODULE_NAME:
            return node
    if not create:
        return None
    node = scene.AddNewNodeByClass("vtkMRMLScriptedModuleNode", NODE_NAME)
    node.SetAttribute("ModuleName", MODULE_NAME)
    node.SetHideFromEditors(True)
    return node


def saveSelections(scene, **chosen: Any) -> None:
    """Record the given selections (a node, None to clear; device text; opacity number)."""
    node = selectionsNode(scene)
    for key, value in chosen.items():
        if key in REFERENCES:
            node.SetNodeReferenceID(REFERENCES[key], value.GetID() if value is not None else None)
        elif key in PARAMETERS:
            if key == "device" and value not in ("auto", "cpu", "cuda"):
                raise ValueError(f"device must be auto, cpu or cuda, got {value!r}")
            if key == "heatmapOpacity" and not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"heatmap opacity must be within 0..1, got {value!r}")
            node.SetParameter(PARAMETERS[key][0], str(value))
        else:
            raise KeyError(f"unknown panel selection {key!r}; known: {', '.join([*REFERENCES, *PARAMETERS])}")


def panelSelections(scene) -> dict[str, Any]:
    """The recorded selections: nodes (None when unset or removed), device, opacity (float)."""
    node = selectionsNode(scene, create=False)
    found: dict[str, Any] = {key: None for key in REFERENCES}
    found.update({key: default for key, (_, default) in PARAMETERS.items()})
    if node is not None:
        for key, role in REFERENCES.items():
            found[key] = node.GetNodeReference(role)
        for key, (name, default) in PARAMETERS.items():
            found[key] = node.GetParameter(name) or default
    found["heatmapOpacity"] = float(found["heatmapOpacity"])
    return found
