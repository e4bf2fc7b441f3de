"""CAS(ME)^3 loaders: Part A (``casme3``) and Part C (``casme3c``) micro-expression labels.

Part A: ``cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx``, sheet ``label``, columns Subject,
Filename, Onset, Apex, Offset, AU, Objective class, emotion. Frames are the whole recording at
``<root>/<Subject>/<Filename>/color/<n>.jpg`` (30 fps; the annotated numbers are the files'
names), so ``first_frame``/``last_frame`` are None: the extractor reads the folder.

Emotions: ``happy`` -> happiness, ``sad`` -> sadness; ``others``/``Others`` are the dataset's
own 'others' word (kept only with ``six_classes=False``). Any other word is an error.

Repairs specific to Part A (each reported as a RowIssue with the spreadsheet row number):

* an upper-case clip letter (``J`` in one row) is lower-cased: the folders are lower-case;
* a row whose frame numbers are inconsistent (apex outside onset..offset, offset 0 or before
  the onset) is first looked up in the dataset's own macro+micro annotation file
  ``CAS(ME)3_part_A_v2.xls`` (sheet ``AU+Emotion``, searched next to the label file and in the
  dataset folder): if exactly one micro-expression row of the same subject and clip is
  consistent, carries the same AU and agrees on at least two of the three numbers, its numbers
  are taken. In the published files this corrects all four inconsistent rows (spNO.149 d apex
  83 -> 160, spNO.216 d onset 3647 -> 2647, spNO.40 e offsets 0 -> 1845 and 0 -> 2403);
* without that file the generic rules of :mod:`meflow.datasets.labels` apply (apex -> midpoint,
  offset before onset -> dropped).

Either way Part A keeps 699 samples of 88 subjects in the six classes.

The damaged-frame list ``error_info_damaged_image_partA.txt`` (lines such as
``spNO.3 J 498.jpg  the image cannot open``), looked for next to the label file and in the
dataset folder, fills ``Sample.bad_frames``.

Part C (``CAS(ME)3_part_C_ME.xlsx``, sheet ``mockCrimeME``: sub, count, onset, offset, au,
emotion) has no apex column and four emotion words (positive, negative, surprise, others):
the apex of every row is the midpoint of onset..offset (reported as repaired), only
``surprise`` is one of the six classes (positive/negative are not split into classes here),
subjects are named ``C<sub>`` and the clip is the ``count`` number. Part C frames are assumed
at ``<root>/<sub>/color/<n>.jpg`` (the whole recording, as in Part A); this layout is not
verified against the released data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from meflow.datasets.base import LoadResult, Sample
from meflow.datasets.labels import (
    LabelRow,
    LabelSpec,
    Reconciler,
    build_result,
    cell_text,
    find_file,
    parse_frame,
    parse_label_file,
    read_label_table,
)
from meflow.errors import LabelFileError

DAMAGED_LIST = "error_info_damaged_image_parta.txt"
FPS = 30.0  # CAS(ME)^3's colour recordings (parts A and C)
COMPANION_SHEET = "AU+Emotion"


def _clip_letter(value: object) -> tuple[str, str | None]:
    text = cell_text(value)
    if text != text.lower():
        return text.lower(), f"clip {text!r} written in upper case: read as {text.lower()!r}"
    return text, None


PART_A = LabelSpec(
    dataset="casme3",
    columns={
        "subject": ("Subject",),
        "clip": ("Filename",),
        "onset": ("Onset", "OnsetFrame"),
        "apex": ("Apex", "ApexFrame"),
        "offset": ("Offset", "OffsetFrame"),
        "emotion": ("emotion", "Estimated Emotion"),
        "au": ("AU", "Action Units"),
    },
    other_words={"others": "others", "other": "others"},
    clip=_clip_letter,
    sheet="label",
    optional=frozenset({"au"}),
)

PART_C = LabelSpec(
    dataset="casme3c",
    columns={
        "subject": ("sub", "Subject"),
        "clip": ("count",),
        "onset": ("onset",),
        "offset": ("offset",),
        "emotion": ("emotion",),
    },
    other_words={
        "others": "others",
        "other": "others",
        "positive": "positive",
        "negative": "negative",
    },
    subject=lambda v: f"C{cell_text(v)}",
    optional=frozenset({"apex"}),
)


def is_part_a_label(name: str) -> bool:
    """Gives True for a lower-case file name that looks like the Part A micro-expression labels."""
    return "part_a" in name and "label" in name and name.endswith((".xlsx", ".xls", ".csv"))


def is_part_c_label(name: str) -> bool:
    """Gives True for a lower-case file name that looks like the Part C micro-expression labels."""
    return "part_c" in name and name.endswith((".xlsx", ".xls", ".csv"))


def _is_companion(name: str) -> bool:
    return "part_a_v2" in name and name.endswith((".xls", ".xlsx"))


def _search_places(label_file: Path, root: Path | None) -> list[Path]:
    places = [label_file.parent]
    if root is not None and root.resolve() != label_file.parent.resolve():
        places.append(root)
    return places


def _find_beside(label_file: Path, root: Path | None, match: Callable[[str], bool]) -> Path | None:
    for place in _search_places(label_file, root):
        found = find_file(place, match, max_depth=0 if place == label_file.parent else 2)
        if found:
            return found[0]
    return None


def read_damaged_frames(path: Path) -> dict[tuple[str, str], frozenset[int]]:
    """Gives {(subject, clip): frame numbers} from the dataset's damaged-image list."""
    out: dict[tuple[str, str], set[int]] = {}
    pattern = re.compile(r"^\s*(\S+)\s+(\S+)\s+(\d+)\.jpg\b", re.IGNORECASE)
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = pattern.match(line)
        if m:
            out.setdefault((m.group(1), m.group(2).lower()), set()).add(int(m.group(3)))
    return {k: frozenset(v) for k, v in out.items()}


