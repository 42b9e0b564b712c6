"""`[tool.staticimg]`: defaults that need no configuration, and located errors for bad keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from staticimg.compiler.config import Config, JinjaSettings, find_root, load_config
from staticimg.compiler.diagnostics import Span


def write(root: Path, text: str) -> None:
    (root / "pyproject.toml").write_text(text)


def test_no_pyproject_means_defaults(tmp_path: Path) -> None:
    config, problems = load_config(tmp_path)
    assert problems == []
    assert config == Config(tmp_path.resolve())


def test_values_are_read(tmp_path: Path) -> None:
    write(
        tmp_path,
        '[tool.staticimg]\nsource_roots = ["src", "templates"]\nexclude = "legacy/"\n'
        '[tool.staticimg.jinja]\nblock_start_string = "<%"\nblock_end_string = "%>"\n'
        'trim-blocks = true\nextensions = ["jinja2.ext.do"]\n',
    )
    config, problems = load_config(tmp_path)
    assert problems == []
    assert config.source_roots == ("src", "templates")
    assert config.exclude == ("legacy/",)
    assert config.jinja == JinjaSettings(
        extensions=("jinja2.ext.do",),
        block_start_string="<%",
        block_end_string="%>",
        trim_blocks=True,
    )


def test_unknown_key_suggests_the_closest_and_points_at_it(tmp_path: Path) -> None:
    write(tmp_path, '[project]\nname = "x"\n\n[tool.staticimg]\nsource_root = ["src"]\n')
    config, (problem,) = load_config(tmp_path)
    assert problem.code == "SI001"
    assert problem.file == "pyproject.toml"
    assert problem.message == "unknown key `source_root` in [tool.staticimg]"
    assert problem.hint == 'Did you mean "source_roots"?'
    assert problem.span == Span(5, 1, 5, 12)
    assert config.source_roots == (".",)  # the default stands in


def test_wrong_type_is_reported_and_default_kept(tmp_path: Path) -> None:
    write(tmp_path, "[tool.staticimg.jinja]\n  trim_blocks = 1\n")
    config, (problem,) = load_config(tmp_path)
    assert problem.code == "SI001"
    assert problem.message == "`trim_blocks` in [tool.staticimg.jinja] must be true or false, not 1"
    assert problem.span == Span(2, 3, 2, 14)
    assert config.jinja.trim_blocks is False


def test_bad_jinja_extension_is_reported(tmp_path: Path) -> None:
    write(tmp_path, '[tool.staticimg.jinja]\nextensions = ["no.such.Extension"]\n')
    config, (problem,) = load_config(tmp_path)
    assert problem.code == "SI001"
    assert "cannot set up Jinja" in problem.message
    assert config.jinja.extensions == ()


def test_project_local_extension_imports(tmp_path: Path) -> None:
    (tmp_path / "myext.py").write_text(
        "from jinja2.ext import Extension\nclass Shout(Extension):\n    tags = {'shout'}\n"
    )
    write(tmp_path, '[tool.staticimg.jinja]\nextensions = ["myext.Shout"]\n')
    config, problems = load_config(tmp_path)
    assert problems == []
    assert config.jinja.environment().extensions


def test_unparseable_toml_is_located(tmp_path: Path) -> None:
    write(tmp_path, "[tool.staticimg]\nsource_roots = [\n")
    config, (problem,) = load_config(tmp_path)
    assert problem.code == "SI002"
    assert problem.span is not None and problem.span.line >= 2
    assert config == Config(tmp_path.resolve())


def test_find_root_walks_up_to_pyproject(tmp_path: Path) -> None:
    write(tmp_path, "")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_root(nested) == tmp_path.resolve()


def test_find_root_without_pyproject_is_the_start(tmp_path: Path) -> None:
    assert find_root(tmp_path) in {tmp_path.resolve(), *tmp_path.resolve().parents}


@pytest.mark.parametrize("value", ["0", "-5"])
def test_max_image_pixels_must_be_positive(tmp_path: Path, value: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.staticimg]\nmax_image_pixels = {value}\n")
    config, problems = load_config(tmp_path)
    assert [p.code for p in problems] == ["SI001"]
    assert config.max_image_pixels == 100_000_000  # the default stays in force


def test_image_table_is_read_with_the_allowlist_copied_in(tmp_path: Path) -> None:
    write(
        tmp_path,
        '[tool.staticimg]\ndomains = ["images.example.com"]\n'
        '[tool.staticimg.image]\nservice = "imgix"\nservice_config = { domain = "a.imgix.net" }\n'
        'layout = "fullWidth"\nbreakpoints = [480, 960]\nresponsiveStyles = true\n',
    )
    config, problems = load_config(tmp_path)
    assert problems == []
    image = config.image
    assert (image.service, dict(image.service_config)) == ("imgix", {"domain": "a.imgix.net"})
    assert (image.layout, image.breakpoints, image.responsive_styles) == (
        "full-width",
        (480, 960),
        True,
    )
    assert image.domains == ("images.example.com",)


def test_bad_image_settings_are_located_si001_and_defaults_stand(tmp_path: Path) -> None:
    write(tmp_path, '[tool.staticimg.image]\nlayout = "fluid"\nbreakpoints = [0]\n')
    config, problems = load_config(tmp_path)
    assert [p.code for p in problems] == ["SI001", "SI001"]
    assert all(p.file == "pyproject.toml" and p.span is not None for p in problems)
    assert (config.image.layout, config.image.breakpoints) == ("none", ())
