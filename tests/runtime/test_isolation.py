"""The runtime never imports the compiler, libcst, Pillow or the other build-time packages."""

from __future__ import annotations

import json
import subprocess
import sys

BUILD_TIME_MODULES = ("staticimg.compiler", "libcst", "PIL", "jinja2", "click", "pathspec")


def test_importing_staticimg_loads_no_build_time_module() -> None:
    code = "import json, sys, staticimg\nprint(json.dumps(sorted(m for m in sys.modules)))\n"
    output = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(output)
    assert "staticimg" in loaded
    leaked = [
        m
        for m in loaded
        if m.split(".")[0] in BUILD_TIME_MODULES or m.startswith(BUILD_TIME_MODULES)
    ]
    assert leaked == []


def test_runtime_sources_do_not_name_the_compiler() -> None:
    from pathlib import Path

    import staticimg

    runtime = Path(staticimg.__file__).parent
    for source in runtime.glob("*.py"):
        text = source.read_text()
        for module in BUILD_TIME_MODULES:
            if source.name == "jinja.py" and module == "jinja2":
                continue  # the Jinja integration, imported only by apps that use Jinja
            assert f"import {module}" not in text and f"from {module}" not in text, source
