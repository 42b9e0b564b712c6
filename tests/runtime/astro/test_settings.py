"""`[tool.staticimg.image]`: parsing with problems reported, configure, pyproject lookup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from staticimg.astro import settings as astro_settings
from staticimg.astro.settings import configure, image_settings, settings_from_table
from staticimg.astro.types import ImageSettings, RemotePattern


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    astro_settings.reset()
    yield
    astro_settings.reset()


def test_defaults() -> None:
    settings, problems = settings_from_table({}, {})
    assert settings == ImageSettings() and problems == []
    assert settings.service == "pillow" and settings.endpoint == "/_image"
    assert settings.layout == "none" and settings.responsive_styles is False


def test_every_key_in_astros_spelling() -> None:
    settings, problems = settings_from_table(
        {
            "service": {"entrypoint": "imgix", "config": {"domain": "d.imgix.net"}},
            "endpoint": {"route": "/img/"},
            "layout": "fullWidth",
            "objectFit": "Contain",
            "objectPosition": "right   top",
            "breakpoints": [1200, 400, 800, 400],
            "responsiveStyles": True,
            "remotePatterns": [{"protocol": "data"}],
        },
        {"domains": ["Images.Example.COM"], "remote_patterns": [{"hostname": "x.example"}]},
    )
    assert problems == []
    assert settings == ImageSettings(
        service="imgix",
        service_config={"domain": "d.imgix.net"},
        endpoint="/img",
        layout="full-width",
        object_fit="contain",
        object_position="right top",
        breakpoints=(400, 800, 1200),
        responsive_styles=True,
        domains=("images.example.com",),
        remote_patterns=(RemotePattern(protocol="data"),),  # the image table's wins
    )


def test_snake_and_kebab_spellings() -> None:
    settings, problems = settings_from_table(
        {"object-fit": "cover", "responsive_styles": True, "service_config": {"a": 1}},
        {"remote-patterns": [{"hostname": "**.Example.org", "port": 8080}]},
    )
    assert problems == []
    assert settings.object_fit == "cover" and settings.responsive_styles
    assert settings.service_config == {"a": 1}
    assert settings.remote_patterns == (RemotePattern(hostname="**.example.org", port="8080"),)


@pytest.mark.parametrize(
    ("table", "key", "fragment"),
    [
        ({"layout": "responsive"}, "layout", "constrained"),
        ({"objectFit": "stretch"}, "objectFit", "object_fit"),
        ({"breakpoints": [640, -1]}, "breakpoints", "positive"),
        ({"breakpoints": "640"}, "breakpoints", "list"),
        ({"responsive_styles": "yes"}, "responsive_styles", "true or false"),
        ({"endpoint": "_image"}, "endpoint", "path"),
        ({"service": 3}, "service", "pillow"),
        ({"domains": ["*.example.com"]}, "domains", "exact host names"),
        ({"remote_patterns": [{"protocol": "ftp"}]}, "remote_patterns", "protocol"),
        ({"remote_patterns": [{"host": "x"}]}, "remote_patterns", "unknown key"),
        ({"remote_patterns": [{"hostname": "a.*.com"}]}, "remote_patterns", "hostname"),
        ({"layuot": "fixed"}, "layuot", 'did you mean "layout"'),
    ],
)
def test_problems_keep_the_default(table: dict[str, object], key: str, fragment: str) -> None:
    settings, problems = settings_from_table(table, {})
    assert len(problems) == 1
    assert problems[0][0] == key and fragment in problems[0][1]
    assert settings == ImageSettings()


def test_read_from_the_nearest_pyproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.staticimg]\ndomains = ["cdn.example.com"]\n'
        '[tool.staticimg.image]\nlayout = "constrained"\nbreakpoints = [300, "bad"]\n'
        'service = "passthrough"\n'
    )
    (tmp_path / "app" / "pages").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "app" / "pages")
    settings = image_settings()
    assert settings.layout == "constrained" and settings.service == "passthrough"
    assert settings.domains == ("cdn.example.com",)
    assert settings.breakpoints == ()  # lenient: a bad value is the default
    assert image_settings() is settings  # cached


def test_broken_pyproject_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.staticimg\n")
    monkeypatch.chdir(tmp_path)
    assert image_settings() == ImageSettings()


def test_configure_and_reset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    configure(layout="fixed", objectFit="fill")
    assert image_settings().layout == "fixed" and image_settings().object_fit == "fill"
    configure(responsive_styles=True)  # applied on top of what is in force
    assert image_settings().layout == "fixed" and image_settings().responsive_styles
    configure(ImageSettings(service="cdn"), endpoint="/i")
    assert image_settings() == ImageSettings(service="cdn", endpoint="/i")
    with pytest.raises(ValueError, match="layout"):
        configure(layout="sideways")
    astro_settings.reset()
    assert image_settings() == ImageSettings()
