"""meflow stats: samples per class and subject of a dataset, with repaired and dropped rows."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "count a dataset's samples per class and subject; list repaired and dropped label rows"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dataset",
        default="casme3",
        help="dataset name: casme3 (default), casme3c, casme2, samm, smic, smic-vis, smic-nir",
    )
    p.add_argument("--labels", type=Path, help="label file (xlsx, xls or csv)")
    p.add_argument(
        "--root",
        type=Path,
        help="dataset folder: finds the label file and checks that frames exist",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--plot", type=Path, metavar="PNG", help="also draw the class bar chart here")
    p.add_argument(
        "--all-classes",
        action="store_true",
        help="keep every emotion word, not only the six classes",
    )


def format_table(summary: dict[str, Any]) -> str:
    """Gives the human-readable report of a summary made by ``summarize``."""
    source = summary["label_file"] or "no label file: the folder tree is the annotation"
    lines = [f"{summary['dataset']}: {source}"]
    total = summary["samples"]
    width = max([len("class"), *(len(k) for k in summary["classes"])])
    lines.append(f"  {'class':<{width}}  {'count':>5}  {'share':>6}")
    for name, count in summary["classes"].items():
        share = 100.0 * count / total if total else 0.0
        lines.append(f"  {name:<{width}}  {count:>5}  {share:5.1f}%")
    lines.append(f"  {'total':<{width}}  {total:>5}")
    lines.append(f"subjects: {summary['subjects']}")
    other = summary["other_classes"]
    if other:
        lines.append("other classes: " + ", ".join(f"{k} {v}" for k, v in other.items()))
    for key in ("repaired", "dropped"):
        items = summary[key]
        lines.append(f"{key} rows: {len(items)}")
        lines.extend(f"  row {i['row']}: {i['reason']}" for i in items[:20])
        if len(items) > 20:
            lines.append(f"  ... {len(items) - 20} more (see --json)")
    missing = summary["missing_frames"]
    if missing:
        lines.append(f"samples with missing frames: {len(missing)}")
        lines.extend(f"  {m['sample']}: {m['reason']}" for m in missing[:20])
        if len(missing) > 20:
            lines.append(f"  ... {len(missing) - 20} more (see --json)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import json

    from meflow.datasets import DATASETS, check_frames, get_entry, load_dataset
    from meflow.datasets.stats import plot_class_distribution, summarize
    from meflow.errors import MeflowError

    if args.labels is None and args.root is None:
        raise MeflowError("give --labels FILE or --root DIR")
    entry = get_entry(args.dataset)
    name = next(k for k, v in DATASETS.items() if v is entry)
    result = load_dataset(
        name, labels=args.labels, root=args.root, six_classes=not args.all_classes
    )
    summary = summarize(result, check_frames(result))
    if args.plot is not None:
        counts = summary["classes"]
        plot_class_distribution(counts, args.plot, title=f"{entry.title}: samples per class")
        summary["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(format_table(summary))
        if args.plot is not None:
            print(f"class chart: {args.plot}")
    return 0
