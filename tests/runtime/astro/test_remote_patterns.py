"""`is_remote_allowed`: Astro's isRemoteAllowed on strings, data: URLs included (§5.1)."""

from __future__ import annotations

import pytest

from staticimg.remote_patterns import RemotePattern, RemoteURLError, is_remote_allowed, parse_url

PATTERNS = (
    RemotePattern(protocol="https", hostname="**.astro.build", pathname="/en/**"),
    RemotePattern(protocol="http", hostname="preview.docs.astro.build", port="8080"),
)
URL5 = "data:text/plain;base64,SGVsbG8sIFdvcmxkIQ=="


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://docs.astro.build/en/getting-started", True),
        ("http://preview.docs.astro.build:8080/", True),
        ("https://astro.build/", False),
        ("https://example.co/", False),
        (URL5, False),
    ],
)
def test_astros_is_remote_allowed_table(url: str, expected: bool) -> None:
    assert is_remote_allowed(url, (), PATTERNS) is expected


@pytest.mark.parametrize(
    ("src", "domains", "patterns", "expected"),
    [
        ("https://Cdn.Example.com/a.jpg", ("cdn.example.com",), (), True),
        ("http://cdn.example.com:9000/x", ("CDN.example.com",), (), True),
        ("https://cdn.example.com.evil/a.jpg", ("cdn.example.com",), (), False),
        ("/penguin3.jpg", ("cdn.example.com",), (RemotePattern(),), False),
        ("../a.jpg", (), (RemotePattern(),), False),
        ("//cdn.example.com/a.jpg", ("cdn.example.com",), (), False),
        ("ftp://cdn.example.com/a.jpg", ("cdn.example.com",), (), False),
        ("https://cdn.example.com\\@evil.example/a.jpg", ("cdn.example.com",), (), False),
        ("https://user:pw@cdn.example.com/a.jpg", ("cdn.example.com",), (), False),
        (URL5, ("cdn.example.com",), (), False),
        (URL5, (), (RemotePattern(protocol="data"),), True),
        (URL5, (), (RemotePattern(),), True),
        ("DATA:image/png;base64,AA", (), (RemotePattern(protocol="data"),), True),
        (URL5, (), (RemotePattern(protocol="data", hostname="x.example"),), False),
        (URL5, (), (RemotePattern(protocol="data", port="80"),), False),
        (URL5, (), (RemotePattern(protocol="https"),), False),
        ("https://x.example/a.jpg", (), (RemotePattern(protocol="data"),), False),
    ],
)
def test_is_remote_allowed(
    src: str, domains: tuple[str, ...], patterns: tuple[RemotePattern, ...], expected: bool
) -> None:
    assert is_remote_allowed(src, domains, patterns) is expected


def test_parse_url_errors_are_value_errors_with_a_reason() -> None:
    with pytest.raises(RemoteURLError) as caught:
        parse_url("ftp://x/a")
    assert isinstance(caught.value, ValueError) and "ftp scheme" in caught.value.why
    assert parse_url("HTTPS://Example.COM:443/a/../b.jpg").text == "https://example.com/b.jpg"


def test_compiler_names_still_importable() -> None:
    from staticimg.astro.types import RemotePattern as FromTypes
    from staticimg.compiler.config import RemotePattern as FromConfig
    from staticimg.compiler.images.remote import match_pattern
    from staticimg.compiler.images.remote import parse_url as compiler_parse

    assert FromTypes is FromConfig is RemotePattern
    assert match_pattern(compiler_parse("https://a.example/x"), RemotePattern()) is True
