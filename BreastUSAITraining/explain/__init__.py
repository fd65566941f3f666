"""Explanations mapped back to the image: heatmaps on the input grid and PNG overlays."""

from .heatmap import HeatmapBox, heatmap_from_planes
from .overlay import save_image_overlay, save_plane_overlays

__all__ = ["HeatmapBox", "heatmap_from_planes", "save_image_overlay", "save_plane_overlays"]
