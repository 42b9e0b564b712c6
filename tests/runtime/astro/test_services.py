"""The built-in services' URLs (exact strings), the passthrough service, and load_service."""

from __future__ import annotations

from pathlib import Path

import pytest

from staticimg.astro.resolve import resolve_image
from staticimg.astro.service import BaseLocalService
from staticimg.astro.services import (
    PILLOW_URLS,
    CDNService,
    CloudinaryService,
    ImgixService,
    PassthroughService,
    load_service,
    parse_position,
    reset_services,
)
from staticimg.astro.types import ImageError, ImageMetadata, ImageSettings, is_local_service

from . import custom_service

FIXTURES = Path(__file__).parents[3] / "fixtures" / "images"
HERO = ImageMetadata("/images/hero photo.jpg", 1200, 800, "jpg")
FULL = {
    "src": HERO, "width": 300, "height": 200, "fit": "cover", "position": "right top",
    "format": "webp", "quality": "high", "background": "#ffffff",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh_services() -> None:
    reset_services()


# --------------------------------------------------------------------------------------------
# passthrough


def test_passthrough_keeps_format_only_for_svg() -> None:
    service = PassthroughService()
    assert service.properties_to_hash == ("src",)
    assert "format" not in service.validate_options(
        {"src": HERO, "format": "avif"}, ImageSettings()
    )
    svg = ImageMetadata("/a.svg", 10, 10, "svg")
    assert service.validate_options({"src": svg}, ImageSettings())["format"] == "svg"
    # validation still applies
    with pytest.raises(ImageError, match="Missing width"):
        service.validate_options({"src": "https://x.example/a.jpg", "height": 2}, ImageSettings())


@pytest.mark.parametrize(
    ("name", "expected"),
    [("photo.jpg", "jpg"), ("animated.gif", "gif"), ("animated.webp", "webp"),
     ("opaque-alpha.png", "png")],
)  # fmt: skip
def test_passthrough_transform_returns_the_bytes(name: str, expected: str) -> None:
    data = (FIXTURES / name).read_bytes()
    service = PassthroughService()
    assert service.transform(data, {"src": "/x"}, ImageSettings()) == (data, expected)
    assert service.transform(data, {"src": "/x", "format": "svg"}, ImageSettings())[1] == "svg"


def test_passthrough_transform_refuses_non_images() -> None:
    with pytest.raises(ImageError) as caught:
        PassthroughService().transform(
            (FIXTURES / "not-an-image.png").read_bytes(), {"src": "/x"}, ImageSettings()
        )
    assert caught.value.name == "NoImageMetadata"


def test_passthrough_urls_have_no_format() -> None:
    result = resolve_image(
        {"src": HERO, "width": 300, "densities": [2]},
        settings=ImageSettings(),
        service=PassthroughService(),
    )
    assert "&f=" not in result.src and "&f=" not in result.src_set_attribute
    assert result.src == "/_image?href=%2Fimages%2Fhero+photo.jpg&w=300&h=200"


# --------------------------------------------------------------------------------------------
# imgix


IMGIX = ImageSettings(service="imgix", service_config={"domain": "demo.imgix.net"})


def test_imgix_full() -> None:
    assert ImgixService().get_url(dict(FULL), IMGIX) == (
        "https://demo.imgix.net/images/hero%20photo.jpg"
        "?w=300&h=200&fit=crop&crop=top,right&fm=webp&q=80&bg=ffffff"
    )


@pytest.mark.parametrize(
    ("changes", "query"),
    [
        ({"fit": "contain", "position": "top"}, "w=300&h=200&fit=max"),
        ({"fit": "fill"}, "w=300&h=200&fit=scale"),
        ({"fit": "scale-down"}, "w=300&h=200&fit=max"),
        ({"fit": "cover", "position": "center"}, "w=300&h=200&fit=crop"),
        ({"fit": "cover", "position": "entropy"}, "w=300&h=200&fit=crop&crop=entropy"),
        ({"fit": "cover", "position": "attention"}, "w=300&h=200&fit=crop&crop=edges"),
        (
            {"fit": "cover", "position": "25% 75%"},
            "w=300&h=200&fit=crop&crop=focalpoint&fp-x=0.25&fp-y=0.75",
        ),
        ({"format": "jpeg", "quality": 55}, "w=300&h=200&fm=jpg&q=55"),
        ({"format": "svg"}, "w=300&h=200"),
    ],
)
def test_imgix_mapping(changes: dict[str, object], query: str) -> None:
    options = {"src": HERO, "width": 300, "height": 200, **changes}
    assert ImgixService().get_url(options, IMGIX) == (
        f"https://demo.imgix.net/images/hero%20photo.jpg?{query}"
    )


def test_imgix_remote_and_signing() -> None:
    settings = ImageSettings(
        service_config={"domain": "proxy.imgix.net", "secure_token": "secret"},
        domains=("images.example.com",),
    )
    url = ImgixService().get_url(
        {"src": "https://images.example.com/a.jpg", "width": 100, "height": 50}, settings
    )
    path = "/https%3A%2F%2Fimages.example.com%2Fa.jpg"
    import hashlib

    signature = hashlib.md5(f"secret{path}?w=100&h=50".encode()).hexdigest()
    assert url == f"https://proxy.imgix.net{path}?w=100&h=50&s={signature}"


def test_imgix_leaves_disallowed_and_data_sources_alone() -> None:
    options = {"src": "https://other.example/a.jpg", "width": 1, "height": 1}
    assert ImgixService().get_url(options, IMGIX) == "https://other.example/a.jpg"
    data = {"src": "data:image/png;base64,AAAA", "width": 1, "height": 1}
    assert ImgixService().get_url(data, IMGIX) == "data:image/png;base64,AAAA"


def test_imgix_without_domain_says_what_to_configure() -> None:
    with pytest.raises(ImageError) as caught:
        ImgixService().get_url({"src": HERO}, ImageSettings(service="imgix"))
    assert caught.value.name == "InvalidImageService"
    assert caught.value.hint is not None and "service_config" in caught.value.hint


# --------------------------------------------------------------------------------------------
# Cloudinary


CLOUDINARY = ImageSettings(service="cloudinary", service_config={"cloud_name": "demo"})


def test_cloudinary_full() -> None:
    assert CloudinaryService().get_url(dict(FULL), CLOUDINARY) == (
        "https://res.cloudinary.com/demo/image/upload/"
        "w_300,h_200,c_fill,g_north_east,f_webp,q_80,b_rgb:ffffff/images/hero%20photo.jpg"
    )


@pytest.mark.parametrize(
    ("changes", "transformations"),
    [
        ({"fit": "contain"}, "w_300,h_200,c_limit"),
        ({"fit": "fill"}, "w_300,h_200,c_scale"),
        ({"fit": "cover", "position": "bottom left"}, "w_300,h_200,c_fill,g_south_west"),
        ({"fit": "cover", "position": "center"}, "w_300,h_200,c_fill,g_center"),
        ({"fit": "cover", "position": "attention"}, "w_300,h_200,c_fill,g_auto"),
        ({"background": "white", "format": "jpeg"}, "w_300,h_200,f_jpg,b_white"),
    ],
)
def test_cloudinary_mapping(changes: dict[str, object], transformations: str) -> None:
    options = {"src": HERO, "width": 300, "height": 200, **changes}
    assert CloudinaryService().get_url(options, CLOUDINARY) == (
        f"https://res.cloudinary.com/demo/image/upload/{transformations}/images/hero%20photo.jpg"
    )


def test_cloudinary_fetches_allowed_remote_images() -> None:
    settings = ImageSettings(service_config={"cloud_name": "demo"}, domains=("upload.example",))
    url = CloudinaryService().get_url(
        {"src": "https://upload.example/a b.png?x=1", "width": 64, "height": 64}, settings
    )
    assert url == (
        "https://res.cloudinary.com/demo/image/fetch/w_64,h_64/"
        "https://upload.example/a%20b.png%3Fx%3D1"
    )


def test_cloudinary_without_transformations() -> None:
    assert CloudinaryService().get_url({"src": "/a.jpg"}, CLOUDINARY) == (
        "https://res.cloudinary.com/demo/image/upload/a.jpg"
    )


# --------------------------------------------------------------------------------------------
# generic CDN


CDN = ImageSettings(service="cdn", service_config={"base_url": "https://cdn.example.com/"})


def test_cdn_default_params() -> None:
    assert CDNService().get_url(dict(FULL), CDN) == (
        "https://cdn.example.com/images/hero%20photo.jpg"
        "?w=300&h=200&fm=webp&q=80&fit=cover&pos=right+top"
    )


def test_cdn_custom_params_and_src_param() -> None:
    settings = ImageSettings(
        service_config={
            "base_url": "https://img.example.net/resize",
            "params": {"width": "width", "quality": "", "background": "bg"},
            "src_param": "url",
        }
    )
    assert CDNService().get_url(dict(FULL), settings) == (
        "https://img.example.net/resize?url=%2Fimages%2Fhero+photo.jpg"
        "&width=300&h=200&fm=webp&fit=cover&pos=right+top&bg=%23ffffff"
    )


def test_external_services_use_default_breakpoints_and_never_emit() -> None:
    emitted: list[object] = []

    def emit(transform: dict[str, object]) -> str:
        emitted.append(transform)
        return "x"

    result = resolve_image(
        {"src": HERO, "width": 800, "layout": "full-width"},
        settings=CDN,
        service=CDNService(),
        emit=emit,
    )
    assert emitted == []
    # the DEFAULT list (960 is not in LIMITED), up to the original's 1200
    assert result.src_set_attribute.count("w, ") == 4 and "960w" in result.src_set_attribute
    assert result.src.startswith("https://cdn.example.com/images/hero%20photo.jpg?w=800")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("right top", ("top", "right")),
        ("top-left", ("top", "left")),
        ("northeast", ("top", "right")),
        ("center", (None, None)),
        ("bottom", ("bottom", None)),
    ],
)
def test_parse_position(text: str, expected: tuple[str | None, str | None]) -> None:
    position = parse_position(text)
    assert position is not None and (position.vertical, position.horizontal) == expected


