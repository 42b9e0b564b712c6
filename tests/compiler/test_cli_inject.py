"""`staticimg inject` and `staticimg build` end to end: files in, files and lines out."""

from __future__ import annotations

import os
import shutil
import sysconfig
import textwrap
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import libcst as cst
import orjson
import pytest
from click.testing import CliRunner
from libcst.metadata import MetadataWrapper

from staticimg.compiler.cli import main
from staticimg.compiler.inject.python import InjectArguments, _Lines

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])

PAGE = textwrap.dedent(
    """\
    from staticimg import StaticImage

    hero = StaticImage(
        src="photo.jpg",
        alt="Harbour",
        width=120,
        formats=["auto", "webp"],
    )
    thumb = StaticImage(src="photo.jpg", alt="", width=40, layout="fixed")
    """
)
BROKEN = textwrap.dedent(
    """\
    from staticimg import StaticImage

    gone = StaticImage(
        src="missing.jpg",
        alt="Gone",
    )
    dynamic = StaticImage(src="photo.jpg", alt="", width=SIZE)
    """
)
TEMPLATE = textwrap.dedent(
    """\
    <main>
      {{ StaticImage(
          src="../app/photo.jpg",
          alt="From a template",
          width=80
      ) }}
    </main>
    """
)


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def make_site(root: Path, *, broken: bool = False) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.staticimg]\noutput_dir = "public/img"\nurl_prefix = "/img"\njobs = 1\n'
    )
    shutil.copy(FIXTURES / "images" / "photo.jpg", root / "app" / "photo.jpg")
    (root / "app" / "page.py").write_text(PAGE)
    (root / "app" / "plain.py").write_text("def f():\n    return 1\n")
    (root / "templates" / "index.html").write_text(TEMPLATE)
    if broken:
        (root / "app" / "broken.py").write_text(BROKEN)
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every source file's bytes and modification time (the build's outputs left out)."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and not {".staticimg", "public"} & set(p.relative_to(root).parts)
    }


def injected(source: str, argument: str) -> list[str]:
    values = []
    for piece in source.split(f'{argument}="')[1:]:
        values.append(piece[: piece.index('"')])
    return values


