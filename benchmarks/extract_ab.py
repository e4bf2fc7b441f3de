"""Extraction frames/s of several configurations in one run of the machine, interleaved.

    .venv/bin/python benchmarks/extract_ab.py --data DIR [--rounds 3] [--workers 2]
        [--base-src /path/to/an/older/checkout/src]

Each round extracts the dataset (CAS(ME)^3 layout, e.g. the demo's DIR/data) once per
configuration, each in a fresh process and cache, in turn: the recommended preset, the paper
preset and, with ``--base-src``, an older meflow's default (its ``src`` folder is put first
on the child's PYTHONPATH: the same run of the machine, so drift in its speed cancels out).
Printed: frames/s per run, and per configuration the median and its spread, and the ratios
the acceptance points ask for (recommended / paper, current / base).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _results import write_results  # benchmarks/ is on sys.path when a script runs

CHILD = """
import json, sys, time
from pathlib import Path
from meflow.datasets import load_dataset
from meflow.features.extract import extract_dataset
data, cache, workers, preset = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cfg = None
if preset != "default":
    from meflow.config import with_preset
    cfg = with_preset(preset).extract
samples = load_dataset("casme3", root=data).samples
t0 = time.perf_counter()
s = extract_dataset(samples, cache, cfg, dataset="casme3", workers=workers, progress=False)
wall = time.perf_counter() - t0
print(json.dumps({"frames": s.frames, "wall": wall, "timings": s.timings, "failed": len(s.failed)}))
"""


def run_once(data: Path, workers: int, preset: str, src: str | None) -> dict:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(data), str(Path(d) / "cache"), str(workers), preset],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--base-src", help="src folder of an older meflow (its defaults)")
    args = p.parse_args()
    configs = [("recommended", "recommended", None), ("paper", "paper", None)]
    if args.base_src:
        configs.append(("base", "default", args.base_src))
    rates: dict[str, list[float]] = {name: [] for name, _, _ in configs}
    for k in range(args.rounds):
        for name, preset, src in configs:
            r = run_once(args.data, args.workers, preset, src)
            fps = r["frames"] / r["wall"]
            rates[name].append(fps)
            total = sum(r["timings"].values()) or 1.0
            split = ", ".join(f"{s} {100 * v / total:.0f}%" for s, v in r["timings"].items())
            print(f"round {k + 1} {name:<12} {fps:7.1f} frames/s  ({split})", flush=True)
    print()
    med = {name: statistics.median(v) for name, v in rates.items()}
    rows = []
    for name, v in rates.items():
        print(f"{name:<12} median {med[name]:7.1f} frames/s (runs {min(v):.1f}-{max(v):.1f})")
        rows.append([name, f"{med[name]:.1f}", f"{min(v):.1f}-{max(v):.1f}"])
    figures = {"recommended_over_paper": f"{med['recommended'] / med['paper']:.3f}"}
    print(f"recommended / paper: {figures['recommended_over_paper']} (acceptance: >= 0.80)")
    if "base" in med:
        figures["recommended_over_base"] = f"{med['recommended'] / med['base']:.3f}"
        figures["paper_over_base"] = f"{med['paper'] / med['base']:.3f}"
        print(
            f"recommended / base: {figures['recommended_over_base']}, "
            f"paper / base: {figures['paper_over_base']} (acceptance: within 5%)"
        )
    write_results(
        "extract_ab",
        tables={"speed": {"columns": ["configuration", "median frames/s", "runs"], "rows": rows}},
        figures=figures,
        extra={"runs": rates},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
