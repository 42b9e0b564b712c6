"""Remote `src` end to end: a real HTTP server on 127.0.0.1 (threaded, port 0) and `build()`.

The server serves images with cache headers, redirects (allowed, disallowed, loops), errors,
slow and oversized bodies and wrong content types, and counts every request, so the tests
can tell a cache hit (no request) from a revalidation (a conditional request) and a download.
"""

from __future__ import annotations

import io
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from PIL import Image

from staticimg.compiler.config import load_config
from staticimg.compiler.diagnostics import Diagnostic
from staticimg.compiler.images import remote
from staticimg.compiler.images.pipeline import Build, build, survey

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "images"
TIMEOUT = 0.5  # remote_timeout in these tests: short, so the slow cases stay fast


def jpeg(width: int = 160, height: int = 120, shade: int = 0) -> bytes:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image.paste((shade, 90, 200), (10, 10, 40, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def png(width: int = 160, height: int = 120) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 200, 30, 128)).save(out, "PNG")
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# The server


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between 16-byte pieces of the body
    length: bool = True  # send Content-Length (else the body ends when the connection closes)
    etag: str | None = None  # a matching If-None-Match gets 304
    last_modified: str | None = None  # a matching If-Modified-Since gets 304
    not_modified_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class ImageServer:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.server_names: list[str | None] = []  # TLS: the SNI each client sent
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                server.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(self.path, Route(404, b"not found"))
                if route.delay and server.stopping.wait(route.delay):
                    return
                conditional = (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                    route.last_modified
                    and self.headers.get("If-Modified-Since") == route.last_modified
                )
                if conditional:
                    self.send_response(304)
                    for name, value in route.not_modified_headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    return
                self.send_response(route.status)
                headers = dict(route.headers)
                if route.etag:
                    headers.setdefault("ETag", route.etag)
                if route.last_modified:
                    headers.setdefault("Last-Modified", route.last_modified)
                if route.length:
                    headers.setdefault("Content-Length", str(len(route.body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    if not route.drip:
                        self.wfile.write(route.body)
                        return
                    for start in range(0, len(route.body), 16):
                        self.wfile.write(route.body[start : start + 16])
                        self.wfile.flush()
                        if server.stopping.wait(route.drip):
                            return
                except OSError:
                    pass  # the client gave up (a limit was reached): expected

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:

            def record(sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, _: object) -> None:
                self.server_names.append(name)

            tls.sni_callback = record
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.running = True

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path: str | None = None) -> int:
        return sum(1 for seen in self.seen if path is None or seen.path == path)

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.stopping.set()
            self.httpd.shutdown()
            self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ImageServer]:
    started = ImageServer()
    try:
        yield started
    finally:
        started.stop()


# --------------------------------------------------------------------------------------------
# Projects

Project = Callable[..., Path]


def allow(server: ImageServer, *, private: bool = True, extra: str = "") -> str:
    """Configuration that allows the test server (loopback: explicitly allowed)."""
    lines = [
        "remote_patterns = "
        f'[{{ protocol = "http", hostname = "127.0.0.1", port = "{server.port}" }}]',
        f"remote_timeout = {TIMEOUT}",
    ]
    if private:
        lines.append('allow_private_hosts = ["127.0.0.1"]')
    return "\n".join(lines) + "\n" + extra


@pytest.fixture
def project(tmp_path: Path) -> Project:
    def make(*calls: str, config: str = "") -> Path:
        root = tmp_path / "site"
        (root / "app").mkdir(parents=True, exist_ok=True)
        (root / "pyproject.toml").write_text(
            '[tool.staticimg]\noutput_dir = "public/img"\nurl_prefix = "/img"\njobs = 1\n' + config
        )
        body = "\n".join(f"image_{i} = {call}" for i, call in enumerate(calls))
        (root / "app" / "page.py").write_text(f"from staticimg import StaticImage\n\n{body}\n")
        return root

    return make


def call(src: str, extra: str = "") -> str:
    return f'StaticImage(src="{src}", alt="a picture", width=100{extra})'


def run(root: Path) -> Build:
    config, problems = load_config(root)
    assert problems == []
    return build(config)


def record(result: Build, index: int = 0) -> dict[str, Any]:
    return result.records[result.plan.requests[index].hash]


def only(result: Build, code: str) -> Diagnostic:
    found = [d for d in result.diagnostics if d.code == code]
    assert len(found) == 1, result.diagnostics
    return found[0]


def outputs(root: Path) -> set[str]:
    folder = root / "public" / "img"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def sidecar(root: Path) -> dict[str, Any]:
    (meta,) = (root / ".staticimg" / "remote").glob("*.json")
    data: dict[str, Any] = orjson.loads(meta.read_bytes())
    return data


def expire(root: Path) -> None:
    """Make the cached copy stale, as time passing would."""
    (meta,) = (root / ".staticimg" / "remote").glob("*.json")
    data = orjson.loads(meta.read_bytes())
    data["expires"] = 0
    meta.write_bytes(orjson.dumps(data))


# --------------------------------------------------------------------------------------------
# Fetching


def test_an_allowed_url_is_fetched_and_built_like_a_local_image(
    server: ImageServer, project: Project
) -> None:
    server.routes["/photos/harbour.jpg?v=2"] = Route(
        body=jpeg(), headers={"Content-Type": "image/jpeg"}
    )
    root = project(call(server.url("/photos/harbour.jpg?v=2")), config=allow(server))
    result = run(root)
    assert result.diagnostics == ()
    data = record(result)
    assert data["width"] == 100 and data["height"] == 75
    srcset = data["images"]["fallback"]["srcSet"]
    assert srcset.startswith("/img/harbour-25w-")  # the stem is the URL's last path segment
    names = outputs(root)
    assert names and all(name.startswith("harbour-") for name in names)
    assert server.count() == 1
    assert server.seen[0].headers["host"] == f"127.0.0.1:{server.port}"
    assert server.seen[0].headers["accept-encoding"] == "identity"
    assert sidecar(root)["url"] == server.url("/photos/harbour.jpg?v=2")


def test_the_same_url_in_two_calls_is_fetched_once(server: ImageServer, project: Project) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg())
    root = project(call(server.url("/a.jpg")), call(server.url("/a.jpg"), ", height=50"),
                   config=allow(server))  # fmt: skip
    result = run(root)
    assert result.diagnostics == () and len(result.records) == 2
    assert server.count() == 1


