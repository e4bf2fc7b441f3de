"""meflow's learned spotter: frames scored micro / macro / blink / neither, runs to intervals.

Method (docs/spotting.md):

1. Features (``learned_features``): per frame, each region group's backward, forward and
   across displacement at seven scales from 0.1 to 2 s, global motion removed, normalised per
   recording by each column's median. Spotting computes them, and the frames' probabilities,
   in blocks of frames (``learned_blocks``: the same to the bit, memory flat in the length).
2. A multinomial logistic regression (scikit-learn, lbfgs, classes weighted by their inverse
   frequency, standardised columns; deterministic) learns each frame's class from the
   training recordings: inside an annotated micro-expression, inside a macro-expression,
   inside an annotated blink, or none. Blinks are a class of their own so that eyelid motion
   is learned as "not an expression"; head motion is simply never labelled an expression.
3. Decoding (``learned_decode``): the smoothed P(micro) + P(macro) curve; each run above an
   extent threshold is a candidate interval, typed by its summed micro vs macro probability,
   kept when its peak reaches the type's detection threshold.
4. The decoding thresholds (smoothing, extent, padding, detection per type) are chosen on the
   TRAINING subjects only: the training subjects are split into ``inner_folds`` groups; each
   group's recordings are scored by a classifier fitted on the other groups; the setting with
   the best pooled F1 on these out-of-fold scores (detection per type on that type's F1, the
   rest on the overall F1) is kept; the final classifier is then fitted on every training
   recording. With fewer than two training subjects the defaults of ``DecodeParams`` are used.

The spotter keeps the classifier as arrays (``learned_linear``), so that ``state()`` is plain
arrays plus JSON. (Gradient-boosted trees were tried first: several times slower to fit on
the shared cores, and no better on the first held-out subjects.)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from meflow.errors import MeflowError
from meflow.spotting.baseline import RecordingFlow
from meflow.spotting.learned_blocks import feature_blocks
from meflow.spotting.learned_decode import DecodeParams, candidates, decode
from meflow.spotting.learned_features import SCALES_S, feature_names, frame_features, frame_labels
from meflow.spotting.learned_linear import check_linear, fit_linear, predict_proba
from meflow.spotting.model import SPOTTER_VERSION, Blinks, Spotter, register
from meflow.spotting.scoring import Interval, score_spotting

N_CLASSES = 4  # neither, micro, macro, blink (learned_decode's NEITHER, MICRO, MACRO, BLINK)


@dataclass(frozen=True, eq=False)
class LearnedSpotter:
    """The learned spotter: its classifier, how it decodes, and the feature scales it uses."""

    model: Mapping[str, np.ndarray]
    decode: DecodeParams
    scales_s: tuple[float, ...] = SCALES_S
    info: Mapping[str, Any] = field(default_factory=dict)  # how it was trained (JSON-able)

    @property
    def name(self) -> str:
        return "learned"

    def __post_init__(self) -> None:
        # contiguous float64 / int64 copies: the same products whatever layout they came in
        model = {
            k: np.ascontiguousarray(v, dtype=np.int64 if k == "classes" else np.float64)
            for k, v in self.model.items()
        }
        object.__setattr__(self, "model", model)
        check_linear(self.model, len(feature_names(self.scales_s)))

    def probabilities(self, rec: RecordingFlow) -> np.ndarray:
        """(frames, 4) P(neither, micro, macro, blink) of every frame of ``rec``; a frame that
        no valid pair touches (no face there) is "neither" for certain: nothing is spotted
        where the face was not seen."""
        out = np.empty((rec.frames, N_CLASSES))  # the features in blocks of frames (memory)
        for lo, x in feature_blocks(rec.vector, rec.valid, rec.fps, self.scales_s):
            out[lo : lo + x.shape[0]] = _full(self.model, x)
        return unseen_as_neither(out, rec.valid)

    def spot(self, rec: RecordingFlow) -> list[Interval]:
        return [
            Interval(rec.name, rec.number(lo), rec.number(hi), kind, score, apex=rec.number(ap))
            for lo, hi, kind, score, ap in decode(self.probabilities(rec), self.decode)
        ]

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        meta = {
            "spotter": self.name,
            "version": SPOTTER_VERSION,
            "decode": asdict(self.decode),
            "scales_s": list(self.scales_s),
            "info": dict(self.info),
        }
        return {k: np.asarray(v) for k, v in self.model.items()}, meta


def unseen_as_neither(prob: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``prob`` with the frames that no valid pair touches set to (1, 0, ..., 0)."""
    ok = np.asarray(valid, dtype=bool)
    seen = np.zeros(ok.size + 1, dtype=bool)
    seen[:-1] |= ok
    seen[1:] |= ok
    out = np.array(prob, dtype=np.float64, copy=True)
    out[~seen] = 0.0
    out[~seen, 0] = 1.0
    return out


