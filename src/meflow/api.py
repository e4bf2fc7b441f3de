"""The Python functions behind the ``meflow`` commands, for use from scripts and notebooks.

How a video becomes a prediction, stage by stage:

>>> from meflow import api
>>> result = api.load_dataset("casme3", root="data/")                 # Sample records
>>> api.extract_dataset(result.samples, "cache/")                       # frames -> pseudo-images
>>> api.reproduce("cache/", "run/", api.ExperimentConfig())             # Table 1 grid + report
>>> api.train_model("cache/", "model.safetensors", api.ExperimentConfig())
"""

from __future__ import annotations

from meflow.config import ExperimentConfig, ExtractConfig, load_yaml
from meflow.datasets import load_dataset
from meflow.experiments import reproduce, train_model
from meflow.features.extract import extract_dataset, extract_video
from meflow.features.featureset import load_features

__all__ = [
    "ExperimentConfig",
    "ExtractConfig",
    "extract_dataset",
    "extract_video",
    "load_dataset",
    "load_features",
    "load_yaml",
    "reproduce",
    "train_model",
]
