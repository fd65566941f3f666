"""DL-UM's loss (SPEC 3.4): focal loss on the final head and on every block head of every
branch (averaged), plus the mean absolute difference between the US and MG branches'
block-5 probabilities (the two views of one lesion should agree)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

GAMMA, ALPHA, CONSISTENCY = 2.0, 0.25, 1.0


def focal_loss(logits: torch.Tensor, labels: torch.Tensor, gamma: float = GAMMA, alpha: float = ALPHA) -> torch.Tensor:
    """Binary focal loss (Lin et al. 2017) of logits (B,) against 0/1 labels, batch mean."""
    labels = labels.float()
    ce = F.binary_cross_entropy_with_logits(logits.float(), labels, reduction="none")
    p = torch.sigmoid(logits.float())
    p_true = p * labels + (1 - p) * (1 - labels)
    weight = alpha * labels + (1 - alpha) * (1 - labels)
    return (weight * (1 - p_true) ** gamma * ce).mean()


def dlum_loss(final: torch.Tensor, block_logits: dict[str, list[torch.Tensor]], labels: torch.Tensor) -> dict[str, torch.Tensor]:
    heads = [logit for logits in block_logits.values() for logit in logits]
    deep = torch.stack([focal_loss(logit, labels) for logit in heads]).mean()
    main = focal_loss(final, labels)
    consistency = torch.zeros((), device=final.device)
    if set(block_logits) == {"us", "mg"}:
        consistency = (torch.sigmoid(block_logits["us"][-1].float()) - torch.sigmoid(block_logits["mg"][-1].float())).abs().mean()
    return {"total": main + deep + CONSISTENCY * consistency, "final": main, "deep_supervision": deep, "consistency": consistency}
