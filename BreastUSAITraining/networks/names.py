"""The names networks are chosen by (CLI choices and option checks read these): torch-free."""

from __future__ import annotations

#: lesion segmentation networks (:mod:`.segmentation`)
SEGMENTATION_ARCHS = ("unet", "flexunet-effb0")
#: the plane sets of the three-plane classifier (:mod:`.three_plane`)
PLANE_SETS = ("T", "S", "C", "TS", "TSC")
PLANE_NAMES = {"T": "transverse", "S": "sagittal", "C": "coronal"}
#: MONAI ResNets a classifier branch can be, with their feature widths
RESNET_FEATURES = {"resnet18": 512, "resnet34": 512, "resnet50": 2048}
RESNETS = tuple(RESNET_FEATURES)