def test_a_disallowed_host_is_si306_at_the_calls_src(project: Project) -> None:
    root = project(
        call("https://example.com/ok.jpg"),
        call("https://images.example.org/photos/2024/harbour.jpg"),
        config='domains = ["example.com"]\n',
    )
    result = run(root)
    problem = only(result, "SI306")
    assert problem.file == "app/page.py" and problem.prop == "src"
    assert problem.span is not None and problem.span.line == 4  # the second call's line
    assert problem.span.column == len("image_1 = StaticImage(src=") + 1
    assert "images.example.org is not in `domains`" in problem.message
    assert problem.hint is not None
    assert 'domains = ["example.com", "images.example.org"]' in problem.hint
    assert (
        '{ protocol = "https", hostname = "images.example.org", pathname = "/photos/2024/**" }'
        in problem.hint
    )
    assert "error" in record(result, 1)


def test_a_private_address_is_refused_unless_allowed(server: ImageServer, project: Project) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg())
    root = project(call(server.url("/a.jpg")), config=allow(server, private=False))
    problem = only(run(root), "SI306")
    assert "127.0.0.1 is a loopback address" in problem.message
    assert problem.hint is not None and 'allow_private_hosts = ["127.0.0.1"]' in problem.hint
    assert server.count() == 0  # refused before connecting


def test_a_name_resolving_to_a_private_address_is_refused(
    server: ImageServer, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "resolver", lambda host, port: ["169.254.169.254"])
    root = project(call("http://metadata.example/latest.jpg"),
                   config='domains = ["metadata.example"]\n')  # fmt: skip
    problem = only(run(root), "SI306")
    assert "metadata.example resolves to 169.254.169.254, a link-local address" in problem.message


def test_a_mix_of_public_and_private_answers_is_refused(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "resolver", lambda host, port: ["93.184.215.14", "10.0.0.7"])
    root = project(call("http://mixed.example/a.jpg"), config='domains = ["mixed.example"]\n')
    assert "resolves to 10.0.0.7, a private address" in only(run(root), "SI306").message


