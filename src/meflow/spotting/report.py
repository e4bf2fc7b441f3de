"""Writes a spotting evaluation (``evaluate_spotting``'s result) into a run folder.

``RUN/intervals.csv`` (every spotter's held-out intervals), ``RUN/results.json``,
``RUN/report.md`` with a timeline figure per recording (``RUN/timelines/*.png``), and the
main spotter trained on every subject, ``RUN/spotter.json`` (``save_spotter``).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from meflow.spotting.evaluate import KINDS, SpottingEvaluation
from meflow.spotting.scoring import Interval, match_intervals

INTERVAL_COLUMNS = (
    "subject", "recording", "onset", "offset", "type", "score", "emotion", "apex", "spotter",
)  # fmt: skip
TABLE_COLUMNS = ["spotter", "type", "TP", "spotted", "annotated", "P", "R", "F1"]


def table_columns(ev: SpottingEvaluation) -> list[str]:
    """The spotting table's columns (the last: main spotter minus the row's reference)."""
    return [*TABLE_COLUMNS, f"{ev.main.name} - this, F1 [95% CI]"]


def spotting_rows(ev: SpottingEvaluation) -> list[list[str]]:
    """The table: pooled TP, spotted, annotated, P, R, F1 of every spotter and chance, and
    the main spotter's F1 minus each reference's with its paired interval over subjects."""
    rows = []
    main = ev.main.name
    for res in ev.spotters:
        diff = ev.differences.get(f"{main} - {res.name}", {})
        for kind in KINDS:
            c = res.score[kind]
            rows.append([res.name, kind, str(c.tp), str(c.n_pred), str(c.n_gt),
                         f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}",
                         _diff(diff.get(kind))])  # fmt: skip
    diff = ev.differences.get(f"{main} - chance", {})
    for kind in KINDS:
        ch = ev.chance[kind]
        rows.append(["chance", kind, f"{ch['tp']:.2f}", f"{ch['n_pred']:.0f}",
                     f"{ch['n_gt']:.0f}", f"{ch['precision']:.3f}", f"{ch['recall']:.3f}",
                     f"{ch['f1']:.3f}", _diff(diff.get(kind))])  # fmt: skip
    return rows


def _diff(d: tuple[float, float, float] | None) -> str:
    if d is None:
        return ""
    if any(math.isnan(v) for v in d):
        return "n/a"
    return f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]"


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def split_name(ev: SpottingEvaluation, name: str) -> tuple[str, str]:
    """(subject, recording as the annotation names it) of a recording's name."""
    subject = ev.subjects.get(name, name.split("/", 1)[0])
    prefix = f"{subject}/"
    return subject, name[len(prefix) :] if name.startswith(prefix) else name


def interval_rows(ev: SpottingEvaluation) -> list[dict[str, Any]]:
    """One row per spotted interval of every spotter (held-out predictions)."""
    rows = []
    for res in ev.spotters:
        for iv in res.predictions:
            subject, recording = split_name(ev, iv.recording)
            rows.append({
                "subject": subject, "recording": recording, "onset": iv.onset,
                "offset": iv.offset, "type": iv.type,
                "score": "" if iv.score is None else f"{iv.score:.6g}",
                "emotion": iv.emotion or "", "apex": "" if iv.apex is None else iv.apex,
                "spotter": res.name,
            })  # fmt: skip
    return rows


def intervals_csv(ev: SpottingEvaluation) -> str:
    """intervals.csv's text."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=INTERVAL_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(interval_rows(ev))
    return buf.getvalue()


def results_dict(ev: SpottingEvaluation, info: Mapping[str, Any]) -> dict[str, Any]:
    """results.json: the run's settings, the counts and ratios, references, folds, STRS."""
    return {
        **dict(info),
        "settings": ev.settings,
        "subjects": len(set(ev.subjects.values())),
        "recordings": len(ev.subjects),
        "annotated": {t: sum(g.type == t for g in ev.truth) for t in ("micro", "macro")},
        "blinks": sum(len(v) for v in ev.blinks.values()),
        "spotters": {r.name: {**r.score.as_dict(), "on_blinks": r.on_blinks} for r in ev.spotters},
        "chance": {**ev.chance, "on_blinks": ev.chance_on_blinks},
        "differences": {
            label: {k: {"f1_difference": d[0], "low": d[1], "high": d[2]} for k, d in by.items()}
            for label, by in ev.differences.items()
        },
        "folds": [
            {
                "subject": f.subject,
                "test": f.test,
                "train": f.train,
                "counts": {n: c.as_dict() for n, c in f.counts.items()},
            }
            for f in ev.folds
        ],
        "recognition": ev.recognition.as_dict() if ev.recognition is not None else None,
        "notes": ev.notes,
    }


