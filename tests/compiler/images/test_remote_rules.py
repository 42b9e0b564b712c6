"""Remote sources without a network: Astro's matching truth tables, URL normalisation, the
address rules, HTTP freshness, the configuration keys and the hints."""

from __future__ import annotations

from email.utils import formatdate
from pathlib import Path

import pytest

from staticimg.compiler.config import Config, RemotePattern, load_config
from staticimg.compiler.images.remote import (
    RemoteURL,
    freshness,
    is_allowed,
    is_public_address,
    match_hostname,
    match_pathname,
    match_pattern,
    match_port,
    match_protocol,
    parse_url,
    refusal,
)
from staticimg.compiler.images.sources import SourceProblem, is_remote, resolve_src

# The URLs of Astro's T/units/remote-pattern.test.ts (url5, a data: URL, is not fetched here:
# `src` refuses the data: scheme at planning, SI205).
URL1 = parse_url("https://docs.astro.build/en/getting-started")
URL2 = parse_url("http://preview.docs.astro.build:8080/")
URL3 = parse_url("https://astro.build/")
URL4 = parse_url("https://example.co/")


def url(text: str) -> RemoteURL:
    return parse_url(text)


# --------------------------------------------------------------------------------------------
# Astro's truth tables (reference/astro.md §5.1)


@pytest.mark.parametrize(("protocol", "expected"), [(None, True), ("http", False), ("https", True)])
def test_match_protocol(protocol: str | None, expected: bool) -> None:
    assert match_protocol(URL1, protocol) is expected


@pytest.mark.parametrize(
    ("target", "port", "expected"), [(URL1, None, True), (URL1, "", True), (URL2, "8080", True)]
)
def test_match_port(target: RemoteURL, port: str | None, expected: bool) -> None:
    assert match_port(target, port) is expected


def test_match_port_refuses_another_port() -> None:
    assert match_port(URL2, "8081") is False
    assert match_port(URL1, "8080") is False


@pytest.mark.parametrize(
    ("hostname", "expected"), [("astro.build", False), ("docs.astro.build", True)]
)
def test_match_hostname_without_wildcards(hostname: str, expected: bool) -> None:
    assert match_hostname(URL1, hostname, allow_wildcard=False) is expected


@pytest.mark.parametrize(
    ("target", "hostname", "expected"),
    [
        (URL1, "**.astro.build", True),
        (URL1, "*.astro.build", True),
        (URL2, "*.astro.build", False),
        (URL2, "**.astro.build", True),
        (URL3, "astro.build", True),
        (URL3, "*.astro.build", False),
        (URL3, "**.astro.build", False),
        (url("http://localhost/"), "*.astro.build", False),
        (url("http://example/"), "*.victim.com", False),
    ],
)
def test_match_hostname_with_wildcards(target: RemoteURL, hostname: str, expected: bool) -> None:
    assert match_hostname(target, hostname, allow_wildcard=True) is expected


@pytest.mark.parametrize(
    ("target", "pathname", "expected"),
    [
        (URL1, "/", False),
        (URL1, "/en/getting-started", True),
        (URL1, "/en/**", True),
        (URL1, "/en/*", True),
        (URL1, "/**", True),
        (URL2, "/**", False),
        (URL2, "/*", False),
        (url("https://docs.astro.build/evil/en/getting-started"), "/en/*", False),
    ],
)
def test_match_pathname(target: RemoteURL, pathname: str, expected: bool) -> None:
    assert match_pathname(target, pathname, allow_wildcard=True) is expected


def test_an_empty_pattern_matches_everything() -> None:
    assert match_pattern(URL1, RemotePattern()) is True


def test_hostname_must_match_exactly_without_a_wildcard() -> None:
    assert match_pattern(URL4, RemotePattern(protocol="https", hostname="example.com")) is False


@pytest.mark.parametrize(
    ("target", "expected"), [(URL1, True), (URL2, True), (URL3, False), (URL4, False)]
)
def test_is_allowed_with_two_patterns(target: RemoteURL, expected: bool) -> None:
    patterns = (
        RemotePattern(protocol="https", hostname="**.astro.build", pathname="/en/**"),
        RemotePattern(protocol="http", hostname="preview.docs.astro.build", port="8080"),
    )
    assert is_allowed(target, (), patterns) is expected


