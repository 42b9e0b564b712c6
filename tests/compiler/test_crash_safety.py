"""Crash safety: `staticimg extract` killed with SIGKILL at random points, then run again.

The killed command runs in its own session and the whole process group is killed (the
worker processes and their fork server included), at seeded random moments across a cold
build. After each kill, the next build must finish, leave exactly the files (same names,
same bytes) a clean build of the same project makes in another folder, and leave no
temporary file anywhere in `output_dir` or the cache folder. Some rounds start from a
finished build whose stamp claims it current, with one call edited: the stamp must not make
the next build skip work. Then every cache file is damaged on purpose (truncated, or valid
JSON of the wrong shape): it must be ignored, never trusted and never fatal.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from PIL import Image, ImageOps

from staticimg.compiler import stamp
from staticimg.compiler.atomic import TEMP_MARKER
from staticimg.compiler.config import load_config
from staticimg.compiler.images.pipeline import build

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")

REPO = Path(__file__).resolve().parents[2]
SEED = 20251121
COLD_ROUNDS = 4
EDITED_ROUNDS = 2
PHOTOS = 6
OLD = time.time() - 3600  # sources an hour old: a finished build may write its stamp

CALL = (
    'photo_{i} = StaticImage(src="photo-{i}.jpg", alt="", width={width}, '
    'formats=["auto", "webp", "avif"], placeholder="blurred")\n'
)
# Calls sharing a source at other sizes: their pixels must not depend on one another.
TEMPLATE = (
    '{{ StaticImage(src="../app/photo-0.jpg", alt="", layout="fixed", width=90) }}\n'
    '{{ StaticImage(src="../app/photo-1.jpg", alt="", layout="fixed", width=60,'
    ' placeholder="blurred") }}\n'
)


def write_project(root: Path, *, width: int = 400) -> Path:
    """Six photos (the committed one, enlarged and varied) and their calls, a template call,
    two workers: a cold build takes about two seconds."""
    (root / "app").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.staticimg]\noutput_dir = "public/img"\nurl_prefix = "/img"\njobs = 2\n'
    )
    with Image.open(REPO / "fixtures" / "images" / "photo.jpg") as source:
        base = source.convert("RGB").resize((1000, 750), Image.Resampling.BICUBIC)
    calls = ["from staticimg import StaticImage\n\n"]
    for i in range(PHOTOS):
        photo = ImageOps.mirror(base) if i % 2 else base
        photo.rotate(i * 9).save(root / "app" / f"photo-{i}.jpg", quality=88)
        calls.append(CALL.format(i=i, width=width if i else width + 40))
    (root / "app" / "page.py").write_text("".join(calls))
    (root / "templates" / "index.html").write_text(TEMPLATE)
    for path in [*root.rglob("*")]:
        os.utime(path, (OLD, OLD))
    return root


def extract(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "staticimg.compiler", "extract"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
    )


def killed_extract(root: Path, after: float) -> None:
    """Start `extract` in a new session and SIGKILL its whole process group `after` seconds
    later (unless it finished first); wait until every process of the group is gone."""
    process = subprocess.Popen(
        [sys.executable, "-m", "staticimg.compiler", "extract"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=after)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # orphaned workers are reaped by init
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)


def built_files(root: Path) -> dict[str, bytes]:
    """What a build publishes: image files, image data, placeholders and the manifest."""
    folders = [
        root / "public" / "img",
        *(root / ".staticimg" / f for f in ("data", "placeholders")),
    ]
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for f in folders
        if f.is_dir()
        for p in f.iterdir()
    }
    files["manifest"] = (root / ".staticimg" / "manifest.json").read_bytes()
    return files


def temporary_files(root: Path) -> list[str]:
    return [
        p.relative_to(root).as_posix()
        for folder in (root / "public", root / ".staticimg")
        for p in folder.rglob("*")
        if TEMP_MARKER in p.name
    ]


def assert_same(actual: dict[str, bytes], expected: dict[str, bytes]) -> None:
    assert sorted(actual) == sorted(expected)
    different = [name for name in expected if actual[name] != expected[name]]
    assert different == []


def copy_project(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)  # copy2: the times come along
    return target


@dataclass
class Reference:
    root: Path  # a finished, stamped clean build
    files: dict[str, bytes]
    seconds: float  # how long that cold build took, start to exit
    edited: dict[str, bytes]  # a clean build of the project with one call edited


def edit(root: Path) -> None:
    page = root / "app" / "page.py"
    page.write_text(page.read_text().replace("width=440", "width=300"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    base = tmp_path_factory.mktemp("crash")
    root = write_project(base / "reference")
    started = time.perf_counter()
    result = extract(root)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    if not (root / ".staticimg" / "stamp.json").is_file():
        # No stamp while an input is under a second old (staticimg's own code, being edited
        # as the tests run): the next, warm build writes it.
        time.sleep(1.1)
        assert extract(root).returncode == 0
    assert (root / ".staticimg" / "stamp.json").is_file()
    edited = write_project(base / "edited")
    edit(edited)
    assert extract(edited).returncode == 0
    return Reference(root, built_files(root), seconds, built_files(edited))


def test_a_killed_cold_build_is_finished_exactly_by_the_next(
    reference: Reference, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    for round_ in range(COLD_ROUNDS):
        root = write_project(tmp_path / f"cold-{round_}")
        killed_extract(root, rng.uniform(0.1, 1.0) * reference.seconds)
        finished = extract(root)
        assert finished.returncode == 0 and "Traceback" not in finished.stderr, finished.stderr
        assert_same(built_files(root), reference.files)
        assert temporary_files(root) == []


def test_a_killed_build_of_an_edit_is_not_taken_for_the_finished_one(
    reference: Reference, tmp_path: Path
) -> None:
    rng = random.Random(SEED + 1)
    for round_ in range(EDITED_ROUNDS):
        # A finished build, stamped, moved elsewhere (as CI restores a cache), then edited.
        root = copy_project(reference.root, tmp_path / f"edited-{round_}")
        edit(root)
        # The copied stamp names the reference's files: it must not vouch for this copy.
        assert stamp.unchanged(load_config(root)[0], []) is None
        killed_extract(root, rng.uniform(0.1, 0.8) * reference.seconds)
        finished = extract(root)
        assert finished.returncode == 0 and "Traceback" not in finished.stderr, finished.stderr
        # The old width's files stay (a build never deletes); everything else is the edit's.
        files = built_files(root)
        stale = {name for name in set(files) - set(reference.edited) if name in reference.files}
        assert_same({k: v for k, v in files.items() if k not in stale}, reference.edited)
        assert temporary_files(root) == []


# --------------------------------------------------------------------------------------------
# The root cause the rounds above found: a file's bytes depended on its neighbours


def _outputs_of(root: Path, calls: list[str], source: Image.Image, name: str) -> dict[str, bytes]:
    (root / "app").mkdir(parents=True)
    source.save(root / "app" / name, quality=90)
    (root / "pyproject.toml").write_text('[tool.staticimg]\noutput_dir = "out"\njobs = 1\n')
    body = "".join(f"image_{i} = {call}\n" for i, call in enumerate(calls))
    (root / "app" / "page.py").write_text("from staticimg import StaticImage\n" + body)
    config, _ = load_config(root)
    assert build(config).errors == 0
    files = {p.name: p.read_bytes() for p in (root / "out").iterdir()}
    data = root / ".staticimg" / "data"
    files.update({p.name: p.read_bytes() for p in data.iterdir()})
    return files


@pytest.mark.parametrize(
    ("name", "alone", "neighbour"),
    [
        # JPEG draft scale: chosen for the whole source, so a larger neighbour changed it.
        ("p.jpg", 'width=300, formats=["jpg"]', 'width=700, formats=["jpg"]'),
        # Resize chain: the 300 px file of a 300-wide call came from its 600 px one, that of
        # a fixed 150-wide call straight from the source; the names were the same.
        ("p.png", 'width=300, formats=["png"]', 'layout="fixed", width=150, formats=["png"]'),
        # Placeholder: keyed without the sizes its thumbnail was taken from.
        ("p.png", 'width=300, placeholder="blurred"', 'width=120, placeholder="blurred"'),
        # Animated source: all frames decoded (first frame RGBA) only when a WebP was missing.
        ("a.webp", 'formats=["png"]', 'formats=["png", "webp"]'),
    ],
)
def test_a_files_bytes_do_not_depend_on_the_calls_sharing_its_source(
    tmp_path: Path, name: str, alone: str, neighbour: str
) -> None:
    if name.endswith(".webp"):
        frames = [Image.new("RGBA", (64, 48), (200, 30, 30, 255)), Image.new("RGBA", (64, 48))]
        source = frames[0]
        (tmp_path / "frames").mkdir()
        frames[0].save(tmp_path / "frames" / name, save_all=True, append_images=frames[1:])
        source = Image.open(tmp_path / "frames" / name)
    else:
        with Image.open(REPO / "fixtures" / "images" / "photo.jpg") as photo:
            source = photo.convert("RGB").resize((1600, 1200))
    call = 'StaticImage(src="{}", alt="", {})'
    one = _outputs_of(tmp_path / "one", [call.format(name, alone)], source, name)
    both = _outputs_of(
        tmp_path / "both", [call.format(name, alone), call.format(name, neighbour)], source, name
    )
    shared = set(one) & set(both)
    assert shared  # the lone call's files and data are all among the pair's
    assert [n for n in sorted(shared) if one[n] != both[n]] == []


# --------------------------------------------------------------------------------------------
# Damaged caches


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _every(folder: str, damage: Callable[[Path], object]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        for path in sorted((root / ".staticimg" / folder).iterdir()):
            damage(path)

    return apply


def _wrong_probes(root: Path) -> None:
    path = root / ".staticimg" / "probes.json"
    entries = orjson.loads(path.read_bytes())
    wrong = [["jpg", "400", -1, None, 0], ["svg", 1, 1, False, 1], [1, 2, 3], "x"]
    path.write_bytes(orjson.dumps({k: wrong[i % 4] for i, k in enumerate(entries)}))


def _wrong_sources(root: Path) -> None:
    path = root / ".staticimg" / "sources.json"
    entries = orjson.loads(path.read_bytes())
    path.write_bytes(orjson.dumps({k: [0, 0, 0, 0, 0] for k in entries}))


def _wrong_stamp(root: Path) -> None:
    path = root / ".staticimg" / "stamp.json"
    stamp = orjson.loads(path.read_bytes())
    stamp["summary"] = {"kind": "summary"}
    stamp["files"] = {"/nul\u0000byte": [0, 0]}
    path.write_bytes(orjson.dumps(stamp))


def _truncated(root: Path) -> None:
    for name in ("sources.json", "probes.json", "stamp.json", "manifest.json"):
        _truncate(root / ".staticimg" / name)


def _truncated_entries(root: Path) -> None:
    for folder in ("scan", "placeholders", "data"):
        _every(folder, _truncate)(root)


def _wrong_shapes(root: Path) -> None:
    _wrong_probes(root)
    _wrong_sources(root)
    _wrong_stamp(root)
    _every("placeholders", lambda p: p.write_bytes(b'{"backgroundColor": 3}'))(root)
    _every("scan", lambda p: p.write_bytes(b"\x80\x05K\x01."))(root)  # a pickle of 1


def _garbage(root: Path) -> None:
    rng = random.Random(SEED)
    for path in sorted((root / ".staticimg").rglob("*")):
        if path.is_file() and path.name != "lock":
            path.write_bytes(rng.randbytes(64))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _truncated,
    "truncated-entries": _truncated_entries,
    "wrong-shapes": _wrong_shapes,
    "garbage": _garbage,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_cache_files_are_ignored(reference: Reference, tmp_path: Path, damage: str) -> None:
    root = copy_project(reference.root, tmp_path / "site")
    DAMAGE[damage](root)
    for path in sorted((root / "public" / "img").iterdir())[::7]:
        path.unlink()  # some work left to do
    result = extract(root)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert_same(built_files(root), reference.files)
