"""The inject step over a project: which files are read and written, and how."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import orjson
import pytest

from staticimg.compiler.config import Config, load_config
from staticimg.compiler.data import data_file
from staticimg.compiler.inject import inject
from staticimg.compiler.plan import Plan, make_plan

PAGE = textwrap.dedent(
    """\
    from staticimg import StaticImage

    hero = StaticImage(src="hero.jpg", alt="Hero", width=400)
    broken = StaticImage(src="hero.jpg", alt="Broken", width=WIDTH)
    """
)
TEMPLATE = '<main>{{ StaticImage(src="hero.jpg", alt="T") }}</main>\n'
IMAGE = {"layout": "constrained", "width": 400, "height": 300, "images": {"sources": []}}


def project(root: Path) -> tuple[Config, Plan]:
    (root / "app").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "site"\n')
    (root / "app" / "page.py").write_text(PAGE)
    (root / "app" / "other.py").write_text("from staticimg import StaticImage  # no calls\n")
    (root / "templates" / "index.html").write_text(TEMPLATE)
    (root / "templates" / "plain.html").write_text("<p>{{ StaticImage }}</p>\n")
    config, _ = load_config(root)
    return config, make_plan(config, jobs=1)


def store(config: Config, plan: Plan, record: dict[str, object] = IMAGE) -> None:
    for call in plan.calls:
        if call.request is not None:
            path = data_file(config, call.request.hash)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(orjson.dumps(record))


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and ".staticimg" not in p.parts
    }


def test_plan_lists_every_call_with_its_own_result(tmp_path: Path) -> None:
    _, plan = project(tmp_path)
    assert [(c.file, c.span.line, c.span.column) for c in plan.calls] == [
        ("app/page.py", 3, 8),
        ("app/page.py", 4, 10),
        ("templates/index.html", 1, 10),
    ]
    hero, broken, template = plan.calls
    assert hero.request is not None and hero.request.span == hero.span and not hero.errors
    assert broken.request is None and [d.code for d in broken.errors] == ["SI101"]
    assert template.request is not None
    assert plan.requests == (hero.request, template.request)


def test_rewrites_only_files_with_calls(tmp_path: Path) -> None:
    config, plan = project(tmp_path)
    store(config, plan)
    before = snapshot(tmp_path)
    result = inject(config, plan)
    after = snapshot(tmp_path)
    assert {f.file for f in result.changed} == {"app/page.py", "templates/index.html"}
    assert all(f.written for f in result.files)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"app/page.py", "templates/index.html"}
    hero, _, template = (c.call.request for c in result.calls)
    assert hero is not None and template is not None
    page = after["app/page.py"][0].decode()
    assert f'width=400, __image_data="{hero.hash}")' in page
    assert '__error="SI101 app/page.py:4:58: build prop `width` cannot be evaluated' in page
    assert f'alt="T", __image_data="{template.hash}")' in after["templates/index.html"][0].decode()
    assert (result.images, result.errors, result.failed) == (2, 1, False)

    # Again, with a fresh plan of the injected sources: nothing changes, nothing is written.
    again = inject(config, make_plan(config, jobs=1))
    assert not again.changed and not any(f.written for f in again.files)
    assert snapshot(tmp_path) == after


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    config, plan = project(tmp_path)
    before = snapshot(tmp_path)
    result = inject(config, plan, write=False)
    assert snapshot(tmp_path) == before
    assert {f.file for f in result.changed} == {"app/page.py", "templates/index.html"}
    assert result.errors == 3  # no data yet: every call says to run extract
    diff = result.changed[0].diff()
    assert diff.startswith("--- a/app/page.py\n+++ b/app/page.py\n")
    assert (
        '+hero = StaticImage(src="hero.jpg", alt="Hero", width=400, __error="No image data' in diff
    )


def test_records_in_memory_come_first(tmp_path: Path) -> None:
    config, plan = project(tmp_path)
    message = 'the image "hero.jpg" does not exist'
    error = {"error": {"code": "SI301", "file": "app/page.py", "line": 1, "column": 1,
                       "prop": "src", "message": message}}  # fmt: skip
    records = {c.request.hash: error for c in plan.calls if c.request}
    inject(config, plan, records=records)
    page = (tmp_path / "app" / "page.py").read_text()
    assert '__error="SI301 app/page.py:3:24: the image \\"hero.jpg\\" does not exist")' in page


def test_permissions_and_symlinks_are_kept(tmp_path: Path) -> None:
    config, plan = project(tmp_path)
    page = tmp_path / "app" / "page.py"
    page.chmod(0o755)
    real = tmp_path / "shared" / "index.html"
    real.parent.mkdir()
    (tmp_path / "templates" / "index.html").rename(real)
    (tmp_path / "templates" / "index.html").symlink_to(real)
    inject(config, plan)
    assert stat.S_IMODE(page.stat().st_mode) == 0o755
    assert (tmp_path / "templates" / "index.html").is_symlink()
    assert "__error=" in real.read_text()


def test_never_writes_outside_the_project(tmp_path: Path) -> None:
    config, plan = project(tmp_path / "site")
    outside = tmp_path / "elsewhere.html"
    outside.write_text(TEMPLATE)
    link = tmp_path / "site" / "templates" / "index.html"
    link.unlink()
    link.symlink_to(outside)
    result = inject(config, plan)
    assert outside.read_text() == TEMPLATE
    (failed,) = result.not_rewritten
    assert failed.file == "templates/index.html" and "outside the project" in str(failed.problem)
    assert result.failed


def test_a_file_changed_after_the_scan_is_left_alone(tmp_path: Path) -> None:
    config, plan = project(tmp_path)
    page = tmp_path / "app" / "page.py"
    edited = "# a new first line\n" + PAGE
    page.write_text(edited)
    result = inject(config, plan)
    assert page.read_text() == edited
    assert [f.file for f in result.not_rewritten] == ["app/page.py"]
    assert "changed since it was scanned" in str(result.not_rewritten[0].problem)
    # The template was still rewritten.
    assert "__error=" in (tmp_path / "templates" / "index.html").read_text()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_an_unreadable_file_is_reported(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    config, plan = project(tmp_path)
    (tmp_path / "app" / "page.py").chmod(0)
    result = inject(config, plan)
    assert "cannot read it" in str(result.not_rewritten[0].problem)


def test_error_texts_name_where_the_calls_are_after_the_rewrite(tmp_path: Path) -> None:
    """The first rewrite moves calls down (a new line per multi-line call); the texts it
    writes already name the new places, so the next run has nothing to change."""
    config, _ = project(tmp_path)
    page = (
        "from staticimg import StaticImage\n"
        "x = StaticImage(\n    'a.jpg',\n    'A',\n)\n"
        "y = StaticImage('b.jpg', 'B', width=W)\n"
    )
    template = (
        '{{ StaticImage(\n    "a.jpg",\n    "A"\n) }}\n{{ StaticImage("b.jpg", "B", width=w) }}\n'
    )
    (tmp_path / "app" / "page.py").write_text(page)
    (tmp_path / "templates" / "index.html").write_text(template)
    result = inject(config, make_plan(config, jobs=1))
    page_after = (tmp_path / "app" / "page.py").read_text()
    template_after = (tmp_path / "templates" / "index.html").read_text()
    assert '__error="SI101 app/page.py:7:37: build prop `width`' in page_after
    assert '__error="SI101 templates/index.html:6:36: build prop `width`' in template_after
    reported = [(c.call.file, c.call.span.line) for c in result.calls if c.call.request is None]
    assert reported == [("app/page.py", 7), ("templates/index.html", 6)]
    assert not inject(config, make_plan(config, jobs=1)).changed