def _fold_dict(f: Any) -> dict[str, Any]:
    return {
        "subject": f.subject,
        "test": f.test,
        "train": f.train,
        "counts": {n: c.as_dict() for n, c in f.counts.items()},
    }


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def recognition_lines(ev: SpottingEvaluation) -> list[str]:
    """The STRS paragraph of the report (empty without recognition)."""
    rec = ev.recognition
    if rec is None:
        return []
    s, a = rec.strs, rec.annotated
    rows = [
        ["spotted (window on the spotted apex)", f"{s.spotting.f1:.3f}", f"{s.analysis_f1:.3f}",
         f"{s.uf1:.3f}", f"{s.uar:.3f}", f"{s.strs:.3f}"],
        ["annotated (window on the annotated apex)", "1 (given)", f"{a.analysis_f1:.3f}",
         f"{a.uf1:.3f}", f"{a.uar:.3f}", ""],
    ]  # fmt: skip
    cols = ["micro-expressions", "spotting F1", "analysis F1", "UF1", "UAR", "STRS"]
    out = ["## Spot-then-recognise", "",
           f"Emotions: {', '.join(rec.classes)}. STRS = micro spotting F1 x analysis F1 of "
           "the correctly spotted micro-expressions (MEGC2023-2025).", "",
           markdown_table(cols, rows), ""]  # fmt: skip
    return out + [f"- {n}" for n in rec.notes] + ([""] if rec.notes else [])


def report_text(ev: SpottingEvaluation, info: Mapping[str, Any], figures: Sequence[Path]) -> str:
    """report.md's text."""
    main = ev.main
    lines = [
        f"# meflow spot: {info.get('dataset', '')}", "",
        f"{len(set(ev.subjects.values()))} subjects, {len(ev.subjects)} recordings; "
        f"leave-one-subject-out; MEGC's scoring (IoU >= 0.5, counts pooled). References on "
        f"the same splits: {''.join(f'{r.name} and ' for r in ev.spotters[1:])}chance "
        f"({ev.settings.get('chance_draws')} draws).", "",
        markdown_table(table_columns(ev), spotting_rows(ev)), "",
        f"Spotted intervals on an annotated blink: {main.name} {100 * main.on_blinks:.1f}%, "
        + ", ".join(f"{r.name} {100 * r.on_blinks:.1f}%" for r in ev.spotters[1:])
        + (", " if len(ev.spotters) > 1 else "")
        + f"chance {100 * ev.chance_on_blinks:.1f}%.", "",
    ]  # fmt: skip
    lines += recognition_lines(ev)
    if ev.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in ev.notes], ""]
    lines += ["## Timelines", "", "Annotated intervals, each spotter's held-out intervals (true "
              "positives filled, false positives hatched) and blinks.", ""]  # fmt: skip
    lines += [f"![{p.stem}](timelines/{p.name})" for p in figures]
    return "\n".join(lines) + "\n"


def draw_timelines(
    ev: SpottingEvaluation, spans: Mapping[str, tuple[int, int]], out: Path, fps: float | None
) -> list[Path]:
    """One timeline PNG per recording in ``out`` (named subject_recording.png)."""
    from meflow.spotting.figures import plot_timeline

    matched: set[int] = set()
    for res in ev.spotters:
        for m in match_intervals(res.predictions, ev.truth):
            matched.add(id(res.predictions[m.prediction]))
    paths = []
    for name, span in spans.items():
        rows: dict[str, list[Interval]] = {
            "annotated": [g for g in ev.truth if g.recording == name]
        }
        for res in ev.spotters:
            rows[res.name] = [iv for iv in res.predictions if iv.recording == name]
        stem = "_".join(split_name(ev, name)).replace("/", "_")
        paths.append(plot_timeline(name, span, rows, ev.blinks.get(name, []),
                                   out / f"{stem}.png", matched, fps))  # fmt: skip
    return paths


def write_run(
    ev: SpottingEvaluation,
    out: Path,
    spans: Mapping[str, tuple[int, int]],
    info: Mapping[str, Any],
    fps: float | None = None,
    figures: bool = True,
) -> dict[str, Path]:
    """Writes intervals.csv, results.json, report.md (+ timelines/) and spotter.json."""
    from meflow.features.cache import atomic_write_text
    from meflow.spotting.model import save_spotter

    out.mkdir(parents=True, exist_ok=True)
    written = {"intervals": out / "intervals.csv", "results": out / "results.json",
               "report": out / "report.md", "spotter": out / "spotter.json"}  # fmt: skip
    atomic_write_text(written["intervals"], intervals_csv(ev))
    text = json.dumps(_json_safe(results_dict(ev, info)), indent=2, sort_keys=False)
    atomic_write_text(written["results"], text + "\n")
    pngs = draw_timelines(ev, spans, out / "timelines", fps) if figures else []
    atomic_write_text(written["report"], report_text(ev, info, pngs))
    save_spotter(written["spotter"], ev.final[ev.main.name])
    return written
