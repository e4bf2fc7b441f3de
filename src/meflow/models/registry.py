"""The classifiers ``train.model`` names: one ``Classifier`` entry each, in ``CLASSIFIERS``.

An entry says everything the rest of meflow asks about a classifier: the model inputs it
takes (``config`` checks ``train.input`` against them), whether it trains with meflow's
PyTorch loop (``network``: a builder of fresh networks and the tensor they take) or is fitted
directly (``fit``), how a fitted one becomes a saveable ``nn.Module`` (``module``; none for a
reference), the network architecture its saved module records (``arch``: ``meflow predict``
finds the tensor maker by it) and whether the paper's Table 1 has a column for it.

A new classifier is one module and one ``register(Classifier(...))`` line. This module stays
light (no numpy or torch at import): ``config`` reads it when settings are made, and the
command line's start-up goes through ``config``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from meflow.errors import MeflowError

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch import nn


class Settings(Protocol):
    """The training settings a classifier reads (``config.TrainConfig`` has them all)."""

    @property
    def c(self) -> float: ...

    @property
    def seed(self) -> int: ...


class Estimator(Protocol):
    """A directly fitted classifier: class probabilities (N, C) of model inputs."""

    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...


# (X, y, num_classes, settings) -> the fitted estimator
FitFn = Callable[["np.ndarray", "np.ndarray", int, Settings], Estimator]
# (X, num_classes) -> a function of train.scale that builds a fresh network for inputs like X
BuildFn = Callable[["np.ndarray", int], Callable[[str], "nn.Module"]]
TensorFn = Callable[["np.ndarray"], "torch.Tensor"]


@dataclass(frozen=True)
class Classifier:
    """One classifier: its name, the inputs it takes, and how it is built, fitted and saved."""

    name: str
    summary: str  # one line for --help and error messages
    inputs: tuple[str, ...] | None = None  # the model inputs it takes; None: every input
    network: BuildFn | None = None  # trains with meflow's PyTorch loop (training.loop.fit)
    fit: FitFn | None = None  # fitted directly instead
    module: Callable[[Any, int], nn.Module] | None = None  # (fitted, classes) -> saveable
    # the architecture its network or saved module records (models.archs), and the float
    # tensor that network or module takes for model inputs X
    arch: str | None = None
    tensor: TensorFn | None = None
    paper_table1: bool = False  # the paper's Table 1 reports this classifier

    def __post_init__(self) -> None:
        if (self.network is None) == (self.fit is None):
            raise MeflowError(f"classifier {self.name!r}: give exactly one of network and fit")
        if self.saveable and (self.arch is None or self.tensor is None):
            raise MeflowError(f"classifier {self.name!r}: a saveable one needs arch and tensor")

    @property
    def trains_with_loop(self) -> bool:
        """Whether meflow's PyTorch training loop trains it."""
        return self.network is not None

    @property
    def saveable(self) -> bool:
        """Whether a fitted one can be saved for ``meflow predict`` (networks always)."""
        return self.network is not None or self.module is not None

    def takes(self, input_name: str) -> bool:
        """Whether it takes the model input ``input_name``."""
        return self.inputs is None or input_name in self.inputs


CLASSIFIERS: dict[str, Classifier] = {}
# the network training.loop.fit trains when train.model names a directly fitted classifier
DEFAULT_NETWORK = "yolo11"
# the classifier of model files written before the classifier was recorded
LEGACY_CLASSIFIER = "yolo11"


def register(entry: Classifier) -> Classifier:
    """``entry``, now known by its name (a later entry of the same name replaces it)."""
    CLASSIFIERS[entry.name] = entry
    return entry


def names() -> tuple[str, ...]:
    """The names of the known classifiers, in registration order."""
    return tuple(CLASSIFIERS)


def get(name: str) -> Classifier:
    """The classifier ``name``; MeflowError naming the valid ones for an unknown name."""
    try:
        return CLASSIFIERS[name]
    except KeyError:
        raise MeflowError(f"unknown classifier {name!r} (valid: {', '.join(names())})") from None


