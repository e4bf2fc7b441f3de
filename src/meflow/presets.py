"""Named, complete settings: the published method and meflow's recommended configuration.

A preset is data: the ``key=value`` settings it changes from the defaults (which are the
recommended configuration's). Settings are resolved once, in this order: defaults, the
preset, the YAML file (``--config``), the command's shortcut options, ``--set``; every run
records the preset's name and the resolved settings.

``paper`` is the method exactly as Mishin (2025) publishes it: flow between consecutive frames,
the angle only (arithmetic mean of the pixels' angles, as the paper's formula), 8 sectors,
YOLO11-S on the discrete and the continuous pseudo-image, no head-motion compensation, no noise
floor and no position training (the paper mentions none of them). What the paper leaves open
(the flow algorithm, the crop, the training) keeps meflow's defaults (docs/method.md).

``recommended`` is what measured best on the realistic synthetic benchmark (docs/variants.md):
each region's mean flow vector (magnitude kept), head motion compensated, summed over 8
stretches of the window, and a logistic regression trained on every window moved by up to 8
frame pairs from the annotated apex (position training: the expression need not sit at the
window's centre, as it does not in a video meflow predict or a spotter cuts).
"""

from __future__ import annotations

import difflib

from meflow.errors import ConfigError

PRESETS: dict[str, tuple[str, ...]] = {
    "recommended": (),
    "paper": (
        "extract.features.angle_average=arithmetic",
        "extract.features.noise_floor=0.0",
        "extract.flow.motion_compensation=none",
        "extract.flow.reference=previous",
        "extract.features.sectors=8",
        "train.model=yolo11",
        "train.scale=s",
        "train.input=pseudo-discrete,pseudo-continuous",
        "train.shifts=0",
    ),
}
DEFAULT_PRESET = "recommended"


def preset_settings(name: str) -> tuple[str, ...]:
    """The ``key=value`` settings of preset ``name`` (ConfigError with a suggestion if unknown)."""
    try:
        return PRESETS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(PRESETS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown preset {name!r}{hint} (valid: {', '.join(PRESETS)})") from None
