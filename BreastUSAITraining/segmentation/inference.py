"""A segmentation bundle applied to a 2D image or an ABVS volume.

2D bundles run slice by slice (each transverse k-slice of a volume, in batches),
with a left-right flip averaged in (test-time augmentation); the probability is
resized back to every slice's own grid, so the lesion mask lands on the input's
voxels. 3D bundles run a sliding window over the whole volume. Probabilities are
kept as uint8 (0..255) to hold a full ABVS volume in 147 MB.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from monai.inferers import sliding_window_inference

from ..bundle import Bundle
from ..errors import InputFileError
from ..imagefiles import ImageData
from ..imagefiles.colour import to_grey
from ..lesions import Lesion, lesions_from_mask, most_probable_region
from ..networks import build_network
from ..preprocessing import normalise_intensity, resize_batch


def network_from_bundle(bundle: Bundle, device: torch.device) -> torch.nn.Module:
    """The bundle's network with its verified weights, in eval mode on ``device``."""
    try:
        network = build_network(bundle.inference["network"])
        network.load_state_dict(bundle.state_dict, strict=True)
    except (KeyError, ValueError, RuntimeError) as error:
        raise InputFileError(bundle.root, f"weights do not fit the network the bundle describes ({str(error)[:300]})") from None
    bundle.state_dict.clear()  # the network holds the weights now; do not keep a second copy in memory
    return network.to(device).eval()


class LesionSegmenter:
    """Lesion probability and lesion objects from a segmentation bundle."""

    def __init__(self, bundle: Bundle, device: torch.device, batch_size: int = 8) -> None:
        if bundle.task != "segmentation":
            raise InputFileError(bundle.root, f"bundle is a {bundle.task!r} model, not a segmentation model")
        self.bundle = bundle
        self.device = device
        self.batch_size = batch_size
        self.network = network_from_bundle(bundle, device)
        self.spatial = bundle.inference.get("spatial", "2d")
        self.input_size = tuple(int(v) for v in bundle.inference["input_size"])
        self.post = dict(bundle.inference.get("postprocessing", {}))

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        """Lesion probability (B, H, W) of unit-range planes (B, 1, H, W), flip-averaged."""
        with torch.no_grad(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            p = torch.softmax(self.network(x).float(), dim=1)[:, 1]
            if self.post.get("flip_tta", True):
                p = 0.5 * (p + torch.softmax(self.network(torch.flip(x, dims=[-1])).float(), dim=1)[:, 1].flip(dims=[-1]))
        return p

    def probability(self, image: ImageData, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Lesion probability (K, J, I) uint8 (0..255) on the image's grid."""
        array = to_grey(image.array) if image.is_colour else image.array
        if self.spatial == "3d":
            if image.is_2d:
                raise InputFileError(image.source, "this segmentation model is 3D and needs an ABVS volume, got a 2D image")
            x = torch.as_tensor(normalise_intensity(array), device=self.device)[None, None]
            with torch.no_grad():
                logits = sliding_window_inference(x, self.input_size, sw_batch_size=4, predictor=self.network, overlap=0.25)
            if progress:
                progress(1, 1)
            return np.clip(np.rint(torch.softmax(logits.float(), 1)[0, 1].cpu().numpy() * 255), 0, 255).astype(np.uint8)
        n_slices, rows, columns = image.shape_kji
        out = np.zeros((n_slices, rows, columns), dtype=np.uint8)
        for start in range(0, n_slices, self.batch_size):
            chunk = array[start : start + self.batch_size]
            unit = resize_batch(np.stack([normalise_intensity(s) for s in chunk]), self.input_size)
            p = self._forward(unit[:, None].to(self.device)).cpu()
            back = resize_batch(p, (rows, columns))
            out[start : start + len(chunk)] = back.mul_(255.0).round_().clamp_(0, 255).to(torch.uint8).numpy()
            if progress:
                progress(min(start + self.batch_size, n_slices), n_slices)
        return out

    def lesions(self, image: ImageData, probability: np.ndarray, threshold: float | None = None,
                expect_lesion: bool = False) -> list[Lesion]:
        """Post-processing of SPEC 3.1 with the bundle's defaults (``threshold`` overrides).

        ``expect_lesion``: the image is known to hold a lesion (a radiologist annotating it);
        when nothing passes the threshold, the most probable region is returned, tagged as
        below threshold, instead of nothing."""
        level = float(threshold if threshold is not None else self.post.get("threshold", 0.5))
        mask = probability >= int(round(level * 255))
        min_size_mm, min_voxels = float(self.post.get("min_size_mm", 4.0)), int(self.post.get("min_voxels", 50))
        found = lesions_from_mask(mask, image.geometry, probability, min_size_mm, min_voxels)
        if found or not expect_lesion:
            return found
        return most_probable_region(probability, image.geometry, min_size_mm, min_voxels)
