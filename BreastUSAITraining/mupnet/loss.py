"""MUP-Net's loss (SPEC 3.3): CE + 0.8 * cluster - 0.08 * separation + 1e-4 * L1.

cluster    = batch mean of the smallest distance from any patch to any prototype of the
             sample's own class (pulls patches and own-class prototypes together)
separation = batch mean of the smallest distance to any prototype of the other class
             (subtracted: pushes them apart)
L1         = |last-layer weights| from prototypes to the class they do not belong to
(the working convention of ProtoPNet and of the authors' code; the paper's eq. 6 prints
the coefficients against swapped names).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

CLUSTER, SEPARATION, L1 = 0.8, 0.08, 1e-4


def mupnet_loss(logits: torch.Tensor, min_distances: torch.Tensor, labels: torch.Tensor, prototype_class: torch.Tensor,
                last_layer_weight: torch.Tensor, class_identity: torch.Tensor, use_l1: bool = True) -> dict[str, torch.Tensor]:
    """The total and its parts. ``min_distances`` (B, P); ``prototype_class`` (P,)."""
    own = prototype_class[None, :] == labels[:, None]
    big = min_distances.detach().max() + 1.0
    cluster = torch.where(own, min_distances, big).min(dim=1).values.mean()
    separation = torch.where(~own, min_distances, big).min(dim=1).values.mean()
    l1 = (last_layer_weight * (1 - class_identity)).abs().sum()
    ce = F.cross_entropy(logits.float(), labels)
    total = ce + CLUSTER * cluster - SEPARATION * separation + (L1 * l1 if use_l1 else 0.0)
    return {"total": total, "cross_entropy": ce, "cluster": cluster, "separation": separation, "l1": l1}
