"""docs/errors.md documents every code, and every failing example on it really fails.

Each code's section holds one `fails` and one `fix` example (or a pair per language). The
failing one must report that code; the fix must report nothing at all. An example marked
`needs=server` (a remote image that must be served) is listed but not run here:
tests/compiler/images/test_remote.py runs each such case against a real local server.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from staticimg.compiler.config import load_config
from staticimg.compiler.diagnostics import CODES
from staticimg.compiler.images.pipeline import build
from staticimg.compiler.plan import make_plan

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
FILE_FOR = {"python": "app/page.py", "jinja": "templates/page.html", "toml": "pyproject.toml"}
BLOCK = re.compile(
    r"^```(\w+) (fails|fix)(?: encoding=([\w-]+))?(?: needs=(server))?\n(.*?)^```$", re.M | re.S
)


@dataclass(frozen=True)
class Example:
    code: str
    language: str
    role: str
    encoding: str
    text: str
    needs: str | None = None


def sections() -> dict[str, str]:
    text = DOC.read_text()
    parts = re.split(r'^<a id="(si\d+)"></a>$', text, flags=re.M)
    return {parts[i].upper(): parts[i + 1] for i in range(1, len(parts), 2)}


def examples() -> list[Example]:
    return [
        Example(code, m[1], m[2], m[3] or "utf-8", m[5], m[4])
        for code, body in sections().items()
        for m in BLOCK.finditer(body)
    ]


def test_every_code_has_a_section_and_every_section_a_code() -> None:
    assert sorted(sections()) == sorted(CODES)


@pytest.mark.parametrize("code", sorted(CODES))
def test_section_heading_names_the_code(code: str) -> None:
    body = sections()[code]
    assert body.lstrip().startswith(f"### {code} {CODES[code].name}\n")
    roles = [e.role for e in examples() if e.code == code]
    assert roles.count("fails") >= 1 and roles.count("fails") == roles.count("fix")


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "images"

# The user-written service the SI309 example names in its pyproject.toml.
NARROW_SERVICE = """\
from staticimg.astro.service import BaseLocalService
from staticimg.astro.types import ImageError


class NarrowService(BaseLocalService):
    def validate_options(self, options, config):
        if (options.get("width") or 0) > 1000:
            raise ImageError("TooWide", "images wider than 1000 px are refused")
        return super().validate_options(options, config)

    def transform(self, data, transform, config):
        return data, "jpg"
"""
# Codes that only the image stage reports (the others are found by planning).
IMAGE_STAGE = ("SI3", "SI209")


def image_files(folder: Path) -> None:
    """The files the image examples name (see the introduction of the Images section)."""
    Image.linear_gradient("L").resize((64, 48)).convert("RGB").save(folder / "hero.jpg")
    (folder / "notes.png").write_text("these are notes, not a picture\n")
    whole = (folder / "hero.jpg").read_bytes()
    (folder / "broken.jpg").write_bytes(whole[: len(whole) // 2])
    (folder / "huge.png").write_bytes((FIXTURES / "bomb.png").read_bytes())
    (folder / "spinner.gif").write_bytes((FIXTURES / "animated.gif").read_bytes())
    (folder / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 32"><rect width="64" '
        'height="32"/></svg>'
    )
    locked = folder / "locked.jpg"
    locked.write_bytes(whole)
    locked.chmod(0)


def reported(example: Example, tmp_path: Path) -> list[str]:
    target = tmp_path / FILE_FOR[example.language]
    target.parent.mkdir(parents=True, exist_ok=True)
    if not (tmp_path / "pyproject.toml").exists():
        (tmp_path / "pyproject.toml").write_text("[tool.staticimg]\njobs = 1\n")
    if example.code == "SI309":
        (tmp_path / "app" / "narrow.py").write_text(NARROW_SERVICE)
        with (tmp_path / "pyproject.toml").open("a") as pyproject:
            pyproject.write('[tool.staticimg.image]\nservice = "app.narrow:NarrowService"\n')
    target.write_bytes(example.text.encode(example.encoding))
    config, problems = load_config(tmp_path)
    if not example.code.startswith(IMAGE_STAGE):
        plan = make_plan(config, config_diagnostics=problems)
        return [d.code for d in plan.diagnostics]
    image_files(target.parent)
    return [d.code for d in build(config, config_diagnostics=problems).diagnostics]


@pytest.mark.parametrize("example", examples(), ids=lambda e: f"{e.code}-{e.language}-{e.role}")
def test_example(example: Example, tmp_path: Path) -> None:
    if example.code == "SI307" and example.role == "fails" and os.geteuid() == 0:
        pytest.skip("root reads a file whatever its mode; tests/compiler/images covers SI307")
    if example.needs == "server":
        pytest.skip("needs an HTTP server: tests/compiler/images/test_remote.py runs this case")
    codes = reported(example, tmp_path)
    if example.role == "fails":
        assert example.code in codes
    else:
        assert codes == []
