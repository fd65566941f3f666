"""Transverse / sagittal / coronal planes through a lesion (SPEC 3.2, seed 004)."""

from .extract import PLANES, LesionPlanes, PlaneFrame, PlaneWindow, crop_lesion_2d, extract_planes, plane_crop_2d

__all__ = ["crop_lesion_2d", "PLANES", "LesionPlanes", "PlaneFrame", "PlaneWindow", "extract_planes", "plane_crop_2d"]
