"""A picture of a dataset: one row per case, every image with its lesion outline."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..dataset.contract import Dataset, LesionItem  # noqa: E402
from ..dataset.schema import MODALITIES  # noqa: E402
from ..imagefiles import read_image, read_segmentation  # noqa: E402
from .figures import save_figure  # noqa: E402


def _view(item: LesionItem, dataset: Dataset, modality: str) -> tuple[np.ndarray, np.ndarray | None, str]:
    """A 2D view of one image (ABVS: the transverse slice through the lesion centre) and its mask."""
    image = read_image(dataset.path(item.images[modality]), colour="keep")
    mask = None
    if modality in item.segmentation and item.segment:
        mask = read_segmentation(dataset.path(item.segmentation[modality])).segment(item.segment).mask
    if image.is_2d:
        return image.plane, None if mask is None else mask[0], modality
    k = int(np.round(np.argwhere(mask).mean(axis=0)[0])) if mask is not None and mask.any() else image.array.shape[0] // 2
    return image.array[k], None if mask is None else mask[k], f"{modality} (transverse slice {k})"


def plot_dataset_overview(dataset: Dataset, out_png: str | Path, max_cases: int = 6, dpi: int = 80) -> Path:
    """Write a PNG showing up to ``max_cases`` labelled cases of ``dataset``, all modalities."""
    items = [i for i in dataset.items if i.pathology in ("benign", "malignant")]
    # one benign and one malignant case of each kind of case (set of modalities), in turn
    kinds: dict[tuple[str, ...], list[LesionItem]] = {}
    for item in items:
        kinds.setdefault(tuple(sorted(item.images)), []).append(item)
    chosen: list[LesionItem] = []
    for kind_items in kinds.values():
        for pathology in ("benign", "malignant"):
            first = next((i for i in kind_items if i.pathology == pathology), None)
            if first is not None and len(chosen) < max_cases:
                chosen.append(first)
    columns = [m for m in MODALITIES if any(m in i.images for i in chosen)]
    fig, axes = plt.subplots(len(chosen), len(columns), figsize=(3.2 * len(columns), 3.0 * len(chosen)), squeeze=False)
    for row, item in enumerate(chosen):
        for col, modality in enumerate(columns):
            ax = axes[row][col]
            ax.axis("off")
            if modality not in item.images:
                continue
            plane, mask, title = _view(item, dataset, modality)
            ax.imshow(plane, cmap=None if plane.ndim == 3 else "gray")
            if mask is not None and mask.any():
                ax.contour(mask, levels=[0.5], colors="yellow", linewidths=0.8)
            ax.set_title(f"{item.case_id} {title}\n{item.pathology}, BI-RADS {item.birads or '?'}", fontsize=8)
    fig.suptitle(f"{dataset.name}: lesion outlines in yellow", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out_png, dpi)
