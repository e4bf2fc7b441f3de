"""The model file as ``meflow predict`` uses it: verified, with its extraction settings and
the spotter it carries.

A model file may carry a spotter (:mod:`meflow.spotting.model`): its metadata key
``"spotter"`` holds ``spotter_to_json(spotter)``, sealed by the file's digest like the rest of
the metadata (:func:`attach_spotter` writes it). ``meflow predict --spotter FILE`` gives one
from a sealed spotter file instead (``meflow spot --out RUN`` writes ``RUN/spotter.json``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meflow.config import ExtractConfig
from meflow.errors import MeflowError
from meflow.features import FEATURES_VERSION

if TYPE_CHECKING:
    from meflow.spotting.model import Spotter

DEFAULT_MIN_VALID = 0.9
TRAINING_FPS_DEFAULT = 30.0  # for model files that do not record their training frame rate


@dataclass
class LoadedModel:
    """A verified model with what predict needs from its metadata."""

    model: Any  # torch.nn.Module, eval mode
    meta: dict[str, Any]
    extract: ExtractConfig
    path: Path | None = None
    spotter: Spotter | None = None  # the spotter the file carries (None: none)

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.meta["classes"]]

    @property
    def input(self) -> str:
        """The model input it was trained on (files before inputs existed: a pseudo-image)."""
        return str(self.meta.get("input") or f"pseudo-{self.meta.get('angle', 'discrete')}")

    @property
    def train(self) -> Any:
        """Its training settings (the model input's own settings, e.g. train.bins)."""
        from meflow.config import TrainConfig, from_dict

        known = {f for f in TrainConfig.__dataclass_fields__}
        given = self.meta.get("train") or {}
        return from_dict(TrainConfig, {k: v for k, v in given.items() if k in known})

    @property
    def min_valid(self) -> float:
        """The valid share its training samples needed (train.min_valid): a window's too."""
        return float((self.meta.get("train") or {}).get("min_valid", DEFAULT_MIN_VALID))

    @property
    def fps(self) -> float:
        return float(self.meta.get("fps") or TRAINING_FPS_DEFAULT)


def load_model(path: str | Path) -> LoadedModel:
    """The model at ``path`` (digest verified) with its extraction settings."""
    from meflow.config import from_dict
    from meflow.errors import ConfigError
    from meflow.training.checkpoint import load_checkpoint

    p = Path(path)
    model, meta = load_checkpoint(p)
    extract = meta.get("extract")
    if not isinstance(extract, dict):
        raise MeflowError(
            f"{p}: the model file has no extraction settings ('extract'); retrain it with "
            "meflow train"
        )
    try:
        cfg = from_dict(ExtractConfig, extract, "extract")
    except ConfigError as exc:
        raise MeflowError(f"{p}: unusable extraction settings in the model file ({exc})") from None
    version = meta.get("features_version", 1)  # files from before it was recorded: 1
    if version != FEATURES_VERSION:
        raise MeflowError(
            f"{p}: the model was trained on features of version {version}; this meflow computes "
            f"version {FEATURES_VERSION}, which gives other pseudo-images for the same settings: "
            "re-extract its data with this meflow (meflow extract, a new --out) and retrain, "
            "or use a meflow of that version"
        )
    if cfg.flow.reference != "previous":
        raise MeflowError(
            f"{p}: the model was trained on flow against each window's first frame "
            "(flow.reference=first), which a sliding window cannot give without one flow per "
            "frame and window; train it on frame-to-frame flow for meflow predict"
        )
    classes = meta.get("classes")
    if not isinstance(classes, list) or len(classes) != getattr(model, "num_classes", len(classes)):
        raise MeflowError(f"{p}: the model file's class list does not match its network")
    from meflow.features.inputs import INPUTS

    loaded = LoadedModel(model, meta, cfg, p, _spotter_of(p, meta))
    if loaded.input not in INPUTS:
        raise MeflowError(f"{p}: unknown model input {loaded.input!r}")
    return loaded


def _spotter_of(path: Path, meta: dict[str, Any]) -> Spotter | None:
    """The spotter the metadata carries (None: none); a one-line error for a bad one."""
    data = meta.get("spotter")
    if data is None:
        return None
    from meflow.spotting.model import spotter_from_json

    if not isinstance(data, dict):
        raise MeflowError(f"{path}: the model file's spotter is not a spotter's state")
    try:
        return spotter_from_json(data)
    except MeflowError as exc:
        raise MeflowError(f"{path}: the model file's spotter is unusable ({exc})") from None


def attach_spotter(model_path: str | Path, spotter: Spotter, out: str | Path | None = None) -> Path:
    """The model file at ``out`` (default: ``model_path`` itself, rewritten atomically): the
    verified model of ``model_path`` with ``spotter`` in its metadata under ``"spotter"``
    (``spotter_to_json``), sealed by the file's digest. A spotter already there is replaced."""
    from meflow.spotting.model import spotter_to_json
    from meflow.training.checkpoint import load_checkpoint, save_checkpoint

    src = Path(model_path)
    model, meta = load_checkpoint(src)
    target = Path(out) if out is not None else src
    save_checkpoint(target, model, {**meta, "spotter": spotter_to_json(spotter)})
    return target


def check_settings(loaded: LoadedModel, assignments: Sequence[str]) -> None:
    """Nothing; raises MeflowError when a 'key=value' setting contradicts the model's own.

    Settings equal to the model's are accepted (they change nothing); unknown keys are
    rejected with the closest valid key suggested.
    """
    from meflow.config import override, to_dict

    if not assignments:
        return
    asked = to_dict(override(loaded.extract, list(assignments)))
    have = to_dict(loaded.extract)
    diffs = [
        f"{key} is {have_v!r} in the model, {asked_v!r} asked"
        for key, have_v, asked_v in _diff(have, asked)
    ]
    if diffs:
        where = loaded.path or "the model"
        raise MeflowError(
            f"{where} was trained with other extraction settings ({'; '.join(diffs)}); "
            "predict always uses the model's settings: drop the option or use a model trained "
            "with it"
        )


def _diff(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            yield from _diff(va, vb, f"{prefix}{k}.")
        elif va != vb:
            yield f"{prefix}{k}", va, vb
