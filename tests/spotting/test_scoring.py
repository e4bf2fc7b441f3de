"""MEGC spotting scoring on hand-made cases; every expected figure is worked out in a comment.

Frames are counted with both ends included: [onset, offset] holds offset - onset + 1 frames.
"""

from __future__ import annotations

import numpy as np
import pytest

from meflow.errors import MeflowError
from meflow.spotting.references import (
    chance_intervals,
    chance_reference,
    interval_lengths,
    paired_f1_difference,
)
from meflow.spotting.scoring import (
    Counts,
    Interval,
    iou,
    match_intervals,
    per_recording_counts,
    score_spotting,
    strs,
)


def iv(onset: int, offset: int, kind: str = "micro", rec: str = "r1", **kw: object) -> Interval:
    return Interval(rec, onset, offset, kind, **kw)  # type: ignore[arg-type]


def test_iou_counts_frames_with_both_ends() -> None:
    # [0,5] and [2,7]: 6 frames each, shared 2..5 = 4 frames, union 0..7 = 8 frames -> 0.5.
    # (Counting offset - onset instead would give 3 / 7 = 0.43 and miss the match.)
    assert iou(iv(0, 5), iv(2, 7)) == 0.5
    # [0,4] and [4,8] share frame 4 only: 1 / 9
    assert iou(iv(0, 4), iv(4, 8)) == pytest.approx(1 / 9)
    # adjacent intervals share no frame
    assert iou(iv(0, 4), iv(5, 9)) == 0.0
    # a single frame is one frame long and matches itself fully
    assert iv(3, 3).length == 1 and iou(iv(3, 3), iv(3, 3)) == 1.0


def test_iou_exactly_half_is_a_true_positive_and_just_below_is_not() -> None:
    gt = [iv(10, 19)]  # 10 frames
    # [10,14]: 5 shared of 10 in the union -> exactly 0.5 -> TP
    s = score_spotting([iv(10, 14)], gt)
    assert (s.micro.tp, s.micro.fp, s.micro.fn) == (1, 0, 0)
    # [11,14]: 4 shared of 10 -> 0.4 -> FP, and the ground truth is a FN
    s = score_spotting([iv(11, 14)], gt)
    assert (s.micro.tp, s.micro.fp, s.micro.fn) == (0, 1, 1)
    # the inclusive off-by-one case: [0,5] vs [2,7] is 4 / 8 = 0.5 -> TP
    assert score_spotting([iv(2, 7)], [iv(0, 5)]).micro.tp == 1
    # one frame shorter: [3,7] vs [0,5]: shared 3..5 = 3, union 0..7 = 8 -> 0.375 -> FP
    assert score_spotting([iv(3, 7)], [iv(0, 5)]).micro.tp == 0


def test_one_prediction_on_two_ground_truths_matches_one() -> None:
    # [0,19] has IoU 10/20 = 0.5 with both [0,9] and [10,19]; it may match only one of them.
    s = score_spotting([iv(0, 19)], [iv(0, 9), iv(10, 19)])
    # TP 1, FP 0, FN 1: P = 1, R = 1/2, F1 = 2 * 1 * 0.5 / 1.5 = 2/3
    assert (s.micro.tp, s.micro.fp, s.micro.fn) == (1, 0, 1)
    assert s.micro.precision == 1.0 and s.micro.recall == 0.5
    assert s.micro.f1 == pytest.approx(2 / 3)


