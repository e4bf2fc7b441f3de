"""Subject-independent splits never share a subject, whatever the group layout."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meflow.errors import MeflowError
from meflow.training import (
    check_disjoint,
    group_kfold,
    leave_one_subject_out,
    validation_split,
)
from meflow.training.splits import MIN_VALIDATION_SUBJECTS

group_arrays = st.lists(st.integers(0, 12), min_size=2, max_size=80).map(
    lambda xs: np.array([f"sub{x:02d}" for x in xs])
)


def _assert_partition(groups: np.ndarray, splits: list) -> None:
    tests = np.concatenate([te for _, te in splits])
    assert np.array_equal(np.sort(tests), np.arange(groups.size))  # each sample tested once
    for tr, te in splits:
        assert te.size > 0
        assert not set(groups[tr]) & set(groups[te])
        assert np.array_equal(np.sort(np.r_[tr, te]), np.arange(groups.size))


@settings(max_examples=60, deadline=None)
@given(groups=group_arrays, k=st.integers(2, 6), seed=st.integers(0, 3), labels=st.booleans())
def test_group_kfold_never_shares_a_subject(
    groups: np.ndarray, k: int, seed: int, labels: bool
) -> None:
    n_sub = np.unique(groups).size
    y = np.arange(groups.size) % 6 if labels else None
    if k > n_sub:
        with pytest.raises(MeflowError, match=f"{k} subject-independent folds from {n_sub}"):
            group_kfold(groups, k, seed, y)
        return
    splits = group_kfold(groups, k, seed, y)
    assert len(splits) == k
    _assert_partition(groups, splits)


@settings(max_examples=40, deadline=None)
@given(groups=group_arrays)
def test_loso_one_subject_per_fold(groups: np.ndarray) -> None:
    if np.unique(groups).size < 2:
        with pytest.raises(MeflowError):
            leave_one_subject_out(groups)
        return
    splits = leave_one_subject_out(groups)
    assert len(splits) == np.unique(groups).size
    _assert_partition(groups, splits)
    assert all(np.unique(groups[te]).size == 1 for _, te in splits)


@settings(max_examples=60, deadline=None)
@given(
    groups=group_arrays, fraction=st.sampled_from([0.0, 0.1, 0.2, 0.3, 0.5]), seed=st.integers(0, 3)
)
def test_validation_split_holds_out_whole_subjects(
    groups: np.ndarray, fraction: float, seed: int
) -> None:
    y = np.arange(groups.size) % 6
    tr, val = validation_split(groups, fraction, seed, y)
    assert np.array_equal(np.sort(np.r_[tr, val]), np.arange(groups.size))
    assert not set(groups[tr]) & set(groups[val])
    n_sub = np.unique(groups).size
    if fraction == 0.0 or n_sub < 3 or n_sub * fraction < MIN_VALIDATION_SUBJECTS:
        assert val.size == 0
    else:
        assert val.size > 0 and tr.size > 0
        assert np.unique(groups[val]).size < n_sub


def test_stratified_folds_spread_classes() -> None:
    groups = np.repeat(np.arange(10), 12)
    y = np.tile(np.arange(6), 20)
    for _, te in group_kfold(groups, 5, 0, y):
        assert set(y[te]) == set(range(6))


def test_kfold_seed_changes_folds_deterministically() -> None:
    groups = np.repeat(np.arange(10), 3)
    a = group_kfold(groups, 5, seed=0)
    b = group_kfold(groups, 5, seed=0)
    c = group_kfold(groups, 5, seed=1)
    assert all(np.array_equal(x[1], z[1]) for x, z in zip(a, b, strict=True))
    assert any(not np.array_equal(x[1], z[1]) for x, z in zip(a, c, strict=True))


def test_check_disjoint_names_shared_subjects() -> None:
    groups = np.array(["a", "a", "b", "c", "c"])
    check_disjoint(groups, np.array([0, 1]), np.array([2, 3, 4]))
    with pytest.raises(MeflowError, match="subject\\(s\\) c are in both"):
        check_disjoint(groups, np.array([0, 3]), np.array([2, 4]))
