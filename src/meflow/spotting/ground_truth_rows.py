"""The records of spotting ground truth and the rules that turn one sheet row into an interval.

The rules are listed in :mod:`meflow.spotting.ground_truth` and docs/spotting.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from meflow.datasets.base import RowIssue
from meflow.datasets.cells import MISSING_MARKERS, cell_text, is_blank, unsafe_name
from meflow.errors import LabelFileError

TYPES: tuple[str, ...] = ("micro", "macro", "blink")
EXPRESSION_TYPES: tuple[str, ...] = ("micro", "macro")


@dataclass(frozen=True)
class SpotInterval:
    """One annotated interval of a long recording, in the dataset's own frame numbers."""

    dataset: str  # 'casme3', 'casme2-long', 'samm-lv'
    subject: str  # the subject's folder name: 'spNO.1', 's15', '006'
    recording: str  # the recording within the subject: 'a', '0101', '006_1'
    onset: int
    apex: int | None  # None where the annotation gives none (or one outside onset..offset)
    offset: int
    type: str  # one of TYPES
    emotion: str | None = None  # lower-case emotion word where the file gives one
    aus: str | None = None  # action units as written ('4+15+R10')
    row: int = 0  # spreadsheet row (1-based, as a spreadsheet shows it) on ``sheet``
    sheet: str = ""
    name: str | None = None  # the annotation's own name of the interval ('anger1_1', '006_1_2')


@dataclass
class GroundTruth:
    """What a ground-truth loader read: the intervals kept and every row repaired or dropped."""

    dataset: str
    intervals: list[SpotInterval]
    issues: list[RowIssue] = field(default_factory=list)
    label_file: Path | None = None
    fps: float = 0.0  # the recordings' native frame rate

    def of_type(self, *types: str) -> list[SpotInterval]:
        """Gives the intervals of the given types ('micro', 'macro', 'blink'), in file order."""
        return [i for i in self.intervals if i.type in types]

    @property
    def counts(self) -> Counter[str]:
        """Gives the number of intervals per type."""
        return Counter(i.type for i in self.intervals)

    def subjects(self, types: tuple[str, ...] = EXPRESSION_TYPES) -> list[str]:
        """Gives the sorted subjects with at least one interval of the given types."""
        return sorted({i.subject for i in self.of_type(*types)})

    def recordings(self, types: tuple[str, ...] = EXPRESSION_TYPES) -> list[tuple[str, str]]:
        """Gives the sorted (subject, recording) pairs with an interval of the given types."""
        return sorted({(i.subject, i.recording) for i in self.of_type(*types)})

    @property
    def dropped(self) -> list[RowIssue]:
        """Gives the rows that were left out."""
        return [i for i in self.issues if i.action == "dropped"]

    @property
    def repaired(self) -> list[RowIssue]:
        """Gives the rows that were kept with a change."""
        return [i for i in self.issues if i.action == "repaired"]


class RowDropped(Exception):
    """Raised inside the row rules: the row cannot be used, for the reason given."""


@dataclass
class RowReader:
    """Reads the cells of one sheet row and collects the notes of its repairs."""

    path: Path
    row: int
    cells: Mapping[str, object]  # field -> cell
    columns: Mapping[str, str]  # field -> the column's name as the file writes it
    notes: list[str] = field(default_factory=list)

    def text(self, f: str, required: bool = True) -> str:
        """Gives a cell as stripped text; drops the row when a required cell is empty."""
        value = cell_text(self.cells.get(f))
        if required and value == "":
            raise RowDropped(f"no value in {self.columns.get(f, f)}")
        return value

    def frame(self, f: str) -> int | None:
        """Gives a frame number (fractions rounded, -1 and blanks None; see the module rules)."""
        value = self.cells.get(f)
        column = self.columns.get(f, f)
        if isinstance(value, bool):
            raise LabelFileError(
                self.path, f"frame number expected, got {value!r}", self.row, column
            )
        if is_blank(value) or cell_text(value).lower() in MISSING_MARKERS:
            if f == "apex" and f in self.columns:
                self.notes.append(f"{column} not annotated ({cell_text(value)!r}): left unknown")
            return None
        if isinstance(value, (int, float)):
            number = float(value)
        else:
            try:
                number = float(cell_text(value))
            except ValueError:
                got = cell_text(value)
                raise LabelFileError(
                    self.path, f"frame number expected, got {got!r}", self.row, column
                ) from None
        if not math.isfinite(number):
            raise LabelFileError(
                self.path, f"frame number expected, got {value!r}", self.row, column
            )
        if number == -1 and f == "apex":
            self.notes.append("apex -1 (not annotated): left unknown")
            return None
        if number < 0:
            raise RowDropped(f"{column} {cell_text(value)} is negative")
        whole = math.floor(number + 0.5)
        if number != whole:
            shown = f"{number:.4f}".rstrip("0").rstrip(".")
            shown = repr(number) if shown == str(whole) else shown  # 3322.9999999999995
            self.notes.append(f"{column} {shown} rounded to the nearest frame {whole}")
        return whole

    def name(self, f: str, text: str) -> str:
        """Gives ``text`` as a folder name; drops the row if it would leave the dataset folder."""
        why = unsafe_name(text)
        if why is not None:
            raise RowDropped(f"{self.columns.get(f, f)} {why}")
        return text


