"""Transverse / sagittal / coronal planes through a lesion (SPEC 3.2, seed 004)."""

from .extract import PLANES, LesionPlanes, PlaneFrame, PlaneWindow, extract_planes, plane_crop_2d

__all__ = ["PLANES", "LesionPlanes", "PlaneFrame", "PlaneWindow", "extract_planes", "plane_crop_2d"]
