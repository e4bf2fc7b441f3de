"""Spotting on the synthetic long benchmark: the learned spotter, the baseline and chance,
leave-one-subject-out.

    .venv/bin/python benchmarks/spot.py --work DIR [--subjects 15] [--recordings 2]
        [--seconds 60] [--faces packaged+shared] [--workers 2] [--length-scales 1]
        [--floors none] [--learned-c 0.001,0.01] [--learned-stride 2] [--inner-folds 3]

Writes long recordings in CAS(ME)^3 Part A's layout with ``meflow synth --layout casme3-long``
into DIR/data (a rerun reuses them when the settings match; by default one subject per
distinct person: the packaged photographs' faces and those of ../shared/data/faces, linked
into DIR/faces), extracts each recording's per-pair region flow with ``meflow extract --video
<subject>/<recording>/color`` into DIR/features/<subject>_<recording>/color.npz (reused when
there), and evaluates two spotters leave-one-subject-out. The baseline (MDMD on meflow's
region flow, ``meflow.spotting.baseline``): every recording is spotted once under every grid
setting (``baseline_grid``), each fold chooses its setting on its training recordings alone
(``BaselineGrid.choose``) and spots the held-out subject's recordings with it. The learned
spotter (``meflow.spotting.learned``): each fold trains it on the other subjects'
recordings, expressions and blinks only (its penalty and decoding chosen on inner subject
folds of those) and spots the held-out subject. Chance, per spotter and recording: as many
intervals as that spotter spotted there, with the lengths of the fold's training ground
truths, placed at random (expected counts over ``--chance-draws`` draws). Printed and written
to benchmarks/results/spot.json: pooled TP, spotted, annotated, P, R, F1 (micro, macro,
overall) of each, the paired bootstrap over subjects of learned minus baseline and of each
minus its chance, each fold's choices, and the shares of spotted intervals on annotated blinks.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from _results import write_results
from _spot_eval import (
    COLUMNS,
    DIFF_COLUMNS,
    KINDS,
    Evaluation,
    Truth,
    add_chance,
    blink_shares,
    difference_rows,
    print_table,
    spotting_rows,
)
from _spot_learned import LEARNED_FOLD_COLUMNS, evaluate_learned
from meflow.spotting.baseline import (
    BaselineParams,
    RecordingFlow,
    read_video_features,
    spot_baseline,
)
from meflow.spotting.baseline_grid import baseline_grid
from meflow.spotting.ground_truth import SHARED_FILES, load_casme3
from meflow.spotting.references import interval_lengths
from meflow.spotting.scoring import Interval, score_spotting

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MEFLOW_SHARED_DATA", ROOT.parent / "shared" / "data"))
BASE = "baseline (MDMD)"
LONG_FILE = Path(SHARED_FILES["casme3"]).name
FOLD_COLUMNS = ["held out", "recordings", "setting", "train F1", "TP / spotted / annotated", "F1"]


def meflow(*args: str) -> None:
    """Runs one meflow command (this interpreter's) and stops the benchmark if it fails."""
    print("$ meflow " + " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "meflow", *args], check=True)


def make_data(data: Path, args: argparse.Namespace) -> None:
    """The synthetic long set in ``data``: reused when complete with the same settings."""
    meta_file = data / "synth.json"
    wanted = {
        "layout": "casme3-long",
        "subjects": args.subjects,
        "seed": args.seed,
        "recordings_per_subject": args.recordings,
        "seconds": args.seconds,
    }
    if meta_file.exists():
        meta = json.loads(meta_file.read_text())
        have = {k: meta.get("parameters", {}).get(k) for k in wanted}
        if meta.get("complete") and have == wanted:
            print(f"reusing {data}")
            return
        if meta.get("complete"):
            sys.exit(f"{data} holds another set ({have}); give another --work")
    faces = faces_folder(data.parent / "faces") if args.faces == "packaged+shared" else args.faces
    flags = ["--faces", str(faces)] if faces else []
    meflow("synth", "--layout", "casme3-long", "--out", str(data), "--subjects",
           str(args.subjects), "--recordings", str(args.recordings), "--seconds",
           str(args.seconds), "--seed", str(args.seed), *flags, "--quiet")  # fmt: skip


def faces_folder(folder: Path) -> Path:
    """A folder of links to the packaged photographs and those of ../shared/data/faces (as
    benchmarks/variants.py takes them: 15 distinct people), named so that they keep that order."""
    from meflow.synth.photos import packaged_photos

    files = [p.path for p in packaged_photos()]
    files += sorted((SHARED / "faces").glob("*.jpg")) if (SHARED / "faces").is_dir() else []
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for i, f in enumerate(files):
        (folder / f"{i:02d}_{Path(f).name}").symlink_to(Path(f).resolve())
    return folder


def frame_numbers(color: Path) -> np.ndarray:
    """The frame number of each image of a folder, in the order meflow reads them (natural)."""
    stems = [p.stem for p in color.iterdir() if p.suffix.lower() in (".jpg", ".png")]
    if not all(re.fullmatch(r"\d+", s) for s in stems):
        sys.exit(f"{color}: image names are not frame numbers")
    return np.array(sorted(int(s) for s in stems), dtype=np.int64)


def recording_folders(data: Path) -> list[tuple[str, str, Path]]:
    """(subject, recording, color folder) of every recording under ``data``, sorted."""
    return sorted(
        (c.parent.parent.name, c.parent.name, c)
        for c in data.glob("*/*/color")
        if c.is_dir() and not c.parent.parent.name.startswith(".")
    )


def extract_all(folders: Sequence[tuple[str, str, Path]], features: Path, workers: int) -> int:
    """``meflow extract --video`` of each recording not yet extracted, ``workers`` at a time;
    gives how many were extracted. One extracted with other settings than the defaults (those
    ``meflow extract --video`` uses here) stops the benchmark: it is never reused."""
    from meflow.config import ExtractConfig
    from meflow.config_io import settings_match
    from meflow.features.cache import load_npz

    for s, r, _ in folders:
        npz = features / f"{s}_{r}" / "color.npz"
        if npz.exists() and not settings_match(
            ExtractConfig, load_npz(npz)[1].get("extract"), ExtractConfig()
        ):
            sys.exit(f"{npz} was extracted with other settings: give another --work or delete it")
    todo = [
        (c, features / f"{s}_{r}")
        for s, r, c in folders
        if not (features / f"{s}_{r}" / "color.npz").exists()
    ]

    def one(job: tuple[Path, Path]) -> None:
        meflow("extract", "--video", str(job[0]), "--out", str(job[1]), "--quiet")

    with ThreadPoolExecutor(max(1, workers)) as pool:
        list(pool.map(one, todo))
    return len(todo)


def load_recording(subject: str, recording: str, color: Path, npz: Path) -> RecordingFlow:
    """A recording's flow numbered with its images' frame numbers (the annotation's)."""
    flow = read_video_features(npz, name=f"{subject}/{recording}")
    numbers = frame_numbers(color)
    taken = flow.frame_numbers  # indices into the folder's images, in reading order
    assert taken is not None
    if taken.max() >= numbers.size:
        sys.exit(f"{npz}: frame {taken.max()} beyond the {numbers.size} images of {color}")
    if numbers.size != flow.frames or not (taken == np.arange(numbers.size)).all():
        print(f"note: {color}: {flow.frames} analysed frames of {numbers.size} images")
    return RecordingFlow(flow.name, flow.vector, flow.valid, flow.fps,
                         frame_numbers=numbers[taken], lag_vector=flow.lag_vector,
                         spot_lags=flow.spot_lags)  # fmt: skip


def load_truth(data: Path, recordings: Sequence[RecordingFlow]) -> Truth:
    """CAS(ME)3_part_A_v2.xls's intervals, keyed 'subject/recording'; each inside its recording."""
    gt = load_casme3(data / LONG_FILE)
    spans = {r.name: (r.number(0), r.number(r.frames - 1)) for r in recordings}
    expressions, blinks = [], defaultdict(list)
    for i in gt.intervals:
        name = f"{i.subject}/{i.recording}"
        if name not in spans or not spans[name][0] <= i.onset <= i.offset <= spans[name][1]:
            sys.exit(f"{i.type} {name} {i.onset}-{i.offset} is outside the extracted frames")
        if i.type == "blink":
            blinks[name].append((i.onset, i.offset))
        else:
            expressions.append(Interval(name, i.onset, i.offset, i.type))
    subject_of = {r.name: r.name.split("/")[0] for r in recordings}
    return Truth(expressions, dict(blinks), subject_of)


def _setting(params: BaselineParams, scale: float) -> str:
    """A chosen grid setting in a few words: p micro/macro, length scale, noise floor."""
    floor = "" if params.floor_sigmas is None else f", floor {params.floor_sigmas:g}"
    return f"p {params.p_micro:.2f}/{params.p_macro:.2f}, x{scale:g}{floor}"


def evaluate(
    recordings: Sequence[RecordingFlow], truth: Truth, opts: argparse.Namespace
) -> Evaluation:
    """Leave-one-subject-out: one grid, a choice per fold on its training recordings, chance."""
    t0 = time.perf_counter()
    grid = baseline_grid(
        recordings, truth.expressions, length_scales=opts.length_scales, floor_grid=opts.floors
    )
    ev = Evaluation([], seconds={"grid": time.perf_counter() - t0})
    rows = grid.choose(grid.names).grid  # every setting pooled over ALL recordings: a ceiling
    ev.ceiling = {k: max(float(r[k] or 0.0) for r in rows) for k in KINDS}
    spot_s = 0.0
    for si, subject in enumerate(sorted(set(truth.subject_of.values()))):
        test = [r for r in recordings if truth.subject_of[r.name] == subject]
        train = [r.name for r in recordings if truth.subject_of[r.name] != subject]
        choice = grid.choose(train)
        lengths = interval_lengths([g for g in truth.expressions if g.recording in set(train)])
        found: dict[str, list[Interval]] = {}
        for rec in test:
            t1 = time.perf_counter()
            found[rec.name] = spot_baseline(rec, choice.params)
            spot_s += time.perf_counter() - t1
        add_chance(ev, found, test, truth, lengths, opts, opts.seed + 1000 * si)
        fold = [iv for rec in test for iv in found[rec.name]]
        ev.predictions += fold
        j = grid.settings.index(choice.params)
        s = score_spotting(
            fold, [g for g in truth.expressions if truth.subject_of[g.recording] == subject]
        )
        ev.folds.append([subject, str(len(test)), _setting(choice.params, grid.scales[j]),
                         f"{choice.f1['overall']:.3f}",
                         f"{s.overall.tp} / {s.overall.n_pred} / {s.overall.n_gt}",
                         f"{s.overall.f1:.3f}"])  # fmt: skip
    frames = sum(r.frames for r in recordings)
    ev.seconds |= {"spot": spot_s, "spot_x_realtime": frames / recordings[0].fps / spot_s}
    return ev


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def _floors(text: str) -> list[float | None] | None:
    if text == "none":
        return None
    return [None if v == "none" else float(v) for v in text.split(",")]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True, help="data, features (reused)")
    ap.add_argument("--subjects", type=int, default=15)
    ap.add_argument("--recordings", type=int, default=2, help="recordings per subject")
    ap.add_argument("--seconds", type=float, default=60.0, help="length of each recording")
    ap.add_argument("--faces", default="packaged+shared",
                    help="meflow synth --faces: a folder, 'packaged', '' (one photo's "
                    "variants) or packaged+shared (default: the packaged photos and "
                    "../shared/data/faces)")  # fmt: skip
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2, help="extractions at a time")
    ap.add_argument(
        "--length-scales",
        type=_floats,
        default=[1.0],
        help="baseline grid: scales of both typical lengths (comma-separated)",
    )
    ap.add_argument("--floors", type=_floors, default=None,
                    help="baseline grid: noise floors in robust sigmas, e.g. none,3,5 "
                    "(default: none, MDMD's threshold alone)")  # fmt: skip
    ap.add_argument("--learned-c", type=_floats, default=[0.001, 0.01],
                    help="learned spotter: the penalties C (inverse) its inner folds choose from "
                    "(comma-separated)")  # fmt: skip
    ap.add_argument("--learned-stride", type=int, default=2,
                    help="learned spotter: train on every n-th frame")  # fmt: skip
    ap.add_argument("--inner-folds", type=int, default=3,
                    help="learned spotter: subject folds inside each training set that choose "
                    "its decoding")  # fmt: skip
    ap.add_argument("--chance-draws", type=int, default=200)
    ap.add_argument("--bootstrap", type=int, default=1000)
    return ap.parse_args(argv)