def test_the_checked_address_is_the_one_connected_to(
    server: ImageServer, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: a second lookup would answer differently. There is no second lookup:
    the connection goes to the address that was checked, with the URL's Host header."""
    answers = iter([["127.0.0.1"], ["10.9.8.7"]])
    lookups: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    monkeypatch.setattr(remote, "resolver", rebinding)
    server.routes["/a.jpg"] = Route(body=jpeg())
    root = project(
        call(f"http://images.example:{server.port}/a.jpg"),
        config=f'domains = ["images.example"]\nallow_private_hosts = ["127.0.0.1"]\n'
        f"remote_timeout = {TIMEOUT}\n",
    )
    assert run(root).diagnostics == ()
    assert lookups == ["images.example"]
    assert server.seen[0].headers["host"] == f"images.example:{server.port}"


def test_an_allowed_redirect_is_followed(server: ImageServer, project: Project) -> None:
    server.routes["/old.jpg"] = Route(301, headers={"Location": "/new/harbour.jpg"})
    server.routes["/new/harbour.jpg"] = Route(body=jpeg())
    root = project(call(server.url("/old.jpg")), config=allow(server))
    result = run(root)
    assert result.diagnostics == ()
    assert [seen.path for seen in server.seen] == ["/old.jpg", "/new/harbour.jpg"]
    assert sidecar(root)["chain"] == [server.url("/new/harbour.jpg")]
    assert all(name.startswith("old-") for name in outputs(root))  # named after the URL written


def test_a_redirect_off_the_allowlist_is_refused(server: ImageServer, project: Project) -> None:
    server.routes["/moved.jpg"] = Route(302, headers={"Location": "http://evil.example/a.jpg"})
    server.routes["/sneaky.jpg"] = Route(
        307, headers={"Location": f"http://localhost:{server.port}/a.jpg"}
    )
    server.routes["/file.jpg"] = Route(302, headers={"Location": "file:///etc/passwd"})
    root = project(
        call(server.url("/moved.jpg")),
        call(server.url("/sneaky.jpg")),
        call(server.url("/file.jpg")),
        config=allow(server),
    )
    result = run(root)
    problems = sorted((d for d in result.diagnostics if d.code == "SI306"),
                      key=Diagnostic.sort_key)  # fmt: skip
    assert len(problems) == 3 and len(result.diagnostics) == 3
    assert "redirected to http://evil.example/a.jpg, which is not an allowed" in problems[0].message
    assert problems[0].hint is not None and '"evil.example"' in problems[0].hint
    assert f"redirected to http://localhost:{server.port}/a.jpg" in problems[1].message
    assert "file scheme" in problems[2].message
    assert server.count("/a.jpg") == 0


def test_a_redirect_loop_is_an_error(server: ImageServer, project: Project) -> None:
    server.routes["/a.jpg"] = Route(302, headers={"Location": "/b.jpg"})
    server.routes["/b.jpg"] = Route(302, headers={"Location": "/a.jpg"})
    root = project(call(server.url("/a.jpg")), config=allow(server))
    problem = only(run(root), "SI308")
    assert "redirects in a loop" in problem.message
    assert server.count() == 2


def test_too_many_redirects_is_an_error(server: ImageServer, project: Project) -> None:
    for hop in range(8):
        server.routes[f"/{hop}.jpg"] = Route(302, headers={"Location": f"/{hop + 1}.jpg"})
    root = project(
        call(server.url("/0.jpg")), config=allow(server, extra="remote_max_redirects = 3\n")
    )
    problem = only(run(root), "SI308")
    assert "redirected more than 3 times" in problem.message
    assert server.count() == 4


def test_a_redirect_without_location_is_an_error(server: ImageServer, project: Project) -> None:
    server.routes["/a.jpg"] = Route(302)
    root = project(call(server.url("/a.jpg")), config=allow(server))
    assert "without a Location header" in only(run(root), "SI308").message


@pytest.mark.parametrize(("status", "text"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500")])
def test_an_http_error_is_si308_with_its_status(
    server: ImageServer, project: Project, status: int, text: str
) -> None:
    server.routes["/a.jpg"] = Route(status, b"nope")
    root = project(call(server.url("/a.jpg")), config=allow(server))
    result = run(root)
    problem = only(result, "SI308")
    assert text in problem.message
    assert record(result)["error"]["code"] == "SI308"


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "streamed"])
def test_an_oversized_download_is_refused(
    server: ImageServer, project: Project, length: bool
) -> None:
    server.routes["/big.jpg"] = Route(body=jpeg(800, 600), length=length)
    root = project(
        call(server.url("/big.jpg")), config=allow(server, extra="remote_max_bytes = 5000\n")
    )
    problem = only(run(root), "SI308")
    assert "over the `remote_max_bytes` limit of 5,000 bytes" in problem.message
    assert not list((root / ".staticimg" / "remote").glob("*"))  # nothing kept


def test_a_slow_server_times_out(server: ImageServer, project: Project) -> None:
    server.routes["/slow.jpg"] = Route(body=jpeg(), delay=5)
    root = project(call(server.url("/slow.jpg")), config=allow(server))
    started = time.monotonic()
    problem = only(run(root), "SI308")
    assert f"timed out after {TIMEOUT:g} s" in problem.message
    assert time.monotonic() - started < 3


def test_a_trickling_body_cannot_stretch_the_total_time(
    server: ImageServer, project: Project
) -> None:
    """Each piece arrives well within the timeout; the whole download does not."""
    server.routes["/drip.jpg"] = Route(body=jpeg(), drip=0.05)
    root = project(call(server.url("/drip.jpg")), config=allow(server))
    started = time.monotonic()
    assert "timed out" in only(run(root), "SI308").message
    assert time.monotonic() - started < 3


def test_an_unreachable_origin_without_a_copy_is_an_error(
    server: ImageServer, project: Project
) -> None:
    root = project(call(server.url("/a.jpg")), config=allow(server))
    server.stop()
    assert "could not connect" in only(run(root), "SI308").message


def test_a_wrong_content_type_on_a_real_image_is_fine(
    server: ImageServer, project: Project
) -> None:
    server.routes["/a.png"] = Route(body=png(), headers={"Content-Type": "text/plain"})
    server.routes["/b"] = Route(body=jpeg(), headers={"Content-Type": "application/octet-stream"})
    root = project(call(server.url("/a.png")), call(server.url("/b")), config=allow(server))
    result = run(root)
    assert result.diagnostics == ()
    assert "error" not in record(result, 0) and "error" not in record(result, 1)


def test_html_served_as_an_image_is_not_an_image(server: ImageServer, project: Project) -> None:
    page = b"<!doctype html><html><body>Sign in</body></html>"
    server.routes["/a.jpg"] = Route(body=page, headers={"Content-Type": "image/jpeg"})
    root = project(call(server.url("/a.jpg")), config=allow(server))
    problem = only(run(root), "SI303")
    assert "served as image/jpeg" in problem.message
    assert not list((root / ".staticimg" / "remote").glob("*"))  # not cached


def test_a_decompression_bomb_is_refused_from_its_header(
    server: ImageServer, project: Project
) -> None:
    server.routes["/huge.png"] = Route(body=(FIXTURES / "bomb.png").read_bytes())
    root = project(call(server.url("/huge.png")), config=allow(server))
    assert "decompression-bomb limit" in only(run(root), "SI305").message


def test_compressed_transfer_is_refused(server: ImageServer, project: Project) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg(), headers={"Content-Encoding": "gzip"})
    root = project(call(server.url("/a.jpg")), config=allow(server))
    assert "Content-Encoding: gzip" in only(run(root), "SI308").message


