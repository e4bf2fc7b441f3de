"""meflow extract: frames -> region features -> pseudo-images, for a dataset or videos."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from meflow.commands._chunks import add_chunk_option, extract_one
from meflow.commands._executor import add_executor_options, make_executor_from_args
from meflow.config import ExtractConfig

HELP = "compute optical-flow region features and 42x64 pseudo-images (dataset or video)"


def add_extract_settings(p: argparse.ArgumentParser) -> None:
    """Options shared by commands that run the extraction (extract, demo)."""
    p.add_argument(
        "--config",
        type=Path,
        help="YAML file of extraction settings (sections preprocess, face, flow, features)",
    )
    p.add_argument(
        "--preset",
        help="the extraction settings of a preset: recommended (default) or paper (the "
        "published method: arithmetic mean angle, no head-motion compensation)",
    )
    p.add_argument(
        "--flow",
        help="optical-flow backend: lk-dense (default, both presets), dis, farneback, tvl1",
    )
    p.add_argument(
        "--angle-average",
        choices=("arithmetic", "circular", "vector"),
        help="how angles are averaged in a region (default circular; the paper preset: arithmetic)",
    )
    p.add_argument(
        "--motion",
        choices=("none", "rigid", "rigid-landmarks"),
        help="head-motion compensation (default rigid; the paper preset: none)",
    )
    add_set_option(p, "any extraction setting, e.g. --set preprocess.equalization=clahe")


def add_set_option(p: argparse.ArgumentParser, help: str) -> None:
    """The repeatable ``--set KEY=VALUE`` option (into ``args.overrides``)."""
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help
    )


def setting_assignments(args: argparse.Namespace) -> list[str]:
    """The 'key=value' extraction settings of --set and the shortcut options, in that order."""
    sets = list(args.overrides)
    if args.flow:
        sets.append(f"flow.backend={args.flow}")
    if args.angle_average:
        sets.append(f"features.angle_average={args.angle_average}")
    if args.motion:
        sets.append(f"flow.motion_compensation={args.motion}")
    return sets


def extract_settings(args: argparse.Namespace) -> ExtractConfig:
    """The ExtractConfig of the command line (YAML, then shortcuts, then --set)."""
    from meflow.config import override

    base = ExtractConfig()
    if getattr(args, "preset", None):
        from meflow.config import with_preset

        base = with_preset(args.preset).extract
    if args.config:
        from meflow.config import merge, read_yaml

        cfg = merge(base, read_yaml(args.config))
    else:
        cfg = base
    sets = setting_assignments(args)
    cfg = override(cfg, sets) if sets else cfg
    from meflow.flow import get_flow

    get_flow(cfg.flow.backend)  # an unknown backend fails now, not in every worker
    return cfg


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--dataset", help="dataset name (casme3, casme3c, casme2, samm, smic, smic-vis, smic-nir)"
    )
    src.add_argument("--video", type=Path, nargs="+", help="video file(s) or folder(s) of frames")
    p.add_argument("--root", type=Path, help="dataset folder (with --dataset)")
    p.add_argument("--labels", type=Path, help="label file, if not found inside --root")
    p.add_argument(
        "--out", type=Path, required=True, help="cache folder (dataset) or output folder (video)"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="parallel processes of the local executor (default: min(2, cores))",
    )
    p.add_argument(
        "--all-classes",
        action="store_true",
        help="also extract the samples outside the six classes (others, repression, contempt, "
        "SMIC's negative/positive): the protocols (meflow reproduce --protocol) relabel them",
    )
    p.add_argument("--retry-failed", action="store_true", help="retry samples that failed before")
    p.add_argument(
        "--figures",
        action="store_true",
        help="also draw a pseudo-image and one frame pair's flow over the face",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_chunk_option(p)
    add_extract_settings(p)
    add_executor_options(p, training=False)


def run(args: argparse.Namespace) -> int:
    from meflow.errors import MeflowError
    from meflow.features.cache import ensure_writable

    cfg = extract_settings(args)
    if args.video:
        ensure_writable(args.out)  # the dataset path probes it in extract_dataset
        return _run_videos(args, cfg)
    if args.root is None and args.labels is None:
        raise MeflowError("--dataset needs --root (the dataset folder)")
    if args.root is None:
        raise MeflowError("extraction needs the frames: give --root DIR")
    return _run_dataset(args, cfg)


def _run_dataset(args: argparse.Namespace, cfg: ExtractConfig) -> int:
    from meflow.datasets import load_dataset
    from meflow.features.extract import extract_dataset

    executor = make_executor_from_args(args, workers=args.workers)
    if args.executor == "ray":  # Ray workers do not share this process's working folder
        args.root = args.root.absolute()
    result = load_dataset(
        args.dataset,
        labels=args.labels,
        root=args.root,
        six_classes=not getattr(args, "all_classes", False),
    )
    subjects = args.root / "subjects.csv"
    with executor:
        summary = extract_dataset(
            result.samples,
            args.out,
            cfg,
            dataset=args.dataset,
            workers=args.workers,
            progress=not args.quiet,
            retry_failed=args.retry_failed,
            subjects_table=subjects if subjects.exists() else None,
            executor=executor,
        )
    print(
        f"{summary.total} samples: {summary.done_before} already in the cache, "
        f"{summary.extracted} extracted, {len(summary.failed)} failed "
        f"({summary.seconds:.1f} s, {summary.frames / max(summary.seconds, 1e-9):.0f} frames/s)"
    )
    if summary.timings:
        total = sum(summary.timings.values()) or 1.0
        split = ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in summary.timings.items())
        print(f"time split (worker CPU time): {split}")
    for sid, reason in summary.failed:
        print(f"  failed {sid}: {reason}")
    print(f"cache: {args.out} (samples.csv lists every sample with its status)")
    if args.figures:
        _dataset_figure(args.out)
    return 0


def _dataset_figure(out: Path) -> None:
    from meflow.features.cache import load_npz
    from meflow.features.featureset import window_of
    from meflow.features.figures import plot_pseudo_image

    files = sorted((out / "samples").glob("*.npz"))
    if files:
        arrays, meta = load_npz(files[0])
        png = out / "pseudo_image.png"
        centred = window_of(arrays["pseudo_discrete"].T, meta).T  # the span's centred window
        plot_pseudo_image(centred, png, title=f"{meta['sample_id']} ({meta['emotion']})")
        print(f"figure: {png}")


def _run_videos(args: argparse.Namespace, cfg: ExtractConfig) -> int:
    import sys

    from meflow.errors import MeflowError

    failures = []
    executor = make_executor_from_args(args, workers=args.workers)  # for chunks (--chunk-seconds)
    for video in args.video:
        try:
            target, feats, how = extract_one(args, video, cfg, executor)
        except MeflowError as exc:
            failures.append(str(exc))
            print(f"meflow extract: error: {exc}", file=sys.stderr)
            continue
        print(
            f"{video}: {feats.frames} frames, {int(feats.valid.sum())}/{len(feats.valid)} valid "
            f"pairs -> {target}{how}"
        )
        if args.figures:
            from meflow.features.figures import video_figures

            for png in video_figures(video, target, cfg):
                print(f"figure: {png}")
    executor.close()
    if failures and len(args.video) > 1:
        print(f"{len(failures)} of {len(args.video)} inputs failed", file=sys.stderr)
    return 2 if failures else 0
