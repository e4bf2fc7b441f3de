"""Subject-independent splits: k-fold by subject, leave-one-subject-out, validation hold-out.

No subject ever appears on both sides of a split; every function here checks it with
:func:`check_disjoint` before returning.
"""

from __future__ import annotations

import warnings

import numpy as np

from meflow.errors import MeflowError

# Fewer subjects than this and no validation subjects are held out (train fixed epochs).
MIN_SUBJECTS_FOR_VALIDATION = 3
# Early stopping on fewer held-out subjects than this is noise: on the synthetic set (16
# subjects, ~2 held out per fold) it picked epoch 1 in one fold and cost 0.1 micro AUC against
# a fixed number of epochs. Below it, training runs its fixed epochs (and says so).
MIN_VALIDATION_SUBJECTS = 4

Split = tuple[np.ndarray, np.ndarray]


def check_disjoint(groups: np.ndarray, train_idx: np.ndarray, test_idx: np.ndarray) -> None:
    """Nothing; raises MeflowError naming the subjects that are on both sides of a split."""
    g = np.asarray(groups)
    shared = np.intersect1d(
        g[np.asarray(train_idx, dtype=np.intp)], g[np.asarray(test_idx, dtype=np.intp)]
    )
    if shared.size:
        names = ", ".join(str(s) for s in shared[:10])
        more = f" and {shared.size - 10} more" if shared.size > 10 else ""
        raise MeflowError(
            f"split is not subject-independent: subject(s) {names}{more} are in both "
            "the training and the test part"
        )


def _encode(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g = np.asarray(groups)
    if g.ndim != 1:
        raise MeflowError(f"groups must be one subject id per sample, got shape {g.shape}")
    uniq, codes = np.unique(g, return_inverse=True)
    return uniq, codes.reshape(-1)


def _kfold_codes(codes: np.ndarray, k: int, seed: int, y: np.ndarray | None) -> list[Split]:
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    n = codes.shape[0]
    dummy = np.zeros((n, 1))
    splits: list[Split] = []
    if y is not None and np.unique(y).size > 1:
        with warnings.catch_warnings():
            # "The least populated class has fewer members than n_splits": expected here.
            warnings.simplefilter("ignore", UserWarning)
            sgkf = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
            try:
                splits = [(tr, te) for tr, te in sgkf.split(dummy, np.asarray(y), codes)]
            except ValueError:  # every class has fewer than k samples: nothing to stratify
                splits = []
    if not splits or any(te.size == 0 or tr.size == 0 for tr, te in splits):
        # No labels, or stratification left a fold empty: plain shuffled subject folds.
        rng = np.random.default_rng(seed)
        perm = rng.permutation(codes.max() + 1)
        splits = list(GroupKFold(n_splits=k).split(dummy, groups=perm[codes]))
    return [(np.sort(tr).astype(np.intp), np.sort(te).astype(np.intp)) for tr, te in splits]


def group_kfold(
    groups: np.ndarray, k: int = 5, seed: int = 0, y: np.ndarray | None = None
) -> list[Split]:
    """k (train_idx, test_idx) pairs with whole subjects in each test fold, stratified on y."""
    uniq, codes = _encode(groups)
    if k < 2:
        raise MeflowError(f"k-fold needs k >= 2 folds, got {k}")
    if k > uniq.size:
        raise MeflowError(
            f"cannot make {k} subject-independent folds from {uniq.size} subject(s): "
            f"use at most {uniq.size} folds (or protocol 'loso')"
        )
    if y is not None and np.asarray(y).shape[0] != codes.shape[0]:
        raise MeflowError(f"y has {np.asarray(y).shape[0]} labels for {codes.shape[0]} samples")
    splits = _kfold_codes(codes, k, seed, y)
    for tr, te in splits:
        check_disjoint(groups, tr, te)
    return splits


def leave_one_subject_out(groups: np.ndarray) -> list[Split]:
    """One (train_idx, test_idx) pair per subject, that subject's samples being the test part."""
    uniq, codes = _encode(groups)
    if uniq.size < 2:
        raise MeflowError(f"leave-one-subject-out needs at least 2 subjects, got {uniq.size}")
    idx = np.arange(codes.shape[0], dtype=np.intp)
    splits = [(idx[codes != s], idx[codes == s]) for s in range(uniq.size)]
    for tr, te in splits:
        check_disjoint(groups, tr, te)
    return splits


def validation_split(
    groups_train: np.ndarray, fraction: float, seed: int, y: np.ndarray | None = None
) -> Split:
    """(train_idx, val_idx) holding out about ``fraction`` of the subjects for validation.

    Indices are into ``groups_train``. The hold-out is one fold of a stratified subject
    k-fold with k = round(1 / fraction). ``val_idx`` is empty when ``fraction`` is 0 or
    there are fewer than MIN_SUBJECTS_FOR_VALIDATION subjects.
    """
    uniq, codes = _encode(groups_train)
    all_idx = np.arange(codes.shape[0], dtype=np.intp)
    if not 0.0 <= fraction < 1.0:
        raise MeflowError(f"validation fraction must be in [0, 1), got {fraction}")
    if fraction == 0.0 or uniq.size < MIN_SUBJECTS_FOR_VALIDATION:
        return all_idx, np.empty(0, dtype=np.intp)
    if uniq.size * fraction < MIN_VALIDATION_SUBJECTS:
        return all_idx, np.empty(0, dtype=np.intp)
    k = int(min(max(round(1.0 / fraction), 2), uniq.size))
    tr, val = _kfold_codes(codes, k, seed, y)[0]
    check_disjoint(groups_train, tr, val)
    return tr, val
