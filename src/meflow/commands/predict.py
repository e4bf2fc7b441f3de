"""meflow predict: spot-then-recognise on videos (the intervals found, each micro-expression's
emotion probabilities) and class probabilities of 64-frame windows slid along them, with a
timeline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from meflow.commands.extract import add_set_option, setting_assignments

if TYPE_CHECKING:
    from meflow.inference import PredictionResult

HELP = (
    "spot micro- and macro-expressions in videos and recognise the micro-expressions; "
    "probabilities of 64-frame windows slid along them (CSV, JSON, PNG)"
)

EPILOG = """\
Spotting: a model file that carries a spotter (or --spotter FILE, which overrides it) makes
predict spot the video's micro- and macro-expression intervals and classify each micro-
expression with its window centred on the spotted apex: <name>_intervals.csv and the JSON's
"intervals", or "no expression found". Without a spotter only the per-window probabilities
are given (meflow spot ... --out RUN writes RUN/spotter.json).

Processing follows the model file: its extraction settings (flow backend, angle averaging,
discretisation, equalisation, motion compensation, face crop) are used as stored. --flow,
--angle-average, --motion and --set only check: equal to the model's they are accepted, any
other value is refused (train a model with that setting instead).

Frame rate: windows are cut at the training data's rate (the model's "fps", 30 for CAS(ME)^3
and the synthetic set). Every video is resampled to it by the frames' own timestamps, taking
the frame nearest to each 1/30 s step: a faster video loses frames, a variable-rate one is
evened out. Where a video is slower than the training rate a step repeats a frame; such a
frame pair is kept as a valid pair without motion. A video slower than half the training rate
(15 fps for 30) is refused. The JSON's "notes" say what was done. --fps replaces the file's
timestamps by a constant rate (image folders: default 30).

A window is valid when at least --min-valid (default 0.9) of its 64 frame pairs have a face in
both frames (a repeated frame's pair counts as valid); invalid windows get a row with empty
probabilities and valid=false. A video shorter than 65 frames (at the training rate) is
refused. With several inputs a failed one does not stop the others; the exit status is 2 if
any failed. See docs/predict.md.
"""


NO_SPOTTER = (
    "note: {model} carries no spotter, so only per-window probabilities are given; "
    "meflow spot ... --out RUN writes RUN/spotter.json: give it with --spotter"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    p.add_argument(
        "inputs", type=Path, nargs="+", metavar="INPUT", help="video file(s) or frame folder(s)"
    )
    p.add_argument("--model", type=Path, required=True, help="model file (meflow train)")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output folder: <name>.csv, <name>.json, <name>_timeline.png per input",
    )
    p.add_argument(
        "--spotter",
        type=Path,
        help="spotter file (meflow spot --out RUN writes RUN/spotter.json): spot with it "
        "instead of the model file's own",
    )
    p.add_argument("--stride", type=int, default=8, help="frames between window starts (default 8)")
    p.add_argument(
        "--min-valid",
        type=float,
        help="fraction of a window's frame pairs that must be valid (default: the share the "
        "model's training samples needed, train.min_valid, 0.9 unless set)",
    )
    p.add_argument(
        "--fps",
        type=float,
        help="frame rate to assume instead of the file's timestamps (frame folders: 30)",
    )
    p.add_argument("--no-figure", action="store_true", help="skip the timeline PNG")
    p.add_argument(
        "--flow", help="check only: refused unless it is the model's optical-flow backend"
    )
    p.add_argument(
        "--angle-average",
        choices=("arithmetic", "circular", "vector"),
        help="check only: refused unless it is the model's angle averaging",
    )
    p.add_argument(
        "--motion",
        choices=("none", "rigid", "rigid-landmarks"),
        help="check only: refused unless it is the model's head-motion compensation",
    )
    add_set_option(
        p,
        "check only: an extraction setting, e.g. preprocess.equalization=global; refused "
        "unless equal to the model's",
    )


def run(args: argparse.Namespace) -> int:
    from meflow.errors import MeflowError
    from meflow.inference import check_settings, load_model, predict_video, unique_names

    if args.stride < 1:
        raise MeflowError(f"--stride must be at least 1, got {args.stride}")
    if args.min_valid is not None and not 0.0 <= args.min_valid <= 1.0:
        raise MeflowError(f"--min-valid must be in [0, 1], got {args.min_valid}")
    if args.fps is not None and args.fps <= 0:
        raise MeflowError(f"--fps must be positive, got {args.fps}")
    loaded = load_model(args.model)
    check_settings(loaded, setting_assignments(args))
    min_valid = loaded.min_valid if args.min_valid is None else args.min_valid
    spotter = loaded.spotter
    if args.spotter is not None:
        from meflow.spotting.model import load_spotter

        spotter = load_spotter(args.spotter)

    from meflow.features.sequence import SequenceExtractor

    failed: list[tuple[Path, str]] = []
    names = unique_names(args.inputs)
    # one extractor for all inputs: it prepares the next input's MediaPipe graph as it ends one
    with SequenceExtractor(loaded.extract, keep_warm=len(args.inputs) > 1) as extractor:
        for src, name in zip(args.inputs, names, strict=True):
            try:
                res = predict_video(
                    src,
                    loaded,
                    args.out,
                    args.stride,
                    min_valid=min_valid,
                    fps=args.fps,
                    name=name,
                    figure=not args.no_figure,
                    extractor=extractor,
                    spotter=spotter,
                )
            except MeflowError as exc:
                failed.append((src, str(exc)))
                print(f"meflow predict: error: {exc}", file=sys.stderr)
                continue
            n_valid = int(res.valid.sum())
            tops = [w.top_class for w in res.windows if w.valid]
            common = max(set(tops), key=tops.count) if tops else "-"
            seconds = res.duration + 1.0 / res.analysis_fps  # the last frame is shown too
            print(
                f"{src}: {len(res.windows)} windows of "
                f"{loaded.extract.features.window / res.analysis_fps:.2f} s, {n_valid} valid, "
                f"most often {common}; "
                f"{seconds:.1f} s of video in {res.timings['total']:.1f} s "
                f"-> {res.files.get('csv')}"
            )
            for note in res.notes:
                print(f"  note: {note}")
            _print_intervals(res)
    if spotter is None:  # after the results, once
        print(NO_SPOTTER.format(model=args.model))
    if failed and len(args.inputs) > 1:
        print(
            f"meflow predict: {len(failed)} of {len(args.inputs)} inputs failed: "
            + ", ".join(str(p) for p, _ in failed),
            file=sys.stderr,
        )
    return 2 if failed else 0


def _print_intervals(res: PredictionResult) -> None:
    """The spotted intervals, one line each ("no expression found" when there are none)."""
    if res.intervals is None:
        return
    if not res.intervals:
        print("  no expression found")
        return
    for r in res.intervals:
        what = ""
        if r.type == "micro":
            what = (
                f", {r.emotion} {r.probabilities[r.emotion]:.2f}"
                if r.emotion is not None and r.probabilities is not None
                else ", window not valid: no emotion"
            )
        print(
            f"  {r.type}-expression: frames {r.onset_frame}-{r.offset_frame} "
            f"(apex {r.apex_frame}), {r.onset_s:.2f}-{r.offset_s:.2f} s{what}"
        )
    print(f"  -> {res.files.get('intervals')}")
