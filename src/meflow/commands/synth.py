"""``meflow synth``: writes the embedded synthetic micro-expression dataset."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meflow.synth.photos import FacePhoto

HELP = (
    "write a synthetic micro-expression dataset in CAS(ME)^3's, CASME II's, SAMM's or SMIC's layout"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's options to ``parser``."""
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder to write (new, empty, or a previous synth output)",
    )
    parser.add_argument(
        "--subjects",
        type=int,
        default=16,
        metavar="N",
        help="number of synthetic participants, 10 clips each (default 16)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="random seed; the same seed gives the same dataset (default 0)",
    )
    parser.add_argument(
        "--profile",
        default="realistic",
        choices=("realistic", "clean"),
        help="nuisances: realistic (default; noise as large as a pair's motion, as real clips "
        "measure) or clean (the version-1 set: 3x less noise, larger expressions)",
    )
    parser.add_argument(
        "--faces",
        metavar="DIR",
        help="make the subjects of the faces in these photographs (a folder, or 'packaged' for "
        "those installed packages ship); default: variants of one photo (the astronaut)",
    )
    parser.add_argument(
        "--layout",
        default="casme3",
        choices=("casme3", "casme2", "samm", "smic", "megc2019", "casme3-long"),
        help="casme3 (default: CAS(ME)^3 Part A, 80-frame clips at 30 fps); casme2, samm, smic: "
        "clips cropped from onset to offset at the dataset's rate (200, 200, 100 fps) in its "
        "layout; megc2019: the three in sub-folders with the MEGC2019 composite's class mix "
        "(--subjects in all); casme3-long: long recordings with micro- and macro-expressions "
        "and blinks, and their spotting ground truth CAS(ME)3_part_A_v2.xls",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=40.0,
        metavar="S",
        help="casme3-long: each recording's length in seconds (default 40; at least 3)",
    )
    parser.add_argument(
        "--recordings",
        type=int,
        default=2,
        metavar="N",
        help="casme3-long: recordings per subject (default 2; at most 13)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Generates the dataset and prints a short summary; gives the exit status."""
    from pathlib import Path

    from meflow.synth.generator import generate

    faces = None
    if args.faces:
        from meflow.synth.photos import load_face_photos, photo_files

        faces, warnings = load_face_photos(photo_files(args.faces))
        for line in warnings:
            print(f"warning: {line}", file=sys.stderr)
        for f in faces:
            print(f"face {f.name}: {f.gender} ({f.gender_confidence:.3f})")
    if args.layout == "casme3-long":
        return _run_long(args, faces)
    s = generate(
        Path(args.out),
        subjects=args.subjects,
        seed=args.seed,
        progress=not args.quiet,
        profile=args.profile,
        faces=faces,
        layout=args.layout,
    )
    per_class = ", ".join(f"{e} {n}" for e, n in s.samples_per_class.items())
    genders = ", ".join(f"{n} {g}" for g, n in s.genders.items())
    print(f"{s.samples} micro-expressions: {per_class}")
    print(f"{s.subjects} subjects: {genders}")
    print(f"{s.frames_written} frames, {s.bytes_written / 1e6:.1f} MB in {s.seconds:.1f} s")
    print(f"labels: {s.label_file}")
    return 0


def _run_long(args: argparse.Namespace, faces: Sequence[FacePhoto] | None) -> int:
    """Generates the long recordings and prints a short summary; gives the exit status."""
    from pathlib import Path

    from meflow.synth.long import generate_long

    s = generate_long(
        Path(args.out),
        subjects=args.subjects,
        seed=args.seed,
        recordings_per_subject=args.recordings,
        seconds=args.seconds,
        profile=args.profile,
        faces=faces,
        progress=not args.quiet,
    )
    events = ", ".join(f"{n} {k}" for k, n in s.counts.items())
    print(f"{len(s.recordings)} recordings of {s.subjects} subjects: {events}")
    print(f"{s.frames_written} frames, {s.bytes_written / 1e6:.1f} MB in {s.seconds:.1f} s")
    print(f"ground truth: {s.ground_truth}")
    return 0
