"""How faint a set's micro-expressions are against its noise, as meflow's extraction sees them.

    .venv/bin/python benchmarks/realism.py --cache CACHE [CACHE ...]
    .venv/bin/python benchmarks/realism.py --synth [--profile realistic] [--subjects 4]

Prints, per cache (10th percentile / median / 90th percentile over its samples): the noise
floor (median region flow magnitude of a frame pair outside the expression, px in the face
crop), the most-moving region's onset-to-apex displacement (px), the per-pair signal
(displacement / onset-to-apex pairs) and the per-pair signal-to-noise. Real CASME II and
SAMM clips through meflow (issue 14): 0.10-0.28 px, 0.45-6.7 px (median ~2), SNR 0.5-1.
``--synth`` generates a synthetic set with the given profile and extracts it first.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

# benchmarks/ is on sys.path when a script runs
from _motion_stats import cache_stats, summarise
from _results import write_results


def _synth_cache(profile: str, subjects: int, seed: int, workers: int) -> Path:
    from meflow.datasets import load_dataset
    from meflow.features.extract import extract_dataset
    from meflow.synth.generator import generate

    tmp = Path(tempfile.mkdtemp(prefix="meflow-realism-"))
    generate(tmp / "data", subjects=subjects, seed=seed, progress=False, profile=profile)
    loaded = load_dataset("casme3", root=tmp / "data")
    extract_dataset(
        loaded.samples, tmp / "cache", dataset="casme3", workers=workers, progress=False
    )
    return tmp / "cache"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cache", type=Path, nargs="*", default=[])
    p.add_argument("--synth", action="store_true", help="generate and extract a synthetic set")
    p.add_argument("--profile", default="realistic")
    p.add_argument("--subjects", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    caches = list(args.cache)
    if args.synth:
        caches.append(_synth_cache(args.profile, args.subjects, args.seed, args.workers))
    if not caches:
        p.error("give --cache CACHE or --synth")
    print(f"{'cache':<40} {'noise floor':>18} {'displacement':>18} {'per pair':>18} {'SNR':>16}")
    rows = []
    for cache in caches:
        s = summarise(cache_stats(cache))
        cells = "  ".join(
            f"{lo:5.2f} {mid:5.2f} {hi:5.2f}"
            for lo, mid, hi in (
                s[k] for k in ("noise_floor", "displacement", "per_pair_signal", "snr")
            )
        )
        print(f"{str(cache)[-40:]:<40} {cells}")
        name = f"synthetic {args.profile}" if args.synth and cache == caches[-1] else cache.name
        rows.append(
            [name]
            + [
                " / ".join(f"{v:.2f}" for v in s[k])
                for k in ("noise_floor", "displacement", "per_pair_signal", "snr")
            ]
        )
    print("(10th percentile, median, 90th percentile over the samples; px in the face crop)")
    columns = ["cache", "noise floor (px)", "displacement (px)", "per pair (px)", "SNR"]
    write_results(
        "realism" if not args.synth else f"realism-{args.profile}",
        tables={"summary": {"columns": columns, "rows": rows}},
        figures={"subjects": args.subjects} if args.synth else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
