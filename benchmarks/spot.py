"""Spotting on the synthetic long benchmark: the baseline spotter and chance, leave-one-subject-out.

    .venv/bin/python benchmarks/spot.py --work DIR [--subjects 10] [--recordings 2]
        [--seconds 60] [--faces packaged] [--workers 2] [--length-scales 1] [--floors none]

Writes long recordings in CAS(ME)^3 Part A's layout with ``meflow synth --layout casme3-long``
into DIR/data (a rerun reuses them when the settings match), extracts each recording's
per-pair region flow with ``meflow extract --video <subject>/<recording>/color`` into
DIR/features/<subject>_<recording>/color.npz (reused when there), and evaluates the baseline
spotter (MDMD on meflow's region flow, ``meflow.spotting.baseline``) leave-one-subject-out:
every recording is spotted once under every grid setting (``baseline_grid``), each fold
chooses its setting on its training recordings alone (``BaselineGrid.choose``) and spots the
held-out subject's recordings with it. Chance, per recording: as many intervals as the
baseline spotted there, with the lengths of the fold's training ground truths, placed at
random (expected counts over ``--chance-draws`` draws). Printed and written to
benchmarks/results/spot.json: pooled TP, spotted, annotated, P, R, F1 (micro, macro,
overall) of both, the paired bootstrap over subjects of baseline minus chance, each fold's
choice, and the share of spotted intervals on annotated blinks.
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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from _results import write_results
from meflow.evaluation.bootstrap import paired_bootstrap_diff
from meflow.spotting.baseline import (
    BaselineParams,
    RecordingFlow,
    read_video_features,
    spot_baseline,
)
from meflow.spotting.baseline_grid import baseline_grid
from meflow.spotting.ground_truth import SHARED_FILES, load_casme3
from meflow.spotting.references import chance_intervals, chance_reference, interval_lengths
from meflow.spotting.scoring import Interval, per_recording_counts, score_spotting

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MEFLOW_SHARED_DATA", ROOT.parent / "shared" / "data"))
KINDS = ("micro", "macro", "overall")
LONG_FILE = Path(SHARED_FILES["casme3"]).name
COLUMNS = ["spotter", "type", "TP", "spotted", "annotated", "P", "R", "F1", "F1 - chance [95% CI]"]
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
    gives how many were extracted."""
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
                         frame_numbers=numbers[taken])  # fmt: skip


@dataclass
class Truth:
    """The annotation as the evaluation takes it: expressions, blinks, and each subject."""

    expressions: list[Interval]
    blinks: dict[str, list[tuple[int, int]]]
    subject_of: dict[str, str]


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


