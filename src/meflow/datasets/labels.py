"""Shared parsing of micro-expression label files: header search, row normalisation.

Every loader describes its file with a :class:`LabelSpec` (which columns, which emotion words,
how subject and clip names are written) and hands it to :func:`parse_label_file`, which gives
:class:`LabelRow` records with consistent frame numbers plus a :class:`RowIssue` for every row
it repaired or dropped (files are read by :mod:`meflow.datasets.sheets`, cells by
:mod:`meflow.datasets.cells`, frames repaired by :mod:`meflow.datasets.frame_repair`).
The generic rules, applied to every dataset (the CAS(ME)^3 loader adds
a cross-check against the dataset's own macro+micro annotation file before them):

* an empty row between data rows is dropped (reported); trailing empty rows are not rows;
* a row without subject, clip, onset, offset or emotion is dropped (reported);
* a non-numeric frame number, or an emotion word the dataset does not use, is an error
  (:class:`LabelFileError` naming file, row and column) -- the file is not what we think it is;
* an apex cell holding a "not annotated" marker (empty, ``/``, ``-``) is repaired to the
  midpoint of onset..offset (CASME II writes ``/`` for one clip);
* an apex outside onset..offset, while onset <= offset, is repaired to the midpoint: onset and
  offset agree with each other (and with SAMM's Duration column), so the apex is the typo; the
  midpoint is the estimate that keeps an apex-centred window inside the expression, whereas
  clamping would put the "apex" on the neutral onset frame;
* an offset before the onset (an offset of 0 included) is dropped: the extent of the
  expression is unknown and any repair would invent it;
* a second row with the same subject, clip and onset as an earlier one is dropped (reported,
  naming the earlier row);
* a subject or clip that is not a plain folder name (empty after stripping, ``.``, ``..``,
  or holding ``/``, ``\\`` or a NUL) is dropped (reported): frame folders are built from
  these names, and a row must never point outside the dataset folder.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meflow.datasets.base import EMOTIONS, LoadResult, RowIssue, Sample
from meflow.datasets.cells import (
    MISSING_MARKERS,
    SIX_CLASS_WORDS,
    cell_text,
    is_blank,
    norm_header,
    normalize_emotion,
    parse_frame,
    unsafe_name,
)
from meflow.datasets.frame_repair import FrameFix, fix_frames, midpoint
from meflow.datasets.sheets import find_file, read_cells
from meflow.errors import LabelFileError

__all__ = [
    "FIELDS",
    "MISSING_MARKERS",
    "SIX_CLASS_WORDS",
    "FrameFix",
    "LabelRow",
    "LabelSpec",
    "LabelTable",
    "Reconciler",
    "build_result",
    "cell_text",
    "find_file",
    "fix_frames",
    "is_blank",
    "midpoint",
    "norm_header",
    "normalize_emotion",
    "parse_frame",
    "parse_label_file",
    "parse_rows",
    "read_cells",
    "read_label_table",
    "unsafe_name",
]

FIELDS: tuple[str, ...] = ("subject", "clip", "onset", "apex", "offset", "emotion")


@dataclass(frozen=True)
class LabelRow:
    """One usable row of a label file, normalised; frames satisfy onset <= apex <= offset."""

    row: int
    subject: str
    clip: str
    onset: int
    apex: int
    offset: int
    emotion: str  # one of EMOTIONS or the dataset's normalised own word

    def sample(self, dataset: str, frames_dir: Path, frame_pattern: str, **extra: Any) -> Sample:
        """Gives the Sample of this row (``extra``: first_frame, last_frame, bad_frames)."""
        return Sample(
            dataset=dataset,
            subject=self.subject,
            clip=self.clip,
            onset=self.onset,
            apex=self.apex,
            offset=self.offset,
            emotion=self.emotion,
            frames_dir=frames_dir,
            frame_pattern=frame_pattern,
            row=self.row,
            **extra,
        )


# A dataset-specific check of an inconsistent row: given the row number, subject, clip, onset,
# apex, offset and the text of the spec's extra columns, gives the corrected
# (onset, apex, offset, reason), or None to fall back on fix_frames.
Reconciler = Callable[
    [int, str, str, int, int | None, int, dict[str, str]], tuple[int, int, int, str] | None
]


@dataclass(frozen=True)
class LabelSpec:
    """How one dataset writes its label file."""

    dataset: str
    columns: Mapping[str, tuple[str, ...]]  # field -> accepted header spellings; FIELDS keys
    other_words: Mapping[str, str]  # the dataset's non-six emotion words -> normalised word
    subject: Callable[[object], str] = cell_text
    clip: Callable[[object], tuple[str, str | None]] = lambda v: (cell_text(v), None)
    sheet: str | None = None  # preferred sheet (else the first)
    optional: frozenset[str] = field(default_factory=frozenset)  # fields that may be absent


@dataclass
class LabelTable:
    """The raw cells of a label file below its header, with spreadsheet row numbers."""

    path: Path
    header_row: int
    columns: dict[str, int]  # field -> column index
    column_names: dict[str, str]  # field -> the header as written in the file
    rows: list[tuple[int, list[object]]]


def read_label_table(path: Path, spec: LabelSpec, header_scan: int = 40) -> LabelTable:
    """Gives the label table of ``path``: finds the header row (notes above it are skipped).

    A required column that is absent raises LabelFileError naming the header row and column.
    """
    cells = read_cells(path, spec.sheet)
    wanted = {f: {norm_header(a) for a in aliases} for f, aliases in spec.columns.items()}
    best: tuple[int, int, dict[str, int], dict[str, str]] | None = None
    for index, (row_number, values) in enumerate(cells[:header_scan]):
        found: dict[str, int] = {}
        names: dict[str, str] = {}
        for col, value in enumerate(values):
            key = norm_header(value)
            for f, keys in wanted.items():
                if key in keys and f not in found:
                    found[f] = col
                    names[f] = cell_text(value)
        if len(found) >= 2 and (best is None or len(found) > len(best[2])):
            best = (index, row_number, found, names)
    if best is None:
        expected = ", ".join(repr(a[0]) for a in spec.columns.values())
        raise LabelFileError(path, f"no header row with the columns {expected} found", 1)
    index, header_row, found, names = best
    for f, aliases in spec.columns.items():
        if f not in found and f not in spec.optional:
            header = [cell_text(v) for v in cells[index][1] if cell_text(v)]
            close = difflib.get_close_matches(aliases[0], header, n=1)
            hint = f"; is {close[0]!r} meant?" if close else f" (found: {', '.join(header)})"
            raise LabelFileError(path, f"missing column{hint}", header_row, aliases[0])
    return LabelTable(path, header_row, found, names, cells[index + 1 :])


def parse_label_file(
    path: Path, spec: LabelSpec, reconcile: Reconciler | None = None
) -> tuple[list[LabelRow], list[RowIssue]]:
    """Gives the usable rows of a label file and an issue for every row repaired or dropped."""
    table = read_label_table(path, spec)
    return parse_rows(table, spec, reconcile)


def parse_rows(
    table: LabelTable, spec: LabelSpec, reconcile: Reconciler | None = None
) -> tuple[list[LabelRow], list[RowIssue]]:
    """Gives LabelRows and RowIssues for the cells of a LabelTable (see the module rules)."""
    name = table.path.name
    rows: list[LabelRow] = []
    issues: list[RowIssue] = []
    seen: dict[tuple[str, str, int], LabelRow] = {}
    last_data = _last_data_row(table)
    for row_number, values in table.rows:
        if row_number > last_data:
            break
        parsed = _parse_row(table, spec, reconcile, row_number, values)
        if isinstance(parsed, RowIssue):
            issues.append(parsed)
            continue
        record, notes = parsed
        key = (record.subject, record.clip, record.onset)
        if key in seen:
            first = seen[key]
            same = (first.apex, first.offset, first.emotion) == (
                record.apex,
                record.offset,
                record.emotion,
            )
            what = "duplicate of" if same else "same subject, clip and onset as"
            issues.append(RowIssue(name, row_number, "dropped", f"{what} row {first.row}"))
            continue
        seen[key] = record
        if notes:
            issues.append(RowIssue(name, row_number, "repaired", "; ".join(notes)))
        rows.append(record)
    return rows, issues


def _cell(table: LabelTable, values: list[object], f: str) -> object:
    """Gives the cell of field ``f`` in a row (None where the column is absent or short)."""
    col = table.columns.get(f)
    return values[col] if col is not None and col < len(values) else None


def _last_data_row(table: LabelTable) -> int:
    """Gives the number of the last row with a value in a used column (0 if there is none)."""
    used = sorted(table.columns.values())
    last_data = 0
    for row_number, values in table.rows:
        if any(not is_blank(values[c]) for c in used if c < len(values)):
            last_data = row_number
    return last_data


def _parse_row(
    table: LabelTable,
    spec: LabelSpec,
    reconcile: Reconciler | None,
    row_number: int,
    values: list[object],
) -> RowIssue | tuple[LabelRow, list[str]]:
    """Gives one row's LabelRow and repair notes, or the RowIssue that drops it."""
    name = table.path.name
    if all(is_blank(v) for v in values):
        return RowIssue(name, row_number, "dropped", "empty row")
    missing = [
        table.column_names[f]
        for f in ("subject", "clip", "onset", "offset", "emotion")
        if f in table.columns and is_blank(_cell(table, values, f))
    ]
    if missing:
        return RowIssue(name, row_number, "dropped", f"no value in {', '.join(missing)}")
    emotion = _emotion(table, spec, row_number, values)
    onset, apex, offset = (
        parse_frame(_cell(table, values, f), table.path, row_number, table.column_names[f])
        if f in table.columns
        else None
        for f in ("onset", "apex", "offset")
    )
    if onset is None or offset is None:
        which = "onset" if onset is None else "offset"
        return RowIssue(name, row_number, "dropped", f"{which} marked as not annotated")
    subject = spec.subject(_cell(table, values, "subject"))
    clip, clip_note = spec.clip(_cell(table, values, "clip"))
    # Frame folders are root/<subject>/<clip>: a name like '..' would leave the root.
    unsafe = [
        f"{what} {why}"
        for what, text in (
            ("subject", cell_text(_cell(table, values, "subject"))),
            ("subject", subject),
            ("clip", cell_text(_cell(table, values, "clip"))),
            ("clip", clip),
        )
        if (why := unsafe_name(text)) is not None
    ]
    if unsafe:
        reason = f"{unsafe[0]}: the frames would lie outside the dataset folder"
        return RowIssue(name, row_number, "dropped", reason)
    notes: list[str] = [clip_note] if clip_note else []
    fixed = _fixed_frames(
        table, reconcile, row_number, subject, clip, (onset, apex, offset), values
    )
    if fixed.dropped:
        return RowIssue(name, row_number, "dropped", fixed.dropped)
    if fixed.repaired:
        notes.append(fixed.repaired)
    record = LabelRow(row_number, subject, clip, fixed.onset, fixed.apex, fixed.offset, emotion)
    return record, notes


