"""The runtime never imports the compiler, libcst, Pillow or the other build-time packages."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

BUILD_TIME_MODULES = ("staticimg.compiler", "libcst", "PIL", "jinja2", "click", "pathspec")
# Each allowed exception: the one runtime module that may import a package, because only
# apps that use that integration import the module.
ALLOWED = {
    "jinja2": {"jinja.py"},  # the Jinja integration
    "markdown_it": {"astro/markdown.py"},  # Astro-style Markdown rendering
}
CHECKED = (*BUILD_TIME_MODULES, "markdown_it")


def _loaded_after(code: str) -> list[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(m for m in sys.modules)))\n"
    output = subprocess.run(
        [sys.executable, "-I", "-c", script], capture_output=True, text=True, check=True
    ).stdout
    loaded: list[str] = json.loads(output)
    return loaded


def _leaked(loaded: list[str]) -> list[str]:
    return [m for m in loaded if m.split(".")[0] in CHECKED or m.startswith(BUILD_TIME_MODULES)]


def test_importing_staticimg_loads_no_build_time_module() -> None:
    loaded = _loaded_after("import staticimg")
    assert "staticimg" in loaded
    assert _leaked(loaded) == []


def test_importing_staticimg_astro_is_cheap() -> None:
    loaded = _loaded_after("import staticimg.astro")
    assert _leaked(loaded) == []
    # lazy: nothing but the package itself until a name is used
    assert [m for m in loaded if m.startswith("staticimg.astro.")] == []


def test_rendering_astro_images_loads_no_build_time_module() -> None:
    code = (
        "from staticimg.astro import Image, Picture, ImageMetadata, get_image\n"
        "src = ImageMetadata('/a.jpg', 100, 50, 'jpg')\n"
        "Image(src=src, alt='a', layout='constrained', width=50)\n"
        "Picture(src=src, alt='a', formats=['avif', 'webp'])\n"
        "get_image('https://x.example/a.jpg', width=10, height=10)\n"
    )
    assert _leaked(_loaded_after(code)) == []


_IMPORT = re.compile(r"^\s*(?:import|from)\s+([A-Za-z_][\w.]*)", re.MULTILINE)


@pytest.mark.parametrize(
    "source",
    sorted(
        p.relative_to(Path(__file__).parents[2] / "runtime").as_posix()
        for p in (Path(__file__).parents[2] / "runtime").glob("**/*.py")
    ),
)
def test_runtime_sources_do_not_name_build_time_packages(source: str) -> None:
    text = (Path(__file__).parents[2] / "runtime" / source).read_text()
    for module in _IMPORT.findall(text):
        top = module.split(".")[0]
        if module.startswith(BUILD_TIME_MODULES) or top in CHECKED:
            assert source in ALLOWED.get(top, set()), f"{source} imports {module}"


def test_the_source_glob_sees_subpackages() -> None:
    runtime = Path(__file__).parents[2] / "runtime"
    assert (runtime / "astro" / "resolve.py") in set(runtime.glob("**/*.py"))
