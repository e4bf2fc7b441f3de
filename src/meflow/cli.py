"""The ``meflow`` command: parses arguments, calls one command module, prints.

Each subcommand lives in ``meflow.commands.<name>`` with ``HELP``, ``add_arguments(parser)``
and ``run(args) -> int``; adding one means adding its name to ``COMMANDS``. Errors the user
can cause (``MeflowError``) are printed as one line and give exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from meflow import __version__
from meflow.errors import MeflowError

COMMANDS = (
    "stats",
    "synth",
    "regions",
    "extract",
    "train",
    "evaluate",
    "reproduce",
    "demo",
    "gender",
    "predict",
    "spot",
)


def _available() -> dict[str, Any]:
    modules: dict[str, Any] = {}
    for name in COMMANDS:
        try:
            modules[name] = importlib.import_module(f"meflow.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"meflow.commands.{name}":
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meflow",
        description="Micro-expression recognition from optical-flow pseudo-images (YOLO11).",
    )
    parser.add_argument("--version", action="version", version=f"meflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _available().items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except MeflowError as exc:
        print(f"meflow {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"meflow {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
