"""Astro's baseService: format inference, quality presets, validation, attributes, srcset,
and the `/_image` URLs of the local service (reference/astro.md §1.2, §1.3, §9.6)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from staticimg.astro.service import (
    DEFAULT_HASH_PROPS,
    QUALITY_PRESETS,
    SHARP_FIT,
    BaseLocalService,
    BaseService,
    infer_source_format,
    parse_quality,
    resolve_quality,
    sniff_format,
)
from staticimg.astro.types import (
    ImageError,
    ImageMetadata,
    ImageSettings,
    RemotePattern,
    is_local_service,
)

FIXTURES = Path(__file__).parents[3] / "fixtures" / "images"
SETTINGS = ImageSettings()
LOCAL = BaseLocalService()
WALRUS = ImageMetadata("/images/walrus.jpg", 600, 400, "jpg")
PENGUIN = ImageMetadata("/images/penguin1.jpg", 207, 243, "jpg")


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("/images/logo.svg", "svg"),
        ("https://example.com/icon.svg?v=2", "svg"),
        ("https://example.com/icon.svg#fragment", "svg"),
        ("data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", "svg"),
        ("data:image/svg+xml,%3Csvg/%3E", "svg"),
        ("data:image/png,foo;bar", "png"),
        ("data:image/png", None),
        ("/images/photo", None),
        ("logo.SVG", "svg"),
        ("my.photo.jpg", "jpg"),
        ("https://example.com", None),
        ("https://example.com/api/avatar", None),
        ("https://cdn.example.com/a.b/c.webp?x=1.png", "webp"),
    ],
)
def test_infer_source_format(src: str, expected: str | None) -> None:
    assert infer_source_format(src) == expected


def test_constants_are_astros() -> None:
    assert QUALITY_PRESETS == {"low": 25, "mid": 50, "high": 80, "max": 100}
    assert DEFAULT_HASH_PROPS == (
        "src", "width", "height", "format", "quality", "fit", "position", "background",
    )  # fmt: skip
    assert SHARP_FIT["contain"] == "inside" and SHARP_FIT["none"] == "outside"
    assert SHARP_FIT["scale-down"] == "inside" and SHARP_FIT["cover"] == "cover"


@pytest.mark.parametrize(
    ("quality", "parsed", "resolved"),
    [
        ("low", "low", 25),
        ("mid", "mid", 50),
        ("high", "high", 80),
        ("max", "max", 100),
        ("80", 80, 80),
        ("70abc", 70, 70),
        (72.5, 72, 72),
        (55, 55, 55),
        ("best", "best", None),
        (None, None, None),
        (250, 250, 100),
    ],
)
def test_quality(quality: object, parsed: object, resolved: int | None) -> None:
    assert parse_quality(quality) == parsed
    assert resolve_quality(quality) == resolved


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.jpg", "jpg"),
        ("opaque-alpha.png", "png"),
        ("animated.gif", "gif"),
        ("animated.webp", "webp"),
        ("not-an-image.png", None),
        ("empty.jpg", None),
    ],
)
def test_sniff_format_on_real_files(name: str, expected: str | None) -> None:
    assert sniff_format((FIXTURES / name).read_bytes()) == expected


def test_sniff_format_svg_and_avif(tmp_path: Path) -> None:
    from PIL import Image, features

    assert sniff_format(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>') == (
        "svg"
    )
    assert sniff_format(b"<html><body>no</body></html>") is None
    if features.check("avif"):
        path = tmp_path / "a.avif"
        Image.new("RGB", (4, 4), "red").save(path)
        assert sniff_format(path.read_bytes()) == "avif"


# --------------------------------------------------------------------------------------------
# validate_options: the errors, then the normalisation


@pytest.mark.parametrize(
    ("options", "name", "fragment"),
    [
        ({"src": None}, "ExpectedImage", "Expected `src`"),
        ({"src": ""}, "ExpectedImage", "Expected `src`"),
        ({"src": 42}, "ExpectedImage", "type: int"),
        ({"src": "../images/a.jpg", "width": 1, "height": 1}, "LocalImageUsedWrongly", "file path"),
        ({"src": "images/a.jpg"}, "LocalImageUsedWrongly", "must be an image"),
        ({"src": "/@fs/home/a.jpg", "width": 1, "height": 1}, "LocalImageUsedWrongly", "/@fs/"),
        ({"src": "https://x.example/a.jpg"}, "MissingImageDimension", "width and height"),
        ({"src": "https://x.example/a", "width": 5}, "MissingImageDimension", "Missing height"),
        ({"src": "/a.jpg", "height": 5}, "MissingImageDimension", "Missing width attribute"),
        (
            {"src": ImageMetadata("/a.apng", 2, 3, "apng")},
            "UnsupportedImageFormat",
            "Received unsupported format `apng`",
        ),
        (
            {"src": WALRUS, "widths": [100], "densities": [2]},
            "IncompatibleDescriptorOptions",
            "Only one of `densities` or `widths`",
        ),
        ({"src": WALRUS, "format": "svg"}, "UnsupportedImageConversion", "vector"),
    ],
)  # fmt: skip
def test_validation_errors(options: dict[str, object], name: str, fragment: str) -> None:
    with pytest.raises(ImageError) as caught:
        LOCAL.validate_options(options, SETTINGS)
    assert caught.value.name == name
    assert fragment in caught.value.message
    assert caught.value.hint  # every error says what to do


def test_relative_path_hint_says_to_use_constant_props() -> None:
    with pytest.raises(ImageError) as caught:
        LOCAL.validate_options({"src": "../a.jpg"}, SETTINGS)
    assert caught.value.hint is not None and "constant props" in caught.value.hint


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"src": WALRUS}, "webp"),
        ({"src": ImageMetadata("/a.svg", 10, 10, "svg")}, "svg"),
        ({"src": "https://x.example/a.jpg", "width": 1, "height": 1}, "webp"),
        ({"src": "https://x.example/a.svg", "width": 1, "height": 1}, "svg"),
        ({"src": "data:image/svg+xml,%3Csvg/%3E", "width": 1, "height": 1}, "svg"),
        ({"src": "https://x.example/api/avatar", "width": 1, "height": 1}, None),
        ({"src": WALRUS, "format": "png"}, "png"),
    ],
)
def test_default_format(options: dict[str, object], expected: str | None) -> None:
    assert LOCAL.validate_options(options, SETTINGS).get("format") == expected


def test_normalisation_rounds_and_drops_layout_and_fit_none() -> None:
    result = LOCAL.validate_options(
        {"src": WALRUS, "width": 300.5, "height": 199.4, "layout": "fixed", "fit": "none"},
        SETTINGS,
    )
    assert result["width"] == 301 and result["height"] == 199  # Math.round: half up
    assert "layout" not in result and "fit" not in result


def test_validate_options_does_not_change_its_argument() -> None:
    options = {"src": WALRUS, "layout": "fixed"}
    LOCAL.validate_options(options, SETTINGS)
    assert options == {"src": WALRUS, "layout": "fixed"}


# --------------------------------------------------------------------------------------------
# Attributes and srcset


def test_html_attributes_strip_image_options_and_default_loading() -> None:
    options = {
        "src": PENGUIN, "width": 350, "format": "webp", "quality": 80, "densities": [2],
        "fit": "cover", "position": "top", "background": "#fff", "priority": True,
        "alt": "a penguin", "class": "hero", "data-x": "1",
    }  # fmt: skip
    attributes = LOCAL.get_html_attributes(options, SETTINGS)
    assert attributes == {
        "alt": "a penguin",
        "class": "hero",
        "data-x": "1",
        "width": 350,
        "height": 411,
        "loading": "lazy",
        "decoding": "async",
    }


def test_html_attributes_keep_given_loading() -> None:
    attributes = LOCAL.get_html_attributes(
        {"src": "/a.jpg", "width": 10, "height": 20, "loading": "eager", "decoding": "sync"},
        SETTINGS,
    )
    assert attributes == {"width": 10, "height": 20, "loading": "eager", "decoding": "sync"}


@pytest.mark.parametrize(
    ("options", "size"),
    [
        ({}, (207, 243)),
        ({"width": 350}, (350, 411)),
        ({"height": 200}, (170, 200)),
        ({"width": 300, "height": 400}, (300, 400)),
    ],
)
def test_target_dimensions(options: dict[str, int], size: tuple[int, int]) -> None:
    attributes = LOCAL.get_html_attributes({"src": PENGUIN, **options}, SETTINGS)
    assert (attributes["width"], attributes["height"]) == size


def test_src_set_densities() -> None:
    options = LOCAL.validate_options(
        {"src": WALRUS, "width": 300, "densities": ["2x", 1.5]}, SETTINGS
    )
    values = LOCAL.get_src_set(options, SETTINGS)
    assert [(v.descriptor, v.transform["width"], v.transform["height"]) for v in values] == [
        ("1.5x", 450, 300),
        ("2x", 600, 400),
    ]
    assert values[0].attributes == {"type": "image/webp"}


def test_src_set_widths_capped_at_the_original_then_deduplicated() -> None:
    options = LOCAL.validate_options(
        {"src": WALRUS, "width": 300, "widths": [900, 300, 600, 300, 700]}, SETTINGS
    )
    values = LOCAL.get_src_set(options, SETTINGS)
    assert [v.descriptor for v in values] == ["300w", "600w"]
    assert [v.transform["height"] for v in values] == [200, 400]


def test_src_set_of_a_remote_string_is_not_capped() -> None:
    options = LOCAL.validate_options(
        {"src": "https://x.example/a.jpg", "width": 32, "height": 32, "widths": [64]}, SETTINGS
    )
    assert [v.descriptor for v in LOCAL.get_src_set(options, SETTINGS)] == ["64w"]


def test_src_set_without_a_known_format_has_no_type() -> None:
    options = LOCAL.validate_options(
        {"src": "https://x.example/avatar", "width": 10, "height": 10, "widths": [10]}, SETTINGS
    )
    assert LOCAL.get_src_set(options, SETTINGS)[0].attributes == {}


# --------------------------------------------------------------------------------------------
# URLs


def test_base_service_has_no_url_and_is_not_local() -> None:
    with pytest.raises(NotImplementedError, match="must define get_url"):
        BaseService().get_url({"src": WALRUS}, SETTINGS)
    assert not is_local_service(BaseService()) and is_local_service(LOCAL)


def test_local_url_order_and_encoding() -> None:
    url = LOCAL.get_url(
        {
            "src": WALRUS, "background": "#fff", "position": "right top", "fit": "cover",
            "format": "webp", "quality": "high", "height": 200, "width": 300,
        },
        SETTINGS,
    )  # fmt: skip
    assert url == (
        "/_image?href=%2Fimages%2Fwalrus.jpg&w=300&h=200&q=high&f=webp&fit=cover"
        "&position=right+top&background=%23fff"
    )


def test_local_url_drops_falsy_params_and_uses_the_endpoint() -> None:
    settings = ImageSettings(endpoint="/media/_image")
    assert LOCAL.get_url({"src": WALRUS, "quality": 0, "width": 300}, settings) == (
        "/media/_image?href=%2Fimages%2Fwalrus.jpg&w=300"
    )


def test_local_url_remote_allowlist() -> None:
    options = {"src": "https://cdn.example.com/a b.jpg", "width": 10, "height": 10}
    assert LOCAL.get_url(options, SETTINGS) == "https://cdn.example.com/a b.jpg"
    allowed = ImageSettings(domains=("cdn.example.com",))
    assert LOCAL.get_url(options, allowed) == (
        "/_image?href=https%3A%2F%2Fcdn.example.com%2Fa+b.jpg&w=10&h=10"
    )


def test_local_url_data_uri_needs_a_data_pattern() -> None:
    data = "data:image/png;base64,iVBORw0KGgo="
    options = {"src": data, "width": 256, "height": 144}
    assert LOCAL.get_url(options, ImageSettings(domains=("example.com",))) == data
    allowed = ImageSettings(remote_patterns=(RemotePattern(protocol="data"),))
    assert LOCAL.get_url(options, allowed).startswith("/_image?href=data%3Aimage%2Fpng")


def test_rooted_path_goes_through_the_endpoint() -> None:
    # deviation from Astro (which returns /penguin3.jpg unchanged): it is optimised
    url = LOCAL.get_url({"src": "/penguin3.jpg", "width": 10, "height": 10}, SETTINGS)
    assert url == "/_image?href=%2Fpenguin3.jpg&w=10&h=10"
    # a network path is not a static path: unchanged, as any disallowed remote
    assert LOCAL.get_url({"src": "//evil.example/x.svg"}, SETTINGS) == "//evil.example/x.svg"


def test_parse_url() -> None:
    parsed = LOCAL.parse_url(
        "/_image?href=%2Fa.jpg&w=300&h=200&q=high&f=avif&fit=cover&position=left+top"
        "&background=%23000",
        SETTINGS,
    )
    assert parsed == {
        "src": "/a.jpg", "width": 300, "height": 200, "quality": "high", "format": "avif",
        "fit": "cover", "position": "left top", "background": "#000",
    }  # fmt: skip
    assert LOCAL.parse_url("/_image?w=300", SETTINGS) is None
    assert LOCAL.parse_url("/_image?href=%2Fa.jpg&q=70", SETTINGS) == {
        "src": "/a.jpg",
        "quality": 70,
    }


@pytest.mark.parametrize("bad", ["abc", "1.5", "-3", "0", "1e3", "99999999999"])
def test_parse_url_refuses_non_integer_sizes(bad: str) -> None:
    with pytest.raises(ImageError) as caught:
        LOCAL.parse_url(f"/_image?href=%2Fa.jpg&w={bad}", SETTINGS)
    assert caught.value.name == "InvalidParameter"


@given(
    width=st.integers(1, 10_000),
    height=st.one_of(st.none(), st.integers(1, 10_000)),
    quality=st.one_of(st.none(), st.integers(1, 100), st.sampled_from(list(QUALITY_PRESETS))),
    fmt=st.one_of(st.none(), st.sampled_from(["webp", "avif", "png", "jpg"])),
    fit=st.one_of(st.none(), st.sampled_from(list(SHARP_FIT))),
    position=st.one_of(st.none(), st.sampled_from(["center", "right top", "25% 75%"])),
    href=st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20
    ),
)
def test_url_round_trip(
    width: int,
    height: int | None,
    quality: int | str | None,
    fmt: str | None,
    fit: str | None,
    position: str | None,
    href: str,
) -> None:
    options = {
        "src": ImageMetadata("/" + href, 10, 10, "jpg"), "width": width, "height": height,
        "quality": quality, "format": fmt, "fit": fit, "position": position,
    }  # fmt: skip
    url = LOCAL.get_url(options, SETTINGS)
    assert " " not in url
    parsed = LOCAL.parse_url(url, SETTINGS)
    expected = {k: v for k, v in options.items() if v is not None}
    expected["src"] = "/" + href
    assert parsed == expected
    # and the query really is in Astro's order
    names = [name for name, _ in parse_qsl(urlsplit(url).query)]
    order = ["href", "w", "h", "q", "f", "fit", "position", "background"]
    assert names == sorted(names, key=order.index)
