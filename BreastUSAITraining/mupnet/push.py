"""Push (projection): each prototype becomes the nearest latent patch of a training lesion of
its class, so it can be shown as an image patch (SPEC 3.3).

Domain-knowledge constraint on where prototypes may come from:

* B-mode and colour Doppler: benign prototypes from benign lesions assessed BI-RADS 3 or 4A,
  malignant prototypes from malignant lesions assessed 4C or 5;
* elastography: benign from BI-RADS 3, malignant from BI-RADS 5;
* BI-RADS 4B is never a source.

When no lesion of a class meets the rule (BI-RADS missing, as in BUSI, or too few
lesions) the class falls back to pathology alone and the report says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..training.crop_dataset import stack_crops
from .network import MUPNet

PUSH_RULES: dict[str, tuple[set[str], set[str]]] = {
    "us_bmode": ({"3", "4A"}, {"4C", "5"}),
    "us_doppler": ({"3", "4A"}, {"4C", "5"}),
    "us_elastography": ({"3"}, {"5"}),
}


def eligible(sample: dict[str, Any], modality: str, cls: int) -> bool:
    """True when the sample may give a class-``cls`` prototype of ``modality`` under the BI-RADS rule."""
    allowed = PUSH_RULES.get(modality, PUSH_RULES["us_bmode"])[cls]
    birads = (sample.get("birads") or "").upper()
    return sample["label"] == cls and birads in allowed and birads != "4B"


def high_similarity_box(similarity: torch.Tensor, size: int, percentile: float = 95.0) -> tuple[int, int, int, int]:
    """(row0, col0, row1, col1), inclusive, of the upsampled similarity map's top-5% pixels."""
    upsampled = F.interpolate(similarity[None, None], size=(size, size), mode="bilinear", align_corners=False)[0, 0]
    values = upsampled.cpu().numpy()
    rows, cols = np.nonzero(values >= np.percentile(values, percentile))
    return int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())


@torch.no_grad()
def push_prototypes(model: MUPNet, samples: list[dict[str, Any]], device: torch.device, batch_size: int = 32) -> dict[str, Any]:
    """Project every prototype; updates the prototypes and the ``prototype_source/cell/box`` buffers.

    Returns the constraint report: per modality and class, the rule used and the candidate count.
    """
    was_training = model.training
    model.eval()
    x_all = stack_crops(samples)
    size = x_all.shape[-1]
    report: dict[str, Any] = {}
    for m_index, modality in enumerate(model.modalities):
        latents = []
        for start in range(0, len(samples), batch_size):
            parts = model.split(x_all[start : start + batch_size].to(device))
            latents.append(model.latent(modality, parts[modality]).float().cpu())
        z = torch.cat(latents)  # (n, D, H, W)
        n, dim, height, width = z.shape
        cells = z.permute(0, 2, 3, 1).reshape(-1, dim)  # (n*H*W, D)
        report[modality] = {}
        for cls, name in ((0, "benign"), (1, "malignant")):
            constrained = [i for i, s in enumerate(samples) if eligible(s, modality, cls)]
            if constrained:
                candidates, rule = constrained, "BI-RADS " + "/".join(sorted(PUSH_RULES.get(modality, PUSH_RULES["us_bmode"])[cls]))
            else:
                candidates = [i for i, s in enumerate(samples) if s["label"] == cls]
                rule = "pathology only (no lesion met the BI-RADS rule)"
            report[modality][name] = {"rule": rule, "candidates": len(candidates)}
            if not candidates:
                continue
            allowed = torch.zeros(n, dtype=torch.bool)
            allowed[candidates] = True
            allowed_cells = allowed.repeat_interleave(height * width)
            pool = cells[allowed_cells]
            pool_index = torch.nonzero(allowed_cells).squeeze(1)
            for j_local in range(model.per_modality):
                j = m_index * model.per_modality + j_local
                if int(model.prototype_class[j]) != cls:
                    continue
                prototype = model.prototypes[modality][j_local].float().cpu()
                best = int(((pool - prototype) ** 2).sum(dim=1).argmin())
                flat = int(pool_index[best])
                source, cell = divmod(flat, height * width)
                row, col = divmod(cell, width)
                model.prototypes[modality].data[j_local] = cells[flat].to(model.prototypes[modality].device)
                d = ((z[source] - cells[flat][:, None, None]) ** 2).sum(0)
                box = high_similarity_box(MUPNet.similarity(d), size)
                model.prototype_source[j] = source
                model.prototype_cell[j] = torch.tensor([row, col])
                model.prototype_box[j] = torch.tensor(box)
    model.train(was_training)
    return report