# More from Astro's T/units/assets/getImage.test.ts.


@pytest.mark.parametrize(
    ("text", "pattern", "expected"),
    [
        ("https://cdn.example.com/a.jpg", RemotePattern(hostname="**.example.com"), True),
        ("https://a.b.c.example.com/a.jpg", RemotePattern(hostname="**.example.com"), True),
        (
            "https://cdn.example.com/other/photo.jpg",
            RemotePattern(hostname="cdn.example.com", pathname="/images/**"),
            False,
        ),
        (
            "http://example.com/a.jpg",
            RemotePattern(hostname="example.com", protocol="https"),
            False,
        ),
    ],
)
def test_get_image_cases(text: str, pattern: RemotePattern, expected: bool) -> None:
    assert is_allowed(url(text), (), (pattern,)) is expected


def test_domains_are_exact_hosts_with_any_scheme_port_and_path() -> None:
    domains = ("images.example.com",)
    assert is_allowed(url("https://images.example.com/a/b.jpg"), domains, ())
    assert is_allowed(url("http://images.example.com:8080/x.png"), domains, ())
    assert not is_allowed(url("https://cdn.images.example.com/a.jpg"), domains, ())
    assert not is_allowed(url("https://example.com/a.jpg"), domains, ())
    assert not is_allowed(url("https://images.example.com.evil.net/a.jpg"), domains, ())


def test_nothing_is_allowed_by_default() -> None:
    assert not is_allowed(URL1, (), ())


# --------------------------------------------------------------------------------------------
# Where we go beyond Astro


def test_dot_segments_cannot_climb_out_of_an_allowed_path() -> None:
    pattern = (RemotePattern(hostname="cdn.example.com", pathname="/images/**"),)
    for text in (
        "https://cdn.example.com/images/../secret/key.jpg",
        "https://cdn.example.com/images/%2e%2e/secret/key.jpg",
        "https://cdn.example.com/images/.%2E/secret/key.jpg",
    ):
        parsed = url(text)
        assert parsed.path == "/secret/key.jpg"
        assert not is_allowed(parsed, (), pattern)
    assert url("https://cdn.example.com/images/./a/../b.jpg").path == "/images/b.jpg"


def test_an_explicit_default_port_matches_a_url_without_one() -> None:
    """Astro compares `url.port`, empty for the default, so port "443" never matched."""
    assert match_port(url("https://example.com/a.jpg"), "443")
    assert not match_port(url("https://example.com/a.jpg"), "80")
    assert url("https://example.com:443/a.jpg") == url("https://example.com/a.jpg")


def test_urls_are_normalised() -> None:
    parsed = url("HTTPS://Images.EXAMPLE.com/Photos/Harbour%20at%20dawn.jpg?w=800#top")
    assert parsed == RemoteURL(
        "https", "images.example.com", None, "/Photos/Harbour%20at%20dawn.jpg", "w=800"
    )
    assert parsed.display == "https://images.example.com/Photos/Harbour at dawn.jpg"
    assert url("http://example.com").path == "/"
    assert url("https://bücher.example/a b.jpg").text == "https://xn--bcher-kva.example/a%20b.jpg"
    assert url("http://[::1]:8080/a.jpg").netloc == "[::1]:8080"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("https://allowed.example\\@evil.example/a.jpg", "backslash"),
        ("https://user:secret@example.com/a.jpg", "user name or password"),
        ("ftp://example.com/a.jpg", "ftp scheme"),
        ("https:///a.jpg", "no valid host name"),
        ("https://example.com:99999/a.jpg", "not a valid URL"),
        ("https://exa mple.com/a.jpg", "no valid host name"),
        ("https://example.com/a\n.jpg", "control character"),
    ],
)
def test_malformed_urls_are_refused(text: str, why: str) -> None:
    with pytest.raises(SourceProblem) as caught:
        parse_url(text)
    assert caught.value.code == "SI306" and why in caught.value.message


def test_is_remote_ignores_case() -> None:
    assert is_remote("HTTPS://example.com/a.jpg") and is_remote("http://x/a.jpg")
    assert not is_remote("images/https.jpg") and not is_remote("/http/a.jpg")


