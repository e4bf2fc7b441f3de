"""Per-subject attributes (gender, ...) from a table or estimated from faces.

Names are imported on first use, so that building the command line stays light (no pandas).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meflow.demographics.decision import GenderEstimate, estimate_gender
    from meflow.demographics.estimators import (
        ESTIMATORS,
        GenderSettings,
        get_estimator,
        write_estimate,
    )
    from meflow.demographics.table import read_demographics

_WHERE = {
    "ESTIMATORS": "estimators",
    "GenderEstimate": "decision",
    "GenderSettings": "estimators",
    "estimate_gender": "decision",
    "get_estimator": "estimators",
    "read_demographics": "table",
    "write_estimate": "estimators",
}

__all__ = [
    "ESTIMATORS",
    "GenderEstimate",
    "GenderSettings",
    "estimate_gender",
    "get_estimator",
    "read_demographics",
    "write_estimate",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"meflow.demographics.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'meflow.demographics' has no attribute {name!r}")
