"""meflow predict with a model on the onset-to-apex flow (issue 21: predict uses the spotted
onset and apex): each spotted micro-expression is classified by the flows between its spotted
onset, apex and offset frames, computed as extraction computes a labelled sample's."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from _fixed_spotter import FixedSpotter
from meflow.cli import main
from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]


@pytest.fixture(scope="module")
def onset_apex_model(
    recommended: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A logistic regression on ``onset-apex-offset-parts`` (the input docs/variants.md
    recommends where the onset and apex are known) trained by `meflow train` on the small
    synthetic set's cache."""
    out = tmp_path_factory.mktemp("oa") / "oa.safetensors"
    cmd = ["train", "--cache", str(recommended["cache"]), "--out", str(out), "--quiet"]
    assert main([*cmd, "--input", "onset-apex-offset-parts"]) == 0
    return out


def _labelled(cache: Path, clip: Path) -> dict[str, str]:
    """The cache's row of the clip's sample (its labelled onset, apex and offset)."""
    subject, name = clip.parent.parent.name, clip.parent.name
    with (cache / "samples.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if (r["subject"], r["clip"]) == (subject, name)]
    assert len(rows) == 1 and rows[0]["status"] == "ok"
    return rows[0]


def test_a_spotted_micro_expression_is_classified_by_its_onset_apex_flows(
    recommended: dict[str, Path], onset_apex_model: Path, tmp_path: Path
) -> None:
    from meflow.features.cache import load_npz
    from meflow.features.inputs import build_input
    from meflow.inference import load_model, predict_video
    from meflow.training import predict_proba

    clip, cache = recommended["clip"], recommended["cache"]
    row = _labelled(cache, clip)
    on, ap, off = (int(row[k]) for k in ("onset", "apex", "offset"))
    assert on < ap < off
    # the frames are 0.jpg...: a frame's number is its 0-based position in the folder
    assert sorted(int(p.stem) for p in clip.glob("*.jpg")) == list(range(70))
    spans = (("micro", on, ap, off), ("macro", 50, 55, 60), ("micro", 10, 10, 14))
    loaded = load_model(onset_apex_model)
    assert loaded.input == "onset-apex-offset-parts"
    result = predict_video(clip, loaded, tmp_path / "out", spotter=FixedSpotter(spans))

    # the spotted micro-expression at the labelled frames: the model's own answer on the flows
    # extraction stored for that labelled sample
    arrays, _ = load_npz(cache / "samples" / f"{row['sample_id']}.npz")
    batch = {k: v[None] for k, v in arrays.items() if k.startswith(("onset_apex", "apex_offset"))}
    assert {"onset_apex_parts", "apex_offset_strain"} <= set(batch)
    assert bool(arrays["onset_apex_valid"][0]) and bool(arrays["apex_offset_valid"][0])
    own = predict_proba(loaded.model, build_input(loaded.input, batch, loaded.train))[0]
    intervals = result.intervals
    assert intervals is not None
    assert [(i.type, i.onset_frame, i.apex_frame, i.offset_frame) for i in intervals] == [
        ("micro", 10, 10, 14),
        ("micro", on, ap, off),
        ("macro", 50, 55, 60),
    ]
    got = intervals[1].probabilities
    assert got is not None
    np.testing.assert_allclose([got[c] for c in EMOTIONS], own, rtol=0, atol=1e-5)
    assert intervals[1].emotion == EMOTIONS[int(np.argmax(own))]
    # onset = apex: no onset-to-apex flow, so no emotion (not a guess); macro: none asked
    assert intervals[0].probabilities is None and intervals[0].emotion is None
    assert intervals[2].probabilities is None

    # windows cannot carry an onset and an apex: no probabilities, and the note says why
    assert result.windows and not any(w.valid for w in result.windows)
    assert any("onset to its apex" in n for n in result.notes)
    doc = json.loads((tmp_path / "out" / "color.json").read_text())
    assert [i["emotion"] for i in doc["intervals"]] == [None, intervals[1].emotion, None]


def test_a_model_on_the_onset_apex_flow_without_a_spotter_is_refused(
    recommended: dict[str, Path], onset_apex_model: Path, tmp_path: Path
) -> None:
    from meflow.inference import predict_video

    with pytest.raises(MeflowError, match="needs a spotter"):
        predict_video(recommended["clip"], onset_apex_model, tmp_path)
    assert not any(tmp_path.iterdir())  # nothing half-written
