"""The `/_image` endpoint's logic, free of any web framework (reference: astro.md §5.4).

`ImageEndpoint.handle(method, query_string)` answers one request with a `Response`; the WSGI
and ASGI apps (wsgi.py, asgi.py) only translate. What it guarantees:

* **Only what is allowed is read.** A remote `href` must pass the allowlist (`domains`,
  `remote_patterns`) and is fetched by the build's own fetcher (private addresses refused,
  redirects re-checked, size and time limits, its disk cache); a local one must stay inside
  the static root (href.py). Refusals are 403 and say nothing about the file system.
* **Bounded work.** At most `max_concurrent` transforms run at once (one per core); at most
  `max_queue` more wait for a turn; any request beyond that gets 503 with Retry-After at
  once instead of piling up memory. The WSGI and ASGI apps also cap the requests being
  handled at once, of any kind (`max_requests`), before any work or thread is spent.
  Requested sizes are capped (`max_dimension`, and `max_image_pixels` for width × height)
  before any image is opened.
* **Work is done once.** Results are kept in `<cache_dir>/endpoint/`, keyed by the source's
  content digest, the transform, the service and the encoder libraries' versions, written
  atomically; identical requests arriving together wait for the first one's result. A cached
  answer reads neither the source image's pixels nor, when its file is unchanged, its bytes.
* **Errors are short texts**: no traceback, no path. Unexpected failures are logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import unquote_to_bytes

import orjson

from staticimg.astro.service import (
    DEFAULT_HASH_PROPS,
    SHARP_FIT,
    infer_source_format,
    sniff_format,
)
from staticimg.astro.types import ImageError, ImageService, ImageSettings, Options
from staticimg.compiler.atomic import write_bytes
from staticimg.compiler.config import Config
from staticimg.compiler.endpoint.href import Forbidden, href_kind, local_file
from staticimg.compiler.images.encode import encoder_identity
from staticimg.compiler.services import load_build_service
from staticimg.compiler.services.pillow import (
    MIME_TYPES,
    OUTPUT_FORMATS,
    crop_focus,
    plan_transform,
)
from staticimg.remote_patterns import is_remote_allowed

__all__ = [
    "CACHE_FOLDER",
    "DEFAULT_MAX_DIMENSION",
    "ImageEndpoint",
    "Response",
]

CACHE_FOLDER: Final = "endpoint"
DEFAULT_MAX_DIMENSION: Final = 8192
MAX_QUERY: Final = 64 * 1024  # longer query strings (huge data: URIs) get 414
CACHE_CONTROL: Final = "public, max-age=31536000, immutable"
# Bump when the cache's file layout or what a key covers changes.
_CACHE_VERSION: Final = b"staticimg-endpoint 1"
_DIGEST_SIZE: Final = 16
_STAT_MEMO: Final = 1024  # local files whose digest is remembered by (size, mtime, inode)
_MIME_TYPES: Final = {**MIME_TYPES, "tiff": "image/tiff"}  # the formats `sniff_format` knows
_SVG_POLICY: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"

log = logging.getLogger("staticimg.endpoint")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


class _Refused(Exception):
    """A request answered with an error status and a short text."""

    def __init__(self, status: int, text: str, headers: list[tuple[str, str]] | None = None):
        super().__init__(text)
        self.status = status
        self.text = text
        self.headers = headers or []


_REASONS: Final[Mapping[int, str]] = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

# The service's ImageError names → status, for errors the image (not the server) causes.
_IMAGE_ERRORS: Final[Mapping[str, tuple[int, str]]] = {
    "InvalidParameter": (400, "Bad Request"),
    "UnsupportedImageConversion": (403, "Cannot convert non-SVG source to SVG format"),
    "UnsupportedImageFormat": (415, "Unsupported image format"),
    "NoImageMetadata": (415, "The source is not an image this server reads"),
    "CouldNotTransformImage": (422, "The source image is damaged or truncated"),
    "ImageTooLarge": (422, "The source image has too many pixels"),
}


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class _Limiter:
    """At most `slots` holders at once and `queue` more waiting (each at most `timeout`
    seconds); anyone else is turned away at once (503)."""

    def __init__(self, slots: int, queue: int, timeout: float) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._admitted = 0
        self._limit = slots + queue
        self._timeout = timeout

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._lock:
            if self._admitted >= self._limit:
                raise _busy()
            self._admitted += 1
        try:
            if not self._slots.acquire(timeout=self._timeout):
                raise _busy()
            try:
                yield
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._admitted -= 1


def _busy() -> _Refused:
    return _Refused(
        503, "The server is busy transforming images; retry shortly", [("Retry-After", "1")]
    )


class _KeyLocks:
    """One lock per key while anyone holds or waits for it: identical requests arriving
    together do the work once (the others then find it in the cache)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._lock:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


