"""What an href names (Astro's `isRemotePath`, hardened) and where a local one may lead."""

from __future__ import annotations

from pathlib import Path

import pytest

from staticimg.compiler.endpoint.href import Forbidden, href_kind, is_dot_segment, local_file


@pytest.mark.parametrize(
    ("href", "kind"),
    [
        ("/photo.jpg", "local"),
        ("/img/a b.jpg", "local"),
        ("/@scope/x.png", "local"),
        ("C:/boot.ini", "local"),  # a drive letter, not a scheme: refused as a path
        ("../x.png", "local"),
        ("data:image/png;base64,AAAA", "data"),
        ("DATA:image/svg+xml,<svg/>", "data"),
        ("https://example.com/x.png", "remote"),
        ("HTTP://example.com/x.png", "remote"),
        ("//evil.host/x.svg", "remote"),
        ("\\\\evil.host\\x.png", "remote"),
        ("/\\evil.host/x.png", "remote"),
        ("%2F%2Fevil.host/x.png", "remote"),
        ("%252F%252Fevil.host/x.png", "remote"),  # decoded twice
        ("%5C%5Cevil.host/x.png", "remote"),
        ("ftp://evil.host/x", "remote"),
        ("javascript:alert(1)", "remote"),
        ("user@evil.host/x.png", "remote"),
        ("file:///etc/passwd", "local"),  # Astro: file: is not remote; then not /-rooted
    ],
)
def test_href_kind(href: str, kind: str) -> None:
    assert href_kind(href) == kind


@pytest.fixture
def static(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    (root / "img").mkdir(parents=True)
    (root / "img" / "a.jpg").write_bytes(b"x")
    (tmp_path / "outside.jpg").write_bytes(b"secret")
    (root / "out").symlink_to(tmp_path / "outside.jpg")
    (root / "inside").symlink_to(root / "img" / "a.jpg")
    return root


@pytest.mark.parametrize(
    ("href", "relative"),
    [
        ("/img/a.jpg", "img/a.jpg"),
        ("/img/a.jpg?v=2#top", "img/a.jpg"),
        ("/img/a%2Ejpg", "img/a.jpg"),
        ("/inside", "img/a.jpg"),  # a symlink that stays inside is fine
        ("/img/missing.jpg", "img/missing.jpg"),  # existence is checked later (404)
    ],
)
def test_local_file(static: Path, href: str, relative: str) -> None:
    assert local_file(href, static) == (static / relative).resolve()


@pytest.mark.parametrize(
    "href",
    [
        "/../outside.jpg",
        "/img/../../outside.jpg",
        "/%2e%2e/outside.jpg",
        "/%252e%252e/outside.jpg",
        "/img/..%2f..%2foutside.jpg",
        "/img/..%5c..%5coutside.jpg",
        "/img\\..\\..\\outside.jpg",
        "/./img/a.jpg",
        "/..../outside.jpg",
        "/img./a.jpg",
        "/out",  # a symlink that leads out
        "/img/a.jpg%00.png",
        "/img/%0aa.jpg",
        "/..%c0%af../outside.jpg",
        "/C:/boot.ini",
        "C:/boot.ini",
        "img/a.jpg",
        "//img/a.jpg",
        "/",
        "file:///etc/passwd",
    ],
)
def test_local_file_refuses(static: Path, href: str) -> None:
    with pytest.raises(Forbidden):
        local_file(href, static)


@pytest.mark.parametrize(
    ("segment", "dot"),
    [
        (".", True),
        ("..", True),
        ("....", True),
        ("a.", True),
        ("a ", True),
        ("a.jpg", False),
        ("", False),
        (".hidden", False),
        ("a..b", False),
    ],
)
def test_dot_segments(segment: str, dot: bool) -> None:
    assert is_dot_segment(segment) == dot