def test_two_predictions_on_one_ground_truth_one_is_a_false_positive() -> None:
    # [0,9] matches GT [0,9] with IoU 1, [1,9] with 9/10; the better one is the TP.
    preds = [iv(1, 9), iv(0, 9)]
    s = score_spotting(preds, [iv(0, 9)])
    # TP 1, FP 1, FN 0: P = 1/2, R = 1, F1 = 2/3
    assert (s.micro.tp, s.micro.fp, s.micro.fn) == (1, 1, 0)
    assert s.micro.f1 == pytest.approx(2 / 3)
    assert [(m.prediction, m.ground_truth, m.iou) for m in s.matches] == [(1, 0, 1.0)]
    # identical intervals: the higher score wins, whatever the order given
    tied = [iv(0, 9, score=0.2), iv(0, 9, score=0.9)]
    assert [m.prediction for m in match_intervals(tied, [iv(0, 9)])] == [1]
    assert [m.prediction for m in match_intervals(tied[::-1], [iv(0, 9)])] == [0]
    # equal scores (or none): the one given first
    for same in ([iv(0, 9), iv(0, 9), iv(0, 9)], [iv(0, 9, score=1.0)] * 3):
        assert [m.prediction for m in match_intervals(same, [iv(0, 9)])] == [0]
    assert [
        m.prediction for m in match_intervals([iv(0, 9), iv(0, 9), iv(0, 9)] * 2, [iv(0, 9)] * 2)
    ] == [0, 1]


def test_matching_takes_the_most_pairs_not_the_greedy_best() -> None:
    # GT1 [0,9], GT2 [2,11]; P1 [0,10]: IoU 10/11 with GT1, 9/12 with GT2; P2 [0,6]: 7/10 with
    # GT1, 5/12 with GT2 (< 0.5). Greedy best-IoU-first gives P1-GT1 and leaves P2 unmatched
    # (TP 1); the one-to-one matching with most pairs is P1-GT2, P2-GT1: TP 2, FP 0, FN 0.
    s = score_spotting([iv(0, 10), iv(0, 6)], [iv(0, 9), iv(2, 11)])
    assert (s.micro.tp, s.micro.fp, s.micro.fn) == (2, 0, 0)
    assert {(m.prediction, m.ground_truth) for m in s.matches} == {(0, 1), (1, 0)}


def test_wrong_type_and_other_recording_never_match() -> None:
    # same frames, other type: micro FN 1, macro FP 1; overall TP 0 of 1 prediction, 1 truth
    s = score_spotting([iv(0, 9, "macro")], [iv(0, 9, "micro")])
    assert s.micro.as_dict()["fn"] == 1 and s.micro.n_pred == 0
    assert s.macro.as_dict()["fp"] == 1 and s.macro.n_gt == 0
    assert (s.overall.tp, s.overall.n_pred, s.overall.n_gt, s.overall.f1) == (0, 1, 1, 0.0)
    # same frames and type in another recording: FP 1 and FN 1
    s = score_spotting([iv(0, 9, rec="b")], [iv(0, 9, rec="a")])
    assert (s.micro.tp, s.micro.fp, s.micro.fn) == (0, 1, 1)


def test_empty_sides_give_megc_zeros() -> None:
    # no prediction: P = 0/0 -> 0 (MEGC's scripts), R = 0/2 = 0, F1 = 0
    s = score_spotting([], [iv(0, 9), iv(20, 29)])
    assert s.micro.as_dict() == {
        "tp": 0, "fp": 0, "fn": 2, "n_pred": 0, "n_gt": 2,
        "precision": 0.0, "recall": 0.0, "f1": 0.0,
    }  # fmt: skip
    # no ground truth: P = 0/2 = 0, R = 0/0 -> 0, F1 = 0
    s = score_spotting([iv(0, 9), iv(20, 29)], [])
    assert (s.micro.fp, s.micro.precision, s.micro.recall, s.micro.f1) == (2, 0.0, 0.0, 0.0)
    assert score_spotting([], []).overall == Counts(0, 0, 0)
    assert score_spotting([], []).overall.f1 == 0.0


def test_counts_are_pooled_over_recordings_not_averaged() -> None:
    # recording a: 1 GT, 1 matching prediction -> F1 1. recording b: 3 GT, 1 prediction off
    # them -> F1 0. Pooled: TP 1, predictions 2, GT 4: P 1/2, R 1/4, F1 = 2*(1/8)/(3/4) = 1/3.
    # The mean of the per-recording F1s would be (1 + 0) / 2 = 1/2.
    gt = [iv(0, 9, rec="a"), iv(0, 9, rec="b"), iv(20, 29, rec="b"), iv(40, 49, rec="b")]
    preds = [iv(0, 9, rec="a"), iv(60, 69, rec="b")]
    s = score_spotting(preds, gt)
    assert (s.micro.tp, s.micro.n_pred, s.micro.n_gt) == (1, 2, 4)
    assert s.micro.f1 == pytest.approx(1 / 3)
    per = per_recording_counts(preds, gt)
    assert per[("a", "micro")].f1 == 1.0 and per[("b", "micro")].f1 == 0.0
    assert np.mean([c.f1 for c in per.values()]) == 0.5 != pytest.approx(s.micro.f1)


