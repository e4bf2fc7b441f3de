"""meflow spot: the leave-one-subject-out spotting evaluation of a long-recording dataset."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from meflow.commands._executor import add_executor_options, make_executor_from_args
from meflow.commands.extract import add_extract_settings, extract_settings

HELP = "spot micro- and macro-expressions in long recordings (leave-one-subject-out evaluation)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from meflow.spotting.layouts import DATASETS

    p.add_argument("--dataset", required=True, choices=DATASETS, help="the dataset's layout")
    p.add_argument("--root", type=Path, required=True, metavar="DIR", help="the dataset folder")
    p.add_argument("--out", type=Path, required=True, metavar="RUN", help="the run folder")
    p.add_argument(
        "--labels", type=Path, metavar="FILE", help="the ground-truth file, if not in --root"
    )
    p.add_argument(
        "--features",
        type=Path,
        metavar="DIR",
        help="where each recording's region flow is kept and reused (default: OUT/features)",
    )
    p.add_argument(
        "--spotter",
        metavar="KIND",
        help="the spotter to evaluate: learned or baseline (default: learned, with the "
        "baseline as its reference; baseline alone where learned is not available)",
    )
    p.add_argument("--no-recognition", action="store_true", help="no spot-then-recognise (STRS)")
    p.add_argument("--no-figures", action="store_true", help="no timeline figures")
    p.add_argument(
        "--chance-draws", type=int, default=200, metavar="N", help="draws of chance (default 200)"
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="N",
        help="bootstrap resamples (default 1000)",
    )
    p.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of chance and the bootstrap"
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        default=min(2, os.cpu_count() or 1),
        help="recordings extracted at a time by the local executor (default: min(2, cores))",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    add_extract_settings(p)
    add_executor_options(p, training=False)


def _say(args: argparse.Namespace) -> Any:
    def say(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    return say


def _annotation(args: argparse.Namespace) -> Path:
    from meflow.errors import MeflowError
    from meflow.spotting.layouts import find_annotation

    if args.labels is not None:
        if not args.labels.is_file():
            raise MeflowError(f"{args.labels}: no such ground-truth file")
        return Path(args.labels)
    return find_annotation(args.dataset, args.root)


def _spotters(args: argparse.Namespace) -> list[str] | None:
    if not args.spotter:
        return None
    return [args.spotter] + (["baseline"] if args.spotter != "baseline" else [])


def run(args: argparse.Namespace) -> int:
    from meflow.spotting.report import markdown_table, spotting_rows, table_columns

    ev, written = evaluate_run(args)
    print(markdown_table(table_columns(ev), spotting_rows(ev)))
    print_extra(ev)
    for what, path in written.items():
        print(f"{what}: {path}")
    return 0


def evaluate_run(args: argparse.Namespace, cfg: Any = None) -> tuple[Any, dict[str, Path]]:
    """(the evaluation, {what: path written}) of ``meflow spot`` with these arguments (``cfg``:
    extraction settings given in place of the command line's); prints only progress (the demo
    calls it too)."""
    from meflow.errors import MeflowError
    from meflow.features.cache import ensure_writable
    from meflow.spotting.evaluate import available_spotters, evaluate_spotting
    from meflow.spotting.ground_truth import load_ground_truth
    from meflow.spotting.layouts import LOADER, find_recordings, truth_for
    from meflow.spotting.report import write_run

    if not args.root.is_dir():
        raise MeflowError(f"{args.root}: no such dataset folder")
    if args.chance_draws < 1 or args.bootstrap < 1:
        raise MeflowError("--chance-draws and --bootstrap must be at least 1")
    labels = _annotation(args)
    available_spotters(_spotters(args))  # an unknown spotter fails before the extraction
    cfg = cfg if cfg is not None else extract_settings(args)
    recordings = find_recordings(args.dataset, args.root)
    gt = load_ground_truth(LOADER[args.dataset], labels)
    ensure_writable(args.out)
    say = _say(args)
    features = args.features or args.out / "features"
    say(f"{len(recordings)} recordings in {args.root}; ground truth {labels.name}")
    flows, failed = extract_recordings(args, recordings, features, cfg, say)
    kept = [r for r in recordings if r.name in flows]
    truth = truth_for(gt, kept)
    recognise = None if args.no_recognition else _recogniser(truth, cfg, say)
    ev = evaluate_spotting(
        [flows[r.name] for r in kept], truth.expressions, truth.blinks, truth.subjects,
        _spotters(args), chance_draws=args.chance_draws, bootstrap=args.bootstrap,
        seed=args.seed, recognise=recognise, progress=say,
    )  # fmt: skip
    ev.notes += truth.notes + [f"extraction failed, left out: {n}: {why}" for n, why in failed]
    info = {"dataset": args.dataset, "root": str(args.root), "labels": str(labels),
            "features": str(features)}  # fmt: skip
    spans = {n: (f.number(0), f.number(f.frames - 1)) for n, f in flows.items()}
    fps = kept[0].fps if kept else None
    return ev, write_run(ev, args.out, spans, info, fps, figures=not args.no_figures)


def print_extra(ev: Any) -> None:
    shares = ", ".join(f"{r.name} {100 * r.on_blinks:.1f}%" for r in ev.spotters)
    print(
        f"spotted intervals on annotated blinks: {shares}, chance {100 * ev.chance_on_blinks:.1f}%"
    )
    if ev.recognition is not None:
        s, a = ev.recognition.strs, ev.recognition.annotated
        print(f"STRS {s.strs:.3f} (micro spotting F1 {s.spotting.f1:.3f} x analysis F1 "
              f"{s.analysis_f1:.3f}); on annotated intervals: UF1 {a.uf1:.3f}, "
              f"UAR {a.uar:.3f}")  # fmt: skip
    for note in ev.notes:
        print(f"note: {note}")


def _recogniser(truth: Any, cfg: Any, say: Any) -> Any:
    from meflow.spotting.recognition import SpotThenRecognise, recommended_config

    emotions = {g.emotion for g in truth.expressions if g.type == "micro" and g.emotion}
    if len(emotions) < 2:
        say("no spot-then-recognise: the ground truth names fewer than 2 micro emotions")
        return None
    return SpotThenRecognise(
        truth.expressions, truth.subjects, replace(recommended_config(), extract=cfg)
    )


def extract_recordings(
    args: argparse.Namespace, recordings: list[Any], features: Path, cfg: Any, say: Any
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """({name: RecordingFlow}, [(name, why it failed)]): each recording's region flow,
    extracted into ``features`` where not there yet (``--executor``), reused where it is."""
    from meflow.config import ExtractConfig
    from meflow.config_io import settings_match
    from meflow.errors import MeflowError
    from meflow.features.cache import load_npz, save_npz
    from meflow.spotting.layouts import features_path, load_flow

    todo = [r for r in recordings if not features_path(features, r).exists()]
    if len(todo) < len(recordings):
        say(f"reusing the region flow of {len(recordings) - len(todo)} recording(s) in {features}")
    failed: list[tuple[str, str]] = []
    if todo:
        executor = make_executor_from_args(args, workers=args.workers)
        tasks = [(str(r.frames.absolute()), r.fps) for r in todo]
        with executor:
            for done, (i, result) in enumerate(executor.map(_extract_one, tasks, cfg), 1):
                rec = todo[i]
                if isinstance(result, str):
                    failed.append((rec.name, result))
                    say(f"[{done}/{len(todo)}] {rec.name}: failed ({result})")
                    continue
                save_npz(features_path(features, rec), *result)
                say(f"[{done}/{len(todo)}] {rec.name}: {len(result[0]['valid']) + 1} frames")
    flows = {}
    for r in recordings:
        path = features_path(features, r)
        if not path.exists():
            continue
        if not settings_match(ExtractConfig, load_npz(path)[1].get("extract"), cfg):
            raise MeflowError(
                f"{path} was extracted with other settings: give another --features or delete it"
            )
        flows[r.name] = load_flow(r, path)
    if not flows:
        raise MeflowError("no recording could be extracted")
    return flows, failed


def _extract_one(cfg: Any, task: tuple[str, float]) -> Any:
    """A worker's task: (arrays, meta), or the one-line reason it failed."""
    from meflow.errors import MeflowError
    from meflow.spotting.layouts import extract_task

    try:
        return extract_task(cfg, task)
    except MeflowError as exc:
        return str(exc)
