"""The YOLO11 classification network and the model registry."""

from meflow.models.yolo import MODELS, SCALES, YoloClassifier, build_model, prepare_input

__all__ = ["MODELS", "SCALES", "YoloClassifier", "build_model", "prepare_input"]