class _Companion:
    """Micro-expression rows of CAS(ME)3_part_A_v2.xls, indexed by (subject, clip)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rows: dict[tuple[str, str], list[tuple[int, int, int, int, str]]] | None = None

    def rows(self) -> dict[tuple[str, str], list[tuple[int, int, int, int, str]]]:
        if self._rows is None:
            self._rows = {}
            spec = LabelSpec(
                dataset="casme3",
                columns={
                    "subject": ("Subject",),
                    "clip": ("Filename",),
                    "onset": ("Onset",),
                    "apex": ("Apex",),
                    "offset": ("Offset",),
                    "au": ("AU",),
                    "kind": ("Expression type",),
                },
                other_words={},
                sheet=COMPANION_SHEET,
            )
            try:
                table = read_label_table(self.path, spec)
            except LabelFileError:
                return self._rows
            c = table.columns
            for row_number, values in table.rows:
                if len(values) <= max(c.values()):
                    continue
                if "micro" not in cell_text(values[c["kind"]]).lower():
                    continue
                try:
                    nums = [
                        parse_frame(values[c[f]], self.path, row_number, f)
                        for f in ("onset", "apex", "offset")
                    ]
                except LabelFileError:
                    continue
                if any(n is None for n in nums):
                    continue
                on, ap, off = (int(n) for n in nums)  # type: ignore[arg-type]
                key = (cell_text(values[c["subject"]]), cell_text(values[c["clip"]]).lower())
                au = cell_text(values[c["au"]])
                self._rows.setdefault(key, []).append((row_number, on, ap, off, au))
        return self._rows

    def reconcile(
        self,
        subject: str,
        clip: str,
        onset: int,
        apex: int | None,
        offset: int,
        au: str | None = None,
    ) -> tuple[int, int, int, str] | None:
        """Gives the companion file's numbers for an inconsistent row, or None if not unique."""
        matches = []
        for number, on, ap, off, their_au in self.rows().get((subject, clip), []):
            if not on <= ap <= off:
                continue
            if au is not None and au != their_au:
                continue
            agree = (on == onset) + (ap == apex) + (off == offset)
            if agree >= 2:
                matches.append((number, on, ap, off))
        if len(matches) != 1:
            return None
        number, on, ap, off = matches[0]
        was = f"{onset}/{apex}/{offset}"
        return (
            on,
            ap,
            off,
            f"inconsistent onset/apex/offset {was}: {self.path.name} row {number} gives "
            f"{on}/{ap}/{off}",
        )


def load_part_a(labels: Path, root: Path | None = None, six_classes: bool = True) -> LoadResult:
    """Gives the CAS(ME)^3 Part A micro-expression samples (see the module rules)."""
    companion_path = _find_beside(labels, root, _is_companion)
    reconcile: Reconciler | None = None
    if companion_path is not None:
        companion = _Companion(companion_path)

        def reconcile(
            row: int,
            subject: str,
            clip: str,
            onset: int,
            apex: int | None,
            offset: int,
            extras: dict[str, str],
        ) -> tuple[int, int, int, str] | None:
            return companion.reconcile(subject, clip, onset, apex, offset, extras.get("au"))

    rows, issues = parse_label_file(labels, PART_A, reconcile)

    damaged_path = _find_beside(labels, root, lambda n: n == DAMAGED_LIST)
    damaged = read_damaged_frames(damaged_path) if damaged_path is not None else {}
    base = root if root is not None else Path(".")

    def make(r: LabelRow) -> Sample:
        return r.sample(
            "casme3",
            base / r.subject / r.clip / "color",
            "{n}.jpg",
            bad_frames=damaged.get((r.subject, r.clip), frozenset()),
            fps=FPS,
        )

    return build_result(
        rows,
        issues,
        make,
        dataset="casme3",
        label_file=labels,
        root=root,
        six_classes=six_classes,
    )


def load_part_c(labels: Path, root: Path | None = None, six_classes: bool = True) -> LoadResult:
    """Gives the CAS(ME)^3 Part C micro-expression samples (apex = midpoint, see module)."""
    rows, issues = parse_label_file(labels, PART_C)
    # Part C has no apex column: every row's apex is the midpoint; say so once per row.
    base = root if root is not None else Path(".")

    def make(r: LabelRow) -> Sample:
        return r.sample("casme3c", base / r.subject.removeprefix("C") / "color", "{n}.jpg", fps=FPS)

    return build_result(
        rows,
        issues,
        make,
        dataset="casme3c",
        label_file=labels,
        root=root,
        six_classes=six_classes,
    )
