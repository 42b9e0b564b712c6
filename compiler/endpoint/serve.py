"""`staticimg serve`: a built site, the project's static files and `/_image`, for previews.

Stdlib only (wsgiref, one thread per connection). Static files are looked up under a list of
mounts, longest URL prefix first: the image output folder at `url_prefix`, the static root at
its URL, and the site folder at `/`. A path is served only if it stays inside its folder once
symlinks are resolved; `..`, backslashes, NUL and encoded tricks are refused with 403, as the
endpoint refuses them. Not a production server: put the files behind a real one (or a CDN)
and mount the endpoint in the application (docs/endpoint.md).
"""

from __future__ import annotations

import email.utils
import mimetypes
import re
import socketserver
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final
from urllib.parse import unquote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from staticimg.compiler.config import Config
from staticimg.compiler.endpoint.core import ImageEndpoint
from staticimg.compiler.endpoint.href import Forbidden, is_dot_segment
from staticimg.compiler.endpoint.wsgi import make_wsgi_app, status_line

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from staticimg.compiler.endpoint.wsgi import WSGIApp

__all__ = [
    "Mount",
    "ThreadingWSGIServer",
    "make_site_app",
    "make_static_app",
    "mounts",
    "serve",
    "static_url",
]

_CHUNK: Final = 256 * 1024
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per connection, with a backlog that absorbs a burst."""

    daemon_threads = True
    request_queue_size = 128


class _Handler(WSGIRequestHandler):
    """Logs one line per request to stderr, like `python -m http.server`."""

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{self.address_string()} - {format % args}\n")


@dataclass(frozen=True, slots=True)
class Mount:
    prefix: str  # URL path, "/" or "/static" (no trailing slash except for "/")
    folder: Path


def static_url(config: Config) -> str:
    """The URL the static root is served under: what is left of `url_prefix` once the
    output folder's place inside the static root is taken off its end ("/static" for the
    defaults, static/_staticimg served at /static/_staticimg), else "/<static_root>"."""
    output = Path(config.output_dir)
    static = Path(config.static_root)
    prefix = config.url_prefix.rstrip("/")
    if prefix.startswith("/") and output.is_relative_to(static):
        inside = output.relative_to(static).as_posix()
        if inside == ".":
            return prefix or "/"
        if prefix.endswith("/" + inside):
            return prefix[: -len(inside) - 1] or "/"
    return "/" + static.as_posix().strip("/")


def mounts(config: Config, site: Path) -> list[Mount]:
    found = [Mount(static_url(config), config.root / config.static_root), Mount("/", site)]
    if config.url_prefix.startswith("/"):
        found.append(Mount(config.url_prefix.rstrip("/") or "/", config.output_path))
    return sorted(found, key=lambda mount: len(mount.prefix), reverse=True)


def make_static_app(folders: Sequence[Mount], fallback: WSGIApp | None = None) -> WSGIApp:
    """Serve files from `folders` (GET and HEAD; index.html for folders)."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        raw = str(environ.get("PATH_INFO", "") or "/")
        try:
            path = raw.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return _plain(400, "Bad Request", start_response)
        if _suspicious(path):
            return _plain(403, "Forbidden", start_response)
        for mount in folders:
            relative = _under(path, mount.prefix)
            if relative is None:
                continue
            try:
                found = _file(mount.folder, relative)
            except Forbidden:
                return _plain(403, "Forbidden", start_response)
            if found is None:
                continue
            if method not in ("GET", "HEAD"):
                return _plain(405, "Method Not Allowed", start_response, [("Allow", "GET, HEAD")])
            return _send_file(found, method, environ, start_response)
        if fallback is not None:
            return fallback(environ, start_response)
        return _plain(404, "Not Found", start_response)

    return app


def make_site_app(config: Config, site: Path, *, endpoint: ImageEndpoint | None = None) -> WSGIApp:
    """`/_image` in front of the static files of `mounts(config, site)`."""
    return make_wsgi_app(config, fallback=make_static_app(mounts(config, site)), endpoint=endpoint)


def serve(config: Config, site: Path, host: str, port: int) -> None:
    """Serve until Ctrl-C; prints the URL (with the real port when `port` is 0)."""
    app = make_site_app(config, site)
    with make_server(host, port, app, ThreadingWSGIServer, _Handler) as server:
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{server.server_port}/"
        print(f"staticimg serve: {site} at {url} (images at {config.image.endpoint})", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("\nstaticimg serve: stopped", flush=True)


# --------------------------------------------------------------------------------------------


def _suspicious(path: str) -> bool:
    """Traversal at any decoding depth, backslashes, NUL and other control characters."""
    for _ in range(10):
        if _CONTROL.search(path) or "\\" in path:
            return True
        if any(is_dot_segment(segment) for segment in path.split("/")):
            return True
        decoded = unquote(path)
        if decoded == path:
            return False
        path = decoded
    return True


def _under(path: str, prefix: str) -> str | None:
    if prefix == "/":
        return path.lstrip("/")
    if path == prefix or path.startswith(prefix + "/"):
        return path[len(prefix) :].lstrip("/")
    return None


def _file(folder: Path, relative: str) -> Path | None:
    """The file to serve, None when there is none here; Forbidden when the path (through a
    symlink) leads out of the folder."""
    try:
        base = folder.resolve()
        candidate = (base / relative).resolve()
    except (OSError, RuntimeError):
        return None
    if not candidate.is_relative_to(base):
        raise Forbidden("outside the folder")
    if candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def _send_file(
    path: Path, method: str, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    stat = path.stat()
    etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    headers = [
        ("Content-Type", mimetypes.guess_type(path.name)[0] or "application/octet-stream"),
        ("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True)),
        ("ETag", etag),
        ("Cache-Control", "no-cache"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    if environ.get("HTTP_IF_NONE_MATCH") == etag:
        start_response(status_line(304), headers)
        return []
    start_response(status_line(200), [*headers, ("Content-Length", str(stat.st_size))])
    if method == "HEAD":
        return []
    handle = path.open("rb")
    wrapper = environ.get("wsgi.file_wrapper")
    if wrapper is not None:
        return wrapper(handle, _CHUNK)  # type: ignore[no-any-return]
    return _chunks(handle)


def _chunks(handle: IO[bytes]) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def _plain(
    status: int,
    text: str,
    start_response: StartResponse,
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    body = f"{text}\n".encode()
    start_response(
        status_line(status),
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *(extra or []),
        ],
    )
    return [body]