# --------------------------------------------------------------------------------------------
# The cache


def test_a_fresh_copy_is_used_without_a_request(server: ImageServer, project: Project) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg(), headers={"Cache-Control": "max-age=3600"})
    root = project(call(server.url("/a.jpg")), config=allow(server))
    first = run(root)
    assert server.count() == 1
    meta = sidecar(root)
    assert meta["expires"] > (time.time() + 3500) * 1000
    second = run(root)
    assert server.count() == 1
    assert second.diagnostics == () and second.records == first.records
    # A warm-build stamp would skip the next build without looking at the copy's expiry.
    assert not (root / ".staticimg" / "stamp.json").exists()


def test_a_damaged_sidecar_means_downloading_again(server: ImageServer, project: Project) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg(), headers={"Cache-Control": "max-age=3600"})
    root = project(call(server.url("/a.jpg")), config=allow(server))
    first = run(root)
    (meta,) = (root / ".staticimg" / "remote").glob("*.json")
    for damage in (b"{not json", b'{"version": 1, "url": 3}', b"[]"):
        meta.write_bytes(damage)
        again = run(root)
        assert again.diagnostics == () and again.records == first.records
    assert server.count() == 4


def test_downloads_leave_no_temporary_files(server: ImageServer, project: Project) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg())
    server.routes["/big.jpg"] = Route(body=jpeg(800, 600), length=False)
    server.routes["/page.jpg"] = Route(body=b"<html></html>")
    root = project(
        *(call(server.url(p)) for p in ("/a.jpg", "/big.jpg", "/page.jpg")),
        config=allow(server, extra="remote_max_bytes = 5000\n"),
    )
    run(root)
    names = sorted(p.name for p in (root / ".staticimg" / "remote").iterdir())
    assert len(names) == 2 and names[0].endswith(".json") is not names[1].endswith(".json")


