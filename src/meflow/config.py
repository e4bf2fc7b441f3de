"""Settings of every stage as frozen dataclasses, composed into one experiment config.

YAML only fills these; an unknown key is rejected with the closest valid key suggested.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import TypeVar

from meflow.config_io import from_dict, load_yaml, merge, override, read_yaml, to_dict
from meflow.errors import ConfigError
from meflow.models import registry

__all__ = [
    "from_dict",
    "load_yaml",
    "merge",
    "override",
    "read_yaml",
    "to_dict",
]

T = TypeVar("T")


def _check_choice(section: str, name: str, value: str, choices: typing.Iterable[str]) -> None:
    choices = tuple(choices)
    if value not in choices:
        raise ConfigError(f"{section}.{name}: {value!r} is not one of {', '.join(choices)}")


def _check_range(section: str, name: str, value: float, lo: float, hi: float) -> None:
    if not lo <= value <= hi:
        raise ConfigError(f"{section}.{name}: {value!r} is out of range [{lo}, {hi}]")


@dataclass(frozen=True)
class PreprocessConfig:
    """Grayscale, then histogram equalisation ('global' as in the paper, 'clahe' or 'none')."""

    equalization: str = "global"
    clahe_clip: float = 2.0
    clahe_tile: int = 8

    def __post_init__(self) -> None:
        _check_choice("preprocess", "equalization", self.equalization, ("global", "clahe", "none"))
        _check_range("preprocess", "clahe_clip", self.clahe_clip, 0.1, 100.0)
        _check_range("preprocess", "clahe_tile", self.clahe_tile, 1, 64)


@dataclass(frozen=True)
class FaceConfig:
    """MediaPipe Face Mesh settings and how lost faces are handled."""

    max_gap: int = 3  # frames; shorter gaps are interpolated, longer ones marked invalid
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    crop_margin: float = 0.15  # fraction of the face box added on every side for the flow crop
    crop_size: int = 192  # pixels: the face crop is resized to crop_size x crop_size
    # videos and long recordings (extract --video, spot, predict; never a dataset's clips):
    # landmarks looked for on every k-th frame (and the last), the frames between filled as
    # gaps are (so at most max_gap + 1). 1: measured faster with 2 or 3 but fewer
    # micro-expressions spotted on the long benchmark (docs/spotting.md, "Speed and memory")
    landmark_stride: int = 1

    def __post_init__(self) -> None:
        _check_range("face", "max_gap", self.max_gap, 0, 1000)
        _check_range("face", "landmark_stride", self.landmark_stride, 1, 1000)
        if self.landmark_stride > self.max_gap + 1:
            raise ConfigError(
                f"face.landmark_stride {self.landmark_stride} needs face.max_gap >= "
                f"{self.landmark_stride - 1} (the frames between two looked at are filled as a "
                f"gap), got {self.max_gap}"
            )
        _check_range("face", "min_detection_confidence", self.min_detection_confidence, 0.0, 1.0)
        _check_range("face", "min_tracking_confidence", self.min_tracking_confidence, 0.0, 1.0)
        _check_range("face", "crop_margin", self.crop_margin, 0.0, 1.0)
        _check_range("face", "crop_size", self.crop_size, 32, 1024)


@dataclass(frozen=True)
class FlowConfig:
    """Dense optical flow backend (by registry name) and head-motion compensation."""

    backend: str = "lk-dense"  # the variant table (docs/variants.md): most accurate, fastest
    # 'rigid': similarity fitted to the flow at stable landmarks (nose, eye corners, temples);
    # 'rigid-landmarks': fitted to the landmarks' own displacement (jittery); 'none'
    motion_compensation: str = "rigid"
    # 'previous': flow between consecutive frames (the paper's); 'first': from the window's
    # first frame to each frame (dataset extraction only: a sliding window would need every
    # frame's flow once per window)
    reference: str = "previous"

    def __post_init__(self) -> None:
        _check_choice(
            "flow",
            "motion_compensation",
            self.motion_compensation,
            ("none", "rigid", "rigid-landmarks"),
        )
        _check_choice("flow", "reference", self.reference, ("previous", "first"))


@dataclass(frozen=True)
class FeatureConfig:
    """Region pooling, angle discretisation, the 64-frame window and its frame rate."""

    angle_average: str = "circular"  # 'arithmetic' (paper's literal formula), 'circular', 'vector'
    sectors: int = 8
    window: int = 64
    anchor: str = (
        "apex"  # where the window is centred: 'apex', 'onset' or 'middle' (of onset..offset)
    )
    # frames per second every clip is brought to before the flow (nearest frame in time), so
    # that a window spans the same time on every dataset: 64 pairs = 2.13 s at 30 fps (the
    # paper's CAS(ME)^3); CASME II and SAMM record at 200
    fps: float = 30.0
    # frame pairs extracted before and after the anchor-centred window (at fps), so that
    # windows moved by up to +-margin pairs can be cut from the cache without re-extraction;
    # the centred window is the same as without a margin (features.featureset.FeatureSet.batch).
    # None with flow.reference=first (its flow is from the window's first frame)
    margin: int = 16
    # px per frame pair in the face crop: a region whose mean flow vector is shorter has no
    # direction in the pseudo-images (grey 0, as for no flow and no pixels); 0 keeps all
    noise_floor: float = 0.1  # measured: docs/variants.md (the paper preset: 0)
    # the labelled onset, apex and offset frames' flows (onset_apex, apex_offset in the cache)
    # are computed between frames averaged over onset-k..onset, apex-k..apex+k and
    # offset..offset+k (native frames; k = this); 0: the labelled frames alone
    onset_apex_average: int = 0  # measured: benchmarks/onset_apex.py (docs/variants.md)
    # meflow extract --video only: lags k (frames at fps, comma-separated) at which the region
    # flow of the direct pair (t - k, t) is also computed, every 2nd frame (the learned
    # spotter's lag columns, docs/spotting.md); '' computes none
    spot_lags: str = "6,9"

    @property
    def spot_lag_list(self) -> tuple[int, ...]:
        """The direct-pair lags (``spot_lags`` parsed), increasing, each once."""
        out: set[int] = set()
        for part in self.spot_lags.split(","):
            if not part.strip():
                continue
            try:
                value = int(part)
            except ValueError:
                bad = f"features.spot_lags: {part.strip()!r} is not a whole number"
                raise ConfigError(bad) from None
            if not 1 <= value <= 64:
                raise ConfigError(f"features.spot_lags: {value} is not in 1..64")
            out.add(value)
        return tuple(sorted(out))

    def __post_init__(self) -> None:
        _check_choice(
            "features", "angle_average", self.angle_average, ("arithmetic", "circular", "vector")
        )
        _check_choice("features", "anchor", self.anchor, ("apex", "onset", "middle"))
        _check_range("features", "sectors", self.sectors, 2, 256)
        _check_range("features", "window", self.window, 2, 4096)
        _check_range("features", "fps", self.fps, 1.0, 10000.0)
        _check_range("features", "margin", self.margin, 0, 4096)
        _check_range("features", "noise_floor", self.noise_floor, 0.0, 100.0)
        _check_range("features", "onset_apex_average", self.onset_apex_average, 0, 16)
        _ = self.spot_lag_list  # checked here: a bad list fails when the settings are read


@dataclass(frozen=True)
class ExtractConfig:
    """Everything that turns frames into pseudo-images; a trained model carries a copy."""

    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    face: FaceConfig = field(default_factory=FaceConfig)
    flow: FlowConfig = field(default_factory=FlowConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)


# inputs that read the labelled onset-to-apex flow: a row on one runs only where the samples
# carry it (experiments.reproduce leaves it out with a note otherwise)
ONSET_APEX_INPUTS = (
    "onset-apex",
    "vector-bins+onset-apex",
    "onset-apex-offset",
    "onset-apex-offset-bilateral",
    "onset-apex-offset-parts",
    "onset-apex-offset-parts-bilateral",
    "onset-apex-offset-strain",
)
INPUT_NAMES = (
    "pseudo-discrete",
    "pseudo-continuous",
    "vector-bins",
    "vector-series",
    "mdmo",
    "vector-peak",
    "displacement-bins",
    *ONSET_APEX_INPUTS,
)
BASELINES = {  # name: (classifier, input), the references run beside every grid row
    "logreg-pseudo": ("logreg", "pseudo-discrete"),
    "mdmo-svm": ("svm", "mdmo"),
    "logreg-onset-apex": ("logreg", "onset-apex"),
}


@dataclass(frozen=True)
class TrainConfig:
    """The classifier, the input it sees, and how it is trained (docs/model.md)."""

    # the classifier (models.registry): yolo11 (the paper's), gru, logreg, svm
    model: str = "logreg"
    # what it sees of a window (features.inputs); a comma-separated list makes the grid's
    # columns (the paper: pseudo-discrete,pseudo-continuous), the first is trained alone
    input: str = "vector-bins"
    bins: int = 8  # vector-bins: stretches of the window the region vectors are summed over
    c: float = 0.1  # inverse regularisation strength of logreg / svm
    scale: str = "s"  # yolo11: n, s (the paper's) or m
    epochs: int = 30
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.05
    imbalance: str = "weighted-loss"  # 'weighted-loss', 'balanced-sampler' or 'none'
    val_fraction: float = 0.2  # of training subjects held out for early stopping
    patience: int = 8
    seed: int = 0
    device: str = "auto"  # 'auto', 'cpu', 'cuda'
    # share of a sample's frame pairs that must be valid for it to be trained on or tested;
    # the same share makes a window valid in meflow predict (a model is applied to what it
    # was trained on)
    min_valid: float = 0.9
    # position training: the window shifts (in frame pairs at features.fps, comma-separated,
    # e.g. -12,-8,-4,0,4,8,12) at which every training sample of the preset's rows is
    # presented; '0' trains on the window centred on the anchor only. Test windows stay at the
    # shift under evaluation; folds stay subject-wise. Needs a cache whose margin covers them.
    # Measured (docs/variants.md, benchmarks/position.py): every 2 pairs to +-8 keeps a window
    # 8 pairs off the apex within 0.02 micro AUC of a centred one; the paper preset: '0'.
    shifts: str = "-8,-6,-4,-2,0,2,4,6,8"

    @property
    def inputs(self) -> tuple[str, ...]:
        """The grid's inputs (``input`` split at commas)."""
        return tuple(i.strip() for i in self.input.split(",") if i.strip())

    @property
    def shift_list(self) -> tuple[int, ...]:
        """The training shifts (``shifts`` parsed), each once, in the order given."""
        out: list[int] = []
        for part in self.shifts.split(","):
            part = part.strip()
            try:
                value = int(part)
            except ValueError:
                raise ConfigError(
                    f"train.shifts: {part!r} is not a whole number of frame pairs "
                    "(give e.g. -8,-4,0,4,8)"
                ) from None
            if value not in out:
                out.append(value)
        return tuple(out)

    def __post_init__(self) -> None:
        _check_choice("train", "model", self.model, registry.names())
        if not self.inputs:
            raise ConfigError("train.input: give at least one model input")
        for name in self.inputs:
            _check_choice("train", "input", name, INPUT_NAMES)
        spec = registry.get(self.model)
        for name in self.inputs:
            if not spec.takes(name):
                raise ConfigError(
                    f"train.model={self.model} takes train.input "
                    f"{' or '.join(spec.inputs or ())}, not {name!r}"
                )
        _check_range("train", "bins", self.bins, 1, 4096)
        _check_range("train", "c", self.c, 1e-8, 1e8)
        _check_choice("train", "scale", self.scale, ("n", "s", "m"))
        _check_range("train", "min_valid", self.min_valid, 0.0, 1.0)
        _check_choice(
            "train", "imbalance", self.imbalance, ("weighted-loss", "balanced-sampler", "none")
        )
        _check_choice("train", "device", self.device, ("auto", "cpu", "cuda"))
        _check_range("train", "epochs", self.epochs, 1, 10000)
        _check_range("train", "batch_size", self.batch_size, 1, 4096)
        _check_range("train", "lr", self.lr, 1e-7, 1.0)
        _check_range("train", "val_fraction", self.val_fraction, 0.0, 0.9)
        for shift in self.shift_list:
            _check_range("train", "shifts", shift, -4096, 4096)


