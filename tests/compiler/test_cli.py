"""`staticimg extract --plan` end to end: files in, lines out, exit status."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from staticimg import props_hash
from staticimg.compiler.cli import main

PAGES = textwrap.dedent(
    """\
    from staticimg import StaticImage

    IMAGES = "../images"
    W = 400


    def hero(title):
        return StaticImage(
            src=f"{IMAGES}/hero.jpg",
            alt=title,
            width=W * 2,
            placeholder="BLURRED",
        )


    def broken(size):
        return StaticImage(src="a.jpg", alt="", width=size)
    """
)

TEMPLATE = textwrap.dedent(
    """\
    {% set w = 240 %}
    <main>
      {{ StaticImage(src="../images/a.jpg", alt="A", width=w, layout="FIXED") }}
      {{ StaticImage(src="../images/b.jpg", alt=page.alt, widht=3) }}
    </main>
    """
)


def make_project(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "site"\n')
    (root / "app" / "pages.py").write_text(PAGES)
    (root / "templates" / "index.html").write_text(TEMPLATE)
    (root / "app" / "plain.py").write_text("def f():\n    return 1\n")
    return root


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def plan_json(root: Path, *paths: str) -> tuple[int, list[dict[str, Any]]]:
    code, out, _ = run(["-C", str(root), "extract", "--plan", "--format", "json", *paths])
    return code, [orjson.loads(line) for line in out.splitlines()]


def test_help_reads_like_a_tool() -> None:
    code, out, _ = run(["--help"])
    assert code == 0
    assert "Build-time responsive images" in out
    assert "extract" in out and "--project" in out and "--version" in out
    code, out, _ = run(["extract", "--help"])
    assert code == 0
    for text in ("--plan", "--format", "--jobs", "Exit status", "usage error", "[PATH]..."):
        assert text in out


def test_version() -> None:
    code, out, _ = run(["--version"])
    assert code == 0 and out.startswith("staticimg, version ")


def test_json_plan_records(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    code, records = plan_json(root)
    assert code == 1  # two of the four calls have errors
    calls = [r for r in records if r["kind"] == "call"]
    problems = [r for r in records if r["kind"] == "diagnostic"]
    assert [(c["file"], c["line"], c["column"]) for c in calls] == [
        ("app/pages.py", 8, 12),
        ("templates/index.html", 3, 6),
    ]
    hero = calls[0]
    assert list(hero) == ["kind", "file", "line", "column", "props", "hash"]
    assert hero["props"] == {"src": "../images/hero.jpg", "width": 800, "placeholder": "blurred"}
    assert hero["hash"] == props_hash(hero["props"], "app/pages.py")
    assert calls[1]["props"] == {"src": "../images/a.jpg", "width": 240, "layout": "fixed"}

    assert [(p["code"], p["file"], p["line"], p["column"], p["prop"]) for p in problems] == [
        ("SI101", "app/pages.py", 17, 51, "width"),
        ("SI203", "templates/index.html", 4, 61, "widht"),
    ]
    first = problems[0]
    assert list(first) == [
        "kind", "code", "severity", "file", "line", "column", "end_line", "end_column",
        "prop", "message", "hint", "docs",
    ]  # fmt: skip
    assert (first["end_line"], first["end_column"]) == (17, 55)
    assert first["severity"] == "error"
    assert first["docs"] == "docs/errors.md#si101"
    assert "function parameter" in first["message"]
    assert "width" in problems[1]["hint"]


def test_clean_project_exits_zero(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    code, records = plan_json(root, str(root / "app" / "plain.py"))
    assert (code, records) == (0, [])


def test_human_output_has_a_code_frame_underlining_the_value(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    code, out, err = run(["-C", str(root), "extract", "--plan", str(root / "app")])
    assert code == 1
    assert "\x1b[" not in out + err  # not a terminal: no colour
    assert "app/pages.py:8:12  StaticImage" in out
    frame = err.split("error[SI101]")[1]
    lines = frame.splitlines()
    assert "  --> app/pages.py:17:51" in lines
    code_line = next(i for i, line in enumerate(lines) if line.startswith("17 |"))
    assert lines[code_line + 1] == "   |" + " " * 51 + "^^^^"
    assert "= docs: docs/errors.md#si101" in frame
    assert "1 image planned, 2 files scanned (1 parsed)" in err
    assert "1 error" in err


def test_forced_colour(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    _, _, err = run(["-C", str(root), "extract", "--plan", "--color"])
    assert "\x1b[31m" in err


def test_hashes_do_not_depend_on_where_the_project_lives(tmp_path: Path) -> None:
    first = make_project(tmp_path / "one")
    second = tmp_path / "elsewhere" / "two"
    shutil.copytree(first, second)
    assert plan_json(first) == plan_json(second)


@pytest.mark.parametrize(
    "args",
    [
        ["extract", "--format", "xml"],
        ["extract", "--plan", "--format", "xml"],
        ["extract", "--plan", "does-not-exist"],
        ["extract", "--plan", "--jobs", "0"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    root = make_project(tmp_path)
    code, _, err = run(["-C", str(root), *args])
    assert code == 2
    assert err


def test_path_outside_the_project_is_a_usage_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    outside = tmp_path / "outside.py"
    outside.write_text("")
    code, _, err = run(["-C", str(root), "extract", "--plan", str(outside)])
    assert code == 2
    assert "outside the project root" in err


def test_config_errors_are_reported_and_the_scan_goes_on(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "pyproject.toml").write_text('[tool.staticimg]\nsource_root = ["app"]\n')
    code, records = plan_json(root)
    assert code == 1
    config_problems = [r for r in records if r["file"] == "pyproject.toml"]
    assert [(r["code"], r["line"], r["column"]) for r in config_problems] == [("SI001", 2, 1)]
    assert sum(r["kind"] == "call" for r in records) == 2


def test_console_script_runs_in_a_real_process(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = Path(sys.executable).with_name("staticimg")
    result = subprocess.run(
        [str(script), "extract", "--plan", "--format", "json"],
        cwd=root / "app",  # the project root is found by walking up
        capture_output=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert len(result.stdout.splitlines()) == 4


def test_site_packages_scan_reports_nothing_and_crashes_on_nothing() -> None:
    # A large real code base with no calls (and some files that mention StaticImage or
    # staticimg for other reasons): every file is walked, nothing is reported.
    site = Path(sysconfig.get_paths()["purelib"])
    code, out, err = run(["-C", str(site), "extract", "--plan", "--jobs", "2"])
    assert (code, out) == (0, "")
    assert "error" not in err and "warning" not in err
    scanned = int(err.split(" files scanned")[0].rsplit(" ", 1)[-1])
    assert scanned > 1000
