"""Networks, built by name from a bundle's inference config (never unpickled).

* :mod:`.names`        - the names networks are chosen by (torch-free)
* :mod:`.segmentation` - MONAI UNet and FlexibleUNet (EfficientNet-b0 encoder), 2D or 3D
* :mod:`.three_plane`  - one ResNet per ABVS plane, add / concat fusion (seed 004)
* :mod:`.registry`     - name -> constructor, the only way a bundle becomes a network

The package imports torch only when a network is built (``names`` stays light).
"""

from typing import Any

__all__ = ["build_network", "network_config", "register_network"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import registry

        return getattr(registry, name)
    raise AttributeError(name)