def test_resolve_src_refuses_a_disallowed_url_and_hands_an_allowed_one_to_remote(
    tmp_path: Path,
) -> None:
    config = Config(tmp_path, domains=("example.com",))
    with pytest.raises(SourceProblem) as caught:
        resolve_src("https://other.example/a.jpg", "page.py", config)
    assert caught.value.code == "SI306"
    with pytest.raises(ValueError, match="fetch it with"):
        resolve_src("https://example.com/a.jpg", "page.py", config)


# --------------------------------------------------------------------------------------------
# Addresses


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1",
        "169.254.169.254", "100.64.0.1", "0.0.0.0", "255.255.255.255", "224.0.0.1",
        "198.18.0.1", "192.0.2.1", "240.0.0.1",
        "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "2001:db8::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a00:1",
        "64:ff9b:1::1", "2002:7f00:1::1", "2002:a00:1::1",
    ],
)  # fmt: skip
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.215.14", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses(address: str) -> None:
    assert is_public_address(address)


# --------------------------------------------------------------------------------------------
# Freshness

NOW = 1_800_000_000.0


def http_date(seconds: float) -> str:
    return formatdate(seconds, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "ttl"),
    [
        ({"cache-control": "max-age=600"}, 600),
        ({"cache-control": "public, max-age=600", "age": "100"}, 500),
        ({"cache-control": "max-age=60", "age": "100"}, 0),
        ({"cache-control": 'max-age="600"'}, 600),
        ({"cache-control": "max-age=soon"}, 0),
        ({"cache-control": "no-cache, max-age=600"}, 0),
        ({"cache-control": "max-age=600", "expires": http_date(NOW + 60)}, 600),
        ({"expires": http_date(NOW + 60)}, 60),
        ({"expires": http_date(NOW + 60), "date": http_date(NOW - 30)}, 90),
        ({"expires": "0"}, 0),
        ({"expires": http_date(NOW - 60)}, 0),
        ({"last-modified": http_date(NOW - 1000)}, 100),
        ({"last-modified": http_date(NOW - 10_000_000)}, 86_400),
        ({"etag": '"x"'}, 0),
        ({}, 0),
    ],
)
def test_freshness_lifetime(headers: dict[str, str], ttl: float) -> None:
    fresh = freshness(headers, NOW)
    assert fresh.expires == pytest.approx(NOW + ttl)
    assert fresh.keep_validators and not fresh.must_revalidate


def test_no_store_is_stale_at_once_and_forgets_the_validators() -> None:
    fresh = freshness({"cache-control": "no-store, max-age=600"}, NOW)
    assert fresh.expires == NOW and not fresh.keep_validators


def test_must_revalidate_is_remembered() -> None:
    fresh = freshness({"cache-control": "max-age=60, Must-Revalidate"}, NOW)
    assert fresh.must_revalidate and fresh.expires == NOW + 60


# --------------------------------------------------------------------------------------------
# Configuration


def load(tmp_path: Path, text: str) -> tuple[Config, list[str]]:
    (tmp_path / "pyproject.toml").write_text("[tool.staticimg]\n" + text)
    config, problems = load_config(tmp_path)
    return config, [f"{p.code} {p.message}" for p in problems]


def test_the_remote_defaults() -> None:
    config = Config(Path("/"))
    assert config.domains == () and config.remote_patterns == ()
    assert config.allow_private_hosts == ()
    assert config.remote_max_bytes == 50_000_000
    assert config.remote_timeout == 30.0
    assert config.remote_max_redirects == 5


def test_the_remote_keys_are_read(tmp_path: Path) -> None:
    config, problems = load(
        tmp_path,
        'domains = ["Images.Example.com", "bücher.example"]\n'
        "remote_patterns = [\n"
        '  { protocol = "HTTPS", hostname = "**.Example.org", pathname = "/img/**" },\n'
        '  { hostname = "localhost", port = 8080 },\n'
        "]\n"
        'allow_private_hosts = ["127.0.0.1", "10.0.0.0/8", "Intranet.local", "[::1]"]\n'
        "remote_max_bytes = 1000\nremote-timeout = 2.5\nremote_max_redirects = 0\n",
    )
    assert problems == []
    assert config.domains == ("images.example.com", "xn--bcher-kva.example")
    assert config.remote_patterns == (
        RemotePattern(protocol="https", hostname="**.example.org", pathname="/img/**"),
        RemotePattern(hostname="localhost", port="8080"),
    )
    assert config.allow_private_hosts == ("127.0.0.1", "10.0.0.0/8", "intranet.local", "::1")
    assert (config.remote_max_bytes, config.remote_timeout, config.remote_max_redirects) == (
        1000,
        2.5,
        0,
    )


