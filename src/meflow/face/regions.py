"""The 42 facial regions that follow the muscle groups, and their per-frame label map.

Each region is a simple polygon over MediaPipe Face Mesh landmark indices. The polygons were
cut from the Face Mesh triangulation along chosen landmark paths (eyebrow, eye and lip
contours, the nasolabial fold, ...), so neighbouring regions share their borders exactly and
tile the face without overlap. The eye openings (eyeball) and the mouth opening belong to no
region: the mesh has no triangles there, and their motion (gaze, teeth, tongue) is not muscle
motion. Sides are the subject's: ``'L'`` is the subject's left (MediaPipe's "left", the
right-hand side of an unmirrored image). See docs/regions.md for the table and the choices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_REGIONS = 42
N_LANDMARKS = 478


@dataclass(frozen=True)
class Region:
    """One facial region: id 1..42, side 'L'/'R'/'C', the muscles and FACS AUs it shows."""

    id: int
    name: str
    side: str
    muscle: str
    aus: tuple[int, ...]
    polygon: tuple[int, ...]  # MediaPipe landmark indices, in order around the border


# Ids run top to bottom; a pair is (subject's right, subject's left).
# fmt: off
REGIONS: tuple[Region, ...] = (
    Region(1, "forehead_medial_r", "R", "frontalis, medial part", (1,),
           (107, 66, 105, 69, 67, 109, 10, 151, 9)),
    Region(2, "forehead_medial_l", "L", "frontalis, medial part", (1,),
           (9, 151, 10, 338, 297, 299, 334, 296, 336)),
    Region(3, "forehead_lateral_r", "R", "frontalis, lateral part", (2,),
           (21, 54, 103, 67, 69, 105, 63, 70, 71)),
    Region(4, "forehead_lateral_l", "L", "frontalis, lateral part", (2,),
           (301, 300, 293, 334, 299, 297, 332, 284, 251)),
    Region(5, "temple_r", "R", "temporalis (temple), brow tail", (2, 31),
           (21, 71, 70, 46, 156, 143, 34, 127, 162)),
    Region(6, "temple_l", "L", "temporalis (temple), brow tail", (2, 31),
           (389, 356, 264, 372, 383, 276, 300, 301, 251)),
    Region(7, "brow_inner_r", "R", "corrugator supercilii, depressor supercilii (inner brow)",
           (1, 4),
           (105, 66, 107, 55, 65, 52)),
    Region(8, "brow_inner_l", "L", "corrugator supercilii, depressor supercilii (inner brow)",
           (1, 4),
           (282, 295, 285, 336, 296, 334)),
    Region(9, "brow_lateral_r", "R", "orbicularis oculi orbital, frontalis insertion (outer brow)",
           (2, 4),
           (53, 46, 70, 63, 105, 52)),
    Region(10, "brow_lateral_l", "L", "orbicularis oculi orbital, frontalis insertion (outer brow)",
           (2, 4),
           (282, 334, 293, 300, 276, 283)),
    Region(11, "procerus", "C", "procerus (glabella, between the brows)", (4, 9),
           (193, 55, 107, 9, 336, 285, 417, 168)),
    Region(12, "eyelid_upper_r", "R", "orbicularis oculi palpebral, levator palpebrae (upper lid)",
           (5, 7, 43, 45),
           (159, 160, 161, 246, 33, 247, 113, 46, 53, 52, 65, 55, 193, 245, 244, 243, 133, 173,
            157, 158)),
    Region(13, "eyelid_upper_l", "L", "orbicularis oculi palpebral, levator palpebrae (upper lid)",
           (5, 7, 43, 45),
           (385, 384, 398, 362, 463, 464, 465, 417, 285, 295, 282, 283, 276, 342, 467, 263, 466,
            388, 387, 386)),
    Region(14, "canthus_lateral_r", "R", "orbicularis oculi orbital, lateral (crow's feet)", (6, 7),
           (117, 111, 116, 227, 234, 127, 34, 143, 156, 46, 113, 247, 33, 25, 31)),
    Region(15, "canthus_lateral_l", "L", "orbicularis oculi orbital, lateral (crow's feet)", (6, 7),
           (261, 255, 263, 467, 342, 276, 383, 372, 264, 356, 454, 447, 345, 340, 346)),
    Region(16, "eyelid_lower_r", "R", "orbicularis oculi palpebral (lower lid)", (6, 7),
           (7, 163, 144, 145, 153, 154, 155, 133, 243, 244, 245, 128, 121, 120, 119, 118, 117, 31,
            25, 33)),
    Region(17, "eyelid_lower_l", "L", "orbicularis oculi palpebral (lower lid)", (6, 7),
           (263, 255, 261, 346, 347, 348, 349, 350, 357, 465, 464, 463, 362, 382, 381, 380, 374,
            373, 390, 249)),
    Region(18, "nose_bridge", "C", "nasalis transverse part, procerus (nasal dorsum)", (9,),
           (51, 3, 196, 122, 193, 168, 417, 351, 419, 248, 281, 275, 4, 45)),
    Region(19, "nose_wing_r", "R", "levator labii superioris alaeque nasi, nasalis alar part",
           (9, 38, 39),
           (3, 51, 45, 44, 125, 241, 242, 97, 98, 64, 48, 115, 220, 134, 236, 174, 188, 245, 193,
            122, 196)),
    Region(20, "nose_wing_l", "L", "levator labii superioris alaeque nasi, nasalis alar part",
           (9, 38, 39),
           (419, 351, 417, 465, 412, 399, 456, 363, 440, 344, 278, 294, 327, 326, 462, 461, 354,
            274, 275, 281, 248)),
    Region(21, "nose_tip", "C", "depressor septi nasi (nose tip, columella)", (9, 38),
           (242, 241, 125, 44, 45, 4, 275, 274, 354, 461, 462, 326, 2, 97)),
    Region(22, "infraorbital_r", "R", "levator labii superioris, zygomaticus minor", (10, 11),
           (36, 101, 118, 119, 120, 121, 128, 245, 188, 174, 236, 134, 220, 115, 48, 64, 129, 203)),
    Region(23, "infraorbital_l", "L", "levator labii superioris, zygomaticus minor", (10, 11),
           (423, 358, 294, 278, 344, 440, 363, 456, 399, 412, 465, 357, 350, 349, 348, 347, 330,
            266)),
    Region(24, "cheek_r", "R", "zygomaticus major, orbicularis oculi orbital lower", (6, 12, 13),
           (205, 187, 147, 123, 137, 93, 234, 227, 116, 111, 117, 118, 101, 36)),
    Region(25, "cheek_l", "L", "zygomaticus major, orbicularis oculi orbital lower", (6, 12, 13),
           (266, 330, 347, 346, 340, 345, 447, 454, 323, 366, 352, 376, 411, 425)),
    Region(26, "buccinator_r", "R", "buccinator, levator anguli oris", (13, 14),
           (36, 203, 206, 92, 186, 57, 212, 214, 192, 213, 147, 187, 205)),
    Region(27, "buccinator_l", "L", "buccinator, levator anguli oris", (13, 14),
           (425, 411, 376, 433, 416, 434, 432, 287, 410, 322, 426, 423, 266)),
    Region(28, "masseter_r", "R", "masseter (jaw)", (26, 31),
           (58, 132, 93, 137, 123, 147, 213, 192, 214, 135, 136, 172)),
    Region(29, "masseter_l", "L", "masseter (jaw)", (26, 31),
           (397, 365, 364, 434, 416, 433, 376, 352, 366, 323, 361, 288)),
    Region(30, "lip_upper_r", "R", "orbicularis oris, superior (upper lip and its skin)",
           (10, 18, 22, 23, 24),
           (0, 11, 12, 13, 82, 81, 80, 191, 78, 62, 76, 61, 185, 186, 92, 206, 203, 129, 64, 98,
            97, 2, 164)),
    Region(31, "lip_upper_l", "L", "orbicularis oris, superior (upper lip and its skin)",
           (10, 18, 22, 23, 24),
           (164, 2, 326, 327, 294, 358, 423, 426, 322, 410, 409, 291, 306, 292, 308, 415, 310,
            311, 312, 13, 12, 11, 0)),
    Region(32, "lip_corner_r", "R", "modiolus (lip corner)", (12, 13, 14, 15, 20),
           (43, 202, 212, 57, 186, 185, 61, 146)),
    Region(33, "lip_corner_l", "L", "modiolus (lip corner)", (12, 13, 14, 15, 20),
           (375, 291, 409, 410, 287, 432, 422, 273)),
    Region(34, "risorius_r", "R", "risorius, platysma", (20,),
           (169, 135, 214, 212, 202, 210)),
    Region(35, "risorius_l", "L", "risorius, platysma", (20,),
           (430, 422, 432, 434, 364, 394)),
    Region(36, "lip_lower_r", "R", "orbicularis oris, inferior (lower lip)",
           (16, 18, 22, 23, 24, 25),
           (14, 15, 16, 17, 84, 181, 91, 146, 61, 76, 62, 78, 95, 88, 178, 87)),
    Region(37, "lip_lower_l", "L", "orbicularis oris, inferior (lower lip)",
           (16, 18, 22, 23, 24, 25),
           (317, 402, 318, 324, 308, 292, 306, 291, 375, 321, 405, 314, 17, 16, 15, 14)),
    Region(38, "depressor_anguli_r", "R", "depressor anguli oris", (15,),
           (176, 149, 150, 136, 135, 169, 210, 202, 43, 146, 91, 182, 194, 32, 140)),
    Region(39, "depressor_anguli_l", "L", "depressor anguli oris", (15,),
           (369, 262, 418, 406, 321, 375, 273, 422, 430, 394, 364, 365, 379, 378, 400)),
    Region(40, "depressor_labii_r", "R", "depressor labii inferioris", (16, 25),
           (140, 32, 194, 182, 91, 181, 84, 83, 201, 208, 171, 148, 176)),
    Region(41, "depressor_labii_l", "L", "depressor labii inferioris", (16, 25),
           (400, 377, 396, 428, 421, 313, 314, 405, 321, 406, 418, 262, 369)),
    Region(42, "mentalis", "C", "mentalis (chin)", (17,),
           (83, 84, 17, 314, 313, 421, 428, 396, 377, 152, 148, 171, 208, 201)),
)
# fmt: on

# Landmark pairs (subject's right, subject's left) that mirror each other. Derived by matching
# the landmarks of a frontal face with those of its horizontally flipped image (optimal
# assignment), then checked against the Face Mesh triangulation: every mesh edge maps onto a
# mesh edge except the diagonals of three quads that MediaPipe triangulates asymmetrically.
# fmt: off
MIRROR_PAIRS: tuple[tuple[int, int], ...] = (
    (3, 248), (7, 249), (20, 250), (21, 251), (22, 252), (23, 253), (24, 254), (25, 255), (26, 256),
    (27, 257), (28, 258), (29, 259), (30, 260), (31, 261), (32, 262), (33, 263), (34, 264),
    (35, 265), (36, 266), (37, 267), (38, 268), (39, 269), (40, 270), (41, 271), (42, 272),
    (43, 273), (44, 274), (45, 275), (46, 276), (47, 277), (48, 278), (49, 279), (50, 280),
    (51, 281), (52, 282), (53, 283), (54, 284), (55, 285), (56, 286), (57, 287), (58, 288),
    (59, 289), (60, 290), (61, 291), (62, 292), (63, 293), (64, 294), (65, 295), (66, 296),
    (67, 297), (68, 298), (69, 299), (70, 300), (71, 301), (72, 302), (73, 303), (74, 304),
    (75, 305), (76, 306), (77, 307), (78, 308), (79, 309), (80, 310), (81, 311), (82, 312),
    (83, 313), (84, 314), (85, 315), (86, 316), (87, 317), (88, 318), (89, 319), (90, 320),
    (91, 321), (92, 322), (93, 323), (95, 324), (96, 325), (97, 326), (98, 327), (99, 328),
    (100, 329), (101, 330), (102, 331), (103, 332), (104, 333), (105, 334), (106, 335), (107, 336),
    (108, 337), (109, 338), (110, 339), (111, 340), (112, 341), (113, 342), (114, 343), (115, 344),
    (116, 345), (117, 346), (118, 347), (119, 348), (120, 349), (121, 350), (122, 351), (123, 352),
    (124, 353), (125, 354), (126, 355), (127, 356), (128, 357), (129, 358), (130, 359), (131, 360),
    (132, 361), (133, 362), (134, 363), (135, 364), (136, 365), (137, 366), (138, 367), (139, 368),
    (140, 369), (141, 370), (142, 371), (143, 372), (144, 373), (145, 374), (146, 375), (147, 376),
    (148, 377), (149, 378), (150, 379), (153, 380), (154, 381), (155, 382), (156, 383), (157, 384),
    (158, 385), (159, 386), (160, 387), (161, 388), (162, 389), (163, 390), (165, 391), (166, 392),
    (167, 393), (169, 394), (170, 395), (171, 396), (172, 397), (173, 398), (174, 399), (176, 400),
    (177, 401), (178, 402), (179, 403), (180, 404), (181, 405), (182, 406), (183, 407), (184, 408),
    (185, 409), (186, 410), (187, 411), (188, 412), (189, 413), (190, 414), (191, 415), (192, 416),
    (193, 417), (194, 418), (196, 419), (198, 420), (201, 421), (202, 422), (203, 423), (204, 424),
    (205, 425), (206, 426), (207, 427), (208, 428), (209, 429), (210, 430), (211, 431), (212, 432),
    (213, 433), (214, 434), (215, 435), (216, 436), (217, 437), (218, 438), (219, 439), (220, 440),
    (221, 441), (222, 442), (223, 443), (224, 444), (225, 445), (226, 446), (227, 447), (228, 448),
    (229, 449), (230, 450), (231, 451), (232, 452), (233, 453), (234, 454), (235, 455), (236, 456),
    (237, 457), (238, 458), (239, 459), (240, 460), (241, 461), (242, 462), (243, 463), (244, 464),
    (245, 465), (246, 466), (247, 467), (468, 473), (469, 476), (470, 475), (471, 474), (472, 477),
)
# fmt: on

# Landmarks on the midline (their own mirror image).
MIDLINE: tuple[int, ...] = (
    0,
    1,
    2,
    4,
    5,
    6,
    8,
    9,
    10,
    11,
    12,
    13,
    14,
    15,
    16,
    17,
    18,
    19,
    94,
    151,
    152,
    164,
    168,
    175,
    195,
    197,
    199,
    200,
)

# Drawing order of rasterise(): from the largest region of a frontal reference face to the
# smallest, so a pixel on a shared border goes to the smaller (thinner) region - brows, lips,
# lip corners and the nose tip keep their few pixels. Ties go to the lower id.
DRAW_ORDER: tuple[int, ...] = (
    1,
    2,
    42,
    24,
    25,
    38,
    39,
    26,
    27,
    30,
    31,
    22,
    23,
    3,
    4,
    12,
    13,
    18,
    40,
    41,
    11,
    16,
    17,
    14,
    15,
    19,
    20,
    28,
    29,
    34,
    35,
    5,
    6,
    36,
    37,
    7,
    8,
    32,
    33,
    21,
    9,
    10,
)


def mirror_map() -> np.ndarray:
    """Gives the (478,) int array mapping each landmark index to its mirror image's index."""
    m = np.arange(N_LANDMARKS)
    for right, left in MIRROR_PAIRS:
        m[right], m[left] = left, right
    return m


