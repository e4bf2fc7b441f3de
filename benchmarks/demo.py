"""The demo's tables as README shows them: runs ``meflow demo`` and records its results.

    .venv/bin/python benchmarks/demo.py --out DIR

Runs ``.venv/bin/meflow demo --out DIR`` (the README's main command after the install), times
it, and writes the ``all`` rows of both presets' results tables (``DIR/<preset>/results.md``,
what the demo prints) and its spotting table (``DIR/spot/report.md``: the learned spotter, the
baseline and chance, leave-one-subject-out on the synthetic long recordings) to
benchmarks/results/demo.json, from which README's demo block is rendered. A DIR that already
holds ``data/synth.json`` reuses that data set (the demo's own rule), so the same data can be
run through two versions of the code.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from _results import write_results

ROOT = Path(__file__).resolve().parents[1]


def read_table(md: Path, subset: str | None = "all") -> tuple[list[str], list[list[str]]]:
    """The header and the rows (of one subset; None: all) of the first table of ``md``."""
    lines: list[str] = []
    for ln in md.read_text().splitlines():
        if ln.startswith("|"):
            lines.append(ln)
        elif lines:  # the first table ends
            break
    if len(lines) < 2:
        raise SystemExit(f"{md}: no table")

    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.strip().strip("|").split("|")]

    header = cells(lines[0])
    rows = [cells(ln) for ln in lines[2:]]
    return header, [r for r in rows if subset is None or r[0] == subset]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    meflow = Path(sys.executable).with_name("meflow")
    start = time.perf_counter()
    subprocess.run([str(meflow), "demo", "--out", str(args.out)], check=True)
    seconds = time.perf_counter() - start
    tables = {}
    for preset in ("recommended", "paper"):
        header, rows = read_table(args.out / preset / "results.md")
        tables[preset] = {"columns": header, "rows": rows}
        print(f"{preset}:")
        for r in rows:
            print("  | " + " | ".join(r) + " |")
    header, rows = read_table(args.out / "spot" / "report.md", subset=None)
    tables["spot"] = {"columns": header, "rows": rows}
    print("spotting:")
    for r in rows:
        print("  | " + " | ".join(r) + " |")
    print(f"demo finished in {seconds:.0f} s")
    write_results("demo", tables=tables, figures={"seconds": f"{seconds:.0f}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
