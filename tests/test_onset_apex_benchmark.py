"""benchmarks/onset_apex.py's nested choice on a small made-up set: each person's configuration
is chosen on the other people, so an informative input wins over noise for every person, and
the tables name what was chosen."""

from __future__ import annotations

import numpy as np

from _benchmarks import benchmark_helper
from meflow.config import TrainConfig

benchmark_helper("_results")  # onset_apex.py imports it by name
onset_apex = benchmark_helper("onset_apex")


def test_the_nested_choice_picks_the_informative_input_for_every_person() -> None:
    rng = np.random.default_rng(0)
    subjects, per_class, nc = 4, 3, 3
    y = np.tile(np.repeat(np.arange(nc), per_class), subjects)
    groups = np.repeat([f"s{i}" for i in range(subjects)], nc * per_class)
    informative = np.eye(nc)[y][:, :, None] * 3.0 + rng.normal(0, 0.3, (len(y), nc, 1))
    noise = rng.normal(0, 1, (len(y), nc, 1))
    good = onset_apex.Candidate("onset-apex-offset", 0, 0.1)
    bad = onset_apex.Candidate("onset-apex", 0, 0.1)
    out = onset_apex.nested({bad: noise, good: informative}, y, groups, TrainConfig(), nc)
    assert set(out) == set(onset_apex.CRITERIA)
    for probs, chosen in out.values():
        assert chosen == [good.key] * subjects
        assert (probs.argmax(axis=1) == y).mean() == 1.0
    res = {k: {"micro_roc_auc": 1.0, "micro_roc_auc_ci": None, "uf1": 1.0, "uar": 1.0}
           for k in (good.key, bad.key, "blind", "prior", "ensemble",
                     *(f"nested-{c}" for c in onset_apex.CRITERIA))}  # fmt: skip
    tabs = onset_apex.tables(res, [bad, good], bad, {c: w for c, (_, w) in out.items()})
    assert [r[1:] for r in tabs["chosen"]["rows"]] == [[good.key, str(subjects)]] * 2
    assert tabs["rows"]["rows"][-1][0] == "class prior"


def test_the_target_is_read_on_the_unrounded_figures() -> None:
    def row(auc: float, uf1: float) -> dict[str, object]:
        return {"micro_roc_auc": auc, "uf1": uf1, "micro_roc_auc_ci": [0.9, 0.99]}

    # 0.9795 prints as 0.980 but misses 0.98; UF1 exactly 0.85 meets it
    res = {"nested-auc": row(0.9795, 0.86), "nested-auc+uf1": row(0.98, 0.85),
           "ensemble": row(0.99, 0.849)}  # fmt: skip
    out = onset_apex.target_figures(res)
    assert out["nested-auc.target"] == "missed" and out["nested-auc.auc4"] == "0.9795"
    assert out["nested-auc+uf1.target"] == "met"
    assert out["nested-auc.auc_ci"] == "[0.900, 0.990]" and out["nested-auc.uf1_ci"] == "-"
    assert out["ensemble.target"] == "missed"


def test_subject_standardisation_uses_each_persons_own_samples_only() -> None:
    rng = np.random.default_rng(1)
    groups = np.repeat(["a", "b"], 6)
    X = rng.normal(0, 1, (12, 3, 2))
    X[groups == "b"] = X[groups == "b"] * 5.0 + 100.0  # another person: offset and scale
    Z = onset_apex.subject_standardised(X, groups)
    assert Z.shape == (12, 6)
    for g in ("a", "b"):
        m = groups == g
        assert np.allclose(Z[m].mean(axis=0), 0.0, atol=1e-9)
        assert np.allclose(Z[m].std(axis=0), 1.0, atol=1e-2)
    # a person's figures do not depend on anyone else's samples
    X2 = X.copy()
    X2[groups == "b"] = 0.0
    assert np.array_equal(onset_apex.subject_standardised(X2, groups)[groups == "a"], Z[:6])
    # a feature that never moves for a person stays finite (zero)
    X2[groups == "a", 0, 0] = 7.0
    assert np.all(np.isfinite(onset_apex.subject_standardised(X2, groups)))