def run(args: argparse.Namespace, write: Callable[..., Path] = write_results) -> dict:
    """The whole benchmark; gives what it writes (tables, figures, extra)."""
    t0 = time.perf_counter()
    data, features = args.work / "data", args.work / "features"
    make_data(data, args)
    t_synth = time.perf_counter()
    folders = recording_folders(data)
    extracted = extract_all(folders, features, args.workers)
    t_extract = time.perf_counter()
    recordings = [
        load_recording(s, r, c, features / f"{s}_{r}" / "color.npz") for s, r, c in folders
    ]
    truth = load_truth(data, recordings)
    frames = sum(r.frames for r in recordings)
    ev = evaluate(recordings, truth, args)
    t_learned = time.perf_counter()
    lv = evaluate_learned(recordings, truth, args)
    t_learned = time.perf_counter() - t_learned
    evs = {"learned": lv, BASE: ev}
    rows = spotting_rows(evs, truth, args)
    diffs = difference_rows(("learned", lv), ("baseline", ev), truth, args)
    total = time.perf_counter() - t0
    for columns, table in ((COLUMNS, rows), (DIFF_COLUMNS, diffs), (FOLD_COLUMNS, ev.folds),
                           (LEARNED_FOLD_COLUMNS, lv.folds)):  # fmt: skip
        print_table(columns, table)
        print()
    figures = {
        "subjects": len(set(truth.subject_of.values())),
        "recordings": len(recordings),
        "seconds_each": f"{args.seconds:g}",
        "frames": frames,
        "micro": sum(g.type == "micro" for g in truth.expressions),
        "macro": sum(g.type == "macro" for g in truth.expressions),
        "blinks": sum(len(v) for v in truth.blinks.values()),
        **spotter_figures(rows, diffs, ev, lv, truth),
        **{f"ceiling_{k}_f1": f"{ev.ceiling[k]:.3f}" for k in KINDS},
        "minutes_synth": f"{(t_synth - t0) / 60:.1f}",
        "minutes_extract": f"{(t_extract - t_synth) / 60:.1f}",
        "extract_fps": f"{frames / (t_extract - t_synth):.0f}" if extracted else "reused",
        "seconds_grid": f"{ev.seconds['grid']:.0f}",
        "spot_x_realtime": f"{ev.seconds['spot_x_realtime']:.0f}",
        "learned_minutes": f"{t_learned / 60:.1f}",
        "learned_spot_x_realtime": f"{lv.seconds['spot_x_realtime']:.0f}",
        "minutes_total": f"{total / 60:.1f}",
    }
    for k, v in figures.items():
        print(f"{k}: {v}")
    out = {
        "tables": {
            "spotting": {"columns": COLUMNS, "rows": rows},
            "differences": {"columns": DIFF_COLUMNS, "rows": diffs},
            "folds": {"columns": FOLD_COLUMNS, "rows": ev.folds},
            "learned_folds": {"columns": LEARNED_FOLD_COLUMNS, "rows": lv.folds},
        },
        "figures": figures,
        "extra": {
            who: [[p.recording, p.onset, p.offset, p.type, p.score] for p in e.predictions]
            for who, e in (("predictions", ev), ("learned_predictions", lv))
        },
    }
    write("spot", **out)
    return out