def test_a_stale_copy_is_revalidated_and_a_304_renews_it(
    server: ImageServer, project: Project
) -> None:
    server.routes["/a.jpg"] = Route(
        body=jpeg(),
        headers={"Cache-Control": "no-cache"},
        etag='"v1"',
        last_modified="Tue, 01 Sep 2026 10:00:00 GMT",
        not_modified_headers={"Cache-Control": "max-age=3600"},
    )
    root = project(call(server.url("/a.jpg")), config=allow(server))
    first = run(root)
    assert sidecar(root)["etag"] == '"v1"'
    second = run(root)  # no-cache: stale at once, so revalidated
    assert server.count() == 2
    conditional = server.seen[1].headers
    assert conditional["if-none-match"] == '"v1"'
    assert conditional["if-modified-since"] == "Tue, 01 Sep 2026 10:00:00 GMT"
    assert second.diagnostics == () and second.records == first.records
    meta = sidecar(root)
    assert meta["expires"] > (time.time() + 3500) * 1000  # the 304's max-age
    assert meta["etag"] == '"v1"'  # kept: the 304 did not repeat it
    run(root)
    assert server.count() == 2  # fresh again: no request


def test_a_changed_image_replaces_the_copy(server: ImageServer, project: Project) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg(shade=0), etag='"v1"')
    root = project(call(server.url("/a.jpg")), config=allow(server))
    first = run(root)
    old_files = {p.name for p in (root / ".staticimg" / "remote").iterdir()}
    server.routes["/a.jpg"] = Route(body=jpeg(shade=250), etag='"v2"')
    expire(root)
    second = run(root)
    assert server.count() == 2 and second.diagnostics == ()
    assert record(second) != record(first)
    new_files = {p.name for p in (root / ".staticimg" / "remote").iterdir()}
    assert len(new_files) == 2 and new_files != old_files  # the old body is gone
    assert sidecar(root)["etag"] == '"v2"'


def test_no_store_downloads_again_every_build(server: ImageServer, project: Project) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg(), headers={"Cache-Control": "no-store"}, etag='"x"')
    root = project(call(server.url("/a.jpg")), config=allow(server))
    run(root)
    run(root)
    assert server.count() == 2
    assert "if-none-match" not in server.seen[1].headers


def test_an_unreachable_origin_serves_the_stale_copy_with_a_warning(
    server: ImageServer, project: Project, tmp_path: Path
) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg(), headers={"Cache-Control": "max-age=0"})
    write_local = tmp_path / "site" / "app" / "local.jpg"
    root = project(call(server.url("/a.jpg")), call("local.jpg"), config=allow(server))
    write_local.write_bytes(jpeg(120, 90))
    first = run(root)
    assert first.diagnostics == ()
    server.stop()
    second = run(root)
    warning = only(second, "SI352")
    assert len(second.diagnostics) == 1 and second.errors == 0
    assert "could not be revalidated (could not connect" in warning.message
    assert warning.span is not None and warning.span.line == 3
    assert second.records == first.records  # both images still made, from the cached copy
    assert outputs(root) >= first.outputs


def test_a_server_error_serves_the_stale_copy_with_a_warning(
    server: ImageServer, project: Project
) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg(), headers={"Cache-Control": "max-age=0"})
    root = project(call(server.url("/a.jpg")), config=allow(server))
    first = run(root)
    server.routes["/a.jpg"] = Route(503, b"down for maintenance")
    second = run(root)
    assert "HTTP 503" in only(second, "SI352").message
    assert second.records == first.records


def test_a_timeout_serves_the_stale_copy_with_a_warning(
    server: ImageServer, project: Project
) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg(), headers={"Cache-Control": "max-age=0"})
    root = project(call(server.url("/a.jpg")), config=allow(server))
    run(root)
    server.routes["/a.jpg"] = Route(body=jpeg(), delay=5)
    assert "timed out" in only(run(root), "SI352").message


def test_must_revalidate_refuses_the_stale_copy(server: ImageServer, project: Project) -> None:
    server.routes["/a.jpg"] = Route(
        body=jpeg(), headers={"Cache-Control": "max-age=0, must-revalidate"}
    )
    root = project(call(server.url("/a.jpg")), config=allow(server))
    run(root)
    server.stop()
    problem = only(run(root), "SI308")
    assert "must-revalidate" in problem.message


