"""``meflow regions``: draws the 42 facial muscle regions over the face in an image."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Draw the 42 facial muscle regions (coloured and numbered) over the face in an image."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's options to ``parser``."""
    parser.add_argument("--image", required=True, type=Path, help="photograph with one face")
    parser.add_argument("--out", required=True, type=Path, help="PNG file to write")
    parser.add_argument(
        "--size", type=int, default=640, help="side of the square face figure in pixels (640)"
    )


def run(args: argparse.Namespace) -> int:
    """Detects the landmarks (static mode), writes the figure, prints its path; gives 0."""
    import cv2

    from meflow.errors import MeflowError, NoFaceError
    from meflow.face.draw import draw_regions
    from meflow.face.landmarks import LandmarkTracker

    path: Path = args.image
    if not 64 <= args.size <= 4096:
        raise MeflowError(f"--size {args.size}: expected 64..4096 pixels")
    if not path.is_file():
        raise MeflowError(f"{path}: no such image file")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise MeflowError(f"{path}: cannot be read as an image (missing, empty or corrupt)")
    with LandmarkTracker(static=True) as tracker:
        points = tracker(image)
    if points is None:
        raise NoFaceError(f"{path}: no face found in the image")
    draw_regions(image, points, args.out, size=args.size)
    print(args.out)
    return 0
