"""A spotter as one object: trained on recordings, applied to one, stored in a model file.

Every spotter meflow offers implements ``Spotter``: ``spot(rec)`` gives the intervals of one
recording (numbered as ``rec.number`` numbers its frames, ``apex`` set to the peak), and
``state()`` gives (arrays, JSON-able metadata) that ``spotter_from_state`` turns back into the
same spotter, so that a model file can carry it. ``train_spotter(name, ...)`` fits a spotter
of the named kind on TRAINING recordings only (the callers' folds make sure of it).

Kinds: ``baseline`` (the MDMD-like spotter, its p per type chosen on the training recordings
by ``baseline_grid``); the learned spotter registers itself as ``learned``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from meflow.errors import MeflowError
from meflow.spotting.baseline import BaselineParams, RecordingFlow, spot_baseline
from meflow.spotting.scoring import Interval

SPOTTER_VERSION = 1

# (recording name, onset, offset) of each annotated blink, numbered as the intervals are
Blinks = Mapping[str, Sequence[tuple[int, int]]]


class Spotter(Protocol):
    """What every spotter offers."""

    @property
    def name(self) -> str:
        """Its kind: "baseline", "learned"."""
        ...

    def spot(self, rec: RecordingFlow) -> list[Interval]:
        """The micro and macro intervals spotted in one recording (apex set, score set)."""
        ...

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(arrays, JSON-able metadata) from which ``spotter_from_state`` rebuilds it."""
        ...


@dataclass(frozen=True)
class BaselineSpotter:
    """The MDMD-like baseline spotter with fixed parameters."""

    params: BaselineParams
    name: str = "baseline"

    def spot(self, rec: RecordingFlow) -> list[Interval]:
        return spot_baseline(rec, self.params)

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return {}, {"spotter": self.name, "version": SPOTTER_VERSION, "params": asdict(self.params)}


def _baseline_from_state(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Spotter:
    known = set(BaselineParams.__dataclass_fields__)
    return BaselineSpotter(
        BaselineParams(**{k: v for k, v in meta["params"].items() if k in known})
    )


def _train_baseline(
    recordings: Sequence[RecordingFlow],
    truth: Sequence[Interval],
    blinks: Blinks | None = None,
    **options: Any,
) -> Spotter:
    from meflow.spotting.baseline_grid import choose_params

    return BaselineSpotter(choose_params(recordings, truth, **options).params)


Loader = Callable[[Mapping[str, np.ndarray], Mapping[str, Any]], Spotter]
Trainer = Callable[..., Spotter]
LOADERS: dict[str, Loader] = {"baseline": _baseline_from_state}
TRAINERS: dict[str, Trainer] = {"baseline": _train_baseline}


def register(name: str, loader: Loader, trainer: Trainer) -> None:
    """Makes a spotter kind known to ``spotter_from_state`` and ``train_spotter``."""
    LOADERS[name] = loader
    TRAINERS[name] = trainer


def _load_kinds() -> None:
    """Imports the modules that register further kinds (the learned spotter)."""
    import importlib

    for module in ("meflow.spotting.learned",):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:  # not built yet in this checkout
            if exc.name != module:
                raise


def spotter_from_state(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Spotter:
    """The spotter ``state()`` described; a one-line error for an unknown kind or version."""
    _load_kinds()
    kind = meta.get("spotter")
    if kind not in LOADERS:
        raise MeflowError(f"unknown spotter {kind!r} (known: {', '.join(sorted(LOADERS))})")
    version = meta.get("version")
    if version != SPOTTER_VERSION:
        raise MeflowError(
            f"spotter version {version} is not this meflow's {SPOTTER_VERSION}: retrain it"
        )
    return LOADERS[str(kind)](arrays, meta)


def train_spotter(
    name: str,
    recordings: Sequence[RecordingFlow],
    truth: Sequence[Interval],
    blinks: Blinks | None = None,
    **options: Any,
) -> Spotter:
    """A spotter of kind ``name`` fitted on these (training) recordings and their ground truth."""
    _load_kinds()
    if name not in TRAINERS:
        raise MeflowError(f"unknown spotter {name!r} (known: {', '.join(sorted(TRAINERS))})")
    if not recordings:
        raise MeflowError("training a spotter needs at least one recording")
    return TRAINERS[name](recordings, truth, blinks, **options)
