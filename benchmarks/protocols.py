"""The standard protocols on synthetic data in the datasets' own layouts (meflow reproduce
--protocol NAME), as a user runs them.

    .venv/bin/python benchmarks/protocols.py --work DIR [--subjects 68] [--casme3 CACHE]

Writes the MEGC2019 composite's three datasets with ``meflow synth --layout megc2019`` (CASME II
and SAMM clips cropped from onset to offset at 200 fps, SMIC HS at 100 fps, the composite's
class mix and subject split; realistic profile) into DIR/data, extracts each with the
defaults and ``--all-classes`` (no window or rate set by hand: the short clips are completed
with pairs without motion), and runs ``meflow reproduce --protocol`` for megc2019 (the three
caches), casme2-5 and samm-5, and, given ``--casme3`` (a cache of a CAS(ME)^3-layout set, e.g.
the realistic benchmark's), casme3-3. Every table: per dataset and overall UF1, UAR, micro
AUC with its interval and the class prior over the protocol's classes, the recommended model
and the baselines on the same leave-one-subject-out splits. Written:
benchmarks/results/protocols.json (one table per protocol). A rerun reuses DIR's data and
caches.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _results import write_results

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ["dataset", "input", "model", "UF1", "UAR", "micro AUC", "95% CI", "prior", "n", "subj"]


def meflow(*args: str) -> None:
    """Runs one meflow command (this interpreter's) and stops the benchmark if it fails."""
    cmd = [sys.executable, "-m", "meflow", *args]
    print("$ meflow " + " ".join(args), flush=True)
    subprocess.run(cmd, check=True)


def rows_of(run: Path) -> list[list[str]]:
    """The protocol table of a run folder (protocol.json) as rows of text."""
    doc = json.loads((run / "protocol.json").read_text())

    def f(v: object) -> str:
        if v is None:
            return "-"
        if isinstance(v, list):
            return f"[{v[0]:.3f}, {v[1]:.3f}]"
        return f"{float(v):.3f}"  # type: ignore[arg-type]

    out = []
    for r in doc["rows"]:
        model = r["model"] + (" (baseline)" if r["role"] == "baseline" else "")
        out.append(
            [
                r["dataset"], r["input"], model, f(r["uf1"]), f(r["uar"]),
                f(r["micro_roc_auc"]), f(r["micro_roc_auc_ci"]), f(r["prior_micro_roc_auc"]),
                str(r["n_samples"]), str(r["n_subjects"]),
            ]
        )  # fmt: skip
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--subjects", type=int, default=68, help="subjects in all (the composite's)")
    ap.add_argument("--casme3", type=Path, help="a CAS(ME)^3-layout cache for casme3-3")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    work = args.work
    data = work / "data"
    t0 = time.perf_counter()
    if not (data / "synth.json").exists() and not (data / "casme2").is_dir():
        meflow("synth", "--layout", "megc2019", "--out", str(data),
               "--subjects", str(args.subjects), "--faces", "packaged", "--quiet")  # fmt: skip
    caches = {}
    for name in ("casme2", "samm", "smic"):
        cache = work / f"cache-{name}"
        if not (cache / "cache.json").exists():
            meflow("extract", "--dataset", name, "--root", str(data / name), "--out", str(cache),
                   "--all-classes", "--workers", str(args.workers), "--quiet")  # fmt: skip
        caches[name] = cache
    runs = {
        "megc2019": [caches["casme2"], caches["samm"], caches["smic"]],
        "casme2-5": [caches["casme2"]],
        "samm-5": [caches["samm"]],
    }
    if args.casme3 is not None:
        runs["casme3-3"] = [args.casme3]
    tables = {}
    for protocol, used in runs.items():
        out = work / f"run-{protocol}"
        flags = [a for c in used for a in ("--cache", str(c))]
        meflow("reproduce", "--protocol", protocol, *flags, "--out", str(out), "--quiet")
        rows = rows_of(out)
        tables[protocol.replace("-", "_")] = {"columns": COLUMNS, "rows": rows}
        print(f"\n{protocol}:")
        for r in rows:
            print("  | " + " | ".join(r) + " |")
    seconds = time.perf_counter() - t0
    write_results(
        "protocols", tables=tables, figures={"subjects": args.subjects, "seconds": f"{seconds:.0f}"}
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
