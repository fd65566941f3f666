"""Networks, built by name from a bundle's inference config (never unpickled).

* :mod:`.segmentation` - MONAI UNet and FlexibleUNet (EfficientNet-b0 encoder), 2D or 3D
* :mod:`.three_plane`  - one ResNet per ABVS plane, add / concat fusion (seed 004)
* :mod:`.registry`     - name -> constructor, the only way a bundle becomes a network
"""

from .registry import build_network, network_config

__all__ = ["build_network", "network_config"]
