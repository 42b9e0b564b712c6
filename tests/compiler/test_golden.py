"""The fixture project end to end, compared line by line with its expected plan.

fixtures/scan/project holds the awkward cases together: every import form, spreads,
positional src/alt, a latin-1 source with a coding comment, a syntax error, CRLF templates
with tabs, line statements, extensions, a template syntax error, a custom template suffix.
Regenerate after a deliberate change with:

    STATICIMG_UPDATE_GOLDEN=1 .venv/bin/pytest tests/compiler/test_golden.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
from click.testing import CliRunner

from staticimg.compiler.cli import main

PROJECT = Path(__file__).resolve().parents[2] / "fixtures" / "scan" / "project"
EXPECTED = PROJECT / "expected.jsonl"


def plan(root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "extract", "--plan", "--format", "json"])
    return result.exit_code, result.stdout


def test_fixture_project_plan_matches_expected(tmp_path: Path) -> None:
    # A copy, so the expected file is not itself scanned and nothing is written in the repo.
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root, ignore=shutil.ignore_patterns("expected.jsonl"))
    code, output = plan(root)
    if os.environ.get("STATICIMG_UPDATE_GOLDEN"):
        EXPECTED.write_text(output)
    assert code == 1
    expected = EXPECTED.read_text().splitlines()
    assert [orjson.loads(line) for line in output.splitlines()] == [
        orjson.loads(line) for line in expected
    ]