def spotter_figures(
    rows: list[list[str]], diffs: list[list[str]], ev: Evaluation, lv: Evaluation, truth: Truth
) -> dict[str, str]:
    """The single figures of both spotters: F1s, differences, blink shares, the targets."""
    f1 = {(r[0], r[1]): r[7] for r in rows}
    out = {}
    for who, label in (("learned", "learned"), ("baseline", BASE)):
        for k in KINDS:
            out[f"{who}_{k}_f1"] = f1[(label, k)]
            out[f"{who}_chance_{k}_f1"] = f1[(f"chance ({label.split()[0]}'s counts)", k)]
    out |= {f"chance_{k}_f1": out[f"baseline_chance_{k}_f1"] for k in KINDS}
    out["overall_minus_chance"] = next(
        r[8] for r in rows if r[:2] == ["baseline (MDMD)", "overall"]
    )
    for i, k in enumerate(KINDS, start=1):
        out[f"learned_minus_baseline_{k}"] = diffs[0][i]
        out[f"learned_minus_chance_{k}"] = diffs[1][i]
    for prefix, e in (("", ev), ("learned_", lv)):
        b = blink_shares(e, truth)
        out[f"{prefix}blink_touch"] = f"{100 * b['touch']:.1f}%"
        out[f"{prefix}blink_false_holding"] = f"{100 * b['false_holding']:.1f}%"
        out[f"{prefix}blink_of_false"] = f"{100 * b['of_false']:.1f}%"
        out[f"{prefix}chance_blink_touch"] = f"{100 * b['chance_touch']:.1f}%"
    targets = {"micro": 0.60, "macro": 0.80, "overall": 0.70}
    met = [k for k in KINDS if float(out[f"learned_{k}_f1"]) >= targets[k]]
    out["learned_targets_met"] = ", ".join(met) if met else "none"
    return out


def main() -> int:
    run(parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