def test_a_404_on_revalidation_is_an_error_not_a_stale_copy(
    server: ImageServer, project: Project
) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg(), headers={"Cache-Control": "max-age=0"})
    root = project(call(server.url("/a.jpg")), config=allow(server))
    run(root)
    del server.routes["/a.jpg"]
    assert "HTTP 404" in only(run(root), "SI308").message


def test_a_fresh_copy_is_refused_once_the_configuration_no_longer_allows_it(
    server: ImageServer, project: Project
) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg(), headers={"Cache-Control": "max-age=3600"})
    root = project(call(server.url("/a.jpg")), config=allow(server))
    run(root)
    project(call(server.url("/a.jpg")), config='allow_private_hosts = ["127.0.0.1"]\n')
    only(run(root), "SI306")
    assert server.count() == 1


def test_a_fresh_copy_whose_redirect_is_no_longer_allowed_is_refused(
    server: ImageServer, project: Project
) -> None:
    server.routes["/old.jpg"] = Route(
        302, headers={"Location": f"http://localhost:{server.port}/a.jpg"}
    )
    server.routes["/a.jpg"] = Route(body=jpeg(), headers={"Cache-Control": "max-age=3600"})
    both = allow(server, extra='domains = ["localhost"]\n')
    root = project(call(server.url("/old.jpg")), config=both)
    assert run(root).diagnostics == ()
    project(call(server.url("/old.jpg")), config=allow(server))
    assert "redirected to http://localhost" in only(run(root), "SI306").message
    assert server.count() == 2


def test_the_survey_for_clean_never_connects(server: ImageServer, project: Project) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg(), headers={"Cache-Control": "max-age=0"})
    root = project(call(server.url("/a.jpg")), config=allow(server))
    built = run(root)
    config, _ = load_config(root)
    surveyed = survey(config)
    assert server.count() == 1
    assert surveyed.outputs == built.outputs


def test_every_other_image_is_still_made(server: ImageServer, project: Project) -> None:
    server.routes["/good.jpg"] = Route(body=jpeg())
    server.routes["/bad.jpg"] = Route(500)
    server.routes["/slow.jpg"] = Route(body=jpeg(), delay=5)
    root = project(
        call(server.url("/good.jpg")),
        call(server.url("/bad.jpg")),
        call("local.jpg"),
        call("https://not-allowed.example/x.jpg"),
        call(server.url("/slow.jpg")),
        config=allow(server),
    )
    (root / "app" / "local.jpg").write_bytes(jpeg(120, 90))
    result = run(root)
    assert sorted(d.code for d in result.diagnostics) == ["SI306", "SI308", "SI308"]
    assert "error" not in record(result, 0) and "error" not in record(result, 2)
    assert {"error"} == set(record(result, 1)) == set(record(result, 3)) == set(record(result, 4))
    assert any(name.startswith("good-") for name in outputs(root))
    assert any(name.startswith("local-") for name in outputs(root))


# --------------------------------------------------------------------------------------------
# https


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for images.example (openssl's command line, when present)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=images.example", "-addext", "subjectAltName=DNS:images.example"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[ImageServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    started = ImageServer(tls=context)
    try:
        yield started
    finally:
        started.stop()


def https_project(project: Project, server: ImageServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(remote, "resolver", lambda host, port: ["127.0.0.1"])
    server.routes["/a.jpg"] = Route(body=jpeg())
    return project(
        call(f"https://images.example:{server.port}/a.jpg"),
        config='domains = ["images.example"]\nallow_private_hosts = ["127.0.0.1"]\n'
        f"remote_timeout = {TIMEOUT}\n",
    )


def test_https_verifies_the_certificate_of_the_url_host_at_the_checked_address(
    tls_server: ImageServer,
    certificate: tuple[Path, Path],
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = https_project(project, tls_server, monkeypatch)
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    monkeypatch.setattr(remote, "tls_context", lambda: trusting)
    assert run(root).diagnostics == ()
    assert tls_server.server_names == ["images.example"]  # SNI: the URL's host, not the address
    assert tls_server.seen[0].headers["host"] == f"images.example:{tls_server.port}"


def test_https_refuses_an_untrusted_certificate(
    tls_server: ImageServer, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = https_project(project, tls_server, monkeypatch)
    problem = only(run(root), "SI308")
    assert "certificate" in problem.message
    assert tls_server.seen == []
