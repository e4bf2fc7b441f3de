"""Extraction throughput: the Ray executor against local processes, same data, same CPUs.

    .venv/bin/python benchmarks/executors.py [--subjects 16] [--rounds 3] [--cpus 2]
        [--synth DIR] [--baseline-src DIR]

Each round runs, one after another in fresh processes (A/B interleaved, so a neighbour's load
hits both alike), on the synthetic demo set (``meflow synth``; 16 subjects by default):

  local       ``meflow extract --workers CPUS`` (spawned processes)
  ray         ``meflow extract --executor ray --address ...`` on a running Ray of CPUS CPUs
              (the cluster case: the Ray is started once, before the rounds)
  ray-local   ``meflow extract --executor ray`` that starts and stops its own local Ray (of
              all cores; the head is idle meanwhile)
  baseline    (with ``--baseline-src``) the local executor of another meflow source tree,
              e.g. main before the executors, on PYTHONPATH

frames/s is the command's own figure (frames over the time from its first task to its last,
worker start-up included); wall is the whole command (imports, Ray start-up included).
Prints every run, then the median and the spread (min..max) of each and Ray's share of local.
Ray binds to 127.0.0.1 here (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _results import write_results  # benchmarks/ is on sys.path when a script runs

MEFLOW = [sys.executable, "-m", "meflow"]
RAY_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_AUTH_MODE": "token",
    "RAY_AUTH_TOKEN": uuid.uuid4().hex,
    "RAY_USAGE_STATS_ENABLED": "0",
}


def _extract(data: Path, cache: Path, extra: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(frames/s as the command prints it, wall seconds) of one extraction into a new cache."""
    shutil.rmtree(cache, ignore_errors=True)
    cmd = [*MEFLOW, "extract", "--dataset", "casme3", "--root", str(data), "--out", str(cache),
           "--quiet", *extra]  # fmt: skip
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    wall = time.perf_counter() - t0
    m = re.search(r"(\d+) extracted, (\d+) failed \(([\d.]+) s, (\d+) frames/s\)", out)
    if m is None or int(m.group(2)):
        raise SystemExit(f"unexpected output of {' '.join(cmd)}:\n{out}")
    return float(m.group(4)), wall


def _start_head(cpus: int, env: dict[str, str], tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A Ray head of ``cpus`` CPUs in its own process group; (process, address)."""
    port = "6391"
    ray = Path(sys.executable).with_name("ray")
    t0 = time.perf_counter()
    head = subprocess.Popen(
        [
            str(ray),
            "start",
            "--head",
            "--block",
            f"--num-cpus={cpus}",
            f"--port={port}",
            "--include-dashboard=false",
            "--disable-usage-stats",
        ],
        env=env,
        start_new_session=True,
        stdout=open(tmp / "head.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    address = f"127.0.0.1:{port}"
    probe = f"import ray; ray.init(address={address!r}, logging_level='ERROR'); ray.shutdown()"
    while subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True).returncode:
        if head.poll() is not None:
            raise SystemExit(f"ray start failed:\n{(tmp / 'head.log').read_text()}")
        time.sleep(0.5)
    print(f"Ray head of {cpus} CPUs at {address}, up in {time.perf_counter() - t0:.1f} s")
    return head, address


def _ray_startup(env: dict[str, str], rounds: int) -> list[tuple[float, float]]:
    """(ray.init, ray.shutdown) seconds of a local Ray, measured ``rounds`` times."""
    code = """
import time, ray
t0 = time.perf_counter()
ray.init("local", num_cpus=2, include_dashboard=False, logging_level="ERROR")
t1 = time.perf_counter(); ray.shutdown(); t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""
    out = []
    for _ in range(rounds):
        res = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        a, b = res.stdout.split()[-2:]
        out.append((float(a), float(b)))
    return out


def _summary(name: str, runs: list[tuple[float, float]], ref: float | None) -> list[str]:
    """The cells of one variant's summary: name, frames/s, its range, wall, its range, share."""
    fps = [r[0] for r in runs]
    wall = [r[1] for r in runs]
    med = statistics.median(fps)
    return [
        name,
        f"{med:.1f}",
        f"{min(fps):.1f}..{max(fps):.1f}",
        f"{statistics.median(wall):.1f}",
        f"{min(wall):.1f}..{max(wall):.1f}",
        f"{100 * med / ref:.1f}%" if ref else "-",
    ]


SUMMARY = ["executor", "frames/s", "range", "wall s", "range", "share of local"]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--subjects", type=int, default=16, help="synthetic subjects (default 16)")
    ap.add_argument("--synth", type=Path, help="an existing synthetic set to use instead")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpus", type=int, default=2, help="worker processes / Ray CPUs")
    ap.add_argument("--baseline-src", type=Path, help="another meflow src/ for a 'baseline' run")
    ap.add_argument("--skip", nargs="*", default=[], help="variants to leave out")
    args = ap.parse_args()
    env = {**os.environ, **RAY_ENV, "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        data = args.synth
        if data is None:
            data = tmp / "synth"
            subprocess.run([*MEFLOW, "synth", "--out", str(data), "--subjects",
                            str(args.subjects)], check=True, capture_output=True)  # fmt: skip
        start = _ray_startup(env, args.rounds)
        print(
            "local Ray start-up: "
            + ", ".join(f"init {a:.1f} s / shutdown {b:.1f} s" for a, b in start)
        )
        head, address = _start_head(args.cpus, env, tmp)
        variants: dict[str, tuple[list[str], dict[str, str]]] = {
            "local": (["--workers", str(args.cpus)], env),
            "ray": (["--executor", "ray", "--address", address], env),
            "ray-local": (["--executor", "ray"], env),
        }
        if args.baseline_src is not None:
            base_env = {**env, "PYTHONPATH": str(args.baseline_src.resolve())}
            variants["baseline"] = (["--workers", str(args.cpus)], base_env)
        for name in args.skip:
            variants.pop(name, None)
        runs: dict[str, list[tuple[float, float]]] = {k: [] for k in variants}
        try:
            for r in range(args.rounds):
                for name, (extra, venv) in variants.items():
                    res = _extract(data, tmp / f"cache-{name}", extra, venv)
                    runs[name].append(res)
                    print(f"round {r + 1} {name:>10}: {res[0]:6.1f} frames/s, wall {res[1]:.1f} s")
        finally:
            os.killpg(head.pid, signal.SIGTERM)
            head.wait()
    ref = statistics.median(r[0] for r in runs["local"]) if runs.get("local") else None
    print(f"\n{len(os.sched_getaffinity(0))} cores seen; medians of {args.rounds} rounds:")
    rows = [_summary(name, res, ref if name != "local" else None) for name, res in runs.items()]
    for n, fps, fr, wall, wr, share in rows:
        share = f"  {share:>6} of local" if share != "-" else ""
        print(f"{n:>10}: {fps:>6} frames/s median ({fr}), wall {wall:>5} s ({wr}){share}")
    write_results(
        "executors",
        tables={"summary": {"columns": SUMMARY, "rows": rows}},
        figures={
            "cores": len(os.sched_getaffinity(0)),
            "rounds": args.rounds,
            "ray_startup": ", ".join(f"{a:.1f} / {b:.1f}" for a, b in start),
        },
        extra={"runs": runs},
    )


if __name__ == "__main__":
    main()
