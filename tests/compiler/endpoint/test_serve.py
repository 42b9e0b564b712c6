"""`staticimg serve`, run as a real process: the built site, the static root, `/_image`,
traversal refused, and Ctrl-C."""

from __future__ import annotations

import io
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from staticimg.compiler.config import Config
from staticimg.compiler.endpoint.serve import static_url

from .conftest import photo, request


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "public" / "blog").mkdir(parents=True)
    (root / "static").mkdir()
    (root / "pyproject.toml").write_text('[tool.staticimg]\nstatic_root = "static"\n')
    (root / "public" / "index.html").write_text("<h1>Home</h1>")
    (root / "public" / "blog" / "index.html").write_text("<h1>Blog</h1>")
    (root / "static" / "photo.jpg").write_bytes(photo((300, 200)))
    (root / "secret.txt").write_text("do not serve")
    (root / "public" / "leak").symlink_to(root)
    return root


@pytest.fixture
def server(site: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "staticimg.compiler", "-C", str(site), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 15)
        assert ready, "staticimg serve printed nothing"
        line = process.stdout.readline().decode()
        assert "http://127.0.0.1:" in line, line
        port = int(line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(10)


def test_serve(server: tuple[subprocess.Popen[bytes], int]) -> None:
    process, port = server
    page = request(port, "/")
    assert (page.status, page.body) == (200, b"<h1>Home</h1>")
    assert page.headers["content-type"].startswith("text/html")
    assert request(port, "/blog/").body == b"<h1>Blog</h1>"

    static = request(port, "/static/photo.jpg")
    assert (static.status, static.headers["content-type"]) == (200, "image/jpeg")
    assert Image.open(io.BytesIO(static.body)).size == (300, 200)
    head = request(port, "/static/photo.jpg", method="HEAD")
    assert (head.status, head.body) == (200, b"")
    assert head.headers["content-length"] == str(len(static.body))

    image = request(port, "/_image?href=/photo.jpg&w=60&f=png")
    assert (image.status, image.headers["content-type"]) == (200, "image/png")
    assert Image.open(io.BytesIO(image.body)).size == (60, 40)

    for path in (
        "/../secret.txt",
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/%2e%2e/secret.txt",
        "/%252e%252e/secret.txt",
        "/static/..%5csecret.txt",
        "/static/photo.jpg%00.txt",
        "/leak/secret.txt",
        "/..../secret.txt",
    ):
        reply = request(port, path)
        assert reply.status in (400, 403), (path, reply.status)
        assert b"do not serve" not in reply.body
    assert request(port, "/missing.html").status == 404
    assert request(port, "/static/photo.jpg", method="POST").status == 405
    assert request(port, "/").status == 200  # still up

    # Ctrl-C stops it cleanly.
    process.send_signal(signal.SIGINT)
    assert process.wait(10) == 0
    assert process.stdout is not None
    assert b"stopped" in process.stdout.read()


def test_missing_site_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "staticimg.compiler", "-C", str(tmp_path), "serve", "--port", "0"],
        capture_output=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 2
    assert b"build the site first" in result.stderr
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("static_root", "output_dir", "url_prefix", "expected"),
    [
        ("static", "static/_staticimg", "/static/_staticimg", "/static"),
        ("public", "public/_img", "/_img", "/"),
        ("assets", "build/img", "/img", "/assets"),
        ("static", "static", "/s", "/s"),
    ],
)
def test_static_url(
    tmp_path: Path, static_root: str, output_dir: str, url_prefix: str, expected: str
) -> None:
    config = Config(tmp_path, static_root=static_root, output_dir=output_dir, url_prefix=url_prefix)
    assert static_url(config) == expected
