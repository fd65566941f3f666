"""Statistics the papers report (SPEC 3.7). No plotting here: :mod:`..reports` draws.

* :mod:`.roc`            - AUC, stratified bootstrap CI, ROC points, metrics at a threshold, Youden
* :mod:`.delong`         - paired DeLong test of two AUCs
* :mod:`.mcnemar`        - McNemar's test for paired reads (exact for few discordant pairs)
* :mod:`.agreement`      - Cohen's kappa (weighted for BI-RADS) and Fleiss' kappa
* :mod:`.decision_curve` - net benefit against treat-all / treat-none
* :mod:`.biopsy`         - recommended / unnecessary biopsies, missed malignancies
"""

from .agreement import cohen_kappa, fleiss_kappa
from .biopsy import biopsy_metrics
from .decision_curve import net_benefit
from .delong import DeLongResult, delong_test
from .mcnemar import McNemarResult, mcnemar_test
from .roc import auc, bootstrap_auc_ci, roc_points, threshold_metrics, youden_threshold

__all__ = ["auc", "bootstrap_auc_ci", "roc_points", "threshold_metrics", "youden_threshold", "delong_test",
           "DeLongResult", "mcnemar_test", "McNemarResult", "cohen_kappa", "fleiss_kappa", "net_benefit", "biopsy_metrics"]
