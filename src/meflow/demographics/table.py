"""The demographics table: one row per subject (subject, gender, ... any other column)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from meflow.errors import MeflowError

GENDERS = ("male", "female")
_GENDER_WORDS = {
    "m": "male",
    "male": "male",
    "man": "male",
    "f": "female",
    "female": "female",
    "woman": "female",
}


def read_demographics(
    path: Path, subjects: Iterable[str] | None = None, column: str = "gender"
) -> pd.DataFrame:
    """The table indexed by subject, with ``column`` checked; errors are one line.

    Rows marked excluded (an ``excluded`` column with a non-empty reason) keep their row but
    get no value. ``subjects``, when given, must all be known to the table.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise MeflowError(f"{path}: cannot read the demographics table ({exc})") from None
    if "subject" not in df.columns:
        raise MeflowError(f"{path}: missing column 'subject' (columns: {', '.join(df.columns)})")
    if column not in df.columns:
        raise MeflowError(f"{path}: missing column {column!r} (columns: {', '.join(df.columns)})")
    df["subject"] = df["subject"].str.strip()
    dup = df["subject"][df["subject"].duplicated()]
    if len(dup):
        raise MeflowError(f"{path}: subject {dup.iloc[0]!r} appears twice")
    excluded = (
        df["excluded"].str.strip() != ""
        if "excluded" in df.columns
        else pd.Series(False, index=df.index)
    )
    if column == "gender":
        values = df["gender"].str.strip().str.lower()
        for i, (v, ex) in enumerate(zip(values, excluded, strict=True)):
            if not ex and v not in _GENDER_WORDS:
                raise MeflowError(
                    f"{path}, row {i + 2}, column 'gender': unknown value {df['gender'].iloc[i]!r} "
                    "(expected male or female)"
                )
        df["gender"] = [
            None if ex else _GENDER_WORDS[v] for v, ex in zip(values, excluded, strict=True)
        ]
    else:
        df.loc[excluded, column] = None
    df = df.set_index("subject")
    if subjects is not None:
        known, wanted = set(df.index), set(subjects)
        unknown = sorted(known - wanted)
        if unknown:
            raise MeflowError(f"{path}: unknown subject {unknown[0]!r} (not in the data)")
        absent = sorted(wanted - known)
        if absent:
            raise MeflowError(
                f"{path}: {len(absent)} subject(s) of the data are not in the table, "
                f"e.g. {absent[0]!r}"
            )
    return df
