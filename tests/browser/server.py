"""A static file server on loopback for the browser tests.

`SiteServer` serves one folder from a thread of its own, on 127.0.0.1 and a port the system
picks. Two switches, both changeable while it runs:

- `image_delay`: seconds each response under `/_img/` waits before it is sent, so a test can
  look at a page whose images have not arrived yet (the placeholder, the layout before load);
- `no_store`: every response says `Cache-Control: no-store` and conditional requests are
  answered in full, so a reload never reuses an image from an earlier test.

It also records the path of every request, so a test can say which files a page fetched.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

IMAGE_PREFIX = "/_img/"


class _Handler(SimpleHTTPRequestHandler):
    server: _Server

    # http.server answers HTTP/1.0 by default: one request per connection, so a delayed image
    # never holds up the page or another image behind it on a kept-alive connection.

    def send_head(self) -> Any:
        path = urlsplit(self.path).path
        with self.server.lock:
            self.server.requests.append(path)
        delay = self.server.image_delay
        if delay > 0 and path.startswith(IMAGE_PREFIX):
            time.sleep(delay)
        if self.server.no_store:
            # SimpleHTTPRequestHandler answers If-Modified-Since with 304; drop it so the
            # browser gets the bytes every time (it should not ask, given no-store, but the
            # server must not depend on that).
            del self.headers["If-Modified-Since"]
        return super().send_head()

    def end_headers(self) -> None:
        if self.server.no_store:
            self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest's output clean; `requests` has what a test needs


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Set by SiteServer before the first request.
    image_delay: float = 0.0
    no_store: bool = True

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_Handler, directory=str(root))
        super().__init__(("127.0.0.1", 0), handler)
        self.lock = threading.Lock()
        self.requests: list[str] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The browser drops connections it no longer needs (a navigation away while images
        # are delayed, a cancelled lower-priority candidate): that is not a test failure.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SiteServer:
    """Serve `root` on http://127.0.0.1:<port>/ until `close()` (or the `with` block ends)."""

    def __init__(self, root: Path) -> None:
        self._server = _Server(root)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="site-server", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def image_delay(self) -> float:
        return self._server.image_delay

    @image_delay.setter
    def image_delay(self, seconds: float) -> None:
        self._server.image_delay = seconds

    @property
    def no_store(self) -> bool:
        return self._server.no_store

    @no_store.setter
    def no_store(self, value: bool) -> None:
        self._server.no_store = value

    def requests(self) -> list[str]:
        """Every path requested so far, in order."""
        with self._server.lock:
            return list(self._server.requests)

    def forget_requests(self) -> None:
        with self._server.lock:
            self._server.requests.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SiteServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["IMAGE_PREFIX", "SiteServer"]