def test_overall_pools_micro_and_macro_counts() -> None:
    # micro: TP 1 of 1 prediction, 2 GT (F1 2/3); macro: TP 0 of 3 predictions, 1 GT (F1 0).
    # overall: TP 1, predictions 4, GT 3: P 1/4, R 1/3, F1 = 2/7 (not the mean 1/3).
    gt = [iv(0, 9), iv(30, 39), iv(100, 139, "macro")]
    preds = [iv(0, 9), iv(200, 239, "macro"), iv(300, 339, "macro"), iv(400, 439, "macro")]
    s = score_spotting(preds, gt)
    assert s.micro.f1 == pytest.approx(2 / 3) and s.macro.f1 == 0.0
    assert (s.overall.tp, s.overall.n_pred, s.overall.n_gt) == (1, 4, 3)
    assert s["overall"].f1 == pytest.approx(2 / 7)


def test_bad_intervals_are_one_line_errors() -> None:
    with pytest.raises(MeflowError, match="ends before it starts"):
        iv(5, 4)
    with pytest.raises(MeflowError, match="whole frame number"):
        iv(1.5, 4)  # type: ignore[arg-type]
    with pytest.raises(MeflowError, match="type must be one of"):
        iv(0, 4, "blink")
    with pytest.raises(MeflowError, match="micro, macro or overall"):
        score_spotting([], [])["both"]
    assert iv(np.int64(2), 4.0).onset == 2  # type: ignore[arg-type]


def test_strs_reproduces_the_strs_metric_readme_example() -> None:
    # STRS-Metric's README example (genbing99/STRS-Metric), all micro, STRS 0.2:
    # EP02_01f [10,70] vs [45,85]: 26/76 = 0.34 -> FP + FN; EP03_02 [100,170] vs [130,160]:
    # 31/71 = 0.44 -> FP + FN; EP04_02 [0,70] vs [20,75]: 51/76 -> TP (others/others);
    # EP01_11f [20,90] vs [45,95]: 46/76 -> TP (happiness for repression); EP02_04f [70,140] vs
    # [30,140]: 71/111 -> TP (happiness for repression). Spotting TP 3, FP 2, FN 2: F1 0.6.
    # Analysis over {happiness, others, repression}: P = (0 + 1 + 0)/3, R = (0 + 1 + 0)/3
    # (0/0 -> 0), F1 = 1/3; STRS = 0.6 * 1/3 = 0.2.
    rows = [
        ("EP02_01f", (10, 70, "happiness"), (45, 85, "happiness")),
        ("EP03_02", (100, 170, "others"), (130, 160, "others")),
        ("EP04_02", (0, 70, "others"), (20, 75, "others")),
        ("EP01_11f", (20, 90, "happiness"), (45, 95, "repression")),
        ("EP02_04f", (70, 140, "happiness"), (30, 140, "repression")),
    ]
    preds = [iv(p[0], p[1], rec=r, emotion=p[2]) for r, p, _ in rows]
    gts = [iv(g[0], g[1], rec=r, emotion=g[2]) for r, _, g in rows]
    res = strs(preds, gts)
    assert (res.spotting.tp, res.spotting.fp, res.spotting.fn) == (3, 2, 2)
    assert res.spotting.f1 == pytest.approx(0.6)
    assert res.emotions == ("happiness", "others", "repression")
    assert res.per_emotion["happiness"]["fp"] == 2 and res.per_emotion["repression"]["fn"] == 2
    assert res.analysis_f1 == pytest.approx(1 / 3)
    assert res.strs == pytest.approx(0.2)


