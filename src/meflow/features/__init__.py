"""Per-region flow features: pooling over the 42 regions, angle discretisation, grey levels."""

from meflow.features.discretise import angle_to_uint8, discretise, sector_of
from meflow.features.pooling import AVERAGES, flow_angle, pool_regions, wrap_angle

# The version of the numbers: raised by any change to the code that gives other feature values
# for the same settings (a flow backend's parameters, the crop's interpolation, pooling, ...).
# Settings say what was asked; this says which code answered. Caches (cache.json) and model
# files record it; a cache is extended and a model applied only by a meflow of the same
# version. Files written before it was recorded are version 1. Version 2: the face crop keeps
# the aspect ratio, grey 0 means no direction (1..255 directions), regions' mean vectors and
# main-direction (MDMO) vectors are stored, clips are brought to features.fps. Version 3: a
# sample holds the span of its window and features.margin pairs on each side (extracted in one
# pass: other landmark tracking), a clip shorter than it is completed with pairs without motion
# (valid, no longer invalid), and the onset-to-apex flow is stored.
FEATURES_VERSION = 3

__all__ = [
    "AVERAGES",
    "FEATURES_VERSION",
    "angle_to_uint8",
    "discretise",
    "flow_angle",
    "pool_regions",
    "sector_of",
    "wrap_angle",
]
