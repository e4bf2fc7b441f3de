"""Shared parsing of micro-expression label files: reading, header search, row normalisation.

Every loader describes its file with a :class:`LabelSpec` (which columns, which emotion words,
how subject and clip names are written) and hands it to :func:`parse_label_file`, which gives
:class:`LabelRow` records with consistent frame numbers plus a :class:`RowIssue` for every row
it repaired or dropped. The generic rules, applied to every dataset (the CAS(ME)^3 loader adds
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

import csv
import difflib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meflow.datasets.base import EMOTIONS, LoadResult, RowIssue, Sample
from meflow.errors import LabelFileError

# Spellings of the six classes met in the datasets' sheets (lower-case, spaces collapsed).
SIX_CLASS_WORDS: dict[str, str] = {
    "happiness": "happiness",
    "happy": "happiness",
    "sadness": "sadness",
    "sad": "sadness",
    "surprise": "surprise",
    "surprised": "surprise",
    "anger": "anger",
    "angry": "anger",
    "disgust": "disgust",
    "disgusted": "disgust",
    "fear": "fear",
    "fearful": "fear",
}

# Cell contents that mean "not annotated" rather than a malformed number.
MISSING_MARKERS: frozenset[str] = frozenset({"", "/", "-", "--", "nan", "none", "n/a", "na"})

FIELDS: tuple[str, ...] = ("subject", "clip", "onset", "apex", "offset", "emotion")


def norm_header(value: object) -> str:
    """Gives a header cell as lower-case letters and digits only: 'Onset Frame' -> 'onsetframe'."""
    return re.sub(r"[^0-9a-z]", "", cell_text(value).lower())


def cell_text(value: object) -> str:
    """Gives a cell as stripped text ('' for empty cells and NaN); 12.0 becomes '12'."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value).strip()


def is_blank(value: object) -> bool:
    """Gives True for an empty cell."""
    return cell_text(value) == ""


def parse_frame(value: object, path: Path, row: int, column: str) -> int | None:
    """Gives a frame number from a cell; None for a 'not annotated' cell.

    Raises LabelFileError for anything else that is not a non-negative whole number.
    """
    if isinstance(value, bool):
        raise LabelFileError(path, f"frame number expected, got {value!r}", row, column)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and not math.isnan(value):
        if not value.is_integer():
            raise LabelFileError(path, f"frame number {value!r} is not a whole number", row, column)
        number = int(value)
    else:
        text = cell_text(value)
        if text.lower() in MISSING_MARKERS:
            return None
        try:
            as_float = float(text)
        except ValueError:
            raise LabelFileError(
                path, f"frame number expected, got {text!r}", row, column
            ) from None
        if not as_float.is_integer():
            raise LabelFileError(path, f"frame number {text!r} is not a whole number", row, column)
        number = int(as_float)
    if number < 0:
        raise LabelFileError(path, f"frame number {number} is negative", row, column)
    return number


def normalize_emotion(value: object, other_words: Mapping[str, str]) -> str | None:
    """Gives the normalised emotion word: one of EMOTIONS, a value of ``other_words``, or None.

    ``other_words`` maps the dataset's own non-six words (lower-case) to their normalised form.
    None means the word is unknown to the dataset.
    """
    word = re.sub(r"\s+", " ", cell_text(value).lower())
    if word in SIX_CLASS_WORDS:
        return SIX_CLASS_WORDS[word]
    return other_words.get(word)


def unsafe_name(text: str) -> str | None:
    """Gives why ``text`` cannot be a folder name inside the dataset root, or None if it can."""
    if text.strip() in ("", ".", ".."):
        return f"{text!r} is not a folder name"
    if any(c in text for c in "/\\\0"):
        return f"{text!r} holds a path separator"
    return None


def midpoint(onset: int, offset: int) -> int:
    """Gives the middle frame of onset..offset (rounded down)."""
    return (onset + offset) // 2


