"""Benchmark results as JSON: what a benchmark prints, it also writes here, and docs render from it.

Every benchmark ends with ``write_results(name, tables=..., figures=...)``. The file
``benchmarks/results/<name>.json`` then holds:

- ``command``: the command line that made it (``.venv/bin/python benchmarks/<script>.py ...``);
- ``made``: the date (UTC), ``commit``: the checkout's ``git describe --always``, with ``-dirty``
  when a tracked file outside benchmarks/results differs,
  ``machine``: cores and platform;
- ``tables``: ``{key: {"columns": [str, ...], "rows": [[str, ...], ...]}}``, cells already
  formatted as the benchmark prints them (the benchmark decides the digits);
- ``figures``: ``{key: str}``, single figures formatted the same way.

``scripts/render_docs.py`` rewrites the marked blocks of README.md and docs/*.md from these
files (``--check`` fails when one differs): a table block
``<!-- table: NAME.KEY -->`` ... ``<!-- /table -->`` and an inline figure
``<!-- fig: NAME.KEY -->0.963<!-- /fig -->``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

Table = Mapping[str, Sequence[object]]


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command that ran this benchmark, as a user would type it from the repository root."""
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0])
    with contextlib.suppress(ValueError):
        script = script.resolve().relative_to(ROOT)
    return " ".join([".venv/bin/python", shlex.quote(str(script)), *map(shlex.quote, argv[1:])])


def _git(*args: str) -> str:
    """The output of one git command in this checkout."""
    out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _commit() -> str:
    """``git describe --always``, with ``-dirty`` when a tracked file other than a results
    file differs (a benchmark run before this one rewrites benchmarks/results)."""
    try:
        changed = _git("status", "--porcelain", "--untracked-files=no", "--", ".",
                       ":(exclude)benchmarks/results")  # fmt: skip
        return _git("describe", "--always") + ("-dirty" if changed else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> dict[str, list]:
    """A table for ``write_results``: every cell as the string it is printed as."""
    cols = [str(c) for c in columns]
    out = []
    for r in rows:
        if len(r) != len(cols):
            raise ValueError(f"row {r!r} has {len(r)} cells, the table {len(cols)} columns")
        out.append([str(c) for c in r])
    return {"columns": cols, "rows": out}


def write_results(
    name: str,
    *,
    tables: Mapping[str, Mapping[str, Sequence[object]]] | None = None,
    figures: Mapping[str, object] | None = None,
    extra: Mapping[str, object] | None = None,
    argv: Sequence[str] | None = None,
    out_dir: Path | None = None,
) -> Path:
    """Write ``benchmarks/results/<name>.json`` (or ``out_dir/<name>.json``) and return its path.

    ``extra`` holds raw data for later analysis (not rendered). ``name`` has no dot: a doc
    names a figure ``NAME.KEY``."""
    if "." in name or "/" in name:
        raise ValueError(f"results name {name!r} must not contain '.' or '/'")
    payload: dict[str, object] = {
        "benchmark": name,
        "command": command_line(argv),
        "made": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d"),
        "commit": _commit(),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform()},
        "tables": {
            k: table(list(t["columns"]), [list(r) for r in t["rows"]])
            for k, t in (tables or {}).items()
        },
        "figures": {k: str(v) for k, v in (figures or {}).items()},
    }
    if extra:
        payload["extra"] = dict(extra)
    folder = RESULTS if out_dir is None else out_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, sort_keys=False) + "\n")
    print(f"results written to {path}")
    return path