def test_strs_on_a_small_case_ignores_macro_and_counts_missed_classes() -> None:
    # micro GT: happy [0,9], happy [20,29], surprise [40,49] (missed); the two happy ones
    # spotted and called happy. A macro interval on each side changes nothing.
    # Spotting: TP 2, predictions 2, GT 3: P 1, R 2/3, F1 = 2*(2/3)/(5/3) = 0.8.
    # Analysis: happy P = R = 1; surprise has no pair: P = R = 0. Mean P = mean R = 0.5 ->
    # analysis F1 0.5; STRS = 0.8 * 0.5 = 0.4. UF1 = (1 + 0) / 2 = 0.5.
    gts = [
        iv(0, 9, emotion="happy"),
        iv(20, 29, emotion="happy"),
        iv(40, 49, emotion="surprise"),
        iv(100, 150, "macro", emotion="happy"),
    ]
    preds = [iv(0, 9, emotion="happy"), iv(21, 29, emotion="happy"), iv(300, 350, "macro")]
    res = strs(preds, gts)
    assert res.spotting.f1 == pytest.approx(0.8)
    assert res.analysis_precision == 0.5 and res.analysis_recall == 0.5
    assert res.strs == pytest.approx(0.4) and res.uf1 == 0.5
    # a spotted one with the wrong emotion: happy P = 1/1, R = 1/2; surprise 0 -> mean P 0.5,
    # mean R 0.25, analysis F1 = 2*0.125/0.75 = 1/3, STRS 0.8/3
    preds[1] = iv(21, 29, emotion="surprise")
    res = strs(preds, gts)
    assert res.analysis_f1 == pytest.approx(1 / 3) and res.strs == pytest.approx(0.8 / 3)


def _chance_case(n_rec: int = 20) -> tuple[list[Interval], list[Interval], dict]:
    # each recording: frames 0..107, one micro GT [50,58] (9 frames), one prediction.
    recs = [f"r{i}" for i in range(n_rec)]
    gts = [iv(50, 58, rec=r) for r in recs]
    preds = [iv(0, 8, rec=r) for r in recs]
    return preds, gts, {r: (0, 107) for r in recs}


def test_chance_places_the_same_number_inside_each_recording_reproducibly() -> None:
    preds, _, spans = _chance_case(5)
    preds += [iv(0, 39, "macro", rec="r0"), iv(50, 99, "macro", rec="r0")]
    lengths = {"micro": [5, 9], "macro": [30, 200]}  # 200 is cut to the 108 frames
    a = chance_intervals(preds, lengths, spans, np.random.default_rng(3))
    b = chance_intervals(preds, lengths, spans, np.random.default_rng(3))
    assert a == b
    assert a != chance_intervals(preds, lengths, spans, np.random.default_rng(4))
    assert sorted((x.recording, x.type) for x in a) == sorted((x.recording, x.type) for x in preds)
    assert all(x.onset >= 0 and x.offset <= 107 for x in a)
    assert {x.length for x in a if x.type == "micro"} <= {5, 9}
    assert {x.length for x in a if x.type == "macro"} <= {30, 108}
    assert interval_lengths(preds) == {"micro": [9] * 5, "macro": [40, 50]}
    with pytest.raises(MeflowError, match="no frame span"):
        chance_intervals(preds, lengths, {}, np.random.default_rng(0))


