"""Deep-learning radiomics with clinical data (SPEC 3.5; seeds 001 and 003).

* :mod:`.restratify` - the two-stage BI-RADS 4A re-stratification rule (DLR_LH + DLR_BM)
"""

from .restratify import Restratification, restratify_4a

__all__ = ["Restratification", "restratify_4a"]