def test_parse_position_rejects_nonsense() -> None:
    assert parse_position("sideways") is None and parse_position(None) is None


# --------------------------------------------------------------------------------------------
# load_service


def test_builtins() -> None:
    assert load_service(ImageSettings()) is PILLOW_URLS
    assert isinstance(PILLOW_URLS, BaseLocalService) and is_local_service(PILLOW_URLS)
    for name, cls in (
        ("passthrough", PassthroughService),
        ("imgix", ImgixService),
        ("cloudinary", CloudinaryService),
        ("cdn", CDNService),
    ):
        service = load_service(ImageSettings(service=name))
        assert type(service) is cls
        assert load_service(ImageSettings(service=name)) is service  # cached
    assert is_local_service(load_service(ImageSettings(service="passthrough")))
    assert not is_local_service(load_service(ImageSettings(service="imgix")))


def test_import_path_class_is_instantiated_once() -> None:
    before = custom_service.created
    settings = ImageSettings(
        service="tests.runtime.astro.custom_service:ThumborLike",
        service_config={"prefix": "https://t.example"},
    )
    service = load_service(settings)
    assert load_service(settings) is service
    assert custom_service.created == before + 1
    result = resolve_image({"src": HERO, "width": 300}, settings=settings, service=service)
    assert result.src == "https://t.example/300x200//images/hero%20photo.jpg"