def test_chance_mean_f1_is_near_its_analytic_expectation() -> None:
    # A 9-frame interval at onset o against the GT [50,58]: shift d = o - 50 gives
    # IoU (9 - |d|) / (9 + |d|) >= 0.5 iff |d| <= 3, so 7 of the 100 onsets 0..99 hit:
    # p = 0.07. One prediction and one GT per recording: F1 = 2 TP / (20 + 20) = TP / 20,
    # so E[F1] = E[P] = E[R] = 0.07. Over 400 draws of 20 the mean's SD is about 0.003.
    preds, gts, spans = _chance_case()
    ref = chance_reference(preds, gts, {"micro": [9]}, spans, n_draws=400, seed=7)
    assert ref.f1("micro") == pytest.approx(0.07, abs=0.012)
    m = ref.mean["micro"]
    assert m["precision"] == pytest.approx(m["f1"]) and m["recall"] == pytest.approx(m["f1"])
    assert m["tp"] / 20 == pytest.approx(m["f1"]) and (m["n_pred"], m["n_gt"]) == (20, 20)
    assert ref.f1_draws["micro"].shape == (400,) and ref.f1("overall") == ref.f1("micro")
    again = chance_reference(preds, gts, {"micro": [9]}, spans, n_draws=400, seed=7)
    assert np.array_equal(again.f1_draws["micro"], ref.f1_draws["micro"])
    other = chance_reference(preds, gts, {"micro": [9]}, spans, n_draws=400, seed=8)
    assert not np.array_equal(other.f1_draws["micro"], ref.f1_draws["micro"])


def test_paired_bootstrap_resamples_subjects_and_is_antisymmetric() -> None:
    # 8 subjects x 2 recordings, one micro GT each. Spotter a finds all 16 (F1 1); spotter b
    # finds those of subjects 0..3 and puts a wrong interval in the others: TP 8 of 16 and 16,
    # F1 0.5. Difference 0.5; every resample keeps a >= b, so the interval lies in [0, 1].
    subjects = {f"s{s}_{k}": f"s{s}" for s in range(8) for k in range(2)}
    gts = [iv(10, 19, rec=r) for r in subjects]
    a = [iv(10, 19, rec=r) for r in subjects]
    b = [iv(10, 19, rec=r) if int(r[1]) < 4 else iv(60, 69, rec=r) for r in subjects]
    res = paired_f1_difference(a, b, gts, subjects, kind="micro", n=500, seed=0)
    assert res.point == pytest.approx(0.5)
    assert 0.0 <= res.low < 0.5 < res.high <= 1.0 and res.n_valid == 500
    flipped = paired_f1_difference(b, a, gts, subjects, kind="micro", n=500, seed=0)
    assert flipped.point == pytest.approx(-0.5)
    assert (flipped.low, flipped.high) == pytest.approx((-res.high, -res.low))
    # no macro ground truth at all: every resample is undefined and skipped
    none = paired_f1_difference(a, b, gts, subjects, kind="macro", n=50, seed=0)
    assert none.skipped == 50 and np.isnan(none.point)
    with pytest.raises(MeflowError, match="no subject given"):
        paired_f1_difference(a, b, gts, {}, n=10)


def test_scores_do_not_depend_on_the_order_given() -> None:
    # three recordings, both types, overlapping and duplicate predictions, shuffled
    rng = np.random.default_rng(0)
    gts = [iv(o, o + 9, t, r) for r in "abc" for o, t in ((0, "micro"), (30, "macro"))]
    gts += [iv(5, 14, "micro", "a")]
    preds = [iv(o, o + 9, t, r) for r in "abc" for o, t in ((2, "micro"), (31, "macro"))]
    preds += [iv(4, 13, "micro", "a"), iv(3, 12, "micro", "a"), iv(50, 59, "macro", "b")]
    base = score_spotting(preds, gts).as_dict()
    for _ in range(5):
        p = [preds[i] for i in rng.permutation(len(preds))]
        g = [gts[i] for i in rng.permutation(len(gts))]
        assert score_spotting(p, g).as_dict() == base
    # a: micro GT [0,9], [5,14]; predictions [2,11] (IoU 8/12, 7/13), [4,13] (6/14, 9/11),
    # [3,12] (7/13, 8/12): two pairs possible -> micro TP 2 in a, 1 in b, 1 in c of 5 preds
    assert (base["micro"]["tp"], base["micro"]["n_pred"], base["micro"]["n_gt"]) == (4, 5, 4)
    assert (base["macro"]["tp"], base["macro"]["fp"]) == (3, 1)
    with pytest.raises(MeflowError, match="IoU threshold"):
        score_spotting(preds, gts, threshold=0.0)
