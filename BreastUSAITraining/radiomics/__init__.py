"""Deep-learning radiomics with clinical data (SPEC 3.5; seeds 001 and 003).

* :mod:`.clinical`   - clinical variables -> numbers, missing values explicit
* :mod:`.labels`     - what CLDLR, DLR_LH and DLR_BM learn
* :mod:`.network`    - VGG11 / ResNet CNNs and the second stage (calibrated SVM as tensors, or MLP)
* :mod:`.train`      - ``train dlr``: CNN on the engine, then the second stage
* :mod:`.predictor`  - probability and Grad-CAM of one lesion
* :mod:`.restratify` - the two-stage BI-RADS 4A re-stratification rule (DLR_LH + DLR_BM)
* :mod:`.restratify_run` - the rule applied with two bundles over a dataset split
"""

from .restratify import Restratification, restratify_4a

__all__ = ["Restratification", "restratify_4a"]