@dataclass(frozen=True)
class FrameFix:
    """The outcome of checking one row's frame numbers: the numbers to keep, or a drop reason."""

    onset: int
    apex: int
    offset: int
    repaired: str | None = None  # why the numbers were changed
    dropped: str | None = None  # why the row cannot be used


def fix_frames(onset: int, apex: int | None, offset: int) -> FrameFix:
    """Gives consistent onset <= apex <= offset numbers by the module's generic rules."""
    if offset < onset:
        what = "an offset of 0" if offset == 0 else f"offset {offset} before onset {onset}"
        return FrameFix(
            onset,
            apex if apex is not None else onset,
            offset,
            dropped=f"{what}: the extent of the expression is unknown",
        )
    if apex is None:
        mid = midpoint(onset, offset)
        return FrameFix(
            onset,
            mid,
            offset,
            repaired=f"apex not annotated: set to the midpoint {mid} of {onset}..{offset}",
        )
    if not onset <= apex <= offset:
        mid = midpoint(onset, offset)
        side = "before the onset" if apex < onset else "after the offset"
        return FrameFix(
            onset,
            mid,
            offset,
            repaired=f"apex {apex} {side} ({onset}..{offset}): set to the midpoint {mid}",
        )
    return FrameFix(onset, apex, offset)


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


def read_cells(path: Path, sheet: str | None = None) -> list[tuple[int, list[object]]]:
    """Gives every row of a .xlsx/.xls/.csv file as (1-based row number, cell values).

    Spreadsheets are read cell by cell so that row numbers are those a spreadsheet shows,
    blank rows included.
    """
    suffix = path.suffix.lower()
    if not path.is_file():
        raise LabelFileError(path, "label file not found")
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _read_xlsx(path, sheet)
        if suffix == ".xls":
            return _read_xls(path, sheet)
        if suffix in (".csv", ".txt", ".tsv"):
            return _read_csv(path)
    except LabelFileError:
        raise
    except Exception as exc:  # a corrupt workbook can raise anything inside openpyxl/xlrd
        raise LabelFileError(path, f"cannot read the file ({type(exc).__name__}: {exc})") from None
    raise LabelFileError(path, f"unsupported label file type {suffix!r} (use .xlsx, .xls or .csv)")


def _pick_sheet(path: Path, names: Sequence[str], sheet: str | None) -> str:
    if not names:
        raise LabelFileError(path, "the workbook has no sheets")
    if sheet is None:
        return names[0]
    for name in names:
        if name.strip().lower() == sheet.lower():
            return name
    return names[0]


def _read_xlsx(path: Path, sheet: str | None) -> list[tuple[int, list[object]]]:
    import openpyxl

    wb = openpyxl.load_workbook(path, data_only=True)
    try:
        ws = wb[_pick_sheet(path, wb.sheetnames, sheet)]
        return [
            (i, list(values)) for i, values in enumerate(ws.iter_rows(values_only=True), start=1)
        ]
    finally:
        wb.close()


def _read_xls(path: Path, sheet: str | None) -> list[tuple[int, list[object]]]:
    import xlrd

    book = xlrd.open_workbook(str(path))
    ws = book.sheet_by_name(_pick_sheet(path, book.sheet_names(), sheet))
    return [(i + 1, list(ws.row_values(i))) for i in range(ws.nrows)]


