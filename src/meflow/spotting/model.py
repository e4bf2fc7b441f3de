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

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
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


def spotter_to_json(spotter: Spotter) -> dict[str, Any]:
    """The spotter as one JSON-able dict (arrays as dtype, shape and values): what a model
    file's metadata carries under ``"spotter"`` (sealed by the file's digest)."""
    arrays, meta = spotter.state()
    return {
        "meta": meta,
        "arrays": {
            k: {
                "dtype": str(np.asarray(a).dtype),
                "shape": list(np.shape(a)),
                "data": a.ravel().tolist(),
            }
            for k, a in ((k, np.asarray(v)) for k, v in arrays.items())
        },
    }


def spotter_from_json(data: Mapping[str, Any]) -> Spotter:
    """The spotter ``spotter_to_json`` described; a one-line error for a malformed one."""
    try:
        arrays = {
            k: np.asarray(v["data"], dtype=v["dtype"]).reshape(v["shape"])
            for k, v in dict(data["arrays"]).items()
        }
        meta = dict(data["meta"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MeflowError(f"malformed spotter state ({exc})") from None
    return spotter_from_state(arrays, meta)


def save_spotter(path: str | Path, spotter: Spotter) -> Path:
    """Writes the spotter to a JSON file sealed with the SHA-256 of its content."""
    from meflow.features.cache import atomic_write_text

    body = json.dumps(spotter_to_json(spotter), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(body.encode()).hexdigest()
    target = Path(path)
    atomic_write_text(target, json.dumps({"meflow_spotter": body, "sha256": digest}) + "\n")
    return target


def load_spotter(path: str | Path) -> Spotter:
    """The spotter ``save_spotter`` wrote; a one-line error when altered or not a spotter file."""
    p = Path(path)
    try:
        outer = json.loads(p.read_text())
        body, digest = outer["meflow_spotter"], outer["sha256"]
    except FileNotFoundError:
        raise MeflowError(f"{p}: no such spotter file") from None
    except (ValueError, KeyError, TypeError):
        raise MeflowError(f"{p}: not a meflow spotter file") from None
    if hashlib.sha256(str(body).encode()).hexdigest() != digest:
        raise MeflowError(f"{p}: the spotter file was altered (its digest does not match)")
    return spotter_from_json(json.loads(body))