def _yolo_tensor(X: np.ndarray) -> torch.Tensor:
    """(N, 1, 42, 64) floats in [0, 1] of uint8 pseudo-images."""
    import numpy as np

    from meflow.models.yolo import prepare_input

    X = np.asarray(X)
    if X.dtype != np.uint8:
        raise MeflowError(
            "yolo11 takes the uint8 pseudo-images (train.input pseudo-discrete or "
            "pseudo-continuous)"
        )
    return prepare_input(X)


def _yolo_builder(X: np.ndarray, num_classes: int) -> Callable[[str], nn.Module]:
    """A builder of fresh YOLO11-cls networks of ``train.scale``."""
    from meflow.models.yolo import build_model

    def yolo(scale: str) -> nn.Module:
        return build_model(scale, num_classes, 1)

    return yolo


def float_tensor(X: np.ndarray) -> torch.Tensor:
    """The model input as a contiguous float32 tensor of the same shape."""
    import numpy as np
    import torch

    return torch.from_numpy(np.ascontiguousarray(np.asarray(X), dtype=np.float32))


def _gru_builder(X: np.ndarray, num_classes: int) -> Callable[[str], nn.Module]:
    """A builder of fresh temporal GRUs over the regions of ``X`` (``train.scale`` unused)."""
    from meflow.models.nets import TemporalGRU

    if X.ndim != 4 or X.shape[-1] != 2:
        raise MeflowError("gru takes region flow series (train.input vector-series)")
    regions = int(X.shape[2])

    def gru(scale: str) -> nn.Module:
        return TemporalGRU(num_classes, regions)

    return gru


def _linear_tensor(X: np.ndarray) -> torch.Tensor:
    """(N, F) float64 features of a model input (angle images as unit vectors)."""
    import numpy as np
    import torch

    from meflow.models.linear import features

    return torch.from_numpy(features(np.asarray(X)))


def _fit_linear(kind: str) -> FitFn:
    def fit(X: np.ndarray, y: np.ndarray, num_classes: int, cfg: Settings) -> Estimator:
        from meflow.models.linear import LinearClassifier

        return LinearClassifier(kind, num_classes, cfg.c, cfg.seed).fit(X, y)

    return fit


def _linear_head(fitted: Any, num_classes: int) -> nn.Module:
    """A fitted logistic regression as a ``LinearHead`` module (eval mode)."""
    from meflow.models.nets import LinearHead

    arrays, _ = fitted.state()
    return LinearHead.from_arrays(arrays, num_classes).eval()


PSEUDO_IMAGES = ("pseudo-discrete", "pseudo-continuous")
register(
    Classifier(
        "yolo11",
        "the paper's network on the uint8 pseudo-images (train.scale n / s / m)",
        inputs=PSEUDO_IMAGES,
        network=_yolo_builder,
        arch="yolo11",
        tensor=_yolo_tensor,
        paper_table1=True,
    )
)
register(
    Classifier(
        "gru",
        "a bidirectional GRU over the regions' flow series",
        inputs=("vector-series",),
        network=_gru_builder,
        arch="gru",
        tensor=float_tensor,
    )
)
register(
    Classifier(
        "logreg",
        "logistic regression (standardised, class-balanced)",
        fit=_fit_linear("logreg"),
        module=_linear_head,
        arch="linear",
        tensor=_linear_tensor,
    )
)
register(
    Classifier(
        "svm",
        "linear SVM with Platt probabilities (a reference; not saved)",
        fit=_fit_linear("svm"),
    )
)


def tensor_for_arch(arch: str) -> TensorFn:
    """The tensor maker of the network or saved module of architecture ``arch`` (float32 for
    one no classifier records)."""
    for entry in CLASSIFIERS.values():
        if entry.arch == arch and entry.tensor is not None:
            return entry.tensor
    return float_tensor
