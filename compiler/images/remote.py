"""Remote `src` URLs: who may be fetched, how, and the cache that keeps the downloads.

A remote image becomes a local file in `<cache_dir>/remote/` that the rest of the image stage
treats like any other source: its content digest names the outputs and the URL's last path
segment gives their stem. Nothing is fetched unless the configuration allows it
(docs/security.md):

* **Allowlist** (`domains`, `remote_patterns`): Astro's `isRemoteAllowed` semantics
  (reference: astro.md §5.1), checked on the URL as written and again on every redirect.
* **Addresses**: http and https only; a host that resolves to a loopback, private,
  link-local or otherwise non-public address is refused unless `allow_private_hosts` names
  it. The connection goes to the very address that was checked (no second DNS lookup a
  rebinding attacker could answer differently), with the `Host` header and TLS server name
  of the URL.
* **Limits**: `remote_max_redirects` hops, `remote_max_bytes` bytes, `remote_timeout` seconds
  for the whole fetch, and `max_image_pixels` read from the image header before any decode.
  The body must be an image whatever its Content-Type says.

The cache keeps, per URL, the body (named by its digest) and a JSON sidecar with the HTTP
validators and an expiry computed from Cache-Control / Expires. A fresh entry is used without
a request; a stale one is revalidated with If-None-Match / If-Modified-Since (304 renews it);
when the origin is down (no connection, timeout, 5xx, 408, 429) the stale copy is used with
warning SI352, unless the origin said `must-revalidate`.

Downloads run in the main process, a few at a time in threads (they wait on the network).
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import ipaddress
import os
import re
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import urljoin

import orjson

from staticimg.compiler.atomic import TEMP_MARKER, write_bytes
from staticimg.compiler.config import Config
from staticimg.compiler.images.sources import DIGEST_SIZE, SourceFile, SourceProblem
from staticimg.remote_patterns import (
    RemoteURL,
    RemoteURLError,
    is_allowed,
    match_hostname,
    match_pathname,
    match_pattern,
    match_port,
    match_protocol,
)
from staticimg.remote_patterns import parse_url as _parse_url

__all__ = [
    "FOLDER",
    "Fetched",
    "RemoteURL",
    "fetch",
    "fetch_all",
    "freshness",
    "is_allowed",
    "is_public_address",
    "match_hostname",
    "match_pathname",
    "match_pattern",
    "match_port",
    "match_protocol",
    "parse_url",
    "refusal",
]

FOLDER: Final = "remote"
SIDECAR_VERSION: Final = 1
REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
# Answers that mean "not now" rather than "not here": the cached copy may stand in.
_TRANSIENT: Final = frozenset({408, 429})
# Without Cache-Control or Expires, a response with Last-Modified stays fresh for a tenth of
# its age (RFC 9111 §4.2.2, as browsers and http-cache-semantics do), at most a day.
HEURISTIC_FRACTION: Final = 0.1
HEURISTIC_MAX_SECONDS: Final = 86_400
MAX_THREADS: Final = 8
_CHUNK: Final = 64 * 1024
_USER_AGENT: Final = "staticimg (build-time image compiler)"
_ALLOW_HINT_DOCS: Final = "docs/security.md"


# --------------------------------------------------------------------------------------------
# URLs: parsing and Astro's matching live in the runtime (staticimg.remote_patterns), which the
# `/_image` endpoint and `get_image` share; here they only gain the build's diagnostic.


def parse_url(text: str) -> RemoteURL:
    """Raises SourceProblem SI306 when `text` is not an http(s) URL staticimg will request."""
    try:
        return _parse_url(text)
    except RemoteURLError as error:
        raise _refused(text, error.why) from None


def refusal(src: str, config: Config) -> SourceProblem | None:
    """Why `src` may not be fetched under the allowlist (SI306), or None when it may."""
    try:
        url = parse_url(src)
    except SourceProblem as problem:
        return problem
    if is_allowed(url, config.domains, config.remote_patterns):
        return None
    return _not_allowed(url, config, src)


def _not_allowed(
    url: RemoteURL, config: Config, written: str, via: str | None = None
) -> SourceProblem:
    if via is None:
        message = f"remote image {written} is not allowed: {url.host} is not in `domains` and no"
        message += " `remote_patterns` entry matches"
    else:
        message = (
            f"the image at {via} redirected to {url.text}, which is not an allowed remote location"
        )
    return SourceProblem("SI306", message, _allow_hint(url, config))


def _allow_hint(url: RemoteURL, config: Config) -> str:
    domains = ", ".join(f'"{d}"' for d in (*config.domains, url.host))
    parent = url.path.rsplit("/", 1)[0]
    pattern = [f'protocol = "{url.scheme}"', f'hostname = "{url.host}"']
    if url.port is not None:
        pattern.append(f'port = "{url.port}"')
    pattern.append(f'pathname = "{parent}/**"')
    table = "{ " + ", ".join(pattern) + " }"
    patterns = (
        f"add {table} to `remote_patterns`"
        if config.remote_patterns
        else (f"remote_patterns = [{table}]")
    )
    return (
        f"To fetch it, allow it in [tool.staticimg] in pyproject.toml: domains = [{domains}] "
        f"(every path on that host), or only this folder: {patterns}. See {_ALLOW_HINT_DOCS}."
    )


def _refused(text: str, why: str) -> SourceProblem:
    return SourceProblem(
        "SI306",
        f"remote image {text} is refused: it {why}",
        "Give an http:// or https:// URL with a host name, or download the image into the "
        "project and give its path.",
    )


# --------------------------------------------------------------------------------------------
# Addresses

Resolver = Callable[[str, int], list[str]]


def _system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the order the system prefers."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone
        if address not in addresses:
            addresses.append(address)
    return addresses


# Tests replace these to simulate DNS answers (a rebinding attacker, an internal name) and to
# trust a test certificate authority.
resolver: Resolver = _system_resolver
tls_context: Callable[[], ssl.SSLContext] = ssl.create_default_context

_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL: Final = ipaddress.ip_network("64:ff9b:1::/48")


def is_public_address(address: str) -> bool:
    """Whether `address` is a globally routable unicast address. Loopback, private (RFC 1918,
    unique local), link-local (cloud metadata at 169.254.169.254 included), shared (CGNAT),
    reserved, documentation, multicast and unspecified addresses are not; neither is an IPv6
    address that embeds a non-public IPv4 one (mapped, 6to4, NAT64)."""
    ip = ipaddress.ip_address(address)
    if ip.is_multicast or not ip.is_global:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(str(embedded))
    return True


def _address_kind(address: str) -> str:
    ip = ipaddress.ip_address(address)
    for kind in ("loopback", "link_local", "unspecified", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return "non-public"


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _private_allowed(url: RemoteURL, address: str, allowed: Iterable[str]) -> bool:
    ip = ipaddress.ip_address(address)
    for entry in allowed:
        if entry == url.host:
            return True
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a host name, and not this one
    return False


def _addresses(url: RemoteURL, config: Config) -> list[str]:
    """The addresses to connect to, every one checked. Raises SourceProblem (SI306) when any
    answer is non-public and not allowed (a mix of public and private answers is how DNS
    rebinding starts), `_OriginDown` when the name does not resolve."""
    if _is_address(url.host):
        addresses = [url.host]
    else:
        try:
            addresses = resolver(url.host, url.effective_port)
        except (OSError, UnicodeError) as exc:
            raise _OriginDown(f"{url.host} could not be resolved ({_describe(exc)})") from None
        if not addresses:
            raise _OriginDown(f"{url.host} did not resolve to any address")
    for address in addresses:
        if is_public_address(address) or _private_allowed(url, address, config.allow_private_hosts):
            continue
        resolved = "is" if address == url.host else f"resolves to {address},"
        listed = ", ".join(f'"{h}"' for h in (*config.allow_private_hosts, url.host))
        raise SourceProblem(
            "SI306",
            f"remote image {url.display} is refused: {url.host} {resolved} a "
            f"{_address_kind(address)} address, and staticimg fetches only from public "
            "addresses unless told otherwise",
            f"If this host is yours and meant to be reached from the build, add it to "
            f"[tool.staticimg] in pyproject.toml: allow_private_hosts = [{listed}]. "
            f"See {_ALLOW_HINT_DOCS}.",
        )
    return addresses


# --------------------------------------------------------------------------------------------
# Freshness (RFC 9111, private cache)


def _directives(headers: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in headers.get("cache-control", "").split(","):
        name, _, value = item.strip().partition("=")
        if name:
            found.setdefault(name.strip().lower(), value.strip().strip('"'))
    return found


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


@dataclass(frozen=True, slots=True)
class Freshness:
    expires: float  # epoch seconds
    must_revalidate: bool  # a stale copy may not stand in for an unreachable origin
    keep_validators: bool  # False for no-store: the next build downloads again in full


def freshness(headers: Mapping[str, str], now: float) -> Freshness:
    """When a response (header names in lower case) stops being fresh.

    `no-store` and `no-cache` make it stale at once (no-store also drops the validators, so
    the next build downloads it again); `max-age` (less any `Age`) wins over `Expires`
    (relative to the response's `Date`); without either, a tenth of the time since
    `Last-Modified`, at most a day; otherwise stale at once."""
    directives = _directives(headers)
    must_revalidate = "must-revalidate" in directives
    if "no-store" in directives:
        return Freshness(now, must_revalidate, keep_validators=False)
    date = _http_date(headers.get("date"))
    lifetime: float
    if "no-cache" in directives:
        lifetime = 0
    elif "max-age" in directives:
        raw = directives["max-age"]
        lifetime = int(raw) if raw.isdigit() else 0  # a malformed max-age means stale
    elif "expires" in headers:
        expires = _http_date(headers["expires"])
        lifetime = 0 if expires is None else expires - (date if date is not None else now)
    elif (modified := _http_date(headers.get("last-modified"))) is not None:
        age = (date if date is not None else now) - modified
        lifetime = min(HEURISTIC_MAX_SECONDS, max(0.0, age * HEURISTIC_FRACTION))
    else:
        lifetime = 0
    age_header = headers.get("age", "")
    age = int(age_header) if age_header.isdigit() else 0
    return Freshness(now + max(0.0, lifetime - age), must_revalidate, keep_validators=True)


# --------------------------------------------------------------------------------------------
# The cache

# Response headers kept in the sidecar: what freshness and revalidation need later.
_KEPT_HEADERS: Final = ("cache-control", "expires", "last-modified", "etag", "date", "age",
                        "content-type")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Entry:
    """The sidecar `<key>.json`: Astro's {expires, etag, lastModified} and what we add."""

    url: str  # the URL requested (normalised)
    chain: tuple[str, ...]  # redirect targets followed, in order
    file: str  # the body's file name in the cache folder
    digest: str
    size: int
    expires: float  # epoch seconds
    etag: str | None
    last_modified: str | None
    must_revalidate: bool
    headers: dict[str, str] = field(default_factory=dict)
    fetched: float = 0.0  # when the body was downloaded, epoch seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SIDECAR_VERSION,
            "url": self.url,
            "chain": list(self.chain),
            "file": self.file,
            "digest": self.digest,
            "size": self.size,
            "expires": round(self.expires * 1000),  # epoch ms, as Astro's sidecar
            "etag": self.etag,
            "lastModified": self.last_modified,
            "mustRevalidate": self.must_revalidate,
            "headers": self.headers,
            "fetched": round(self.fetched * 1000),
        }

    @classmethod
    def from_json(cls, data: Any) -> Entry | None:
        try:
            if data["version"] != SIDECAR_VERSION:
                return None
            entry = cls(
                url=data["url"],
                chain=tuple(_list(data["chain"])),
                file=data["file"],
                digest=data["digest"],
                size=data["size"],
                expires=data["expires"] / 1000,
                etag=data["etag"],
                last_modified=data["lastModified"],
                must_revalidate=data["mustRevalidate"],
                headers=dict(data["headers"]),
                fetched=data["fetched"] / 1000,
            )
        except (KeyError, TypeError, ValueError):
            return None  # a malformed entry is no entry: downloaded again
        texts = (entry.url, entry.file, entry.digest, *entry.chain, *entry.headers.values())
        types_ok = (
            all(isinstance(text, str) for text in texts)
            and re.fullmatch(r"[0-9a-f]+-[0-9a-f]+", entry.file) is not None
            and type(entry.size) is int
            and isinstance(entry.expires, float)
            and isinstance(entry.fetched, float)
            and all(isinstance(v, str | None) for v in (entry.etag, entry.last_modified))
            and isinstance(entry.must_revalidate, bool)
        )
        return entry if types_ok else None


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return value


