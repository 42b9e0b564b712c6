"""Bad input, end to end: one project holding every kind of broken and odd source and image
(`fixtures/bad/build.py`) next to good images, built by the real command.

Each broken input gives its stable code at its call's line (or at the file's), each
valid-but-odd image builds, every good image is produced in the same run, SVG is never
rasterised, and nothing prints a traceback. Then the decompression-bomb limit: it comes from
`max_image_pixels`, and Pillow's own limit is never switched off.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from PIL import Image

from staticimg.compiler.config import load_config
from staticimg.compiler.images import decode
from staticimg.compiler.images.pipeline import build
from staticimg.compiler.plan import make_plan

REPO = Path(__file__).resolve().parents[2]


def corpus_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "fixture_bad_build", REPO / "fixtures/bad/build.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


CORPUS = corpus_script()


def staticimg(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "staticimg.compiler", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


class Built:
    """The corpus project after one `staticimg extract --format json`."""

    def __init__(self, root: Path, run: subprocess.CompletedProcess[str]) -> None:
        self.root = root
        self.run = run
        lines = [orjson.loads(line) for line in run.stdout.splitlines()]
        self.diagnostics = [line for line in lines if line["kind"] == "diagnostic"]
        self.summary = lines[-1]
        config, _ = load_config(root)
        self.hashes = {
            (call.file, call.span.line): call.request.hash
            for call in make_plan(config, jobs=1).calls
            if call.request is not None
        }

    def record(self, file: str, line: int) -> dict[str, Any]:
        data = self.root / ".staticimg" / "data" / f"{self.hashes[file, line]}.json"
        record: dict[str, Any] = orjson.loads(data.read_bytes())
        return record


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = CORPUS.build(tmp_path_factory.mktemp("bad"))
    return Built(root, staticimg(root, "extract", "--format", "json"))


def expected_errors() -> set[tuple[str, int, str]]:
    page = {
        ("app/page.py", CORPUS.page_line(i), case.code)
        for i, case in enumerate(CORPUS.IMAGE_CASES)
        if case.code is not None
    }
    return page | {(e.file, e.line, e.code) for e in CORPUS.SOURCE_EXPECTED}


def good_calls() -> list[tuple[str, int]]:
    page = [
        ("app/page.py", CORPUS.page_line(i))
        for i, case in enumerate(CORPUS.IMAGE_CASES)
        if case.code is None
    ]
    elsewhere: list[tuple[str, int]] = CORPUS.SOURCE_GOOD
    return page + elsewhere


def test_the_command_reports_and_never_prints_a_traceback(built: Built) -> None:
    assert "Traceback" not in built.run.stderr
    assert built.run.returncode == 1  # errors were reported
    assert built.summary["kind"] == "summary"
    assert built.summary["errors"] == len(expected_errors())


def test_each_broken_input_has_its_code_at_its_line(built: Built) -> None:
    errors = {
        (d["file"], d["line"], d["code"]) for d in built.diagnostics if d["severity"] == "error"
    }
    assert errors == expected_errors()
    for diagnostic in built.diagnostics:
        assert diagnostic["docs"].endswith(diagnostic["code"].lower())
        if diagnostic["code"].startswith("SI3"):
            assert diagnostic["prop"] == "src"  # image errors point at the `src` value


def test_odd_images_build_with_only_their_expected_warnings(built: Built) -> None:
    warnings = {
        (d["file"], d["line"], d["code"]) for d in built.diagnostics if d["severity"] == "warning"
    }
    allowed = {
        ("app/page.py", CORPUS.page_line(i), code)
        for i, case in enumerate(CORPUS.IMAGE_CASES)
        for code in case.warnings
    }
    assert warnings <= allowed


@pytest.mark.parametrize("call", good_calls(), ids=lambda call: f"{call[0]}:{call[1]}")
def test_every_good_and_odd_image_has_its_files_and_data(
    built: Built, call: tuple[str, int]
) -> None:
    record = built.record(*call)
    assert "error" not in record, record
    output_dir = built.root / "public" / "img"
    urls = [record["images"].get("fallback", {}).get("src")]
    for entry in [record["images"].get("fallback", {}), *record["images"]["sources"]]:
        urls += [candidate.rsplit(" ", 1)[0] for candidate in entry.get("srcSet", "").split(",\n")]
    names = {url.removeprefix("/img/") for url in urls if url}
    assert names
    for name in names:
        with Image.open(output_dir / name) as image:
            image.load()  # a whole, decodable file
    assert record["width"] > 0 and record["height"] > 0


def test_each_broken_image_call_gets_an_error_record(built: Built) -> None:
    for index, case in enumerate(CORPUS.IMAGE_CASES):
        if case.code is not None:
            record = built.record("app/page.py", CORPUS.page_line(index))
            assert record["error"]["code"] == case.code, case.name


def test_svg_is_refused_by_name_or_content_and_never_rasterised(built: Built) -> None:
    svg = [d for d in built.diagnostics if "SVG" in d["message"]]
    assert {d["message"].split(":")[0] for d in svg} == {
        "app/images/evil.svg",
        "app/images/prolog.svg",
        "app/images/svg-inside.png",
    }
    for diagnostic in svg:
        assert diagnostic["code"] == "SI303"
        assert "script" in diagnostic["hint"]  # each of these carries active content
    outputs = [p.name for p in (built.root / "public" / "img").iterdir()]
    assert not [
        n for n in outputs if n.startswith(("evil", "prolog", "svg-inside")) or n.endswith(".svg")
    ]


def test_the_diagnostics_are_the_same_on_the_next_build_and_in_human_form(built: Built) -> None:
    again = staticimg(built.root, "extract")  # warm: probes and scans come from the cache
    assert "Traceback" not in again.stderr and again.returncode == 1
    frames = re.findall(r"(?:error|warning)\[(SI\d+)\]: .*\n\s*--> (\S+):(\d+):\d+", again.stderr)
    reported = {(file, int(line), code) for code, file, line in frames}
    assert reported == {(d["file"], d["line"], d["code"]) for d in built.diagnostics}
    planned = staticimg(built.root, "extract", "--plan")
    assert "Traceback" not in planned.stderr and planned.returncode == 1


# --------------------------------------------------------------------------------------------
# The decompression-bomb limit


def test_a_lower_max_image_pixels_turns_a_medium_image_into_si305(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "app").mkdir(parents=True)
    (root / "app" / "page.py").write_text(
        'from staticimg import StaticImage\n\nhero = StaticImage(src="photo.jpg", alt="")\n'
    )
    (root / "app" / "photo.jpg").write_bytes((REPO / "fixtures/images/photo.jpg").read_bytes())
    pyproject = root / "pyproject.toml"
    pyproject.write_text('[tool.staticimg]\noutput_dir = "public/img"\njobs = 1\n')
    config, _ = load_config(root)
    assert build(config).errors == 0  # 400×300 = 120,000 pixels: fine by default
    pyproject.write_text(pyproject.read_text() + "max_image_pixels = 100000\n")
    config, problems = load_config(root)
    assert problems == []
    result = build(config)  # the probe of the first build is cached: it must not count
    [problem] = result.diagnostics
    assert problem.code == "SI305" and (problem.file, problem.span and problem.span.line) == (
        "app/page.py",
        3,
    )
    assert "100,000 pixels" in problem.message


def test_pillow_gets_the_configured_limit_and_never_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int | None] = []
    check = Image._decompression_bomb_check

    def spy(size: tuple[int, int]) -> None:
        seen.append(Image.MAX_IMAGE_PIXELS)
        check(size)

    monkeypatch.setattr(Image, "_decompression_bomb_check", spy)
    root = tmp_path / "site"
    (root / "app").mkdir(parents=True)
    (root / "app" / "page.py").write_text(
        "from staticimg import StaticImage\n\n"
        'a = StaticImage(src="photo.jpg", alt="")\n'
        'b = StaticImage(src="bomb.png", alt="")\n'
    )
    for name in ("photo.jpg", "bomb.png"):
        (root / "app" / name).write_bytes((REPO / "fixtures/images" / name).read_bytes())
    (root / "pyproject.toml").write_text("[tool.staticimg]\njobs = 1\nmax_image_pixels = 5000000\n")
    before = Image.MAX_IMAGE_PIXELS
    config, _ = load_config(root)
    result = build(config)  # one job: decoded in this process, where the spy is
    assert [d.code for d in result.diagnostics] == ["SI305"]
    assert seen and set(seen) == {5_000_000}  # every open, probe and decode alike
    assert before == Image.MAX_IMAGE_PIXELS  # restored afterwards


def test_no_module_assigns_pillows_limit_except_the_decoder_scoped() -> None:
    """`Image.MAX_IMAGE_PIXELS = None` disables Pillow's guard for the whole process. Only
    `decode._pixel_limit` assigns it, to the configured limit, and restores it."""
    assigners = []
    for path in sorted([*(REPO / "compiler").rglob("*.py"), *(REPO / "runtime").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            targets += [node.target] if isinstance(node, ast.AnnAssign | ast.AugAssign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "MAX_IMAGE_PIXELS":
                    assigners.append((path.relative_to(REPO).as_posix(), ast.unparse(node)))
    assert assigners == [
        ("compiler/images/decode.py", "Image.MAX_IMAGE_PIXELS = max_pixels"),
        ("compiler/images/decode.py", "Image.MAX_IMAGE_PIXELS = saved"),
    ]
    with pytest.raises(ValueError, match="positive"), decode._pixel_limit(0):
        pass  # a limit of 0 or less is refused, never taken to mean "no limit"


def test_the_corpus_is_deterministic(tmp_path: Path) -> None:
    one, two = CORPUS.build(tmp_path / "one"), CORPUS.build(tmp_path / "two")
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert len(files) > 30
    for relative in files:
        assert (one / relative).read_bytes() == (two / relative).read_bytes(), relative
    assert max((one / f).stat().st_size for f in files) < 64_000  # small files only
