"""Which remote image URLs a project allows: Astro's `isRemoteAllowed` (reference: astro.md §5.1).

Pure URL parsing and matching, shared by the runtime (which decides whether a remote `src` is
optimised through the `/_image` endpoint or left as it is), the endpoint (which refuses what
is not allowed) and the compiler's downloader (which checks every redirect hop too). Nothing
here touches the network.

`domains` are exact host names (any scheme, port and path); `remote_patterns` entries match
protocol, hostname, port and pathname, each part matching anything when left unset, with
Astro's wildcards: `*.example.com` (one more label), `**.example.com` (any number),
`/images/*` (one more segment), `/images/**` (any number).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, unquote, urlsplit

__all__ = [
    "RemotePattern",
    "RemoteURL",
    "RemoteURLError",
    "is_allowed",
    "is_http_url",
    "is_remote_allowed",
    "match_hostname",
    "match_pathname",
    "match_pattern",
    "match_port",
    "match_protocol",
    "normalise_host",
    "parse_url",
]


@dataclass(frozen=True, slots=True)
class RemotePattern:
    """One entry of `remote_patterns`: Astro's `image.remotePatterns`. An unset part matches
    anything; see docs/configuration.md#remote-images for the wildcards."""

    protocol: str | None = None  # "http", "https" or (runtime, `data:` URLs) "data"
    hostname: str | None = None  # exact, `*.example.com` (one label) or `**.example.com` (any)
    port: str | None = None  # "8080"; None or "" matches any port
    pathname: str | None = None  # exact, `/images/*` (one segment) or `/images/**` (any)


class RemoteURLError(ValueError):
    """`text` is not a URL staticimg will match or request; `why` completes "the URL …"."""

    def __init__(self, text: str, why: str) -> None:
        super().__init__(f"remote image {text} is refused: it {why}")
        self.text = text
        self.why = why


@dataclass(frozen=True, slots=True)
class RemoteURL:
    """An http(s) (or `data:`) URL, normalised the way it is matched and requested.

    `host` is lower case ASCII (IDNA), IPv6 without brackets; `port` is None for the scheme's
    default; `path` has its dot segments resolved (so `/images/../secret` cannot pass a
    `/images/**` pattern and then reach `/secret`) and is percent-encoded. A `data:` URL has
    an empty host, no port, and its whole body as `path`, as WHATWG URLs have."""

    scheme: str  # "http", "https" or "data"
    host: str
    port: int | None
    path: str
    query: str

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else (443 if self.scheme == "https" else 80)

    @property
    def port_string(self) -> str:
        """What the WHATWG URL API calls `port`: empty for the scheme's default."""
        return "" if self.port is None else str(self.port)

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def target(self) -> str:
        """The request target: path and query."""
        return self.path + (f"?{self.query}" if self.query else "")

    @property
    def text(self) -> str:
        if self.scheme == "data":
            return f"data:{self.path}"
        return f"{self.scheme}://{self.netloc}{self.target}"

    @property
    def display(self) -> str:
        """The URL without its query, path decoded: what messages and output names use."""
        if self.scheme == "data":
            return "data:" + self.path.split(",", 1)[0] + ",…"
        return f"{self.scheme}://{self.netloc}{unquote(self.path)}"


# A host name as it may appear in a URL: letters, digits, hyphens, dots (and the IDNA form of
# anything else). Ports, schemes, paths, `@` and wildcards are not part of it.
_HOST_LABELS: Final = re.compile(
    r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$"
)
_PATH_SAFE: Final = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE: Final = _PATH_SAFE + "?"
_DOT: Final = frozenset({".", "%2e"})
_DOT_DOT: Final = frozenset({"..", ".%2e", "%2e.", "%2e%2e"})
_FORBIDDEN_IN_URL: Final = re.compile(r"[\x00-\x1f\x7f\\]")