@dataclass(frozen=True)
class EvalConfig:
    """Cross-validation protocol, repeated seeds, references and the bootstrap."""

    protocol: str = "loso"  # 'loso' (leave one subject out) or 'kfold' (subject-grouped)
    folds: int = 5
    bootstrap: int = 1000
    seed: int = 0
    seeds: int = 1  # repeats with seeds seed, seed+1, ...: mean and sd beside the interval
    # the classical references run on the same splits beside every row (config.BASELINES);
    # comma-separated, '' for none. The class prior is always computed. logreg-onset-apex
    # (logreg on the labelled onset-to-apex flow) runs only where the samples carry it.
    baselines: str = "logreg-pseudo,mdmo-svm,logreg-onset-apex"

    @property
    def baseline_names(self) -> tuple[str, ...]:
        return tuple(b.strip() for b in self.baselines.split(",") if b.strip())

    def __post_init__(self) -> None:
        _check_choice("evaluate", "protocol", self.protocol, ("kfold", "loso"))
        _check_range("evaluate", "folds", self.folds, 2, 1000)
        _check_range("evaluate", "bootstrap", self.bootstrap, 0, 1_000_000)
        _check_range("evaluate", "seeds", self.seeds, 1, 1000)
        for name in self.baseline_names:
            _check_choice("evaluate", "baselines", name, tuple(BASELINES))


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment: extraction, training and evaluation settings, and the preset they
    started from (meflow.presets)."""

    extract: ExtractConfig = field(default_factory=ExtractConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluate: EvalConfig = field(default_factory=EvalConfig)
    preset: str = "recommended"

    def __post_init__(self) -> None:
        from meflow.presets import preset_settings

        preset_settings(self.preset)  # an unknown name is refused with a suggestion


def with_preset(name: str) -> ExperimentConfig:
    """The defaults with preset ``name``'s settings applied (and its name recorded)."""
    from meflow.presets import preset_settings

    return override(ExperimentConfig(), [*preset_settings(name), f"preset={name}"])