def test_patterns_as_an_array_of_tables(tmp_path: Path) -> None:
    config, problems = load(
        tmp_path,
        '[[tool.staticimg.remote_patterns]]\nhostname = "cdn.example.com"\n'
        '[[tool.staticimg.remote_patterns]]\nprotocol = "http"\n',
    )
    assert problems == []
    assert config.remote_patterns == (
        RemotePattern(hostname="cdn.example.com"),
        RemotePattern(protocol="http"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'remote_patterns = [{ protocol = "ftp" }]',
            '`protocol` must be "http", "https" or "data"',
        ),
        (
            'remote_patterns = [{ protocol = "https:" }]',
            '`protocol` must be "http", "https" or "data"',
        ),
        ('remote_patterns = [{ hostname = "cdn.*.example.com" }]', "is not a host name"),
        ('remote_patterns = [{ hostname = "https://example.com" }]', "is not a host name"),
        ('remote_patterns = [{ pathname = "images/**" }]', "must start with `/`"),
        ('remote_patterns = [{ pathname = "/images/*.jpg" }]', "a wildcard only at the end"),
        ('remote_patterns = [{ port = "http" }]', "must be a port number"),
        ('remote_patterns = [{ host = "example.com" }]', "unknown key `host`"),
        ("remote_patterns = [{ port = true }]", "`port` must be a string"),
        ('remote_patterns = "example.com"', "must be a list of tables"),
        ('domains = ["*.example.com"]', "`domains` takes exact host names"),
        ('domains = ["https://example.com"]', "`domains` takes exact host names"),
        ('allow_private_hosts = ["10.0.0.0/33"]', "`allow_private_hosts` takes host names"),
        ("remote_timeout = 0", "`remote_timeout` must be greater than 0"),
        ('remote_timeout = "30"', "`remote_timeout` in [tool.staticimg] must be a number ≥ 0"),
        ("remote_max_bytes = 0", "`remote_max_bytes` must be greater than 0"),
    ],
)
def test_bad_remote_settings_are_si001(tmp_path: Path, text: str, message: str) -> None:
    config, problems = load(tmp_path, text + "\n")
    assert len(problems) == 1 and problems[0].startswith("SI001")
    assert message in problems[0]
    assert config.remote_patterns == ()  # a bad pattern allows nothing
    assert config.remote_timeout == 30.0 and config.remote_max_bytes == 50_000_000


def test_a_bad_pattern_is_dropped_and_the_good_ones_kept(tmp_path: Path) -> None:
    config, problems = load(
        tmp_path, 'remote_patterns = [{ hostname = "a.*.com" }, { hostname = "ok.example" }]\n'
    )
    assert len(problems) == 1
    assert config.remote_patterns == (RemotePattern(hostname="ok.example"),)


# --------------------------------------------------------------------------------------------
# The hint shows the configuration to add


def test_the_hint_shows_the_exact_configuration(tmp_path: Path) -> None:
    problem = refusal("http://cdn.example.com:8080/a/b/c.jpg?w=1", Config(tmp_path))
    assert problem is not None and problem.code == "SI306"
    assert problem.hint == (
        'To fetch it, allow it in [tool.staticimg] in pyproject.toml: domains = ["cdn.example.com"]'
        " (every path on that host), or only this folder: remote_patterns = "
        '[{ protocol = "http", hostname = "cdn.example.com", port = "8080", pathname = "/a/b/**" }]'
        ". See docs/security.md."
    )


def test_the_hint_copied_into_pyproject_allows_the_url(tmp_path: Path) -> None:
    src = "https://images.example.org/photos/2024/harbour.jpg"
    problem = refusal(src, Config(tmp_path, domains=("example.com",)))
    assert problem is not None and problem.hint is not None
    domains = problem.hint.split("pyproject.toml: ", 1)[1].split(" (every path", 1)[0]
    patterns = problem.hint.split("only this folder: ", 1)[1].split(". See", 1)[0]
    for setting in (domains, patterns):
        config, problems = load(tmp_path, setting + "\n")
        assert problems == []
        assert refusal(src, config) is None