def test_build_then_nothing_changes(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    code, _, err = run(["-C", str(root), "build"])
    assert code == 0, err
    assert "staticimg inject: 2 files changed, 3 calls injected (3 with image data" in err

    page = (root / "app" / "page.py").read_text()
    template = (root / "templates" / "index.html").read_text()
    hashes = injected(page, "__image_data") + injected(template, "__image_data")
    assert len(hashes) == 3 and "__error" not in page + template
    for digest in hashes:
        record = orjson.loads((root / ".staticimg" / "data" / f"{digest}.json").read_bytes())
        assert "error" not in record and record["images"]["fallback"]["src"].startswith("/img/")
    # The layout rules, on real files: a new line in a multi-line call, same line otherwise.
    assert '    formats=["auto", "webp"],\n    __image_data="' in page
    assert 'layout="fixed", __image_data="' in page
    assert '      width=80,\n      __image_data="' in template

    before = snapshot(root)
    code, _, err = run(["-C", str(root), "build"])
    assert code == 0, err
    assert "0 files changed" in err
    assert snapshot(root) == before
    assert run(["-C", str(root), "inject", "--check"])[0] == 0

    # A changed prop: the next build replaces that call's stale reference, and only that.
    (root / "app" / "page.py").write_text(page.replace("width=40,", "width=48,"))
    assert run(["-C", str(root), "build"])[0] == 0
    rebuilt = injected((root / "app" / "page.py").read_text(), "__image_data")
    assert rebuilt[0] == hashes[0] and rebuilt[1] != hashes[1]
    assert (root / ".staticimg" / "data" / f"{rebuilt[1]}.json").is_file()


def test_build_injects_everything_it_can_and_fails(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", broken=True)
    code, _, err = run(["-C", str(root), "build"])
    assert code == 1
    assert "error[SI301]" in err and "error[SI101]" in err  # extract's diagnostics
    assert "5 calls injected (3 with image data, 2 with __error)" in err
    broken = (root / "app" / "broken.py").read_text()
    # Errors name where the problem is in the file as it is now, after the first rewrite
    # moved the second call down a line.
    assert injected(broken, "__error") == [
        "SI301 app/broken.py:4:9: image \\",
        "SI101 app/broken.py:8:54: build prop `width` cannot be evaluated at build time: "
        "`SIZE` is not defined in this file",
    ]
    before = snapshot(root)
    assert run(["-C", str(root), "build"])[0] == 1
    assert snapshot(root) == before


def test_build_json_lines(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", broken=True)
    code, out, _ = run(["-C", str(root), "build", "--format", "json"])
    assert code == 1
    records = [orjson.loads(line) for line in out.splitlines()]
    kinds = [r["kind"] for r in records]
    assert kinds[-1] == "inject_summary" and "summary" in kinds and "diagnostic" in kinds
    summary = records[-1]
    assert (summary["calls"], summary["images"], summary["errors"]) == (5, 3, 2)
    assert summary["files_written"] == 3 and not summary["dry_run"]


def test_inject_check_diff_and_write(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", broken=True)
    before = snapshot(root)

    code, out, err = run(["-C", str(root), "inject", "--check"])
    assert code == 1
    assert out.splitlines() == [
        "would rewrite app/broken.py",
        "would rewrite app/page.py",
        "would rewrite templates/index.html",
    ]
    assert "3 files would change, 5 calls injected (0 with image data, 5 with __error)" in err
    assert 'app/page.py:3:8: __error: No image data for "photo.jpg": run `staticimg extract`' in err

    code, out, _ = run(["-C", str(root), "inject", "--diff", str(root / "app" / "page.py")])
    assert code == 0
    assert out.startswith("--- a/app/page.py\n+++ b/app/page.py\n@@")
    assert '+    __error="No image data for \\"photo.jpg\\": run `staticimg extract` first",' in out
    assert snapshot(root) == before

    code, out, err = run(["-C", str(root), "inject"])
    assert code == 0 and out == ""
    assert "staticimg inject: 3 files changed, 5 calls injected" in err
    after = snapshot(root)
    assert {k for k in before if before[k] != after[k]} == {
        "app/broken.py",
        "app/page.py",
        "templates/index.html",
    }
    assert run(["-C", str(root), "inject", "--check"])[0] == 0
    assert snapshot(root) == after


def test_inject_json(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    code, out, _ = run(["-C", str(root), "inject", "--check", "--diff", "--format", "json"])
    assert code == 1
    records = [orjson.loads(line) for line in out.splitlines()]
    calls = [r for r in records if r["kind"] == "injected"]
    assert [(c["file"], c["line"], c["column"], c["argument"]) for c in calls] == [
        ("app/page.py", 3, 8, "__error"),
        ("app/page.py", 9, 9, "__error"),
        ("templates/index.html", 2, 6, "__error"),
    ]
    files = [r for r in records if r["kind"] == "file"]
    assert [(f["file"], f["status"]) for f in files] == [
        ("app/page.py", "would_change"),
        ("templates/index.html", "would_change"),
    ]
    assert files[0]["diff"].startswith("--- a/app/page.py")
    assert records[-1]["kind"] == "inject_summary" and records[-1]["files_written"] == 0


def test_inject_reports_files_it_cannot_scan(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    (root / "app" / "bad.py").write_text("from staticimg import StaticImage\nx = (\n")
    code, _, err = run(["-C", str(root), "inject"])
    assert code == 1
    assert "error[SI110]" in err and "app/bad.py" in err
    assert "__error=" in (root / "app" / "page.py").read_text()  # the rest is still injected


def test_help() -> None:
    code, out, _ = run(["--help"])
    assert code == 0 and "inject" in out and "build" in out
    code, out, _ = run(["inject", "--help"])
    assert code == 0 and "--check" in out and "--diff" in out and "docs/inject.md" in out


# --------------------------------------------------------------------------------------------
# A real third-party code base: nothing changes


THIRD_PARTY = ("click", "jinja2", "libcst")


def _third_party(root: Path) -> list[Path]:
    for name in THIRD_PARTY:
        shutil.copytree(
            SITE_PACKAGES / name,
            root / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so"),
        )
    return sorted(root.rglob("*.py"))


def test_third_party_code_is_never_written(tmp_path: Path) -> None:
    root = tmp_path / "vendor"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "vendor"\n')
    files = _third_party(root)
    assert len(files) > 300
    before = snapshot(root)
    code, _, err = run(["-C", str(root), "inject"])
    assert code == 0, err
    assert "0 files changed, 0 calls injected" in err
    code, out, _ = run(["-C", str(root), "inject", "--check"])
    assert code == 0 and out == ""
    assert snapshot(root) == before


def _round_trip(path: Path) -> tuple[str, bool]:
    source = path.read_bytes()
    module = cst.parse_module(source)
    transformer = InjectArguments({}, module.encoding, _Lines(source, module.encoding))
    if path.parts[-2] == "libcst" or "libcst" not in path.parts:
        # As `inject` runs it, positions and all. Computing positions costs more than the
        # parse and never changes the output, so most of libcst's own files skip it.
        output = MetadataWrapper(module, unsafe_skip_copy=True).visit(transformer)
    else:
        output = module.visit(transformer)
    return str(path), output.bytes == source


def test_the_transformer_keeps_every_byte_of_third_party_code(tmp_path: Path) -> None:
    """Parse, transform with an empty plan and write every file of three real packages."""
    files = _third_party(tmp_path)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results: list[Any] = list(pool.map(_round_trip, files, chunksize=8))
    assert len(results) == len(files)
    assert [name for name, same in results if not same] == []


@pytest.mark.parametrize("name", THIRD_PARTY)
def test_site_packages_has_the_sources(name: str) -> None:
    assert (SITE_PACKAGES / name / "__init__.py").is_file()