@dataclass(frozen=True, slots=True)
class Fetched:
    """A remote source ready for the image stage, and why its copy may be out of date."""

    source: SourceFile
    stale: tuple[str, str] | None = None  # SI352's (message, hint) when the copy is stale


class _OriginDown(Exception):
    """The origin did not answer usefully, for now: a stale copy may stand in."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class _Response:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    chain: tuple[str, ...]
    body: Path | None = None  # a temporary file, for 200
    digest: str = ""
    size: int = 0


class RemoteCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @staticmethod
    def key(url: RemoteURL) -> str:
        return hashlib.blake2b(url.text.encode(), digest_size=DIGEST_SIZE).hexdigest()

    def load(self, url: RemoteURL) -> Entry | None:
        try:
            entry = Entry.from_json(
                orjson.loads((self.folder / f"{self.key(url)}.json").read_bytes())
            )
        except (OSError, orjson.JSONDecodeError):
            return None
        if entry is None or entry.url != url.text:
            return None
        try:
            if (self.folder / entry.file).stat().st_size != entry.size:
                return None
        except OSError:
            return None
        return entry

    def store(self, url: RemoteURL, entry: Entry, previous: Entry | None) -> None:
        write_bytes(self.folder / f"{self.key(url)}.json", orjson.dumps(entry.to_json()))
        if previous is not None and previous.file != entry.file:
            (self.folder / previous.file).unlink(missing_ok=True)

    def source(self, url: RemoteURL, entry: Entry) -> SourceFile:
        return SourceFile(self.folder / entry.file, url.display, entry.digest, entry.size)

    def temporary(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"download{TEMP_MARKER}{os.getpid()}-{secrets.token_hex(4)}"


# --------------------------------------------------------------------------------------------
# Fetching


def fetch_all(
    srcs: Iterable[str], config: Config, *, offline: bool = False
) -> dict[str, Fetched | SourceProblem]:
    """Fetch every distinct URL (a few at once: they wait on the network), each as `fetch`."""
    unique = sorted(set(srcs))
    if len(unique) <= 1:
        return {src: _fetch_or_problem(src, config, offline) for src in unique}
    with ThreadPoolExecutor(min(MAX_THREADS, len(unique)), "staticimg-remote") as pool:
        results = pool.map(lambda src: _fetch_or_problem(src, config, offline), unique)
        return dict(zip(unique, results, strict=True))


def _fetch_or_problem(src: str, config: Config, offline: bool) -> Fetched | SourceProblem:
    try:
        return fetch(src, config, offline=offline)
    except SourceProblem as problem:
        return problem


def fetch(src: str, config: Config, *, offline: bool = False) -> Fetched:
    """The local copy of `src`, downloaded or revalidated when needed. Raises SourceProblem:
    SI306 refused, SI308 download failed, SI303/SI304/SI305 not a usable image.

    `offline` uses whatever copy the cache holds, however old, and never connects (what
    `staticimg clean` needs to know the outputs)."""
    url = parse_url(src)
    if not is_allowed(url, config.domains, config.remote_patterns):
        raise _not_allowed(url, config, src)
    cache = RemoteCache(config.cache_path / FOLDER)
    entry = cache.load(url)
    now = time.time()
    if entry is not None:
        previous = url.text
        for hop in entry.chain:  # the configuration may have changed since it was stored
            target = parse_url(hop)
            if not is_allowed(target, config.domains, config.remote_patterns):
                raise _not_allowed(target, config, hop, via=previous)
            previous = hop
        if offline or now < entry.expires:
            return Fetched(cache.source(url, entry))
    if offline:
        raise SourceProblem(
            "SI308",
            f"remote image {url.display} has not been downloaded yet",
            "Run `staticimg extract` first.",
        )
    validators: dict[str, str] = {}
    if entry is not None and entry.etag:
        validators["If-None-Match"] = entry.etag
    if entry is not None and entry.last_modified:
        validators["If-Modified-Since"] = entry.last_modified
    try:
        response = _download(url, config, cache, validators)
    except _OriginDown as down:
        if entry is None:
            raise SourceProblem("SI308", f"remote image {url.display}: {down.message}",
                                _DOWN_HINT) from None  # fmt: skip
        if entry.must_revalidate:
            raise SourceProblem(
                "SI308",
                f"remote image {url.display}: {down.message}; the cached copy is stale and "
                "the origin requires revalidation (Cache-Control: must-revalidate)",
                _DOWN_HINT,
            ) from None
        age = _duration(now - entry.fetched)
        message = (
            f"remote image {url.display} could not be revalidated ({down.message}); the copy "
            f"downloaded {age} ago was used"
        )
        return Fetched(cache.source(url, entry), (message, _STALE_HINT))
    if response.status == 304 and entry is not None:
        headers = {**entry.headers, **_freshness_headers(response.headers)}
        fresh = freshness(headers, time.time())
        renewed = replace(
            entry,
            chain=response.chain,
            expires=fresh.expires,
            etag=headers.get("etag") if fresh.keep_validators else None,
            last_modified=headers.get("last-modified") if fresh.keep_validators else None,
            must_revalidate=fresh.must_revalidate,
            headers=headers,
        )
        _store(cache, url, renewed, entry)
        return Fetched(cache.source(url, renewed))
    assert response.body is not None
    try:
        _check_image(response, url, config)
        name = f"{RemoteCache.key(url)}-{response.digest}"
        try:
            response.body.replace(cache.folder / name)
        except OSError as exc:
            raise _cache_problem(cache, exc) from None
    finally:
        response.body.unlink(missing_ok=True)
    fresh = freshness(response.headers, time.time())
    kept = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
    stored = Entry(
        url=url.text,
        chain=response.chain,
        file=name,
        digest=response.digest,
        size=response.size,
        expires=fresh.expires,
        etag=response.headers.get("etag") if fresh.keep_validators else None,
        last_modified=response.headers.get("last-modified") if fresh.keep_validators else None,
        must_revalidate=fresh.must_revalidate,
        headers=kept,
        fetched=time.time(),
    )
    _store(cache, url, stored, entry)
    return Fetched(cache.source(url, stored))


_DOWN_HINT: Final = (
    "Check the URL in a browser. Slow origins: raise `remote_timeout` (seconds) in "
    "[tool.staticimg]."
)
_STALE_HINT: Final = (
    "The image was built from the cached download and may be out of date; the next build "
    "tries the origin again."
)


def _store(cache: RemoteCache, url: RemoteURL, entry: Entry, previous: Entry | None) -> None:
    try:
        cache.store(url, entry, previous)
    except OSError as exc:
        raise _cache_problem(cache, exc) from None


def _cache_problem(cache: RemoteCache, exc: OSError) -> SourceProblem:
    return SourceProblem(
        "SI308",
        f"cannot keep the download in {cache.folder}: {exc.strerror or exc}",
        "Check that the cache folder (`cache_dir`) is writable.",
    )


def _freshness_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """What a 304 brings that replaces the stored response's headers (RFC 9111 §4.3.4).
    `Date` and `Age` describe the 304 itself, so they replace the old ones even when absent."""
    updated = {k: v for k, v in headers.items() if k in _KEPT_HEADERS and k != "content-type"}
    updated.setdefault("date", "")
    updated.setdefault("age", "")
    return updated


# Pillow's decompression-bomb limit is process-wide state that `decode.probe` sets and
# restores: probes from several download threads must not interleave.
_PROBE_LOCK: Final = threading.Lock()


def _check_image(response: _Response, url: RemoteURL, config: Config) -> None:
    """The body must be an image by its bytes, whatever its Content-Type claims, and its
    header must declare at most `max_image_pixels` (read before any pixel is decoded)."""
    from staticimg.compiler.images.decode import ImageError, probe

    assert response.body is not None
    with _PROBE_LOCK:
        try:
            probe(response.body, max_pixels=config.max_image_pixels)
        except ImageError as exc:
            served = response.headers.get("content-type") or "no Content-Type"
            raise SourceProblem(
                exc.code,
                f"remote image {url.display} (served as {served}): {exc.message}",
                exc.hint,
            ) from None


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise _OriginDown(f"timed out after {self.seconds:g} s (`remote_timeout`)")
        return left


def _download(
    url: RemoteURL, config: Config, cache: RemoteCache, validators: Mapping[str, str]
) -> _Response:
    """GET `url`, following allowed redirects. Returns a 304 or a 200 with its body in a
    temporary file; raises SourceProblem or _OriginDown."""
    deadline = _Deadline(config.remote_timeout)
    current = url
    chain: list[str] = []
    for _hop in range(config.remote_max_redirects + 1):
        addresses = _addresses(current, config)
        connection, sock = _connect(current, addresses, deadline)
        try:
            try:
                connection.request("GET", current.target, headers=_request_headers(validators))
                sock.settimeout(deadline.remaining())
                answer = connection.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                raise _OriginDown(_network_error(exc, deadline)) from None
            headers = _headers(answer)
            status = answer.status
            if status in REDIRECTS:
                current = _redirect(current, headers.get("location"), url, chain, config)
                chain.append(current.text)
                continue
            if status == 304 and validators:
                return _Response(304, headers, tuple(chain))
            if status in (200, 203):
                return _body(answer, sock, headers, tuple(chain), url, config, cache, deadline)
            where = f" (redirected to {current.text})" if chain else ""
            reason = f"the server answered HTTP {status} {answer.reason}".rstrip() + where
            if status >= 500 or status in _TRANSIENT:
                raise _OriginDown(reason)
            raise SourceProblem(
                "SI308",
                f"remote image {url.display} could not be downloaded: {reason}",
                "Check the URL; a 404 means the image is not (or no longer) there.",
            )
        finally:
            connection.close()
    raise SourceProblem(
        "SI308",
        f"remote image {url.display} redirected more than {config.remote_max_redirects} times: "
        + " → ".join((url.text, *chain)),
        "Give the final URL as `src`, or raise `remote_max_redirects` in [tool.staticimg].",
    )


def _redirect(
    current: RemoteURL, location: str | None, url: RemoteURL, chain: list[str], config: Config
) -> RemoteURL:
    if not location:
        raise SourceProblem(
            "SI308",
            f"remote image {url.display}: {current.text} answered with a redirect without a "
            "Location header",
            "Give the image's final URL as `src`.",
        )
    target = parse_url(urljoin(current.text, location))
    if target.text == url.text or target.text in chain:
        loop = " → ".join((url.text, *chain, target.text))
        raise SourceProblem(
            "SI308",
            f"remote image {url.display} redirects in a loop: {loop}",
            "The server is misconfigured; give the image's final URL as `src`.",
        )
    if not is_allowed(target, config.domains, config.remote_patterns):
        raise _not_allowed(target, config, target.text, via=current.text)
    return target


def _request_headers(validators: Mapping[str, str]) -> dict[str, str]:
    return {
        "User-Agent": _USER_AGENT,
        "Accept": "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8,*/*;q=0.5",
        "Accept-Encoding": "identity",
        "Connection": "close",
        **validators,
    }


def _headers(answer: http.client.HTTPResponse) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in answer.getheaders():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _connect(
    url: RemoteURL, addresses: list[str], deadline: _Deadline
) -> tuple[http.client.HTTPConnection, socket.socket]:
    """A connection to the first checked address that answers. The URL's host name is kept
    for the Host header and for TLS (SNI and certificate checks)."""
    errors: list[str] = []
    for address in addresses:
        connection: http.client.HTTPConnection
        if url.scheme == "https":
            connection = http.client.HTTPSConnection(
                url.host, url.effective_port, timeout=deadline.remaining(), context=tls_context()
            )
        else:
            connection = http.client.HTTPConnection(
                url.host, url.effective_port, timeout=deadline.remaining()
            )
        connection._create_connection = _pinned(address)  # type: ignore[attr-defined]
        try:
            connection.connect()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            errors.append(f"{address}: {_network_error(exc, deadline)}")
            continue
        assert connection.sock is not None
        return connection, connection.sock
    raise _OriginDown("could not connect (" + "; ".join(errors) + ")")


def _pinned(address: str) -> Callable[..., socket.socket]:
    def create_connection(
        host_port: tuple[str, int], timeout: float | None = None, source: Any = None
    ) -> socket.socket:
        return socket.create_connection((address, host_port[1]), timeout, source)

    return create_connection


def _body(
    answer: http.client.HTTPResponse,
    sock: socket.socket,
    headers: dict[str, str],
    chain: tuple[str, ...],
    url: RemoteURL,
    config: Config,
    cache: RemoteCache,
    deadline: _Deadline,
) -> _Response:
    limit = config.remote_max_bytes
    length = headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large(url, f"{int(length):,} bytes", limit)
    encoding = headers.get("content-encoding", "identity").lower()
    if encoding not in ("", "identity"):
        raise SourceProblem(
            "SI308",
            f"remote image {url.display} came compressed with Content-Encoding: {encoding}, "
            "although staticimg asked for none",
            "Serve images without Content-Encoding (they are compressed already).",
        )
    try:
        temp = cache.temporary()
    except OSError as exc:
        raise _cache_problem(cache, exc) from None
    digest = hashlib.blake2b(digest_size=DIGEST_SIZE)
    size = 0
    try:
        with temp.open("xb") as out:
            while True:
                try:
                    sock.settimeout(deadline.remaining())
                    chunk = answer.read1(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise _OriginDown(_network_error(exc, deadline)) from None
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise _too_large(url, f"more than {limit:,} bytes", limit)
                digest.update(chunk)
                out.write(chunk)
                deadline.remaining()
        if answer.length:  # the connection closed before Content-Length bytes arrived
            raise _OriginDown(f"the connection closed after {size:,} of {length} bytes")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return _Response(200, headers, chain, temp, digest.hexdigest(), size)


def _too_large(url: RemoteURL, size: str, limit: int) -> SourceProblem:
    return SourceProblem(
        "SI308",
        f"remote image {url.display} is {size}, over the `remote_max_bytes` limit of "
        f"{limit:,} bytes",
        "Use a smaller image, or raise `remote_max_bytes` in [tool.staticimg] for images you "
        "trust.",
    )


def _network_error(exc: BaseException, deadline: _Deadline) -> str:
    if isinstance(exc, TimeoutError) or time.monotonic() >= deadline.end:
        return f"timed out after {deadline.seconds:g} s (`remote_timeout`)"
    return _describe(exc)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not valid: {exc.verify_message}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if exc.strerror[:1].isupper() else exc.strerror
    return str(exc) or type(exc).__name__


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