@dataclass(frozen=True, slots=True)
class _Source:
    digest: str
    read: Callable[[], bytes]  # called inside a transform slot: memory is bounded there
    # A local file may change between hashing and reading: its bytes are hashed again and
    # the result is cached only if they are the ones the key was made from.
    verify: bool = False


class ImageEndpoint:
    """Answers `/_image` requests for one project (`config`), with the service its
    `[tool.staticimg.image]` names (which must transform images itself: "pillow",
    "passthrough" or a user's local service).

    `service` replaces the configured one (tests, or an application that built its own);
    `max_concurrent` defaults to the number of cores, `max_queue` to four times that, and
    `max_requests` (requests in progress, cache hits and refusals included) to eight times
    their sum."""

    def __init__(
        self,
        config: Config,
        *,
        service: ImageService | None = None,
        max_dimension: int = DEFAULT_MAX_DIMENSION,
        max_concurrent: int | None = None,
        max_queue: int | None = None,
        max_requests: int | None = None,
        queue_timeout: float = 30.0,
    ) -> None:
        self.config = config
        self.settings: ImageSettings = config.image
        if service is None:
            service = load_build_service(self.settings, max_pixels=config.max_image_pixels)
        if not callable(getattr(service, "transform", None)):
            raise ValueError(
                f"the `/_image` endpoint needs an image service that transforms images; "
                f"{self.settings.service!r} only builds URLs (a CDN). Use "
                f'service = "pillow" in [tool.staticimg.image], or no endpoint at all.'
            )
        self.service = service
        self.max_dimension = max_dimension
        slots = max_concurrent or _cores()
        queue = 4 * slots if max_queue is None else max_queue
        self._limiter = _Limiter(slots, queue, queue_timeout)
        self._requests = threading.BoundedSemaphore(max_requests or 8 * (slots + queue))
        self._in_flight = _KeyLocks()
        self._fetching = _KeyLocks()
        self._digests: OrderedDict[tuple[str, int, int, int], str] = OrderedDict()
        self._digests_lock = threading.Lock()
        self.cache_dir = config.cache_path / CACHE_FOLDER
        self.static_root = config.root / config.static_root
        self._identity = orjson.dumps(
            {
                "service": self.settings.service,
                "service_class": f"{type(service).__module__}.{type(service).__qualname__}",
                "service_config": self.settings.service_config,
                "encoder": encoder_identity(),
            },
            option=orjson.OPT_SORT_KEYS,
            default=str,
        )

    # ----------------------------------------------------------------------------------------
    # The request

    @contextmanager
    def admission(self) -> Iterator[bool]:
        """Whether one more request may be handled now (never waits); hold it while handling.
        When False, answer `busy()`: the apps check this before spending a thread."""
        admitted = self._requests.acquire(blocking=False)
        try:
            yield admitted
        finally:
            if admitted:
                self._requests.release()

    @staticmethod
    def busy() -> Response:
        refused = _busy()
        return _text(refused.status, refused.text, refused.headers)

    def handle(
        self, method: str, query_string: str, *, if_none_match: str | None = None
    ) -> Response:
        """Answer one request. Never raises: every failure is an HTTP status."""
        try:
            if method not in ("GET", "HEAD"):
                raise _Refused(405, "Only GET and HEAD are allowed", [("Allow", "GET, HEAD")])
            status, headers, body = self._serve(query_string)
        except _Refused as refused:
            return _text(refused.status, refused.text, refused.headers)
        except Exception:
            log.exception("/_image failed on %s", query_string[:200])
            return _text(500, "Internal Server Error")
        etag = dict(headers)["ETag"]
        if if_none_match is not None and _etag_matches(if_none_match, etag):
            kept = [(k, v) for k, v in headers if k in ("ETag", "Cache-Control")]
            return Response(304, kept)
        return Response(status, headers, b"" if method == "HEAD" else body)

    def _serve(self, query_string: str) -> tuple[int, list[tuple[str, str]], bytes]:
        if len(query_string) > MAX_QUERY:
            raise _Refused(414, "The query string is too long")
        options = self._options(query_string)
        href = str(options["src"])
        wants_svg = str(options.get("format") or "").lower() == "svg"
        if wants_svg and infer_source_format(href) != "svg":
            raise _Refused(403, "Cannot convert non-SVG source to SVG format")
        source = self._source(href)
        key = self._key(source.digest, options)
        cached = self._cached(key)
        if cached is None:
            with self._in_flight.hold(key):
                cached = self._cached(key)
                if cached is None:
                    cached = self._transform(source, options, wants_svg, key)
        fmt, etag, body = cached
        headers = [
            ("Content-Type", _MIME_TYPES.get(fmt, "application/octet-stream")),
            ("Content-Length", str(len(body))),
            ("Cache-Control", CACHE_CONTROL),
            ("ETag", etag),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if fmt == "svg":
            # An SVG opened on its own runs its scripts; served from here, it may not.
            headers.append(("Content-Security-Policy", _SVG_POLICY))
        return 200, headers, body

    def _options(self, query_string: str) -> Options:
        """Astro's `parseURL`, then the checks that need no image: 400 for what cannot be
        served (bad numbers, unknown format, fit or position, too large)."""
        try:
            options = self.service.parse_url(  # type: ignore[attr-defined]
                f"{self.settings.endpoint}?{query_string}", self.settings
            )
        except ImageError as error:
            raise _Refused(400, error.message) from None
        if options is None or not options.get("src"):
            raise _Refused(400, "Missing `href`: request /_image?href=<image>&w=<width>")
        options = dict(options)
        fmt = options.get("format")
        if fmt and str(fmt).lower() not in (*OUTPUT_FORMATS, "svg"):
            raise _Refused(400, f"Unknown format {fmt!r}")
        fit = options.get("fit")
        if fit and fit not in SHARP_FIT:
            raise _Refused(400, f"Unknown fit {fit!r}")
        try:
            crop_focus(options.get("position"))
            # Quality, background and the sizes' types, as the Pillow service reads them.
            plan_transform({**options, "format": None}, (1, 1))
        except ImageError as error:
            raise _Refused(400, error.message) from None
        width, height = options.get("width"), options.get("height")
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, int | float) and value > self.max_dimension:
                raise _Refused(400, f"`{name}` is above the limit of {self.max_dimension} px")
        if (
            isinstance(width, int | float)
            and isinstance(height, int | float)
            and width * height > self.config.max_image_pixels
        ):
            raise _Refused(400, "The requested size has too many pixels")
        return options

    # ----------------------------------------------------------------------------------------
    # Sources

    def _source(self, href: str) -> _Source:
        kind = href_kind(href)
        if kind == "data":
            return self._data_source(href)
        if kind == "remote":
            return self._remote_source(href)
        try:
            path = local_file(href, self.static_root)
        except Forbidden:
            raise _Refused(403, "Forbidden") from None
        return self._local_source(path)

    def _data_source(self, href: str) -> _Source:
        if not is_remote_allowed(href, self.settings.domains, self.settings.remote_patterns):
            raise _Refused(403, "Forbidden")
        header, comma, payload = href[5:].partition(",")
        if not comma:
            raise _Refused(400, "Malformed data: URI")
        try:
            if header.lower().endswith(";base64"):
                data = base64.b64decode(unquote_to_bytes(payload), validate=False)
            else:
                data = unquote_to_bytes(payload)
        except (binascii.Error, ValueError):
            raise _Refused(400, "Malformed data: URI") from None
        return _Source(_digest(data), lambda: data)

    def _remote_source(self, href: str) -> _Source:
        from staticimg.compiler.images.remote import fetch
        from staticimg.compiler.images.sources import SourceProblem

        if not is_remote_allowed(href, self.settings.domains, self.settings.remote_patterns):
            raise _Refused(403, "Forbidden")
        try:
            with self._fetching.hold(href):  # one download per URL at a time
                fetched = fetch(href, self.config)
        except SourceProblem as problem:
            if problem.code == "SI306":  # refused: a redirect elsewhere, a private address
                raise _Refused(403, "Forbidden") from None
            if problem.code in ("SI303", "SI304", "SI305"):
                raise _Refused(415, "The remote file is not an image this server reads") from None
            raise _Refused(404, "Not Found") from None
        path, digest = fetched.source.path, fetched.source.digest

        def read() -> bytes:
            try:
                return path.read_bytes()
            except OSError:  # replaced by a newer download meanwhile
                raise _Refused(404, "Not Found") from None

        return _Source(digest, read)

    def _local_source(self, path: Path) -> _Source:
        try:
            stat = path.stat()
        except OSError:
            raise _Refused(404, "Not Found") from None
        if not path.is_file():
            raise _Refused(404, "Not Found")
        if stat.st_size > self.config.remote_max_bytes:
            raise _Refused(422, "The source image is too large")
        memo = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
        with self._digests_lock:
            digest = self._digests.get(memo)
            if digest is not None:
                self._digests.move_to_end(memo)
        if digest is None:
            try:
                with path.open("rb") as file:
                    digest = hashlib.file_digest(
                        file, lambda: hashlib.blake2b(digest_size=_DIGEST_SIZE)
                    ).hexdigest()
            except OSError:
                raise _Refused(404, "Not Found") from None
            with self._digests_lock:
                self._digests[memo] = digest
                while len(self._digests) > _STAT_MEMO:
                    self._digests.popitem(last=False)

        def read() -> bytes:
            try:
                return path.read_bytes()
            except OSError:
                raise _Refused(404, "Not Found") from None

        return _Source(digest, read, verify=True)

    # ----------------------------------------------------------------------------------------
    # Transform and cache

    def _transform(
        self, source: _Source, options: Options, wants_svg: bool, key: str
    ) -> tuple[str, str, bytes]:
        with self._limiter.slot():
            data = source.read()
            if wants_svg and sniff_format(data) != "svg":
                raise _Refused(403, "Cannot convert non-SVG source to SVG format")
            try:
                body, _ = self.service.transform(  # type: ignore[attr-defined]
                    data, options, self.settings
                )
            except ImageError as error:
                status, text = _IMAGE_ERRORS.get(error.name, (422, "The image cannot be served"))
                if status == 400:
                    text = error.message
                raise _Refused(status, text) from None
        fmt = sniff_format(bytes(body))
        if fmt is None:
            # Whatever a service says (a passthrough service repeats `f`), only bytes that
            # are an image are served as one.
            raise _Refused(415, "The source is not an image this server reads")
        etag = f'"{_digest(body)}"'
        if source.verify and _digest(data) != source.digest:
            return fmt, etag, bytes(body)  # the file changed meanwhile: do not cache
        try:
            write_bytes(
                self._cache_file(key),
                b"\n".join((_CACHE_VERSION, fmt.encode(), etag.encode(), body)),
            )
        except OSError as error:  # a read-only cache folder costs speed, not correctness
            log.warning("/_image: cannot write the cache: %s", error.strerror or error)
        return fmt, etag, bytes(body)

    def _key(self, digest: str, options: Options) -> str:
        hashed = getattr(self.service, "properties_to_hash", DEFAULT_HASH_PROPS)
        transform = {name: options.get(name) for name in hashed if name != "src"}
        text = orjson.dumps(
            {"source": digest, "transform": transform},
            option=orjson.OPT_SORT_KEYS,
            default=str,
        )
        return hashlib.blake2b(
            _CACHE_VERSION + self._identity + text, digest_size=_DIGEST_SIZE
        ).hexdigest()

    def _cache_file(self, key: str) -> Path:
        return self.cache_dir / key[:2] / key

    def _cached(self, key: str) -> tuple[str, str, bytes] | None:
        try:
            content = self._cache_file(key).read_bytes()
        except OSError:
            return None
        parts = content.split(b"\n", 3)
        if len(parts) != 4 or parts[0] != _CACHE_VERSION:
            return None
        return parts[1].decode(), parts[2].decode(), parts[3]


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=_DIGEST_SIZE).hexdigest()


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [item.strip() for item in header.split(",")]
    return any(c == "*" or c.removeprefix("W/") == etag for c in candidates)


def _text(status: int, text: str, headers: list[tuple[str, str]] | None = None) -> Response:
    body = (text or _REASONS.get(status, "Error")).encode() + b"\n"
    return Response(
        status,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            *(headers or []),
        ],
        body,
    )