def _full(model: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """(frames, 4) probabilities of all four classes (0 for a class never trained on)."""
    out = np.zeros((x.shape[0], N_CLASSES))
    classes = np.asarray(model["classes"], dtype=np.int64)
    if (classes < 0).any() or (classes >= N_CLASSES).any():
        raise MeflowError(f"learned spotter: unknown classes {classes.tolist()}")
    out[:, classes] = predict_proba(model, x)
    return out


def _learned_from_state(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Spotter:
    try:
        params = DecodeParams(**dict(meta["decode"]))
        scales = tuple(float(s) for s in meta["scales_s"])
        info = dict(meta.get("info", {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise MeflowError(f"malformed learned spotter state ({exc})") from None
    return LearnedSpotter(dict(arrays), params, scales, info)


# ---- training ---------------------------------------------------------------------------

# The grid the decoding is chosen from (on out-of-fold scores of the training subjects).
# (A first run's grids, smoothing 1-9, extent 0.3-0.6, detection 0.3-0.9, C 0.01 or 1, had
# nearly every fold's inner choice at their upper edges, C at its lower: widened that way;
# a second run's still chose extent 0.8 in most folds: 0.9 added.)
SMOOTH_GRID = (5, 9, 15, 21)
EXTENT_GRID = (0.5, 0.6, 0.7, 0.8, 0.9)
PAD_GRID = (-2, 0, 2, 4)
C_GRID = (0.001, 0.01)  # the classifier's inverse penalty
DETECT_GRID = (0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)


def _labels(rec: RecordingFlow, truth: Sequence[Interval], blinks: Blinks | None) -> np.ndarray:
    numbers = np.array([rec.number(i) for i in range(rec.frames)], dtype=np.int64)
    ex = [(g.onset, g.offset, g.type) for g in truth if g.recording == rec.name]
    return frame_labels(rec.frames, numbers, ex, list((blinks or {}).get(rec.name, ())))


def fit_classifier(
    x: np.ndarray, y: np.ndarray, c: float, max_iter: int, stride: int = 1
) -> dict[str, np.ndarray]:
    """The classifier fitted on every ``stride``-th frame of ``x`` (classes ``y``)."""
    if not {1, 2} <= set(np.unique(y).tolist()):
        raise MeflowError("training the learned spotter needs micro and macro ground truth")
    return fit_linear(x[::stride], y[::stride], c, max_iter)


def _to_intervals(
    rec: RecordingFlow, rows: Sequence[tuple[int, int, int | str, float, int]]
) -> list[Interval]:
    kinds = {1: "micro", 2: "macro", "micro": "micro", "macro": "macro"}
    return [
        Interval(rec.name, rec.number(lo), rec.number(hi), kinds[k], s, apex=rec.number(ap))
        for lo, hi, k, s, ap in rows
    ]


def choose_decode(
    recordings: Sequence[RecordingFlow], probs: Sequence[np.ndarray], truth: Sequence[Interval]
) -> tuple[DecodeParams, dict[str, float]]:
    """The decoding setting with the best pooled F1 on these (out-of-fold) probabilities, and
    its F1 (micro, macro, overall)."""
    best: tuple[float, DecodeParams, dict[str, float]] | None = None
    for smooth, extent, pad in itertools.product(SMOOTH_GRID, EXTENT_GRID, PAD_GRID):
        base = DecodeParams(smooth_frames=smooth, extent=extent, pad=pad)
        cands = [
            _to_intervals(r, candidates(p, base)) for r, p in zip(recordings, probs, strict=True)
        ]
        detect = {}
        for kind in ("micro", "macro"):
            f1s = []
            for d in DETECT_GRID:
                pred = [iv for c in cands for iv in c if iv.type == kind and (iv.score or 0.0) >= d]
                f1s.append(score_spotting(pred, truth)[kind].f1)
            detect[kind] = DETECT_GRID[int(np.argmax(f1s))]
        pred = [iv for c in cands for iv in c if (iv.score or 0.0) >= detect[iv.type]]
        s = score_spotting(pred, truth)
        f1 = {k: float(s[k].f1) for k in ("micro", "macro", "overall")}
        if best is None or f1["overall"] > best[0]:
            params = DecodeParams(smooth, extent, detect["micro"], detect["macro"], pad)
            best = (f1["overall"], params, f1)
    assert best is not None
    return best[1], best[2]


def _subject_groups(
    recordings: Sequence[RecordingFlow], subjects: Mapping[str, str] | None, folds: int
) -> np.ndarray:
    """(recordings,) inner fold of each recording: its subject's rank modulo ``folds``."""
    subj = [
        (subjects or {}).get(r.name, r.name.split("/")[0] if "/" in r.name else r.name)
        for r in recordings
    ]
    rank = {s: i for i, s in enumerate(sorted(set(subj)))}
    return np.array([rank[s] % folds for s in subj], dtype=np.int64)


def _out_of_fold(
    x: list[np.ndarray],
    y: list[np.ndarray],
    valid: list[np.ndarray],
    groups: np.ndarray,
    c: float,
    max_iter: int,
    stride: int,
) -> list[np.ndarray]:
    """Each recording's probabilities from a classifier fitted on the other inner folds."""
    probs: list[np.ndarray] = [np.empty(0)] * len(x)
    for f in sorted(set(groups.tolist())):
        tr = [i for i in range(len(x)) if groups[i] != f]
        model = fit_classifier(
            np.vstack([x[i] for i in tr]), np.concatenate([y[i] for i in tr]), c, max_iter, stride
        )
        for i in np.flatnonzero(groups == f):
            probs[i] = unseen_as_neither(_full(model, x[i]), valid[i])
    return probs


def train_learned(
    recordings: Sequence[RecordingFlow],
    truth: Sequence[Interval],
    blinks: Blinks | None = None,
    *,
    subjects: Mapping[str, str] | None = None,
    inner_folds: int = 3,
    c_grid: Sequence[float] = C_GRID,
    max_iter: int = 300,
    stride: int = 2,
    scales_s: Sequence[float] = SCALES_S,
) -> LearnedSpotter:
    """The learned spotter fitted on these training recordings (its penalty C from ``c_grid``
    and its decoding chosen on inner subject folds among them). ``subjects``: recording ->
    subject (default: the name's part before '/', as '<subject>/<recording>'; a name without
    '/' is its own subject)."""
    scales = tuple(float(s) for s in scales_s)
    cs = [float(c) for c in c_grid]
    if inner_folds < 2:
        raise MeflowError(f"inner_folds must be at least 2, got {inner_folds}")
    if max_iter < 1 or stride < 1 or not cs or not all(c > 0 for c in cs):
        raise MeflowError(f"c_grid, max_iter and stride must be positive, got {cs}, {max_iter}, "
                          f"{stride}")  # fmt: skip
    x = [frame_features(r.vector, r.valid, r.fps, scales) for r in recordings]
    y = [_labels(r, truth, blinks) for r in recordings]
    groups = _subject_groups(recordings, subjects, inner_folds)
    folds = sorted(set(groups.tolist()))
    info: dict[str, Any] = {"recordings": len(recordings), "inner_folds": len(folds),
                            "max_iter": max_iter, "stride": stride}  # fmt: skip
    params, c = DecodeParams(), cs[0]
    if len(folds) >= 2:
        best = None
        for ci in cs:
            valid = [r.valid for r in recordings]
            probs = _out_of_fold(x, y, valid, groups, ci, max_iter, stride)
            p, f1 = choose_decode(recordings, probs, truth)
            if best is None or f1["overall"] > best[2]["overall"]:
                best = (ci, p, f1)
        assert best is not None
        c, params, info["inner_f1"] = best
    info["c"] = c
    model = fit_classifier(np.vstack(x), np.concatenate(y), c, max_iter, stride)
    return LearnedSpotter(model, params, scales, info)


def _train(
    recordings: Sequence[RecordingFlow],
    truth: Sequence[Interval],
    blinks: Blinks | None = None,
    **options: Any,
) -> Spotter:
    return train_learned(recordings, truth, blinks, **options)


register("learned", _learned_from_state, _train)
