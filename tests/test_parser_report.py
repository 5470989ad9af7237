"""docs/parser_report.md is what bench/parser_report.py prints for the current parser."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _strip_timing(text: str) -> str:
    return re.sub(r"took [0-9.]+ s", "took X s", text)


def test_report_matches_the_script(paper_dir, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("parser_report", REPO / "bench" / "parser_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "report.md"
    report = module.main(["--paper-dir", str(paper_dir), "--write", str(out)])
    assert out.read_text() == report
    assert "| mistral |" in report and "authors' votes changed" in report
    committed = (REPO / "docs" / "parser_report.md").read_text()
    assert _strip_timing(report) == _strip_timing(committed), "re-run bench/parser_report.py --write docs/parser_report.md"