def region(key: int | str) -> Region:
    """Gives the region with this id (1..42) or name (e.g. 'lip_corner_l')."""
    if isinstance(key, int):
        if not 1 <= key <= N_REGIONS:
            raise KeyError(f"region id {key} is not in 1..{N_REGIONS}")
        return REGIONS[key - 1]
    for r in REGIONS:
        if r.name == key:
            return r
    raise KeyError(f"no region named {key!r}")


def mirror_region(region_id: int) -> int:
    """Gives the id of the region on the other side (the same id for a centre region)."""
    r = region(region_id)
    if r.side == "C":
        return r.id
    other = r.name[:-1] + ("l" if r.side == "R" else "r")
    return region(other).id


_POLYGONS = tuple(np.asarray(r.polygon, dtype=np.intp) for r in REGIONS)
_SHIFT = 4  # fillPoly's fractional bits: landmarks are placed to 1/16 pixel
# the polygons' landmark indices in drawing order, end to end, and where each one ends: one
# gather per label map instead of one per region
_DRAW_INDEX = np.concatenate([_POLYGONS[rid - 1] for rid in DRAW_ORDER])
_DRAW_ENDS = np.cumsum([len(_POLYGONS[rid - 1]) for rid in DRAW_ORDER]).tolist()
_DRAW_SLICES = tuple(
    (rid, slice(a, b))
    for rid, a, b in zip(DRAW_ORDER, [0, *_DRAW_ENDS[:-1]], _DRAW_ENDS, strict=True)
)