def _emotion(table: LabelTable, spec: LabelSpec, row_number: int, values: list[object]) -> str:
    """Gives the row's normalised emotion word; LabelFileError for a word the dataset lacks."""
    raw_emotion = _cell(table, values, "emotion")
    emotion = normalize_emotion(raw_emotion, spec.other_words)
    if emotion is None:
        known = sorted({*EMOTIONS, *spec.other_words.values()})
        raise LabelFileError(
            table.path,
            f"unknown emotion {cell_text(raw_emotion)!r} for {spec.dataset} "
            f"(known: {', '.join(known)})",
            row_number,
            table.column_names["emotion"],
        )
    return emotion


def _fixed_frames(
    table: LabelTable,
    reconcile: Reconciler | None,
    row_number: int,
    subject: str,
    clip: str,
    frames: tuple[int, int | None, int],
    values: list[object],
) -> FrameFix:
    """Gives the row's frames made consistent: by the dataset's reconciler, else fix_frames."""
    onset, apex, offset = frames
    consistent = apex is not None and onset <= apex <= offset
    if not consistent and reconcile is not None:
        extras = {f: cell_text(_cell(table, values, f)) for f in table.columns if f not in FIELDS}
        found = reconcile(row_number, subject, clip, onset, apex, offset, extras)
        if found is not None:
            return FrameFix(found[0], found[1], found[2], repaired=found[3])
    fixed = fix_frames(onset, apex, offset)
    if fixed.repaired and "apex" not in table.columns:
        fixed = FrameFix(
            fixed.onset,
            fixed.apex,
            fixed.offset,
            repaired=f"no apex column: apex set to the midpoint {fixed.apex} of {onset}..{offset}",
        )
    return fixed


def build_result(
    rows: Iterable[LabelRow],
    issues: list[RowIssue],
    make_sample: Callable[[LabelRow], Sample],
    *,
    dataset: str,
    label_file: Path,
    root: Path | None,
    six_classes: bool,
) -> LoadResult:
    """Gives the LoadResult of parsed rows, keeping only the six classes if asked."""
    samples: list[Sample] = []
    excluded: Counter[str] = Counter()
    for r in rows:
        if six_classes and r.emotion not in EMOTIONS:
            excluded[r.emotion] += 1
            continue
        samples.append(make_sample(r))
    return LoadResult(
        samples=samples,
        issues=sorted(issues, key=lambda i: i.row),
        label_file=label_file,
        dataset=dataset,
        root=root,
        excluded=dict(sorted(excluded.items())),
    )
