"""Rewrites the figures of README.md and docs/*.md from the benchmarks' JSON results.

    .venv/bin/python scripts/render_docs.py [--check] [--root DIR] [FILE ...]

Marked blocks (the contract of benchmarks/_results.py), NAME being the file
``benchmarks/results/NAME.json`` and KEY a key of its ``tables`` or ``figures``:

- ``<!-- table: NAME.KEY -->`` ... ``<!-- /table -->``: a Markdown table, then a line
  naming the command that made it, its date and commit;
- ``<!-- fig: NAME.KEY -->0.963<!-- /fig -->``: one figure, inline;
- ``<!-- made: NAME -->`` ... ``<!-- /made -->``: inline, the command, date and commit of
  NAME (for a paragraph of inline figures).

Without ``--check`` the files are rewritten in place. With ``--check`` nothing is written;
every block that differs from its JSON, or whose JSON or key is missing, is listed and the
exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BLOCK = re.compile(
    r"(?P<open><!-- (?P<kind>table|fig|made): (?P<ref>[^\s>]+) -->)"
    r"(?P<body>.*?)"
    r"(?P<close><!-- /(?P=kind) -->)",
    re.DOTALL,
)


@dataclass
class Problem:
    """One block that differs from its JSON, or cannot be rendered."""

    path: Path
    line: int
    ref: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.ref}: {self.why}"


class MissingResult(Exception):
    """A block names a JSON file or key that does not exist."""


def _load(results: Path, name: str, cache: dict[str, dict]) -> dict:
    """The parsed ``results/NAME.json``, read once."""
    if name not in cache:
        path = results / f"{name}.json"
        if not path.is_file():
            raise MissingResult(f"no results file {path}")
        cache[name] = json.loads(path.read_text())
    return cache[name]


def made_line(result: dict, first: str = "made") -> str:
    """``made by `CMD` (DATE, commit X)`` of one results file."""
    return f"{first} by `{result['command']}` ({result['made']}, commit {result['commit']})"


def render_table(tab: dict, result: dict) -> str:
    """A Markdown table of one ``tables`` entry, then the line naming its command."""

    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [row(tab["columns"]), row(["---"] * len(tab["columns"]))]
    lines += [row(r) for r in tab["rows"]]
    return "\n" + "\n".join(lines) + "\n\n" + made_line(result, "Made") + ".\n"


def render_block(kind: str, ref: str, results: Path, cache: dict[str, dict]) -> str:
    """The body a block ``<!-- KIND: REF -->`` must hold."""
    if kind == "made":
        return made_line(_load(results, ref, cache))
    name, dot, key = ref.partition(".")
    if not dot or not key:
        raise MissingResult(f"{ref!r} is not NAME.KEY")
    result = _load(results, name, cache)
    section = "tables" if kind == "table" else "figures"
    entries = result.get(section, {})
    if key not in entries:
        raise MissingResult(f"no {section[:-1]} {key!r} in {results / (name + '.json')}")
    if kind == "table":
        return render_table(entries[key], result)
    return str(entries[key])


def render_text(
    text: str, path: Path, results: Path, cache: dict[str, dict]
) -> tuple[str, list[Problem]]:
    """``text`` with every block rendered, and the blocks that differed or failed."""
    problems: list[Problem] = []

    def sub(m: re.Match[str]) -> str:
        line = text.count("\n", 0, m.start()) + 1
        try:
            body = render_block(m["kind"], m["ref"], results, cache)
        except MissingResult as err:
            problems.append(Problem(path, line, m["ref"], str(err)))
            return m.group(0)
        if body != m["body"]:
            shown = m["body"].strip().splitlines()[:1] or [""]
            problems.append(
                Problem(path, line, m["ref"], f"differs from its JSON (now {shown[0]!r})")
            )
        return m["open"] + body + m["close"]

    return BLOCK.sub(sub, text), problems


def doc_files(root: Path) -> list[Path]:
    """README.md and docs/*.md under ``root``."""
    files = [root / "README.md"] if (root / "README.md").is_file() else []
    return files + sorted((root / "docs").glob("*.md"))


def run(files: Sequence[Path], results: Path, check: bool) -> list[Problem]:
    """Render (or, with ``check``, compare) ``files``; the problems found."""
    cache: dict[str, dict] = {}
    problems: list[Problem] = []
    for path in files:
        text = path.read_text()
        new, found = render_text(text, path, results, cache)
        problems += found
        if not check and new != text:
            path.write_text(new)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: render or check; 1 when ``--check`` finds a problem."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="default: README.md and docs/*.md")
    ap.add_argument("--check", action="store_true", help="write nothing, fail on a difference")
    ap.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this one)")
    args = ap.parse_args(argv)
    files = args.files or doc_files(args.root)
    problems = run(files, args.root / "benchmarks" / "results", args.check)
    missing = [p for p in problems if not p.why.startswith("differs")]
    shown = problems if args.check else missing
    for p in shown:
        print(p, file=sys.stderr)
    if args.check and problems:
        print(
            f"{len(problems)} block(s) differ from benchmarks/results; "
            "run scripts/render_docs.py to rewrite them",
            file=sys.stderr,
        )
        return 1
    if not args.check:
        print(f"rendered {len(files)} file(s)", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
