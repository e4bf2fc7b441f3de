"""Inference on new videos (``meflow predict``): the model file and the spotter it carries
(:mod:`.model`), windows (:mod:`.windows`), spotting (:mod:`.spotting`), the computed result
(:mod:`.results`), its writer (:mod:`.writer`) and timeline figure (:mod:`.timeline`), and
the whole pass over one video (:mod:`.predict`). A video's features come from
:func:`meflow.features.video.video_features`, the step ``meflow extract --video`` shares.
"""

from meflow.inference.model import (
    DEFAULT_MIN_VALID,
    TRAINING_FPS_DEFAULT,
    LoadedModel,
    attach_spotter,
    check_settings,
    load_model,
)
from meflow.inference.predict import compute_prediction, predict_video
from meflow.inference.results import (
    IntervalPrediction,
    PredictionResult,
    WindowPrediction,
    default_name,
    unique_names,
)
from meflow.inference.windows import (
    DEFAULT_STRIDE,
    LOWEST_RATE_SHARE,
    analysis_rate,
    window_starts,
)
from meflow.inference.writer import CSV_FIXED, write_outputs, write_prediction

__all__ = [
    "CSV_FIXED",
    "DEFAULT_MIN_VALID",
    "DEFAULT_STRIDE",
    "LOWEST_RATE_SHARE",
    "TRAINING_FPS_DEFAULT",
    "IntervalPrediction",
    "LoadedModel",
    "PredictionResult",
    "WindowPrediction",
    "analysis_rate",
    "attach_spotter",
    "check_settings",
    "compute_prediction",
    "default_name",
    "load_model",
    "predict_video",
    "unique_names",
    "window_starts",
    "write_outputs",
    "write_prediction",
]
