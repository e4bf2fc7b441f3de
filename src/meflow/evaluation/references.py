"""References beside every result: the class prior, on the same splits as the model.

Under class imbalance a micro-averaged ROC-AUC is far from 0.5 for a model that knows nothing:
one that gives every sample the class frequencies of its training fold ranks every (sample,
class) pair of a frequent class above those of a rare one. Under CAS(ME)^3's six-class mix
(55/57/187/64/250/86) that prior alone scores 0.698 micro AUC, above the paper's whole Table 1
(0.53 to 0.62). Every results row therefore carries the prior's micro and macro AUC, computed
out of fold on the same splits, and a paired bootstrap over subjects of the model's micro AUC
minus the prior's: an interval above 0 says the model learnt something the prior does not have.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# The paper's six-class mix of CAS(ME)^3 Part A (EMOTIONS order: happiness, sadness, surprise,
# anger, disgust, fear) and the micro AUC of its class prior (prior_micro_auc_of_counts).
PAPER_COUNTS = (55, 57, 187, 64, 250, 86)
PAPER_PRIOR_MICRO_AUC = 0.698


def prior_probabilities(
    y: np.ndarray, splits: Sequence[tuple[np.ndarray, np.ndarray]], num_classes: int
) -> np.ndarray:
    """(N, C) out-of-fold probabilities of the class prior: each test sample gets the class
    frequencies of its training fold. Samples in no test fold stay NaN."""
    y = np.asarray(y).astype(np.int64)
    probs = np.full((y.shape[0], num_classes), np.nan)
    for tr, te in splits:
        counts = np.bincount(y[tr], minlength=num_classes).astype(np.float64)
        probs[te] = counts / counts.sum()
    return probs


def prior_micro_auc_of_counts(counts: Sequence[int]) -> float:
    """The micro AUC of a prior that gives every sample these class frequencies, scored on
    samples of exactly this mix (no cross-validation): 0.698 for the paper's mix."""
    from meflow.evaluation.metrics import micro_roc_auc

    c = np.asarray(counts, dtype=np.int64)
    y = np.repeat(np.arange(c.size), c)
    probs = np.tile(c / c.sum(), (y.size, 1))
    return micro_roc_auc(y, probs)


def versus_prior(
    y: np.ndarray,
    probs: np.ndarray,
    prior: np.ndarray,
    subjects: np.ndarray,
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    """The prior's micro and macro AUC and the paired bootstrap (over subjects) of the
    model's micro AUC minus the prior's, for a results row."""
    from meflow.evaluation.bootstrap import paired_bootstrap_diff
    from meflow.evaluation.metrics import macro_roc_auc, micro_roc_auc

    d = paired_bootstrap_diff(y, probs, prior, subjects, micro_roc_auc, n=max(n_boot, 1), seed=seed)
    return {
        "prior_micro_roc_auc": micro_roc_auc(y, prior),
        "prior_macro_roc_auc": macro_roc_auc(y, prior),
        "minus_prior": d.point,
        "minus_prior_ci": [d.low, d.high],
        "above_prior": bool(d.low > 0),
    }
