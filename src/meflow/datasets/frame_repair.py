"""The generic repair of one row's frame numbers: consistent onset <= apex <= offset, or a drop."""

from __future__ import annotations

from dataclasses import dataclass


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
    """Gives consistent onset <= apex <= offset numbers by the generic rules of labels.py."""
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
