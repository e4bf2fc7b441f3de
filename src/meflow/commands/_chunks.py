"""``extract --video`` in chunks (features.chunked): the ``--chunk-seconds`` option, and one
video's extraction in one pass or in chunks on the executor that ``--executor`` names."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line starts without numpy or OpenCV
    from meflow.config import ExtractConfig
    from meflow.execution.base import Executor
    from meflow.features.sequence import SequenceFeatures

DEFAULT_CHUNK_SECONDS = 5.0  # as features.chunked (checked by its tests)
CHUNK_ABOVE_SECONDS = 60.0


def add_chunk_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--chunk-seconds",
        type=float,
        metavar="S",
        help="--video: extract in chunks of S seconds, in parallel on the executor, resumable "
        "after a kill, with the features of one pass (0: one pass). Default: chunks of "
        f"{DEFAULT_CHUNK_SECONDS:g} s for a frame folder longer than {CHUNK_ABOVE_SECONDS:g} s "
        "and with --executor ray, one pass otherwise (each chunk of a video file decodes it "
        "from its start). Locally the landmark pass takes one of "
        "the --workers cores and the chunks the others (up to 2: threads of this process)",
    )


def chunk_seconds_of(args: argparse.Namespace, video: Path, cfg: ExtractConfig) -> float | None:
    """The chunk length for ``video`` (None: one pass)."""
    from meflow.errors import MeflowError
    from meflow.features.chunked import chunking_seconds
    from meflow.io import open_frames

    requested = args.chunk_seconds
    if args.executor == "ray":
        if requested == 0:
            raise MeflowError("--executor ray extracts a video in chunks: drop --chunk-seconds 0")
        requested = requested or DEFAULT_CHUNK_SECONDS
    if requested is None and Path(video).is_file():
        return None  # a video file's chunks would each decode it from its start: one pass
    source = open_frames(video)
    try:
        seconds = source.info.frame_count / source.info.fps
    finally:
        source.close()
    return chunking_seconds(requested, round(seconds * cfg.features.fps), cfg.features.fps)


def extract_one(
    args: argparse.Namespace, video: Path, cfg: ExtractConfig, executor: Executor
) -> tuple[Path, SequenceFeatures, str]:
    """(features file, features, how it was made) of one video, in one pass or in chunks (then
    the features' ``valid`` and ``frame_valid`` only: the file holds the rest)."""
    chunk = chunk_seconds_of(args, video, cfg)
    if chunk is None:
        from meflow.features.extract import extract_video

        return (*extract_video(video, args.out, cfg), "")
    from meflow.execution import LocalExecutor
    from meflow.features.chunked import extract_chunked, local_chunking

    run_on: Executor | None = executor
    threads = 1
    if isinstance(executor, LocalExecutor):  # the landmark pass takes one of the cores
        run_on, threads = local_chunking(executor.workers)
    target, feats, s = extract_chunked(  # the file written chunk by chunk: memory flat
        video, args.out, cfg, chunk_seconds=chunk, executor=run_on, threads=threads,
        features=False,
    )  # fmt: skip
    note = f" ({s.chunks} chunks of {chunk:g} s on {executor.name}, {s.done_before} resumed)"
    return target, feats, note
