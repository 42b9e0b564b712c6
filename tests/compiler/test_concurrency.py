"""Concurrency: staticimg commands started together on the same project.

Two builds at once both succeed and leave exactly what one clean build makes in another
folder; `clean` racing a build removes nothing the build needs. The mechanism is an advisory
lock on the cache folder (`compiler/lock.py`): the second command waits for the first, and
whoever holds the lock may sweep away temporary files, since no other staticimg process can
be writing one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from staticimg.compiler import lock
from staticimg.compiler.atomic import TEMP_MARKER
from staticimg.compiler.config import load_config

pytestmark = pytest.mark.skipif(not lock.LOCKING, reason="needs fcntl.flock")

REPO = Path(__file__).resolve().parents[2]
CALL = (
    'photo_{i} = StaticImage(src="photo-{i}.jpg", alt="", width={width}, placeholder="blurred")\n'
)


def write_project(root: Path, *, width: int = 300) -> Path:
    """Four photos and their calls: a cold build takes about a second."""
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.staticimg]\noutput_dir = "public/img"\nurl_prefix = "/img"\njobs = 2\n'
    )
    with Image.open(REPO / "fixtures" / "images" / "photo.jpg") as source:
        base = source.convert("RGB").resize((800, 600), Image.Resampling.BICUBIC)
    calls = ["from staticimg import StaticImage\n\n"]
    for i in range(4):
        (ImageOps.mirror(base) if i % 2 else base).rotate(i * 11).save(
            root / "app" / f"photo-{i}.jpg", quality=88
        )
        calls.append(CALL.format(i=i, width=width))
    (root / "app" / "page.py").write_text("".join(calls))
    return root


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "staticimg.compiler", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> str:
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 0 and "Traceback" not in stderr, stderr
    return stderr


def built_files(root: Path) -> dict[str, bytes]:
    folders = [
        root / "public" / "img",
        *(root / ".staticimg" / f for f in ("data", "placeholders")),
    ]
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for folder in folders
        if folder.is_dir()
        for p in folder.iterdir()
    }
    files["manifest"] = (root / ".staticimg" / "manifest.json").read_bytes()
    return files


def temporary_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if TEMP_MARKER in p.name]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = write_project(tmp_path_factory.mktemp("concurrency") / "reference")
    finish(start(root, "extract"))
    return built_files(root)


def test_two_builds_at_once_both_succeed_with_the_clean_builds_files(
    reference: dict[str, bytes], tmp_path: Path
) -> None:
    root = write_project(tmp_path / "site")
    first, second = start(root, "extract"), start(root, "extract")
    finish(first)
    finish(second)
    assert built_files(root) == reference
    assert temporary_files(root) == []


def test_clean_racing_a_build_removes_nothing_the_build_needs(
    reference: dict[str, bytes], tmp_path: Path
) -> None:
    # Built once at another width: those files are stale once the calls change.
    root = write_project(tmp_path / "site", width=200)
    finish(start(root, "extract"))
    page = root / "app" / "page.py"
    page.write_text(page.read_text().replace("width=200", "width=300"))
    build, clean = start(root, "extract"), start(root, "clean")
    finish(build)
    finish(clean)
    # Whichever ran first, the stale files are gone and the current ones all there.
    assert built_files(root) == reference
    assert temporary_files(root) == []


# --------------------------------------------------------------------------------------------
# The lock itself

HOLDER = """
import sys, time
from pathlib import Path
from staticimg.compiler import lock
from staticimg.compiler.config import load_config
with lock.hold(load_config(Path(sys.argv[1]))[0]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_second_process_waits_for_the_lock_and_says_so(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    config, _ = load_config(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path), "0.8"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    started = time.monotonic()
    with lock.hold(config):
        waited = time.monotonic() - started
    holder.wait(timeout=30)
    assert waited > 0.3
    assert "waiting for another staticimg process" in capfd.readouterr().err


def test_taking_the_lock_sweeps_temporary_files_and_nothing_else(tmp_path: Path) -> None:
    config, _ = load_config(tmp_path)
    output, cache = config.output_path, config.cache_path
    leftovers = [
        output / f"hero-100w-0123456789ab.jpg{TEMP_MARKER}123-abcd",
        cache / f"probes.json{TEMP_MARKER}9-ffff",
        cache / "data" / f"0123.json{TEMP_MARKER}77-0000",
        cache / "scan" / f"feed.pickle{TEMP_MARKER}5-1234",
    ]
    kept = [output / "hero-100w-0123456789ab.jpg", output / "notes.txt", cache / "data" / "a.json"]
    for path in leftovers + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    with lock.hold(config):
        with lock.hold(config):  # re-entrant in one thread: no deadlock, no second sweep
            pass
        assert [p for p in leftovers if p.exists()] == []
        assert all(p.exists() for p in kept)
    assert (cache / lock.LOCK).is_file()


def test_a_lock_held_by_a_killed_process_is_released(tmp_path: Path) -> None:
    config, _ = load_config(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path), "60"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    os.kill(holder.pid, 9)
    holder.wait(timeout=30)
    started = time.monotonic()
    with lock.hold(config):
        assert time.monotonic() - started < 5