def _read_csv(path: Path) -> list[tuple[int, list[object]]]:
    text = path.read_text(encoding="utf-8-sig")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [(i, list(r)) for i, r in enumerate(csv.reader(text.splitlines(), dialect), start=1)]


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
    path = table.path
    name = path.name
    rows: list[LabelRow] = []
    issues: list[RowIssue] = []
    seen: dict[tuple[str, str, int], LabelRow] = {}

    def cell(values: list[object], f: str) -> object:
        col = table.columns.get(f)
        return values[col] if col is not None and col < len(values) else None

    used = sorted(table.columns.values())
    last_data = 0
    for row_number, values in table.rows:
        if any(not is_blank(values[c]) for c in used if c < len(values)):
            last_data = row_number

    for row_number, values in table.rows:
        if row_number > last_data:
            break
        if all(is_blank(v) for v in values):
            issues.append(RowIssue(name, row_number, "dropped", "empty row"))
            continue
        missing = [
            table.column_names[f]
            for f in ("subject", "clip", "onset", "offset", "emotion")
            if f in table.columns and is_blank(cell(values, f))
        ]
        if missing:
            issues.append(
                RowIssue(name, row_number, "dropped", f"no value in {', '.join(missing)}")
            )
            continue
        raw_emotion = cell(values, "emotion")
        emotion = normalize_emotion(raw_emotion, spec.other_words)
        if emotion is None:
            known = sorted({*EMOTIONS, *spec.other_words.values()})
            raise LabelFileError(
                path,
                f"unknown emotion {cell_text(raw_emotion)!r} for {spec.dataset} "
                f"(known: {', '.join(known)})",
                row_number,
                table.column_names["emotion"],
            )
        frames: dict[str, int | None] = {}
        for f in ("onset", "apex", "offset"):
            if f in table.columns:
                frames[f] = parse_frame(cell(values, f), path, row_number, table.column_names[f])
            else:
                frames[f] = None
        onset, apex, offset = frames["onset"], frames["apex"], frames["offset"]
        if onset is None or offset is None:
            which = "onset" if onset is None else "offset"
            issues.append(RowIssue(name, row_number, "dropped", f"{which} marked as not annotated"))
            continue
        subject = spec.subject(cell(values, "subject"))
        clip, clip_note = spec.clip(cell(values, "clip"))
        # Frame folders are root/<subject>/<clip>: a name like '..' would leave the root.
        unsafe = [
            f"{what} {why}"
            for what, text in (
                ("subject", cell_text(cell(values, "subject"))),
                ("subject", subject),
                ("clip", cell_text(cell(values, "clip"))),
                ("clip", clip),
            )
            if (why := unsafe_name(text)) is not None
        ]
        if unsafe:
            reason = f"{unsafe[0]}: the frames would lie outside the dataset folder"
            issues.append(RowIssue(name, row_number, "dropped", reason))
            continue
        notes: list[str] = [clip_note] if clip_note else []

        fixed: FrameFix | None = None
        consistent = apex is not None and onset <= apex <= offset
        if not consistent and reconcile is not None:
            extras = {f: cell_text(cell(values, f)) for f in table.columns if f not in FIELDS}
            found = reconcile(row_number, subject, clip, onset, apex, offset, extras)
            if found is not None:
                fixed = FrameFix(found[0], found[1], found[2], repaired=found[3])
        if fixed is None:
            fixed = fix_frames(onset, apex, offset)
            if fixed.repaired and "apex" not in table.columns:
                fixed = FrameFix(
                    fixed.onset,
                    fixed.apex,
                    fixed.offset,
                    repaired=f"no apex column: apex set to the midpoint {fixed.apex} "
                    f"of {onset}..{offset}",
                )
        if fixed.dropped:
            issues.append(RowIssue(name, row_number, "dropped", fixed.dropped))
            continue
        if fixed.repaired:
            notes.append(fixed.repaired)

        record = LabelRow(row_number, subject, clip, fixed.onset, fixed.apex, fixed.offset, emotion)
        key = (subject, clip, fixed.onset)
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


def find_file(root: Path, match: Callable[[str], bool], max_depth: int = 2) -> list[Path]:
    """Gives the files under ``root`` whose lower-case name matches, shallowest first.

    Searches root, its sub-folders and theirs (``max_depth`` levels), stopping at the first
    level that has a match, so that a dataset's frame folders are not walked.
    """
    level = [root]
    for _ in range(max_depth + 1):
        found: list[Path] = []
        below: list[Path] = []
        for folder in level:
            try:
                entries = sorted(folder.iterdir())
            except OSError:
                continue
            for entry in entries:
                if entry.is_dir():
                    below.append(entry)
                elif match(entry.name.lower()):
                    found.append(entry)
        if found:
            return found
        level = below
    return []
