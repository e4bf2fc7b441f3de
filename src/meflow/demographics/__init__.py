"""Per-subject attributes (gender, ...) from a table or estimated from faces."""

from meflow.demographics.table import read_demographics

__all__ = ["read_demographics"]
