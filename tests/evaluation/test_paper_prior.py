"""The paper-mix prior: its 0.698 micro AUC computed from the class mix, not only quoted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_file
from meflow.datasets import load_dataset
from meflow.datasets.base import EMOTIONS
from meflow.evaluation.metrics import micro_roc_auc, one_hot
from meflow.evaluation.references import (
    PAPER_COUNTS,
    PAPER_PRIOR_MICRO_AUC,
    prior_micro_auc_of_counts,
)

PART_A = "casme3/cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"


def _prior(counts: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(labels, probabilities): every sample of this mix given the mix's class frequencies."""
    c = np.asarray(counts, dtype=np.int64)
    y = np.repeat(np.arange(c.size), c)
    return y, np.tile(c / c.sum(), (y.size, 1))


def _pairwise_auc(counts: Sequence[int]) -> float:
    """The prior's micro AUC counted pair by pair: a positive (sample, class) pair scores the
    frequency of its sample's class, a negative one the frequency of another class; the AUC is
    the share of (positive, negative) pairs ordered right, ties counting half."""
    c = np.asarray(counts, dtype=np.float64)
    p = c / c.sum()
    n = c.sum()
    negatives = n - c  # per class: the samples of the other classes
    wins = sum(
        c[a] * negatives[b] * (1.0 if p[a] > p[b] else 0.5 if p[a] == p[b] else 0.0)
        for a in range(c.size)
        for b in range(c.size)
    )
    return float(wins / (n * negatives.sum()))


def test_the_paper_mix_prior_scores_0_698_with_meflows_metric() -> None:
    y, probs = _prior(PAPER_COUNTS)
    auc = micro_roc_auc(y, probs)
    assert round(auc, 3) == 0.698
    assert round(auc, 3) == PAPER_PRIOR_MICRO_AUC
    assert prior_micro_auc_of_counts(PAPER_COUNTS) == auc
    # the same figure without meflow: pair by pair, and scikit-learn's micro average
    from sklearn.metrics import roc_auc_score

    assert auc == pytest.approx(_pairwise_auc(PAPER_COUNTS), abs=1e-12)
    assert auc == pytest.approx(roc_auc_score(one_hot(y, 6), probs, average="micro"), abs=1e-12)
    # a balanced mix gives the prior nothing to rank by
    assert micro_roc_auc(*_prior([100] * 6)) == 0.5


def test_the_real_part_a_label_file_gives_the_paper_mix(shared_data: Path) -> None:
    result = load_dataset("casme3", labels=shared_file(shared_data, PART_A))
    counts = [result.class_counts[e] for e in EMOTIONS]
    assert tuple(counts) == PAPER_COUNTS
    assert round(micro_roc_auc(*_prior(counts)), 3) == PAPER_PRIOR_MICRO_AUC == 0.698
