"""Errors a user can cause; the CLI prints them as one line, never a traceback."""

from __future__ import annotations


class MeflowError(Exception):
    """A problem with the user's input or environment, described in one line."""


class LabelFileError(MeflowError):
    """A malformed annotation file: names the file, the row and the column."""

    def __init__(
        self, path: object, message: str, row: int | None = None, column: str | None = None
    ) -> None:
        where = str(path)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.row = row
        self.column = column


class NoFaceError(MeflowError):
    """No face was found in any frame of a video or clip."""


class MissingDependencyError(MeflowError):
    """An optional package is not installed; the message names the extra to install."""


class ConfigError(MeflowError):
    """A configuration key or value is invalid."""
