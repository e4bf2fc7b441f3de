"""Flow-direction fidelity of the whole extraction on real faces moved at known directions.

    .venv/bin/python benchmarks/directions.py [--faces FILE ...] [--speed 0.8] [--frames 9]

Each face photograph (default: scikit-image's astronaut and, where present, the faces of
../shared/data/faces/) is translated at 8 directions that are not sector centres, frame after
frame, and the clip goes through ``meflow extract --video ... --motion none``. Printed per
face and direction: the median over the 42 regions of the signed angle error (degrees), and
its worst region. A pure translation moves every region the same way, so any error is the
pipeline's: the face crop, the flow, the pooling.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from _results import write_results  # benchmarks/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEFLOW_SHARED_DATA", ROOT.parent / "shared" / "data"))
# 8 directions off the sector centres (22.5 + 45 k degrees) and off the sector edges
DIRECTIONS = (10.0, 58.0, 101.0, 147.0, 194.0, 236.0, 283.0, 329.0)


def translated_clip(
    image: np.ndarray, degrees: float, speed: float, frames: int, out: Path
) -> Path:
    """Writes ``frames`` PNGs of ``image`` moved ``speed`` px a frame toward ``degrees``
    (0 = right, 90 = up on screen); Lanczos resampling, the border replicated."""
    import cv2

    out.mkdir(parents=True, exist_ok=True)
    dx, dy = math.cos(math.radians(degrees)), -math.sin(math.radians(degrees))
    for t in range(frames):
        m = np.float32([[1, 0, t * speed * dx], [0, 1, t * speed * dy]])
        img = cv2.warpAffine(
            image, m, image.shape[1::-1], flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REPLICATE
        )
        cv2.imwrite(str(out / f"{t:03d}.png"), img)
    return out


def region_errors(npz: Path, degrees: float) -> np.ndarray:
    """Signed error (degrees, in (-180, 180]) of each region's circular-mean direction."""
    from meflow.features.cache import load_npz

    arrays, _ = load_npz(npz)
    ang = arrays["angle"][arrays["valid"]]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a region without pixels: NaN
        mean = np.arctan2(np.nanmean(np.sin(ang), axis=0), np.nanmean(np.cos(ang), axis=0))
    err = np.degrees(mean) - degrees
    return (err + 180.0) % 360.0 - 180.0  # NaN for a region without pixels


def measure(
    face: Path, speed: float, frames: int, extra: tuple[str, ...] = ()
) -> list[tuple[float, float, float, int]]:
    """(direction, median signed error, worst region's error, regions with pixels) per
    direction."""
    import contextlib
    import io

    import cv2

    from meflow.cli import main

    image = cv2.imread(str(face))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in DIRECTIONS:
            clip = translated_clip(image, d, speed, frames, Path(tmp) / f"d{d:g}")
            args = ["extract", "--video", str(clip), "--out", tmp, "--motion", "none", "--quiet"]
            args += list(extra)
            with contextlib.redirect_stdout(io.StringIO()):
                rc = main(args)
            if rc != 0:
                raise SystemExit(f"{face}: extraction failed")
            err = region_errors(Path(tmp) / f"{clip.name}.npz", d)
            ok = err[np.isfinite(err)]
            rows.append((d, float(np.median(ok)), float(ok[np.argmax(np.abs(ok))]), ok.size))
    return rows


def main() -> int:
    from skimage import data

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--faces", type=Path, nargs="*", help="face photographs (default: see above)")
    p.add_argument("--speed", type=float, default=0.8, help="px per frame in the photo")
    p.add_argument("--frames", type=int, default=9)
    p.add_argument("--flow", help="optical-flow backend (default: meflow's)")
    args = p.parse_args()
    extra = ("--flow", args.flow) if args.flow else ()
    faces = args.faces
    if not faces:
        import cv2

        tmp = Path(tempfile.mkdtemp()) / "astronaut.png"
        cv2.imwrite(str(tmp), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
        faces = [tmp, *sorted((SHARED / "faces").glob("*-ph.jpg"))]
        if (SHARED / "faces" / "single_face.jpg").exists():
            faces.append(SHARED / "faces" / "single_face.jpg")
    print(f"{'face':<22} " + " ".join(f"{d:>6.0f}" for d in DIRECTIONS) + "  worst  regions")
    out = []
    for face in faces:
        rows = measure(face, args.speed, args.frames, extra)
        worst = max((abs(r[2]), r[2]) for r in rows)[1]
        print(
            f"{face.name[:22]:<22} "
            + " ".join(f"{r[1]:+6.1f}" for r in rows)
            + f"  {worst:+5.1f}  {min(r[3] for r in rows):>7d}"
        )
        out.append(
            [
                face.name,
                *(f"{r[1]:+.1f}" for r in rows),
                f"{worst:+.1f}",
                str(min(r[3] for r in rows)),
            ]
        )
    print(
        "(median signed error over the regions with pixels, degrees, per direction of motion;"
        " worst: the largest single-region error; regions: how many have pixels)"
    )
    columns = ["face", *(f"{d:.0f}°" for d in DIRECTIONS), "worst", "regions"]
    figures: dict[str, object] = {"speed": f"{args.speed:g}", "frames": args.frames}
    for row in out:  # per face: the largest median error over the directions, in degrees
        figures[f"{Path(row[0]).stem}.max_abs"] = f"{max(abs(float(c)) for c in row[1:9]):.1f}"
    name = "directions" + (f"-{args.flow}" if args.flow else "")
    name += f"-speed{args.speed:g}".replace(".", "p") if args.speed != 0.8 else ""  # no dots
    write_results(name, tables={"errors": {"columns": columns, "rows": out}}, figures=figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
