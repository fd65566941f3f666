"""Heatmaps over the image: a scalar volume in the slice views' foreground layer with its
own colour table, an opacity the user sets, the image staying in the background.

The colour table ("BreastUSAI Heatmap") runs from dark violet through red and yellow to
white (an "inferno"-like ramp, readable over grey ultrasound), and its opacity rises with
the evidence: **zero evidence is fully transparent** (alpha 0) and the colours reach full
opacity at 0.3, so at any slider setting the image is never dimmed where the model saw
nothing; values below ``TRANSPARENT_BELOW`` are also thresholded out of the layer.
Heatmap values are in [0, 1] and the window is fixed to that range so colours mean the
same thing on every lesion.
"""

from __future__ import annotations

import numpy as np

from BreastUSAITraining.imagefiles import ImageData

from .HeadlessSlicer import sliceCompositeNodes
from .SceneVolumes import volumeNodeFromImage

COLOUR_TABLE_NAME = "BreastUSAI Heatmap"
HEATMAP_ATTRIBUTE = "BreastUSAI.Heatmap"
TRANSPARENT_BELOW = 0.02
OPAQUE_FROM = 0.3
RAMP = [(0.0, (0.0, 0.0, 0.02)), (0.25, (0.34, 0.06, 0.43)), (0.5, (0.73, 0.21, 0.33)),
        (0.75, (0.98, 0.55, 0.04)), (1.0, (0.99, 1.0, 0.64))]


def heatmapColourTable(scene):
    """The scene's heatmap colour table node (created once, 256 entries)."""
    existing = scene.GetFirstNodeByName(COLOUR_TABLE_NAME)
    if existing is not None:
        return existing
    table = scene.AddNewNodeByClass("vtkMRMLColorTableNode", COLOUR_TABLE_NAME)
    table.SetTypeToUser()
    table.SetNumberOfColors(256)
    positions = [p for p, _ in RAMP]
    for index in range(256):
        t = index / 255
        rgb = [float(np.interp(t, positions, [c[channel] for _, c in RAMP])) for channel in range(3)]
        alpha = float(np.clip((t - TRANSPARENT_BELOW) / (OPAQUE_FROM - TRANSPARENT_BELOW), 0.0, 1.0))
        table.SetColor(index, f"{index}", *rgb, alpha)
    table.SetAttribute("Category", "BreastUSAI")
    return table


def addHeatmapVolume(scene, heatmap: ImageData, name: str, source_volume=None):
    """A scalar volume node of ``heatmap`` (values in [0, 1]) shown with the heatmap colours."""
    values = heatmap.array
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1.0001:
        raise ValueError(f"heatmap {name!r} must hold finite values in [0, 1]")
    node = volumeNodeFromImage(scene, heatmap, name)
    display = node.GetDisplayNode()
    display.SetAndObserveColorNodeID(heatmapColourTable(scene).GetID())
    display.AutoWindowLevelOff()
    display.SetWindowLevelMinMax(0.0, 1.0)
    display.SetApplyThreshold(1)
    display.SetLowerThreshold(TRANSPARENT_BELOW)
    display.SetUpperThreshold(1.0)
    node.SetAttribute(HEATMAP_ATTRIBUTE, "1")
    if source_volume is not None:
        node.SetNodeReferenceID("BreastUSAI.Source", source_volume.GetID())
    return node


def showHeatmap(scene, heatmap_node, background_node, opacity: float = 0.5) -> None:
    """Every slice view: ``background_node`` behind, ``heatmap_node`` in front at ``opacity``."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    for composite in sliceCompositeNodes(scene).values():
        composite.SetBackgroundVolumeID(background_node.GetID())
        composite.SetForegroundVolumeID(heatmap_node.GetID() if heatmap_node is not None else None)
        composite.SetForegroundOpacity(opacity)


def setHeatmapOpacity(scene, opacity: float) -> None:
    """The opacity slider: foreground opacity of every slice view."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    for composite in sliceCompositeNodes(scene).values():
        composite.SetForegroundOpacity(opacity)
