"""meflow gender: the per-subject gender table of a dataset (DeepFace or a user's table)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "estimate each subject's gender (DeepFace on first frames, or a table) and write the table"

# the paper's participants (CAS(ME)^3 Part A, gender from DeepFace)
PAPER_COUNTS = {"male": 40, "female": 54}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Adds the command's options to ``p``."""
    from meflow.demographics.estimators import ESTIMATORS, GenderSettings

    d = GenderSettings()
    p.add_argument("--dataset", default="casme3", help="dataset name (default casme3)")
    p.add_argument("--root", type=Path, required=True, metavar="DIR", help="dataset folder")
    p.add_argument("--labels", type=Path, help="label file (default: found in --root)")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="TABLE",
        help="demographics CSV to write (clip detail goes to TABLE.clips.csv beside it)",
    )
    p.add_argument(
        "--estimator", default="deepface", choices=sorted(ESTIMATORS), help="default deepface"
    )
    p.add_argument(
        "--table", type=Path, metavar="CSV", help="subject,gender CSV (--estimator table)"
    )
    p.add_argument(
        "--first-frames",
        type=int,
        default=d.first_frames,
        metavar="N",
        help=f"frames analysed per clip from its onset (default {d.first_frames})",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=d.threshold,
        metavar="T",
        help=f"minimum confidence of a clip and of a subject (default {d.threshold})",
    )
    p.add_argument(
        "--detector",
        default=d.detector_backend,
        help=f"DeepFace face detector (default {d.detector_backend}; offline ones only)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Estimates, writes the table and prints the counts; gives the exit status."""
    from meflow.datasets import load_dataset
    from meflow.demographics.estimators import GenderSettings, get_estimator, write_estimate

    settings = GenderSettings(
        first_frames=args.first_frames,
        threshold=args.threshold,
        table=args.table,
        detector_backend=args.detector,
    )
    estimator = get_estimator(args.estimator)
    data = load_dataset(args.dataset, labels=args.labels, root=args.root)
    estimate = estimator(data.samples, settings, not args.quiet)
    for line in estimate.warnings:
        print(f"warning: {line}", file=sys.stderr)
    files = write_estimate(estimate, args.out)
    c = estimate.counts()
    print(
        f"{len(estimate.subjects)} subjects: {c['male']} male, {c['female']} female, "
        f"{c['excluded']} excluded (paper: {PAPER_COUNTS['male']} male, "
        f"{PAPER_COUNTS['female']} female)"
    )
    if len(estimate.clips):
        ex = int((estimate.clips["excluded"] != "").sum())
        print(f"{len(estimate.clips)} clips analysed, {ex} excluded")
    print("written: " + ", ".join(str(f) for f in files))
    return 0
