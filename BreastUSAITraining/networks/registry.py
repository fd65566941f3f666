"""Network name -> constructor. A bundle's ``inference.json`` names one of these with
its arguments; nothing else can become a network."""

from __future__ import annotations

from typing import Any, Callable

from torch import nn

from ..dlum.network import DLUM
from ..mupnet.network import MUPNet
from ..radiomics.network import DeepRadiomicsModel
from .segmentation import build_segmentation_network
from .three_plane import ThreePlaneClassifier

_CONSTRUCTORS: dict[str, Callable[..., nn.Module]] = {
    "segmentation": build_segmentation_network,
    "three_plane": ThreePlaneClassifier,
    "mupnet": MUPNet,
    "dlum": DLUM,
    "deep_radiomics": DeepRadiomicsModel,
}


def network_config(name: str, **arguments: Any) -> dict[str, Any]:
    """The JSON description stored in a bundle."""
    if name not in _CONSTRUCTORS:
        raise ValueError(f"unknown network {name!r}")
    return {"name": name, "arguments": arguments}


def build_network(config: dict[str, Any]) -> nn.Module:
    """Build the network a bundle describes (ValueError on an unknown name or argument)."""
    name = config.get("name")
    if name not in _CONSTRUCTORS:
        raise ValueError(f"unknown network {name!r}; known: {', '.join(_CONSTRUCTORS)}")
    try:
        return _CONSTRUCTORS[name](**dict(config.get("arguments", {})))
    except TypeError as error:
        raise ValueError(f"network {name!r}: bad arguments ({error})") from None


def register_network(name: str, constructor: Callable[..., nn.Module]) -> None:
    """Add a model family's network (used by the classifier packages)."""
    _CONSTRUCTORS[name] = constructor
