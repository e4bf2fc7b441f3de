"""The records every dataset loader produces, and the six classes of the method."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# The method's six classes, in this order everywhere (model outputs, tables, figures).
EMOTIONS: tuple[str, ...] = ("happiness", "sadness", "surprise", "anger", "disgust", "fear")


@dataclass(frozen=True)
class Sample:
    """One labelled micro-expression and where its frames are.

    Frame ``n`` of the recording is the file ``frames_dir / frame_pattern.format(n=n)``.
    ``first_frame``/``last_frame`` bound the frames that exist for this clip (the whole
    recording for CAS(ME)^3, onset..offset for CASME II); None where unknown. ``fps`` is the
    dataset's native frame rate (CAS(ME)^3 30, CASME II and SAMM 200); extraction brings
    every clip to ``features.fps`` before the flow.
    """

    dataset: str
    subject: str
    clip: str
    onset: int
    apex: int
    offset: int
    emotion: str  # one of EMOTIONS after the six-class filter, else the dataset's own word
    frames_dir: Path
    frame_pattern: str = "{n}.jpg"
    first_frame: int | None = None
    last_frame: int | None = None
    bad_frames: frozenset[int] = field(
        default_factory=frozenset
    )  # the dataset's damaged-frame list
    row: int | None = None  # row in the label file (1-based, as a spreadsheet shows it)
    fps: float | None = None  # the recording's native frame rate; None: unknown

    @property
    def sample_id(self) -> str:
        """A stable, file-name-safe identifier: dataset_subject_clip_onset."""
        return f"{self.dataset}_{self.subject}_{self.clip}_{self.onset}".replace("/", "-")

    def frame_path(self, n: int) -> Path:
        """Gives the file of frame ``n`` of this sample's recording."""
        return self.frames_dir / self.frame_pattern.format(n=n)


@dataclass(frozen=True)
class RowIssue:
    """A label-file row that was repaired or dropped, and why."""

    file: str
    row: int
    action: str  # 'repaired' or 'dropped'
    reason: str


@dataclass
class LoadResult:
    """What a loader read: the samples kept and every row it changed or dropped."""

    samples: list[Sample]
    issues: list[RowIssue] = field(default_factory=list)
    label_file: Path | None = None
    dataset: str = ""
    root: Path | None = None  # the dataset folder given by the user; None = annotations only
    # valid samples left out by the six-class filter, counted by their normalised own word
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def class_counts(self) -> Counter[str]:
        """Gives the number of kept samples per emotion."""
        return Counter(s.emotion for s in self.samples)

    @property
    def subjects(self) -> list[str]:
        """Gives the sorted names of the subjects with at least one kept sample."""
        return sorted({s.subject for s in self.samples})

    @property
    def dropped(self) -> list[RowIssue]:
        """Gives the label-file rows that were left out, in row order."""
        return [i for i in self.issues if i.action == "dropped"]

    @property
    def repaired(self) -> list[RowIssue]:
        """Gives the label-file rows that were kept with a change, in row order."""
        return [i for i in self.issues if i.action == "repaired"]
