"""The warm-build stamp: a build that would change nothing is recognised by stat alone, and
anything a build read or wrote changing sends the next one through the ordinary path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from staticimg.compiler import stamp
from staticimg.compiler.config import load_config
from staticimg.compiler.images import pipeline, work
from tests.compiler.images.test_pipeline import Project, run, write_photo
from tests.compiler.images.test_pipeline import project as project  # the fixture


def age(root: Path, seconds: float = 30) -> None:
    """Backdate every file, as if the project had been written a while ago: a stamp is never
    written while an input is younger than the filesystem's timestamp resolution."""
    past = time.time() - seconds
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))


def unchanged(root: Path) -> dict[str, object] | None:
    config, _ = load_config(root)
    return stamp.unchanged(config, ())


@pytest.fixture
def built(project: Project) -> Path:
    root = project('StaticImage(src="hero.jpg", alt="", width=160, placeholder="blurred")')
    write_photo(root / "app" / "hero.jpg")
    age(root)
    result = run(root)
    assert result.errors == 0 and not result.diagnostics
    return root


def test_a_clean_build_is_stamped_and_recognised(built: Path) -> None:
    summary = unchanged(built)
    assert summary is not None
    assert summary["outputs"] == 8 and summary["images"] == 1 and summary["errors"] == 0


def test_a_warm_build_that_does_nothing_restamps(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded")

    monkeypatch.setattr(work, "decode", no_decoding)
    (built / ".staticimg" / stamp.STAMP).unlink()
    age(built)
    run(built)
    assert unchanged(built) is not None


@pytest.mark.parametrize(
    "change",
    [
        "touch the calling file",
        "edit the calling file",
        "add a source file",
        "replace the image",
        "delete an output",
        "edit an image-data file",
        "edit the configuration",
    ],
)
def test_any_change_invalidates_the_stamp(built: Path, change: str) -> None:
    page = built / "app" / "page.py"
    if change == "touch the calling file":
        page.touch()
    elif change == "edit the calling file":
        page.write_text(page.read_text().replace("width=160", "width=161"))
    elif change == "add a source file":
        (built / "app" / "other.py").write_text("x = 1\n")
    elif change == "replace the image":
        write_photo(built / "app" / "hero.jpg", seed=3)
    elif change == "delete an output":
        next((built / "public" / "img").iterdir()).unlink()
    elif change == "edit an image-data file":
        data = next((built / ".staticimg" / "data").iterdir())
        data.write_bytes(data.read_bytes() + b" ")
    elif change == "edit the configuration":
        with (built / "pyproject.toml").open("a") as config:
            config.write("# changed\n")
    assert unchanged(built) is None


def test_other_paths_are_another_build(built: Path) -> None:
    config, _ = load_config(built)
    assert stamp.unchanged(config, (built / "app" / "page.py",)) is None


def test_a_build_with_diagnostics_leaves_no_stamp(built: Path) -> None:
    page = built / "app" / "page.py"
    page.write_text(page.read_text() + 'broken = StaticImage(src="missing.jpg", alt="")\n')
    age(built)
    result = run(built)
    assert result.errors == 1
    assert not (built / ".staticimg" / stamp.STAMP).exists()


def test_a_build_removes_the_stamp_before_working(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build killed halfway must not leave a stamp claiming the old state is current."""
    page = built / "app" / "page.py"
    page.write_text(page.read_text().replace("width=160", "width=120"))

    def killed(*args: object, **kwargs: object) -> None:
        assert not (built / ".staticimg" / stamp.STAMP).exists()
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "_build", killed)
    with pytest.raises(KeyboardInterrupt):
        run(built)
    assert unchanged(built) is None


def test_a_racy_input_is_not_stamped(project: Project) -> None:
    root = project('StaticImage(src="hero.jpg", alt="", width=160)')
    write_photo(root / "app" / "hero.jpg")  # just written: a second edit could hide in its tick
    run(root)
    assert not (root / ".staticimg" / stamp.STAMP).exists()


def test_the_cli_reports_an_unchanged_build_without_importing_the_stages(built: Path) -> None:
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted(m for m in ('PIL', 'libcst', 'jinja2',"
        " 'staticimg.compiler.images.pipeline') if m in sys.modules), file=sys.stderr))\n"
        "from staticimg.compiler.cli import main\n"
        "main()\n"
    )
    command = [sys.executable, "-c", probe, "-C", str(built), "extract", "--format", "json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["kind"] == "summary" and summary["outputs"] == 8
    assert (summary["written"], summary["decoded"], summary["errors"]) == (0, 0, 0)
    assert done.stderr.strip().splitlines()[-1] == "[]"
