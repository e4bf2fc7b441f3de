"""Reading single cells of a label file: text, header keys, frame numbers, emotion words, names."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

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