def test_import_path_object_with_only_get_url_gets_defaults() -> None:
    settings = ImageSettings(service="tests.runtime.astro.custom_service:only_get_url")
    service = load_service(settings)
    assert service.properties_to_hash[0] == "src"
    result = resolve_image(
        {"src": "/a.jpg", "width": 10, "height": 20, "densities": [2]},
        settings=settings,
        service=service,
    )
    assert result.src == "https://only.example//a.jpg?w=10"
    assert result.src_set_attribute == "https://only.example//a.jpg?w=20 2x"
    assert result.attributes == {"width": 10, "height": 20, "loading": "lazy", "decoding": "async"}


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("sharp", "Unknown image service"),
        ("tests.runtime.astro.custom_service", "Unknown image service"),
        ("tests.runtime.astro.no_such_module:x", "Could not import"),
        ("tests.runtime.astro.custom_service:missing", "has no attribute"),
        ("tests.runtime.astro.custom_service:no_hooks", "no get_url"),
        ("tests.runtime.astro.custom_service:Broken", "needs a key"),
    ],
)
def test_bad_service(name: str, fragment: str) -> None:
    with pytest.raises(ImageError) as caught:
        load_service(ImageSettings(service=name))
    assert caught.value.name == "InvalidImageService"
    assert fragment in caught.value.message and caught.value.hint