def rasterise(points: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Gives the (H, W) uint8 label map: 0 = background, 1..42 = region id.

    ``points`` are the (478, 2) landmark pixel coordinates (x, y) in the image of ``shape``
    (pixel centres at integer coordinates, as in OpenCV). Pixels on a border shared by two
    regions go to the one drawn last in :data:`DRAW_ORDER` (the smaller one).
    """
    import cv2

    pts = np.asarray(points)
    if pts.shape != (N_LANDMARKS, 2):
        raise ValueError(f"rasterise: expected ({N_LANDMARKS}, 2) landmarks, got {pts.shape}")
    if not np.isfinite(pts).all():
        raise ValueError("rasterise: landmarks contain NaN or inf (a frame without a face?)")
    fixed = np.rint(pts[_DRAW_INDEX] * (1 << _SHIFT)).astype(np.int32)
    labels = np.zeros((int(shape[0]), int(shape[1])), dtype=np.uint8)
    for rid, part in _DRAW_SLICES:
        cv2.fillPoly(labels, [fixed[part]], (rid,), cv2.LINE_8, _SHIFT)
    return labels


def polygon_areas(points: np.ndarray) -> np.ndarray:
    """Gives the (42,) float64 areas in square pixels of the region polygons (shoelace)."""
    pts = np.asarray(points, dtype=np.float64)
    out = np.empty(N_REGIONS, dtype=np.float64)
    for i, poly in enumerate(_POLYGONS):
        x, y = pts[poly, 0], pts[poly, 1]
        out[i] = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    return out


def region_centres(labels: np.ndarray) -> np.ndarray:
    """Gives the (42, 2) float64 (x, y) centroids of the regions in a label map (NaN if empty)."""
    h, w = labels.shape
    flat = labels.ravel().astype(np.intp)
    ys, xs = np.divmod(np.arange(h * w), w)
    n = np.bincount(flat, minlength=N_REGIONS + 1)[1:].astype(np.float64)
    sx = np.bincount(flat, weights=xs, minlength=N_REGIONS + 1)[1:]
    sy = np.bincount(flat, weights=ys, minlength=N_REGIONS + 1)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.stack([sx / n, sy / n], axis=1)
