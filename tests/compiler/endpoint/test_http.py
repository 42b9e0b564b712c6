"""`/_image` over real HTTP, under wsgiref (WSGI) and uvicorn (ASGI): every test runs
against both (the `start` fixture)."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from staticimg.astro.types import ImageSettings, Options, RemotePattern
from staticimg.compiler.endpoint import ImageEndpoint
from staticimg.compiler.services.pillow import PillowService

from .conftest import (
    SVG,
    CountingService,
    Origin,
    Project,
    Start,
    make_config,
    photo,
    request,
)


def url(href: str, **params: Any) -> str:
    return "/_image?" + urlencode({"href": href, **params})


# --------------------------------------------------------------------------------------------
# Success


# §9.3 through HTTP: a 600×400 JPEG, to webp.
@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({"w": 300, "h": 400, "fit": "cover"}, (300, 400)),
        ({"w": 300}, (300, 200)),
        ({"h": 400}, (600, 400)),
        ({"w": 300, "h": 400, "fit": "inside"}, (300, 200)),
        ({"w": 300, "h": 400, "fit": "contain"}, (300, 200)),
        ({"w": 300, "h": 400, "fit": "outside"}, (600, 400)),
        ({"w": 3000, "h": 2000, "fit": "cover"}, (600, 400)),
        ({"w": 3000, "h": 2000}, (600, 400)),
        ({"w": 3000, "fit": "cover"}, (600, 400)),
    ],
)
def test_astro_sharp_table(port: int, params: dict[str, Any], size: tuple[int, int]) -> None:
    reply = request(port, url("/photo.jpg", f="webp", **params))
    assert reply.status == 200
    assert reply.headers["content-type"] == "image/webp"
    assert reply.image().format == "WEBP"
    assert reply.image().size == size


def test_headers(port: int) -> None:
    reply = request(port, url("/photo.jpg", w=120))
    assert reply.status == 200
    assert reply.headers["content-type"] == "image/webp"  # the default output format
    assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert reply.headers["content-length"] == str(len(reply.body))
    etag = reply.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert reply.headers["x-content-type-options"] == "nosniff"
    # The same request gives the same bytes and the same ETag.
    again = request(port, url("/photo.jpg", w=120))
    assert (again.body, again.headers["etag"]) == (reply.body, etag)


@pytest.mark.parametrize(
    ("fmt", "mime", "pillow"),
    [
        ("jpg", "image/jpeg", "JPEG"),
        ("jpeg", "image/jpeg", "JPEG"),
        ("png", "image/png", "PNG"),
        ("avif", "image/avif", "AVIF"),
        ("webp", "image/webp", "WEBP"),
    ],
)
def test_formats(port: int, fmt: str, mime: str, pillow: str) -> None:
    reply = request(port, url("/photo.jpg", w=90, f=fmt))
    assert reply.status == 200
    assert reply.headers["content-type"] == mime
    assert (reply.image().format, reply.image().size) == (pillow, (90, 60))


def test_quality_presets_change_the_bytes(port: int) -> None:
    sizes = {
        q: len(request(port, url("/photo.jpg", w=300, q=q)).body)
        for q in ("low", "mid", "high", "max")
    }
    assert sizes["low"] < sizes["mid"] < sizes["high"] < sizes["max"]
    assert (
        request(port, url("/photo.jpg", w=300, q=80)).body
        == request(port, url("/photo.jpg", w=300, q="high")).body
    )


def test_position_crops(port: int) -> None:
    left = request(port, url("/photo.jpg", w=100, h=200, position="left", f="png")).image()
    right = request(port, url("/photo.jpg", w=100, h=200, position="right top", f="png")).image()
    r, _, b = left.convert("RGB").getpixel((50, 100))  # type: ignore[misc]
    assert r > b
    r, _, b = right.convert("RGB").getpixel((50, 100))  # type: ignore[misc]
    assert b > r


def test_encoded_paths_and_trailing_slash(port: int) -> None:
    reply = request(port, "/_image/?href=" + quote("/img/in folder.jpg", safe="") + "&w=30")
    assert reply.status == 200
    assert reply.image().size == (30, 20)


def test_svg_is_passed_through_with_a_policy(port: int) -> None:
    reply = request(port, url("/logo.svg", f="svg"))
    assert reply.status == 200
    assert reply.body == SVG
    assert reply.headers["content-type"] == "image/svg+xml"
    assert "sandbox" in reply.headers["content-security-policy"]


def test_animated_gif_to_looping_webp(port: int) -> None:
    image = request(port, url("/animated.gif", w=12)).image()
    assert (image.format, image.size, getattr(image, "n_frames", 1)) == ("WEBP", (12, 8), 3)
    assert image.info["loop"] == 0


def test_if_none_match_gives_304(port: int) -> None:
    first = request(port, url("/photo.jpg", w=50))
    etag = first.headers["etag"]
    reply = request(port, url("/photo.jpg", w=50), headers={"If-None-Match": etag})
    assert (reply.status, reply.body, reply.headers["etag"]) == (304, b"", etag)
    listed = request(port, url("/photo.jpg", w=50), headers={"If-None-Match": f'"x", W/{etag}'})
    assert listed.status == 304
    other = request(port, url("/photo.jpg", w=50), headers={"If-None-Match": '"other"'})
    assert other.status == 200 and other.body == first.body


def test_head(port: int) -> None:
    get = request(port, url("/photo.jpg", w=70))
    head = request(port, url("/photo.jpg", w=70), method="HEAD")
    assert head.status == 200
    assert head.body == b""
    for name in ("content-type", "content-length", "etag", "cache-control"):
        assert head.headers[name] == get.headers[name]


def test_other_methods_get_405(port: int) -> None:
    reply = request(port, url("/photo.jpg", w=70), method="POST")
    assert reply.status == 405
    assert reply.headers["allow"] == "GET, HEAD"


def test_other_paths_are_not_ours(port: int) -> None:
    assert request(port, "/_images?href=/photo.jpg").status == 404
    assert request(port, "/").status == 404


# --------------------------------------------------------------------------------------------
# The cache


def test_cache_hit_does_no_transform(project: Project, start: Start, tmp_path: Path) -> None:
    config = dataclasses.replace(project.config, cache_dir=str(tmp_path / "cache"))
    service = CountingService()
    port = start(ImageEndpoint(config, service=service))
    first = request(port, url("/photo.jpg", w=64, q="mid"))
    assert first.status == 200 and service.calls == 1
    files = [p for p in (tmp_path / "cache" / "endpoint").rglob("*") if p.is_file()]
    assert len(files) == 1
    second = request(port, url("/photo.jpg", w=64, q="mid"))
    assert (second.status, second.body) == (200, first.body)
    assert service.calls == 1
    # A new endpoint (a restarted server) finds the disk cache too.
    port = start(ImageEndpoint(config, service=service))
    assert request(port, url("/photo.jpg", w=64, q="mid")).body == first.body
    assert service.calls == 1
    # Another transform is new work.
    assert request(port, url("/photo.jpg", w=65, q="mid")).status == 200
    assert service.calls == 2


def test_changed_source_is_transformed_again(tmp_path: Path, start: Start) -> None:
    root = tmp_path / "project"
    (root / "static").mkdir(parents=True)
    (root / "static" / "p.jpg").write_bytes(photo((100, 50)))
    service = CountingService()
    port = start(ImageEndpoint(make_config(root), service=service))
    assert request(port, url("/p.jpg", w=40)).image().size == (40, 20)
    (root / "static" / "p.jpg").write_bytes(photo((100, 100)))
    assert request(port, url("/p.jpg", w=40)).image().size == (40, 40)
    assert service.calls == 2


# --------------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize(
    "query",
    [
        "",
        "w=100",
        "href=",
        "href=/photo.jpg&w=abc",
        "href=/photo.jpg&w=-5",
        "href=/photo.jpg&h=1.5",
        "href=/photo.jpg&f=bmp",
        "href=/photo.jpg&f=exe",
        "href=/photo.jpg&fit=squash",
        "href=/photo.jpg&w=100&h=100&position=nowhere",
        "href=/photo.jpg&q=150",
        "href=/photo.jpg&background=notacolour",
        "href=/photo.jpg&w=8193",
        "href=/photo.jpg&h=100000",
    ],
)
def test_bad_requests_get_400(port: int, query: str) -> None:
    reply = request(port, "/_image?" + query)
    assert reply.status == 400, reply.body
    assert reply.headers["content-type"].startswith("text/plain")
    assert b"Traceback" not in reply.body


def test_width_times_height_is_limited(project: Project, start: Start, tmp_path: Path) -> None:
    config = dataclasses.replace(
        project.config, cache_dir=str(tmp_path / "c"), max_image_pixels=1_000_000
    )
    port = start(ImageEndpoint(config))
    assert request(port, url("/photo.jpg", w=2000, h=1000)).status == 400
    assert request(port, url("/photo.jpg", w=1000, h=1000)).status == 200


def test_missing_file_is_404(port: int) -> None:
    for href in ("/nope.jpg", "/img/nope.jpg", "/img", "/img/"):
        assert request(port, url(href, w=10)).status == 404, href


@pytest.mark.parametrize(
    ("href", "status"),
    [("/broken.png", 422), ("/text.png", 415), ("/bomb.png", 422)],
)
def test_unusable_images(port: int, href: str, status: int) -> None:
    reply = request(port, url(href, w=10))
    assert reply.status == status
    assert len(reply.body) < 100
    assert b"/" not in reply.body  # no path, no traceback


def test_non_svg_to_svg_is_403(port: int) -> None:
    reply = request(port, url("/photo.jpg", f="svg"))
    assert reply.status == 403
    assert reply.body == b"Cannot convert non-SVG source to SVG format\n"


def test_svg_to_raster_is_refused(port: int) -> None:
    assert request(port, url("/logo.svg", f="png")).status == 415


def test_symlinks_out_of_the_static_root_are_403(port: int) -> None:
    assert request(port, url("/escape.jpg", w=10)).status == 403
    assert request(port, url("/folder-link/secret.png", w=10)).status == 403


# Astro's "endpoint handle malformed requests" payloads (T/core-image.test.ts), appended to
# the URL unencoded as there, plus encodings of our own. None may be served.
TRAVERSAL = [
    "../../../../../../../../../../../../etc/hosts%00",
    "../../../../../../../../../../../../etc/hosts",
    "../../boot.ini",
    "/../../../../../../../../%2A",
    "../../../../../../../../../../../../etc/passwd%00",
    "/../../../../../../../../../../etc/passwd^^",
    "/../../../../../../../../../../etc/passwd",
    "/./././././././././././etc/passwd",
    "....................etcpasswd",
    "/..../..../..../..../..../..../etc/passwd",
    ".\\\\./.\\\\./.\\\\./.\\\\./.\\\\./.\\\\./etc/passwd",
    "....................etcpasswd%00",
    "%0a/bin/cat%20/etc/passwd",
    "%00/etc/passwd%00",
    "%00../../../../../../etc/passwd",
    "/../../../../../../../../../../../etc/passwd%00.jpg",
    "/..%c0%af../..%c0%af../..%c0%af../..%c0%af../..%c0%af../..%c0%af../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd,",
    "%25%5c..%25%5c..%25%5c..%25%5c..%25%5c..%25%5c..%25%5c..%25%5c..%25%5c..%00",
    "/%25%5c..%25%5c..%25%5c..%25%5c..%25%5c..%25%5c..winnt/desktop.ini",
    "\\\\&apos;/bin/cat%20/etc/passwd\\\\&apos;",
    "../../../../../../../../conf/server.xml",
    "/../../../../../../../../bin/id|",
    "C:/inetpub/wwwroot/global.asa",
    "C:inetpubwwwrootglobal.asa",
    "C:/boot.ini",
    "C:\\boot.ini",
    "/.\\\\./.\\\\./.\\\\./.\\\\./.\\\\./.\\\\./boot.ini",
    "....................\\boot.ini",
    "/../../../../../../../../../../../boot.ini%00.html",
    "/.../.../.../.../.../",
    "..%c0%af../..%c0%af../..%c0%af../..%c0%af../boot.ini",
    "../prerender/index.html",
    # ours: the project's own file, by every road
    "/../secret.png",
    "/%2e%2e/secret.png",
    "/%252e%252e/secret.png",
    "/%25252e%25252e%25252fsecret.png",
    "/img/%2e%2e/%2e%2e/secret.png",
    "/img/..%2f..%2fsecret.png",
    "/img/..%5c..%5csecret.png",
    "/photo.jpg%00.png",
    "%2fphoto.jpg/../../secret.png",
    "file:///etc/passwd",
    "/\\\\evil.host/x.png",
    "//evil.host/x.svg",
    "\\\\evil.host\\x.png",
    "https:%2f%2fevil.host/x.png",
    "http://user@127.0.0.1/x.png",
    "ftp://evil.host/x.png",
    "javascript:alert(1)",
]


def test_traversal_payloads_are_403(port: int) -> None:
    assert len(TRAVERSAL) >= 40
    for payload in TRAVERSAL:
        reply = request(port, "/_image?href=" + payload.replace(" ", "%20") + "&w=10")
        # A payload may lose its href to the query syntax (`&apos;`): then it is a 400.
        assert reply.status in (400, 403), (payload, reply.status, reply.body)
        assert not reply.headers["content-type"].startswith("image/")
    # The server is still up and serving.
    assert request(port, url("/photo.jpg", w=10)).status == 200


def test_secret_is_really_there(project: Project) -> None:
    # The traversal test would prove nothing if the target did not exist.
    assert (project.static / ".." / "secret.png").resolve().is_file()


def test_astro_protocol_relative_svg_is_403(port: int) -> None:
    # Astro: /_image?href=//secure0x.netlify.app/secure0x.svg&f=svg → 403.
    assert request(port, "/_image?href=//secure0x.netlify.app/secure0x.svg&f=svg").status == 403


# --------------------------------------------------------------------------------------------
# Remote images


def remote_config(project: Project, tmp_path: Path, **changes: Any) -> ImageEndpoint:
    settings: dict[str, Any] = {
        "cache_dir": str(tmp_path / "cache"),
        "domains": ("127.0.0.1",),
        "allow_private_hosts": ("127.0.0.1",),
    }
    return ImageEndpoint(make_config(project.root, **(settings | changes)))


def test_allowed_remote_image(
    project: Project, start: Start, tmp_path: Path, origin: Origin
) -> None:
    port = start(remote_config(project, tmp_path))
    reply = request(port, url(origin.url("/remote.jpg"), w=50, f="png"))
    assert reply.status == 200
    assert (reply.image().format, reply.image().size) == ("PNG", (50, 25))
    # The download is cached (the build's remote cache: fresh for the origin's max-age).
    again = request(port, url(origin.url("/remote.jpg"), w=50, f="png"))
    assert again.body == reply.body
    assert origin.hits["/remote.jpg"] == 1


def test_remote_refusals(project: Project, start: Start, tmp_path: Path, origin: Origin) -> None:
    port = start(remote_config(project, tmp_path))
    # Not on the allowlist: another host name for the same server.
    assert request(port, url(f"http://localhost:{origin.port}/remote.jpg", w=5)).status == 403
    # A redirect to a host that is not allowed.
    origin.location = f"http://localhost:{origin.port}/remote.jpg"
    assert request(port, url(origin.url("/redirect"), w=5)).status == 403
    # Missing at the origin; not an image.
    assert request(port, url(origin.url("/missing.jpg"), w=5)).status == 404
    assert request(port, url(origin.url("/page.html"), w=5)).status == 415
    # f=svg for a remote raster is refused before anything is fetched.
    assert request(port, url(origin.url("/remote.jpg"), f="svg")).status == 403
    assert "/remote.jpg" not in origin.hits


def test_private_address_needs_allowing(
    project: Project, start: Start, tmp_path: Path, origin: Origin
) -> None:
    endpoint = remote_config(project, tmp_path, allow_private_hosts=())
    port = start(endpoint)
    assert request(port, url(origin.url("/remote.jpg"), w=5)).status == 403
    assert origin.hits == {}


def test_remote_patterns(project: Project, start: Start, tmp_path: Path, origin: Origin) -> None:
    pattern = RemotePattern(protocol="http", hostname="127.0.0.1", pathname="/allowed/**")
    (origin.folder / "allowed").mkdir()
    (origin.folder / "allowed" / "a.jpg").write_bytes((origin.folder / "remote.jpg").read_bytes())
    config = make_config(
        project.root,
        cache_dir=str(tmp_path / "cache"),
        remote_patterns=(pattern,),
        allow_private_hosts=("127.0.0.1",),
    )
    port = start(ImageEndpoint(config))
    assert request(port, url(origin.url("/allowed/a.jpg"), w=20)).status == 200
    assert request(port, url(origin.url("/remote.jpg"), w=20)).status == 403


def test_data_uris(project: Project, start: Start, tmp_path: Path) -> None:
    jpeg_uri = "data:image/jpeg;base64," + base64.b64encode(photo((120, 80))).decode()
    svg_uri = "data:image/svg+xml," + quote(SVG.decode())
    closed = start(ImageEndpoint(dataclasses.replace(project.config, cache_dir=str(tmp_path))))
    assert request(closed, url(svg_uri, f="svg")).status == 403  # not allowed by default
    allowed = make_config(project.root, cache_dir=str(tmp_path / "c"))
    image = dataclasses.replace(allowed.image, remote_patterns=(RemotePattern(protocol="data"),))
    port = start(ImageEndpoint(dataclasses.replace(allowed, image=image)))
    reply = request(port, url(svg_uri, f="svg"))
    assert (reply.status, reply.body) == (200, SVG)
    assert reply.headers["content-type"] == "image/svg+xml"
    assert request(port, url(jpeg_uri, f="svg")).status == 403  # Astro: PNG data URI + f=svg
    assert request(port, url(jpeg_uri, w=60)).image().size == (60, 40)


def test_a_cdn_service_cannot_serve(project: Project) -> None:
    config = dataclasses.replace(project.config, image=ImageSettings(service="imgix"))
    with pytest.raises(ValueError, match="transforms images"):
        ImageEndpoint(config)


def test_passthrough_service_serves_only_images(
    project: Project, start: Start, tmp_path: Path
) -> None:
    config = dataclasses.replace(
        project.config,
        cache_dir=str(tmp_path),
        image=dataclasses.replace(project.config.image, service="passthrough"),
    )
    port = start(ImageEndpoint(config))
    reply = request(port, url("/photo.jpg", w=10, f="webp"))
    # The bytes as they are, labelled as what they are, not as what was asked.
    assert reply.status == 200
    assert reply.body == (project.static / "photo.jpg").read_bytes()
    assert reply.headers["content-type"] == "image/jpeg"
    assert request(port, url("/text.png", f="png")).status == 415


class _FailingService(PillowService):
    def transform(
        self, data: bytes, transform: Options, config: ImageSettings
    ) -> tuple[bytes, str]:
        raise RuntimeError(f"boom in {Path.cwd()}/secret/path")


def test_unexpected_errors_are_500_without_details(
    project: Project, start: Start, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = dataclasses.replace(project.config, cache_dir=str(tmp_path))
    port = start(ImageEndpoint(config, service=_FailingService()))
    reply = request(port, url("/photo.jpg", w=10))
    assert (reply.status, reply.body) == (500, b"Internal Server Error\n")
    assert any("boom" in record.getMessage() or record.exc_info for record in caplog.records)