def normalise_host(host: str) -> str | None:
    """A host name or IP literal in the form URLs are compared in: lower case, IDNA (ASCII),
    IPv6 without brackets. None when it is not a host name at all."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    return ascii_host if _HOST_LABELS.match(ascii_host) else None


def parse_url(text: str) -> RemoteURL:
    """`text` as an http(s) URL. Raises RemoteURLError when it is not one staticimg requests:
    another scheme, credentials, no host, a bad port, backslashes or control characters."""
    if _FORBIDDEN_IN_URL.search(text):
        # Backslashes and control characters are read differently by different URL parsers
        # (Astro's CVE-2025-58179 allowlist bypass): refuse rather than guess which is meant.
        raise RemoteURLError(text, "contains a backslash or a control character")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise RemoteURLError(text, f"is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise RemoteURLError(
            text, f"uses the {scheme or 'no'} scheme; only http and https are fetched"
        )
    if parts.username is not None or parts.password is not None:
        raise RemoteURLError(
            text, "carries a user name or password; staticimg sends no credentials"
        )
    host = normalise_host(parts.hostname or "")
    if not host:
        raise RemoteURLError(text, "has no valid host name")
    if port is not None and port == (443 if scheme == "https" else 80):
        port = None
    if port == 0:
        raise RemoteURLError(text, "names port 0")
    return RemoteURL(scheme, host, port, _normal_path(parts.path), quote(parts.query, _QUERY_SAFE))


def _normal_path(path: str) -> str:
    """RFC 3986 dot-segment removal, also for percent-encoded dots (as WHATWG URLs do)."""
    segments: list[str] = []
    parts = quote(path, _PATH_SAFE).split("/")[1:] if path else [""]
    for index, segment in enumerate(parts):
        last = index == len(parts) - 1
        lowered = segment.lower()
        if lowered in _DOT_DOT:
            if segments:
                segments.pop()
            if last:
                segments.append("")
        elif lowered in _DOT:
            if last:
                segments.append("")
        else:
            segments.append(segment)
    return "/" + "/".join(segments)


# --------------------------------------------------------------------------------------------
# Matching (Astro's IH/remote.ts: each part matches when the pattern leaves it unset)


def match_protocol(url: RemoteURL, protocol: str | None) -> bool:
    return not protocol or url.scheme == protocol.lower().removesuffix(":")


def match_port(url: RemoteURL, port: str | None) -> bool:
    """Astro compares `url.port`, which is empty for the default port, so a pattern with
    port "443" never matched https://host/. Here an explicit default port matches it too."""
    if not port:
        return True
    if port == url.port_string:
        return True
    return url.scheme in ("http", "https") and port == str(url.effective_port)


def match_hostname(url: RemoteURL, hostname: str | None, allow_wildcard: bool = True) -> bool:
    if not hostname:
        return True
    if not url.host:
        return False  # a data: URL has no host: only patterns without one allow it
    if not allow_wildcard or not hostname.startswith("*"):
        return url.host == hostname
    if hostname.startswith("**."):
        suffix = hostname[2:]  # ".example.com"
        return url.host.endswith(suffix) and url.host != suffix[1:]
    if hostname.startswith("*."):
        suffix = hostname[1:]
        if not url.host.endswith(suffix) or url.host == suffix[1:]:
            return False
        return "." not in url.host[: -len(suffix)]
    return False


def match_pathname(url: RemoteURL, pathname: str | None, allow_wildcard: bool = True) -> bool:
    if not pathname:
        return True
    if not allow_wildcard or not pathname.endswith("*"):
        return url.path == pathname
    if pathname.endswith("/**"):
        prefix = pathname[:-2]  # "/en/"
        return url.path.startswith(prefix) and url.path != prefix
    if pathname.endswith("/*"):
        prefix = pathname[:-1]
        if not url.path.startswith(prefix):
            return False
        rest = url.path[len(prefix) :]
        return bool(rest) and "/" not in rest
    return False


def match_pattern(url: RemoteURL, pattern: RemotePattern) -> bool:
    return (
        match_protocol(url, pattern.protocol)
        and match_hostname(url, pattern.hostname, allow_wildcard=True)
        and match_port(url, pattern.port)
        and match_pathname(url, pattern.pathname, allow_wildcard=True)
    )


def is_allowed(
    url: RemoteURL, domains: Iterable[str], remote_patterns: Iterable[RemotePattern]
) -> bool:
    """Astro's `isRemoteAllowed` on a parsed URL: an exact domain (any scheme, port and path)
    or a pattern."""
    return any(bool(url.host) and url.host == domain for domain in domains) or any(
        match_pattern(url, pattern) for pattern in remote_patterns
    )


def is_http_url(src: str) -> bool:
    """Whether `src` is an http(s) URL (any case: `HTTPS://` too) rather than a path."""
    return src[:8].lower().startswith(("http://", "https://"))


def is_remote_allowed(src: str, domains: Iterable[str], patterns: Iterable[RemotePattern]) -> bool:
    """Astro's `isRemoteAllowed(src, {domains, remotePatterns})` on a string.

    False for anything that is not an absolute http, https or `data:` URL (a `/`-rooted path
    is never an "allowed remote"), for URLs staticimg refuses to parse (backslashes, control
    characters, credentials: stricter than Astro, which is what let CVE-2025-58179 through),
    and for `data:` URLs unless a pattern without a hostname allows them (`protocol = "data"`
    or an empty pattern): `data:` URLs have no host, so no `domains` entry can match them.
    """
    if src[:5].lower() == "data:":
        if _FORBIDDEN_IN_URL.search(src):
            return False
        url = RemoteURL("data", "", None, src[5:], "")
        return any(match_pattern(url, pattern) for pattern in patterns)
    try:
        url = parse_url(src)
    except RemoteURLError:
        return False
    domain_set = {normalise_host(domain) or domain for domain in domains}
    return is_allowed(url, domain_set, patterns)
