"""Dense optical flow between consecutive frames, one backend per module, chosen by name.

``get_flow("dis")(prev, nxt)`` gives float32 (H, W, 2) of (dx, dy) in pixels per frame, in
image axes (x right, y down). ``meflow.flow.motion`` removes the head's rigid motion.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from meflow.errors import ConfigError
from meflow.flow.base import FlowBackend
from meflow.flow.dis import DISFlow, dis_medium
from meflow.flow.farneback import FarnebackFlow
from meflow.flow.lkdense import LKDenseFlow
from meflow.flow.tvl1 import TVL1Flow

FLOW_BACKENDS: dict[str, Callable[[], FlowBackend]] = {
    "farneback": FarnebackFlow,
    "dis": DISFlow,
    "dis-medium": dis_medium,
    "tvl1": TVL1Flow,
    "lk-dense": LKDenseFlow,
}


def get_flow(name: str) -> FlowBackend:
    """Gives a new instance of the flow backend registered as ``name``."""
    try:
        factory = FLOW_BACKENDS[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), list(FLOW_BACKENDS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"unknown flow backend {name!r}{hint} (valid: {', '.join(FLOW_BACKENDS)})"
        ) from None
    return factory()


__all__ = [
    "FLOW_BACKENDS",
    "DISFlow",
    "FarnebackFlow",
    "FlowBackend",
    "LKDenseFlow",
    "TVL1Flow",
    "get_flow",
]