@dataclass
class Evaluation:
    """What the leave-one-subject-out run gives (pooled over every held-out recording)."""

    predictions: list[Interval]
    chance_tp: dict[tuple[str, str], float]  # expected TP of chance per (recording, type)
    folds: list[list[str]] = field(default_factory=list)
    chance_blink_touch: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)
    # the best F1 of any grid setting scored on every recording (chosen on the test subjects:
    # what the grid could reach at best, not a result)
    ceiling: dict[str, float] = field(default_factory=dict)


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
    ev = Evaluation([], {}, seconds={"grid": time.perf_counter() - t0})
    rows = grid.choose(grid.names).grid  # every setting pooled over ALL recordings: a ceiling
    ev.ceiling = {k: max(float(r[k] or 0.0) for r in rows) for k in KINDS}
    rng = np.random.default_rng([opts.seed, 7])
    touch: list[bool] = []
    spot_s = 0.0
    for si, subject in enumerate(sorted(set(truth.subject_of.values()))):
        test = [r for r in recordings if truth.subject_of[r.name] == subject]
        train = [r.name for r in recordings if truth.subject_of[r.name] != subject]
        choice = grid.choose(train)
        lengths = interval_lengths([g for g in truth.expressions if g.recording in set(train)])
        fold: list[Interval] = []
        for ri, rec in enumerate(test):
            t1 = time.perf_counter()
            found = spot_baseline(rec, choice.params)
            spot_s += time.perf_counter() - t1
            gts = [g for g in truth.expressions if g.recording == rec.name]
            span = {rec.name: (rec.number(0), rec.number(rec.frames - 1))}
            ref = chance_reference(found, gts, lengths, span, opts.chance_draws, 1000 * si + ri)
            for kind in ("micro", "macro"):
                ev.chance_tp[(rec.name, kind)] = ref.mean[kind]["tp"]
            for _ in range(opts.chance_draws // 10 or 1):  # chance's own rate of touching blinks
                drawn = chance_intervals(found, lengths, span, rng)
                touch += [on_blink(iv, truth.blinks) for iv in drawn]
            fold += found
        ev.predictions += fold
        j = grid.settings.index(choice.params)
        s = score_spotting(
            fold, [g for g in truth.expressions if truth.subject_of[g.recording] == subject]
        )
        ev.folds.append([subject, str(len(test)), _setting(choice.params, grid.scales[j]),
                         f"{choice.f1['overall']:.3f}",
                         f"{s.overall.tp} / {s.overall.n_pred} / {s.overall.n_gt}",
                         f"{s.overall.f1:.3f}"])  # fmt: skip
    ev.chance_blink_touch = float(np.mean(touch)) if touch else 0.0
    frames = sum(r.frames for r in recordings)
    ev.seconds |= {"spot": spot_s, "spot_x_realtime": frames / recordings[0].fps / spot_s}
    return ev


def on_blink(iv: Interval, blinks: dict[str, list[tuple[int, int]]]) -> bool:
    """Whether a spotted interval shares at least one frame with an annotated blink."""
    return any(lo <= iv.offset and iv.onset <= hi for lo, hi in blinks.get(iv.recording, ()))


def holds_blink(iv: Interval, blinks: dict[str, list[tuple[int, int]]]) -> bool:
    """Whether a spotted interval holds at least half of an annotated blink's frames."""
    return any(
        2 * (min(hi, iv.offset) - max(lo, iv.onset) + 1) >= hi - lo + 1
        for lo, hi in blinks.get(iv.recording, ())
    )


def blink_shares(ev: Evaluation, truth: Truth) -> dict[str, float]:
    """Shares of the spotted intervals on blinks (touching one; false and holding half of one)."""
    preds = ev.predictions
    matched = {m.prediction for m in score_spotting(preds, truth.expressions).matches}
    n = max(len(preds), 1)
    false = [iv for i, iv in enumerate(preds) if i not in matched]
    return {
        "touch": sum(on_blink(iv, truth.blinks) for iv in preds) / n,
        "false_holding": sum(holds_blink(iv, truth.blinks) for iv in false) / n,
        "of_false": sum(holds_blink(iv, truth.blinks) for iv in false) / max(len(false), 1),
        "chance_touch": ev.chance_blink_touch,
    }


def _per_recording(
    ev: Evaluation, truth: Truth, kind: str
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(recordings, annotated, [TP, spotted] of the baseline, [expected TP, spotted] of chance)."""
    counts = per_recording_counts(ev.predictions, truth.expressions)
    names = sorted(truth.subject_of)
    types = ("micro", "macro") if kind == "overall" else (kind,)
    n_gt = np.zeros(len(names))
    base, chance = np.zeros((len(names), 2)), np.zeros((len(names), 2))
    for i, name in enumerate(names):
        for t in types:
            c = counts.get((name, t))
            if c is not None:
                n_gt[i] += c.n_gt
                base[i] += (c.tp, c.n_pred)
                chance[i] += (ev.chance_tp.get((name, t), 0.0), c.n_pred)
    return names, n_gt, base, chance


def pooled_f1(n_gt: np.ndarray, tp_pred: np.ndarray) -> float:
    """2 TP / (spotted + annotated) of pooled counts (NaN when nothing is annotated)."""
    if n_gt.sum() == 0:
        return float("nan")
    return float(2 * tp_pred[:, 0].sum() / (tp_pred[:, 1].sum() + n_gt.sum()))


def spotting_rows(ev: Evaluation, truth: Truth, opts: argparse.Namespace) -> list[list[str]]:
    """The table: pooled counts, P, R, F1 of baseline and chance, and baseline - chance."""
    rows: list[list[str]] = []
    chance_rows: list[list[str]] = []
    for kind in KINDS:
        names, n_gt, base, chance = _per_recording(ev, truth, kind)
        groups = np.array([truth.subject_of[n] for n in names])
        d = paired_bootstrap_diff(n_gt, base, chance, groups, pooled_f1,
                                  n=opts.bootstrap, seed=opts.seed)  # fmt: skip
        for out, (tp, pred), diff in (
            (rows, base.sum(axis=0), f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]"),
            (chance_rows, chance.sum(axis=0), ""),
        ):
            gt = n_gt.sum()
            p, r = (tp / pred if pred else 0.0), (tp / gt if gt else 0.0)
            f1 = 2 * tp / (pred + gt) if pred + gt else 0.0
            spotter = "baseline (MDMD)" if out is rows else "chance"
            tp_text = f"{tp:.0f}" if out is rows else f"{tp:.2f}"
            out.append([spotter, kind, tp_text, f"{pred:.0f}", f"{gt:.0f}",
                        f"{p:.3f}", f"{r:.3f}", f"{f1:.3f}", diff])  # fmt: skip
    return rows + chance_rows


def print_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A Markdown table on stdout."""
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        print("| " + " | ".join(r) + " |")


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
    rows = spotting_rows(ev, truth, args)
    blinks = blink_shares(ev, truth)
    total = time.perf_counter() - t0
    print_table(COLUMNS, rows)
    print()
    print_table(FOLD_COLUMNS, ev.folds)
    by_kind = {(r[0].split()[0], r[1]): r for r in rows}
    n_blinks = sum(len(v) for v in truth.blinks.values())
    figures = {
        "subjects": len(set(truth.subject_of.values())),
        "recordings": len(recordings),
        "seconds_each": f"{args.seconds:g}",
        "frames": frames,
        "micro": sum(g.type == "micro" for g in truth.expressions),
        "macro": sum(g.type == "macro" for g in truth.expressions),
        "blinks": n_blinks,
        **{f"{who}_{k}_f1": by_kind[(who, k)][7] for who in ("baseline", "chance") for k in KINDS},
        "overall_minus_chance": by_kind[("baseline", "overall")][8],
        **{f"ceiling_{k}_f1": f"{ev.ceiling[k]:.3f}" for k in KINDS},
        "blink_touch": f"{100 * blinks['touch']:.1f}%",
        "blink_false_holding": f"{100 * blinks['false_holding']:.1f}%",
        "blink_of_false": f"{100 * blinks['of_false']:.1f}%",
        "chance_blink_touch": f"{100 * blinks['chance_touch']:.1f}%",
        "minutes_synth": f"{(t_synth - t0) / 60:.1f}",
        "minutes_extract": f"{(t_extract - t_synth) / 60:.1f}",
        "extract_fps": f"{frames / (t_extract - t_synth):.0f}" if extracted else "reused",
        "seconds_grid": f"{ev.seconds['grid']:.0f}",
        "spot_x_realtime": f"{ev.seconds['spot_x_realtime']:.0f}",
        "minutes_total": f"{total / 60:.1f}",
    }
    for k, v in figures.items():
        print(f"{k}: {v}")
    out = {
        "tables": {
            "spotting": {"columns": COLUMNS, "rows": rows},
            "folds": {"columns": FOLD_COLUMNS, "rows": ev.folds},
        },
        "figures": figures,
        "extra": {
            "predictions": [
                [p.recording, p.onset, p.offset, p.type, p.score] for p in ev.predictions
            ],
        },
    }
    write("spot", **out)
    return out


def main() -> int:
    run(parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
