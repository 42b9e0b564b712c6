"""Resolving `src`: relative, `/`-rooted, remote, escaping, missing, unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from staticimg.compiler.config import Config
from staticimg.compiler.images.sources import SourceProblem, read_source, resolve_src


@pytest.fixture
def config(tmp_path: Path) -> Config:
    root = tmp_path / "site"
    (root / "app" / "images").mkdir(parents=True)
    (root / "static" / "img").mkdir(parents=True)
    (root / "app" / "images" / "hero.jpg").write_bytes(b"jpeg bytes")
    (root / "static" / "img" / "logo.png").write_bytes(b"png bytes")
    return Config(root.resolve())


def problem(src: str, config: Config, file: str = "app/page.py") -> SourceProblem:
    with pytest.raises(SourceProblem) as caught:
        resolve_src(src, file, config)
    return caught.value


def test_relative_src_is_relative_to_the_calling_file(config: Config) -> None:
    assert resolve_src("images/hero.jpg", "app/page.py", config) == (
        config.root / "app" / "images" / "hero.jpg"
    )
    assert resolve_src("../app/images/hero.jpg", "app/page.py", config).name == "hero.jpg"


def test_slash_rooted_src_is_relative_to_the_static_root(config: Config) -> None:
    assert resolve_src("/img/logo.png", "app/deep/page.py", config) == (
        config.root / "static" / "img" / "logo.png"
    )


def test_missing_file_says_where_it_looked_and_suggests_a_close_name(config: Config) -> None:
    found = problem("images/heros.jpg", config)
    assert found.code == "SI301"
    assert "app/images/heros.jpg" in found.message
    assert found.hint == 'Did you mean "hero.jpg"?'


def test_a_folder_is_not_an_image(config: Config) -> None:
    found = problem("images", config)
    assert found.code == "SI301" and "is a folder" in found.message


@pytest.mark.parametrize("src", ["../../outside.jpg", "/../../outside.jpg", "/../../../etc/passwd"])
def test_dot_dot_cannot_leave_the_project(config: Config, src: str) -> None:
    (config.root.parent / "outside.jpg").write_bytes(b"secret")
    assert problem(src, config).code == "SI302"


def test_a_symlink_cannot_leave_the_project(config: Config) -> None:
    (config.root.parent / "outside.jpg").write_bytes(b"secret")
    (config.root / "app" / "images" / "link.jpg").symlink_to(config.root.parent / "outside.jpg")
    found = problem("images/link.jpg", config)
    assert found.code == "SI302" and "symbolic link" in found.message


def test_a_symlink_inside_the_project_is_followed(config: Config) -> None:
    (config.root / "app" / "images" / "alias.jpg").symlink_to(
        config.root / "app" / "images" / "hero.jpg"
    )
    assert resolve_src("images/alias.jpg", "app/page.py", config).name == "hero.jpg"


@pytest.mark.parametrize("src", ["https://example.com/a.jpg", "http://127.0.0.1/a.png"])
def test_remote_sources_are_refused(config: Config, src: str) -> None:
    assert problem(src, config).code == "SI306"


def test_read_source_digests_the_bytes(config: Config) -> None:
    path = config.root / "app" / "images" / "hero.jpg"
    source = read_source(path, config)
    assert source.relative == "app/images/hero.jpg"
    assert source.size == len(b"jpeg bytes") and len(source.digest) == 32
    (config.root / "copy.jpg").write_bytes(b"jpeg bytes")
    assert read_source(config.root / "copy.jpg", config).digest == source.digest


def test_an_unreadable_file_is_si307(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    path = config.root / "app" / "images" / "hero.jpg"

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(SourceProblem) as caught:
        read_source(path, config)
    assert caught.value.code == "SI307" and "Permission denied" in caught.value.message
