"""Per-region flow features: pooling over the 42 regions, angle discretisation, grey levels."""

from meflow.features.discretise import angle_to_uint8, discretise, sector_of
from meflow.features.pooling import AVERAGES, flow_angle, pool_regions, wrap_angle

__all__ = [
    "AVERAGES",
    "angle_to_uint8",
    "discretise",
    "flow_angle",
    "pool_regions",
    "sector_of",
    "wrap_angle",
]
