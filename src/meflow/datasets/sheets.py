"""Finding label files and reading them (.xlsx, .xls, .csv) into numbered rows of cells."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from meflow.errors import LabelFileError


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
