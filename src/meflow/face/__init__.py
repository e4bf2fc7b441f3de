"""Face stage: 478 MediaPipe landmarks per frame and the 42 muscle regions as a label map.

``import meflow.face`` stays light: mediapipe is imported when a :class:`LandmarkTracker`
is made, OpenCV when a function needs it.
"""

from meflow.face.draw import draw_region_borders, draw_regions
from meflow.face.landmarks import (
    LandmarkTracker,
    crop_face,
    crop_transform,
    face_box,
    fill_gaps,
    to_crop,
    track_video,
)
from meflow.face.regions import (
    DRAW_ORDER,
    N_REGIONS,
    REGIONS,
    Region,
    mirror_map,
    mirror_region,
    polygon_areas,
    rasterise,
    region,
    region_centres,
)

__all__ = [
    "DRAW_ORDER",
    "N_REGIONS",
    "REGIONS",
    "LandmarkTracker",
    "Region",
    "crop_face",
    "crop_transform",
    "draw_region_borders",
    "draw_regions",
    "face_box",
    "fill_gaps",
    "mirror_map",
    "mirror_region",
    "polygon_areas",
    "rasterise",
    "region",
    "region_centres",
    "to_crop",
    "track_video",
]
