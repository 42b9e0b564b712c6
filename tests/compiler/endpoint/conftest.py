"""Real servers on 127.0.0.1 for the `/_image` tests: the WSGI app under wsgiref (threaded),
the ASGI app under uvicorn, and an origin for remote images (http.server)."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import http.server
import io
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler

import pytest
import uvicorn
from PIL import Image

from staticimg.astro.types import ImageSettings, Options
from staticimg.compiler.config import Config
from staticimg.compiler.endpoint import ImageEndpoint, make_asgi_app, make_wsgi_app
from staticimg.compiler.endpoint.asgi import ASGIApp
from staticimg.compiler.endpoint.serve import ThreadingWSGIServer
from staticimg.compiler.services.pillow import PillowService

if TYPE_CHECKING:
    from staticimg.compiler.endpoint.wsgi import WSGIApp

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "images"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def image(self) -> Image.Image:
        image = Image.open(io.BytesIO(self.body))
        image.load()
        return image


def request(
    port: int, target: str, method: str = "GET", headers: dict[str, str] | None = None
) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        found = {name.lower(): value for name, value in response.getheaders()}
        return Reply(response.status, found, body)
    finally:
        connection.close()


def photo(size: tuple[int, int] = (600, 400)) -> bytes:
    """Left half red, right half blue (a crop's position shows in the colours), with some
    texture so that quality settings change the bytes."""
    image = Image.effect_noise(size, 40).convert("RGB")
    red = Image.new("RGB", size, (220, 30, 30))
    blue = Image.new("RGB", size, (30, 30, 220))
    blue.paste(red.crop((0, 0, size[0] // 2, size[1])), (0, 0))
    mixed = Image.blend(blue, image, 0.25)
    buffer = io.BytesIO()
    mixed.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@dataclass
class Project:
    root: Path
    config: Config

    @property
    def static(self) -> Path:
        return self.root / "static"


def make_config(root: Path, **changes: Any) -> Config:
    """A Config whose image settings carry the same allowlist, as `load_config` makes it."""
    config = dataclasses.replace(Config(root.resolve()), **changes)
    image = dataclasses.replace(
        config.image, domains=config.domains, remote_patterns=tuple(config.remote_patterns)
    )
    return dataclasses.replace(config, image=image)


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """static/ with real images, and things outside it that must never be served."""
    root = tmp_path_factory.mktemp("site").resolve()
    static = root / "static"
    (static / "img").mkdir(parents=True)
    (static / "photo.jpg").write_bytes(photo())
    (static / "img" / "in folder.jpg").write_bytes(photo((300, 200)))
    (static / "logo.svg").write_bytes(SVG)
    (static / "animated.gif").write_bytes((FIXTURES / "animated.gif").read_bytes())
    (static / "broken.png").write_bytes((FIXTURES / "truncated.png").read_bytes())
    (static / "text.png").write_bytes(b"just text, not an image\n")
    (static / "bomb.png").write_bytes((FIXTURES / "bomb.png").read_bytes())
    (root / "secret.png").write_bytes(photo((40, 40)))  # in the project, not in static/
    (static / "escape.jpg").symlink_to(root / "secret.png")
    (static / "folder-link").symlink_to(root)
    return Project(root, make_config(root))


# --------------------------------------------------------------------------------------------
# Servers


class _QuietWSGIHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def wsgi_server(app: WSGIApp) -> Iterator[int]:
    server = ThreadingWSGIServer(("127.0.0.1", 0), _QuietWSGIHandler)
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def asgi_server(app: ASGIApp) -> Iterator[int]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = int(server.servers[0].sockets[0].getsockname()[1])
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


Start = Callable[[ImageEndpoint], int]


@pytest.fixture(scope="module", params=["wsgi", "asgi"])
def kind(request: pytest.FixtureRequest) -> str:
    """Which app and server: "wsgi" (wsgiref) or "asgi" (uvicorn)."""
    return str(request.param)


@contextlib.contextmanager
def _starter(kind: str) -> Iterator[Start]:
    with contextlib.ExitStack() as stack:

        def run(endpoint: ImageEndpoint) -> int:
            if kind == "wsgi":
                return stack.enter_context(wsgi_server(make_wsgi_app(endpoint=endpoint)))
            return stack.enter_context(asgi_server(make_asgi_app(endpoint=endpoint)))

        yield run


@pytest.fixture
def start(kind: str) -> Iterator[Start]:
    """Starts the WSGI or the ASGI app of an endpoint on a free port; returns the port."""
    with _starter(kind) as run:
        yield run


@pytest.fixture(scope="module")
def port(project: Project, kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A server for the project's endpoint, shared by a module's tests (its own cache)."""
    cache = tmp_path_factory.mktemp("cache")
    with _starter(kind) as run:
        yield run(ImageEndpoint(dataclasses.replace(project.config, cache_dir=str(cache))))


class CountingService(PillowService):
    """The Pillow service, counting its transforms (a cache hit must not call it)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.running = 0
        self.peak = 0  # the most transforms that ever ran at once
        self._lock = threading.Lock()

    def transform(
        self, data: bytes, transform: Options, config: ImageSettings
    ) -> tuple[bytes, str]:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            return super().transform(data, transform, config)
        finally:
            with self._lock:
                self.running -= 1


# --------------------------------------------------------------------------------------------
# A remote origin


class Origin:
    """An http.server on 127.0.0.1 serving `folder`, counting requests per path; `/redirect`
    sends to `location`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits: dict[str, int] = {}
        self.location = ""
        origin = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(origin.folder), **kwargs)

            def do_GET(self) -> None:
                origin.hits[self.path] = origin.hits.get(self.path, 0) + 1
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", origin.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                super().do_GET()

            def end_headers(self) -> None:
                self.send_header("Cache-Control", "max-age=3600")
                super().end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def origin(tmp_path: Path) -> Iterator[Origin]:
    folder = tmp_path / "origin"
    folder.mkdir()
    (folder / "remote.jpg").write_bytes(photo((200, 100)))
    (folder / "page.html").write_bytes(b"<html>not an image</html>")
    server = Origin(folder)
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        server.thread.join(5)
