"""README.md and docs/*.md show the figures of the benchmarks' JSON (scripts/render_docs.py)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _render_docs():
    spec = importlib.util.spec_from_file_location(
        "render_docs", ROOT / "scripts" / "render_docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["render_docs"] = module
    spec.loader.exec_module(module)
    return module


render_docs = _render_docs()


def test_readme_and_docs_match_their_benchmark_results(capsys: pytest.CaptureFixture[str]) -> None:
    status = render_docs.main(["--check", "--root", str(ROOT)])
    assert status == 0, capsys.readouterr().err


def _results(root: Path, auc: str) -> Path:
    folder = root / "benchmarks" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "toy.json"
    path.write_text(
        json.dumps(
            {
                "benchmark": "toy",
                "command": ".venv/bin/python benchmarks/toy.py --fast",
                "made": "2026-12-03",
                "commit": "abc1234",
                "machine": {"cores": 2, "platform": "test"},
                "tables": {"speed": {"columns": ["backend", "ms"], "rows": [["dis", "1.5"]]}},
                "figures": {"recommended.auc": auc},
            }
        )
    )
    return path


DOC = """# toy

AUC <!-- fig: toy.recommended.auc -->0.900<!-- /fig --> (<!-- made: toy --><!-- /made -->).

<!-- table: toy.speed -->
<!-- /table -->
"""


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "toy.md").write_text(DOC)
    _results(tmp_path, "0.963")
    return tmp_path


def test_render_writes_the_json_figures_and_names_the_command(toy: Path) -> None:
    assert render_docs.main(["--check", "--root", str(toy)]) == 1
    assert render_docs.main(["--root", str(toy)]) == 0
    text = (toy / "docs" / "toy.md").read_text()
    assert "AUC <!-- fig: toy.recommended.auc -->0.963<!-- /fig -->" in text
    assert "| backend | ms |\n| --- | --- |\n| dis | 1.5 |\n" in text
    assert (
        "Made by `.venv/bin/python benchmarks/toy.py --fast` (2026-12-03, commit abc1234)." in text
    )
    assert "(<!-- made: toy -->made by `.venv/bin/python benchmarks/toy.py --fast`" in text
    assert render_docs.main(["--check", "--root", str(toy)]) == 0
    assert render_docs.main(["--root", str(toy)]) == 0
    assert (toy / "docs" / "toy.md").read_text() == text  # rendering twice changes nothing


def test_a_changed_json_value_fails_the_check_until_rendered(
    toy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    render_docs.main(["--root", str(toy)])
    before = (toy / "docs" / "toy.md").read_text()
    _results(toy, "0.955")
    capsys.readouterr()
    assert render_docs.main(["--check", "--root", str(toy)]) == 1
    err = capsys.readouterr().err
    assert "toy.md:3: toy.recommended.auc: differs" in err
    assert (toy / "docs" / "toy.md").read_text() == before  # --check writes nothing
    assert render_docs.main(["--root", str(toy)]) == 0
    assert "-->0.955<!-- /fig -->" in (toy / "docs" / "toy.md").read_text()
    assert render_docs.main(["--check", "--root", str(toy)]) == 0


def test_a_missing_key_or_file_fails_naming_both(
    toy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = toy / "docs" / "toy.md"
    doc.write_text(
        DOC + "<!-- fig: toy.paper.auc -->0.5<!-- /fig -->\n<!-- fig: gone.x -->1<!-- /fig -->\n"
    )
    capsys.readouterr()
    assert render_docs.main(["--check", "--root", str(toy)]) == 1
    err = capsys.readouterr().err
    assert "toy.md:7: toy.paper.auc: no figure 'paper.auc' in" in err
    assert str(toy / "benchmarks" / "results" / "toy.json") in err
    assert (
        f"toy.md:8: gone.x: no results file {toy / 'benchmarks' / 'results' / 'gone.json'}" in err
    )
    # rendering fills what it can, keeps the rest, and still fails
    assert render_docs.main(["--root", str(toy)]) == 1
    assert "<!-- fig: toy.paper.auc -->0.5<!-- /fig -->" in doc.read_text()


def test_every_results_file_names_its_command_and_holds_rectangular_tables() -> None:
    files = sorted((ROOT / "benchmarks" / "results").glob("*.json"))
    assert files, "benchmarks/results holds no results"
    for path in files:
        result = json.loads(path.read_text())
        assert result["command"].startswith(".venv/bin/python benchmarks/"), path
        assert result["made"] and result["commit"], path
        for key, tab in result["tables"].items():
            widths = {len(r) for r in tab["rows"]}
            assert widths <= {len(tab["columns"])}, f"{path.name}: table {key}"
        assert all(isinstance(v, str) for v in result["figures"].values()), path
