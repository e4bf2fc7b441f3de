"""The baseline spotter's parameters, chosen on training recordings only (docs/spotting.md).

``baseline_grid`` spots every recording once under every grid setting and keeps each
recording's counts (TP, spotted, annotated, per type); a recording's counts involve only its
own intervals, so one grid serves every leave-one-subject-out fold: ``BaselineGrid.choose``
sums the counts of the fold's training recordings alone and keeps the setting with the best
pooled overall F1. The held-out recording's counts are never read by its fold's choice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from meflow.errors import MeflowError
from meflow.spotting.baseline import BaselineParams, RecordingFlow, curves, spot_from_curves
from meflow.spotting.scoring import Interval, score_spotting

DEFAULT_P_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))  # 0.05 .. 0.95, as MDMD sweeps
KINDS = ("micro", "macro")


@dataclass(frozen=True)
class BaselineChoice:
    """The setting chosen on the training recordings, its pooled F1s, and every grid row."""

    params: BaselineParams
    f1: dict[str, float]
    grid: list[dict[str, float | None]]


def _f1(tp: np.ndarray, n_pred: np.ndarray, n_gt: np.ndarray) -> np.ndarray:
    """MEGC's F1 = 2 TP / (spotted + annotated), 0 when both are 0."""
    den = n_pred + n_gt
    return np.where(den > 0, 2 * tp / np.maximum(den, 1), 0.0)


@dataclass(frozen=True, eq=False)
class BaselineGrid:
    """Each recording's counts under each setting: (recordings, settings, type, [tp, pred, gt])."""

    names: tuple[str, ...]
    settings: tuple[BaselineParams, ...]
    scales: tuple[float, ...]  # each setting's length scale
    counts: np.ndarray

    def choose(self, training: Iterable[str]) -> BaselineChoice:
        """The setting with the best overall F1 pooled over the ``training`` recordings alone.

        Ties go to the larger p_macro, then the larger p_micro (fewer intervals), then the
        earlier length scale and noise floor of the grid.
        """
        index = {n: i for i, n in enumerate(self.names)}
        names = sorted(set(training))
        unknown = [n for n in names if n not in index]
        if unknown:
            raise MeflowError(f"training recording {unknown[0]!r} is not in the baseline grid")
        if not names:
            raise MeflowError("choosing the baseline's parameters needs training recordings")
        c = self.counts[[index[n] for n in names]].sum(axis=0)  # (settings, type, 3)
        micro, macro = (_f1(c[:, t, 0], c[:, t, 1], c[:, t, 2]) for t in range(2))
        both = c.sum(axis=1)
        overall = _f1(both[:, 0], both[:, 1], both[:, 2])
        keys = [(float(overall[j]), s.p_macro, s.p_micro, -j) for j, s in enumerate(self.settings)]
        best = max(range(len(keys)), key=keys.__getitem__)
        grid: list[dict[str, float | None]] = [
            {
                "length_scale": self.scales[j],
                "floor_sigmas": s.floor_sigmas,
                "p_micro": s.p_micro,
                "p_macro": s.p_macro,
                "micro": float(micro[j]),
                "macro": float(macro[j]),
                "overall": float(overall[j]),
            }
            for j, s in enumerate(self.settings)
        ]
        f1 = {k: grid[best][k] or 0.0 for k in ("micro", "macro", "overall")}
        return BaselineChoice(self.settings[best], f1, grid)


def _settings(
    base: BaselineParams,
    p_grid: Sequence[float],
    length_scales: Sequence[float],
    floors: Sequence[float | None],
) -> list[list[BaselineParams]]:
    """Per length scale, its settings in order: floor, then p_macro, then p_micro."""
    out = []
    for scale in length_scales:
        scaled = replace(
            base,
            micro_length_s=base.micro_length_s * scale,
            macro_length_s=base.macro_length_s * scale,
        )
        out.append(
            [
                replace(scaled, p_micro=pmi, p_macro=pma, floor_sigmas=floor)
                for floor in floors
                for pma in p_grid
                for pmi in p_grid
            ]
        )
    return out


def baseline_grid(
    recordings: Sequence[RecordingFlow],
    ground_truth: Sequence[Interval],
    base: BaselineParams | None = None,
    p_grid: Sequence[float] = DEFAULT_P_GRID,
    length_scales: Sequence[float] = (1.0,),
    floor_grid: Sequence[float | None] | None = None,
) -> BaselineGrid:
    """Spots every recording under every setting (p_micro x p_macro, optionally length scales of
    both typical lengths and noise floors) and keeps each recording's counts against its own
    ground truths (those of recordings not given are ignored)."""
    base = base or BaselineParams()
    names = tuple(r.name for r in recordings)
    if len(set(names)) != len(names):
        raise MeflowError("the baseline grid's recordings must have distinct names")
    if not p_grid or not length_scales or (floor_grid is not None and not floor_grid):
        raise MeflowError("the p grid, the length scales and the floors must not be empty")
    floors = [base.floor_sigmas] if floor_grid is None else list(floor_grid)
    per_scale = _settings(base, p_grid, length_scales, floors)
    truth: dict[str, list[Interval]] = defaultdict(list)
    for g in ground_truth:
        truth[g.recording].append(g)
    n = len(per_scale[0])
    counts = np.zeros((len(recordings), n * len(per_scale), 2, 3), dtype=np.int64)
    for si, settings in enumerate(per_scale):
        for ri, rec in enumerate(recordings):
            cs = curves(rec, settings[0])
            for j, params in enumerate(settings):
                s = score_spotting(spot_from_curves(rec, cs, params), truth[rec.name])
                counts[ri, si * n + j] = [[s[k].tp, s[k].n_pred, s[k].n_gt] for k in KINDS]
    scales = tuple(float(sc) for sc in length_scales for _ in range(n))
    return BaselineGrid(names, tuple(p for ps in per_scale for p in ps), scales, counts)


def choose_params(
    recordings: Sequence[RecordingFlow],
    ground_truth: Sequence[Interval],
    base: BaselineParams | None = None,
    p_grid: Sequence[float] = DEFAULT_P_GRID,
    length_scales: Sequence[float] = (1.0,),
    floor_grid: Sequence[float | None] | None = None,
) -> BaselineChoice:
    """The best setting on these (TRAINING) recordings: ``baseline_grid(...).choose(all)``."""
    if not recordings:
        raise MeflowError("choosing the baseline's parameters needs training recordings")
    grid = baseline_grid(recordings, ground_truth, base, p_grid, length_scales, floor_grid)
    return grid.choose(grid.names)
