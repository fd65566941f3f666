"""Network name -> constructor. A bundle's ``inference.json`` names one of these with
its arguments; nothing else can become a network.

This floor knows its own networks (segmentation, three-plane); a model family adds its
network with :func:`register_network` when its network module is imported (its predictor
and its training import it), so nothing here imports a family package.
"""

from __future__ import annotations

from typing import Any, Callable

from torch import nn

from .segmentation import build_segmentation_network
from .three_plane import ThreePlaneClassifier

_CONSTRUCTORS: dict[str, Callable[..., nn.Module]] = {
    "segmentation": build_segmentation_network,
    "three_plane": ThreePlaneClassifier,
}


def _unknown(name: Any) -> ValueError:
    return ValueError(f"unknown network {name!r}; known: {', '.join(_CONSTRUCTORS)} (a model family's network is "
                      "known once its package is imported: load the bundle through its family)")


def network_config(name: str, **arguments: Any) -> dict[str, Any]:
    """The JSON description stored in a bundle."""
    if name not in _CONSTRUCTORS:
        raise _unknown(name)
    return {"name": name, "arguments": arguments}


def build_network(config: dict[str, Any]) -> nn.Module:
    """Build the network a bundle describes (ValueError on an unknown name or argument)."""
    name = config.get("name")
    if name not in _CONSTRUCTORS:
        raise _unknown(name)
    try:
        return _CONSTRUCTORS[name](**dict(config.get("arguments", {})))
    except TypeError as error:
        raise ValueError(f"network {name!r}: bad arguments ({error})") from None


def register_network(name: str, constructor: Callable[..., nn.Module]) -> None:
    """Add a model family's network (each family's network module calls this once)."""
    _CONSTRUCTORS[name] = constructor
