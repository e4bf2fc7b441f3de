"""``meflow spot`` on the synthetic long benchmark: the user's command, with spot-then-recognise.

    .venv/bin/python benchmarks/spot_command.py --work DIR

DIR is a ``benchmarks/spot.py --work DIR`` folder (its ``data/`` made by ``meflow synth
--layout casme3-long``, its ``features/<subject>_<recording>/color.npz`` extracted by
``meflow extract --video``). The features are linked into the layout ``meflow spot`` keeps
(``DIR/spot-features/<subject>/<recording>/color.npz``), then ``meflow spot --dataset casme3
--root DIR/data --features DIR/spot-features --out DIR/spot-run`` runs the leave-one-subject-out
evaluation as a user would: the learned spotter, the baseline and chance on the same splits,
and spot-then-recognise (the recommended recogniser trained per fold on the training subjects'
annotated micro-expressions; STRS beside recognition on the annotated intervals). Its
``results.json`` and printed tables are recorded in benchmarks/results/spot_command.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _results import write_results


def link_features(work: Path) -> Path:
    """DIR/spot-features/<subject>/<recording>/color.npz -> DIR/features/<s>_<r>/color.npz."""
    out = work / "spot-features"
    for npz in sorted((work / "features").glob("*/color.npz")):
        subject, recording = npz.parent.name.rsplit("_", 1)
        target = out / subject / recording / "color.npz"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(npz.resolve())
    return out


def f3(x: float) -> str:
    return f"{x:.3f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, required=True, help="a benchmarks/spot.py --work folder")
    args = ap.parse_args()
    if not (args.work / "data" / "synth.json").exists():
        sys.exit(f"{args.work}: run benchmarks/spot.py --work {args.work} first")
    features = link_features(args.work)
    run = args.work / "spot-run"
    root = str(args.work / "data")
    cmd = [sys.executable, "-m", "meflow", "spot", "--dataset", "casme3",
           "--root", root, "--features", str(features), "--out", str(run)]  # fmt: skip
    print("$ meflow " + " ".join(cmd[3:]), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    minutes = (time.perf_counter() - start) / 60
    res = json.loads((run / "results.json").read_text())
    rows = []
    for name, score in res["spotters"].items():
        for kind in ("micro", "macro", "overall"):
            s = score[kind]
            rows.append([name, kind, str(s["tp"]), str(s["n_pred"]), str(s["n_gt"]),
                         f3(s["precision"]), f3(s["recall"]), f3(s["f1"])])  # fmt: skip
    for kind in ("micro", "macro", "overall"):
        s = res["chance"][kind]
        rows.append(["chance", kind, f"{s['tp']:.1f}", str(s["n_pred"]), str(s["n_gt"]),
                     f3(s["precision"]), f3(s["recall"]), f3(s["f1"])])  # fmt: skip
    rec = res["recognition"] or {}
    strs = rec.get("spotted", {})
    annotated = rec.get("annotated", {})
    figures = {
        "subjects": str(res["subjects"]),
        "recordings": str(res["recordings"]),
        "minutes": f"{minutes:.1f}",
        "strs": f3(strs.get("strs", float("nan"))),
        "strs_spotting_f1": f3(strs.get("spotting_f1", float("nan"))),
        "strs_analysis_f1": f3(strs.get("analysis_f1", float("nan"))),
        "annotated_uf1": f3(annotated.get("uf1", float("nan"))),
        "annotated_uar": f3(annotated.get("uar", float("nan"))),
        "annotated_analysis_f1": f3(annotated.get("analysis_f1", float("nan"))),
    }
    columns = ["spotter", "type", "TP", "spotted", "annotated", "P", "R", "F1"]
    for r in rows:
        print(" | ".join(r))
    print(json.dumps(figures, indent=1))
    write_results("spot_command", tables={"spotting": {"columns": columns, "rows": rows}},
                  figures=figures, extra={"recognition": rec})  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
