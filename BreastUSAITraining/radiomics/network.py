"""Deep-learning radiomics networks (SPEC 3.5).

* CNNs on one grey lesion ROI ``(B, 1, S, S)``:
  - ``vgg11``: VGG11 with BatchNorm (64, M, 128, M, 256 x2, M, 512 x2, M, 512 x2, M), global
    pooling, FC -> FC (the penultimate **deep features**) -> 2 classes (CLDLR, seed 001);
  - ``resnet50`` / ``resnet18``: MONAI ResNet whose FC is replaced by FC -> 128-d **embedding**
    -> 2 classes (DLR_LH / DLR_BM, seed 003).
* :class:`DeepRadiomicsModel`: the CNN plus the second stage on [deep features + clinical
  vector]: a calibrated RBF-SVM (CLDLR) or a small MLP (DLR, on embedding + age). The SVM is
  stored as tensors (support vectors, dual coefficients, intercept, gamma, Platt a / b), so a
  bundle never holds a pickle.
"""

from __future__ import annotations

import torch
from monai.networks.nets import resnet
from torch import nn

from ..networks.registry import register_network

VGG11 = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
RESNETS = {"resnet18": (resnet.resnet18, 512), "resnet50": (resnet.resnet50, 2048)}


class RadiomicsCNN(nn.Module):
    """A CNN returning logits and, on request, its deep features / embedding."""

    def __init__(self, arch: str = "vgg11", width: float = 1.0, feature_dim: int | None = None) -> None:
        super().__init__()
        self.arch = arch
        if arch == "vgg11":
            layers: list[nn.Module] = []
            channels = 1
            for item in VGG11:
                if item == "M":
                    layers.append(nn.MaxPool2d(2))
                else:
                    out = max(4, int(round(item * width)))
                    layers += [nn.Conv2d(channels, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
                    channels = out
            self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
            self.feature_dim = feature_dim or max(16, int(round(512 * width)))
            self.neck = nn.Sequential(nn.Linear(channels, self.feature_dim), nn.ReLU(inplace=True), nn.Dropout(0.5),
                                      nn.Linear(self.feature_dim, self.feature_dim), nn.ReLU(inplace=True))
        elif arch in RESNETS:
            make, channels = RESNETS[arch]
            self.features = make(spatial_dims=2, n_input_channels=1, conv1_t_stride=2, feed_forward=False)
            self.feature_dim = feature_dim or 128
            self.neck = nn.Sequential(nn.Linear(channels, self.feature_dim), nn.ReLU(inplace=True))
        else:
            raise ValueError(f"unknown radiomics CNN {arch!r}; choose vgg11, resnet18 or resnet50")
        self.classifier = nn.Sequential(nn.Dropout(0.3), nn.Linear(self.feature_dim, 2))

    def forward(self, x: torch.Tensor, with_features: bool = False):
        features = self.neck(self.features(x))
        logits = self.classifier(features)
        return (logits, features) if with_features else logits

    @property
    def cam_layer(self) -> str:
        """Name (inside this CNN) of the last convolutional stage, for Grad-CAM."""
        if self.arch == "vgg11":
            last = max(i for i, m in enumerate(self.features) if isinstance(m, nn.ReLU))
            return f"features.{last}"
        return "features.layer4"


class DeepRadiomicsModel(nn.Module):
    """CNN + second stage; ``forward(x, clinical)`` -> malignant (or high-risk) probability (B,)."""

    def __init__(self, arch: str = "vgg11", width: float = 1.0, feature_dim: int | None = None, clinical_dim: int = 0,
                 head: str = "svm", n_support: int = 1, mlp_hidden: int = 32, use_deep_features: bool = True) -> None:
        super().__init__()
        self.cnn = RadiomicsCNN(arch, width, feature_dim)
        self.head, self.use_deep_features = head, use_deep_features
        total = (self.cnn.feature_dim if use_deep_features else 0) + clinical_dim
        self.register_buffer("feature_mean", torch.zeros(total))
        self.register_buffer("feature_scale", torch.ones(total))
        if head == "svm":
            self.register_buffer("support_vectors", torch.zeros(n_support, total))
            self.register_buffer("dual_coef", torch.zeros(n_support))
            self.register_buffer("svm_params", torch.zeros(4))  # intercept, gamma, Platt a, Platt b
        elif head == "mlp":
            self.mlp = nn.Sequential(nn.Linear(total, mlp_hidden), nn.ReLU(inplace=True), nn.Linear(mlp_hidden, 2))
        else:
            raise ValueError("head must be svm or mlp")

    def second_stage_input(self, x: torch.Tensor, clinical: torch.Tensor) -> torch.Tensor:
        parts = [self.cnn(x, with_features=True)[1]] if self.use_deep_features else []
        if clinical.shape[1]:
            parts.append(clinical.float())
        return (torch.cat(parts, dim=1) - self.feature_mean) / self.feature_scale

    def probability_from_features(self, features: torch.Tensor) -> torch.Tensor:
        if self.head == "svm":
            intercept, gamma, a, b = self.svm_params
            kernel = torch.exp(-gamma * torch.cdist(features.double(), self.support_vectors.double()) ** 2)
            decision = kernel @ self.dual_coef.double() + intercept
            return (1.0 / (1.0 + torch.exp(a * decision + b))).float()
        return torch.softmax(self.mlp(features).float(), dim=1)[:, 1]

    def forward(self, x: torch.Tensor, clinical: torch.Tensor) -> torch.Tensor:
        return self.probability_from_features(self.second_stage_input(x, clinical))


register_network("deep_radiomics", DeepRadiomicsModel)