def interval_frames(reader: RowReader) -> tuple[int, int | None, int]:
    """Gives the row's onset, apex (or None) and offset made consistent, or drops the row."""
    onset, apex, offset = (reader.frame(f) for f in ("onset", "apex", "offset"))
    for f, value in (("onset", onset), ("offset", offset)):
        if value is None:
            raise RowDropped(f"no value in {reader.columns.get(f, f)}")
    assert onset is not None and offset is not None
    if offset == 0 and onset > 0:
        if apex is None or apex < onset:
            raise RowDropped("offset 0 (not annotated) and no apex after the onset to end at")
        reader.notes.append(f"offset 0 (not annotated): set to the apex {apex}")
        offset = apex
    if offset < onset:
        raise RowDropped(f"offset {offset} before onset {onset}: the extent is unknown")
    if apex is not None and not onset <= apex <= offset:
        reader.notes.append(f"apex {apex} outside {onset}..{offset}: left unknown")
        apex = None
    return onset, apex, offset


def expression_type(reader: RowReader, f: str = "type") -> str:
    """Gives 'micro' or 'macro' from a type cell ('Micro-expression', 'Macro', 'Micro - 1/2')."""
    raw = reader.text(f)
    word = raw.lower()
    for kind in EXPRESSION_TYPES:
        if word.startswith(kind):
            return kind
    raise LabelFileError(
        reader.path,
        f"unknown expression type {raw!r} (expected micro- or macro-expression)",
        reader.row,
        reader.columns.get(f, f),
    )


# Gives the interval of one row (its cells as a RowReader), raising RowDropped to drop it.
RowRule = Callable[[RowReader], SpotInterval]


def read_rows(
    path: Path,
    sheet: str,
    rows: list[tuple[int, list[object]]],
    columns: Mapping[str, int],
    names: Mapping[str, str],
    rule: RowRule,
) -> tuple[list[SpotInterval], list[RowIssue]]:
    """Gives the intervals of a sheet's data rows and an issue for each repaired or dropped row.

    Empty rows between data rows are dropped (reported); trailing empty rows are not rows. An
    interval equal to an earlier row's (subject, recording, onset, offset, type) is dropped.
    """
    label = f"{path.name} [{sheet}]"
    last = max((n for n, values in rows if not all(is_blank(v) for v in values)), default=0)
    out: list[SpotInterval] = []
    issues: list[RowIssue] = []
    seen: dict[tuple[str, str, int, int, str], int] = {}
    for number, values in rows:
        if number > last:
            break
        if all(is_blank(v) for v in values):
            issues.append(RowIssue(label, number, "dropped", "empty row"))
            continue
        cells = {f: values[c] if c < len(values) else None for f, c in columns.items()}
        reader = RowReader(path, number, cells, names)
        try:
            interval = rule(reader)
        except RowDropped as why:
            issues.append(RowIssue(label, number, "dropped", str(why)))
            continue
        key = (interval.subject, interval.recording, interval.onset, interval.offset, interval.type)
        if key in seen:
            issues.append(RowIssue(label, number, "dropped", f"duplicate of row {seen[key]}"))
            continue
        seen[key] = number
        if reader.notes:
            issues.append(RowIssue(label, number, "repaired", "; ".join(reader.notes)))
        out.append(interval)
    return out, issues
