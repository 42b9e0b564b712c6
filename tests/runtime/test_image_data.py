"""Image data and the CDN helpers against Gatsby's vectors (reference/gatsby.md §8.1, §8.2).

Where staticimg deliberately differs from Gatsby, the case asserts our result and its comment
names the quirk; docs/layout.md lists each difference and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from staticimg import get_image_data, get_low_resolution_image_url
from staticimg.image_data import (
    ImageDataWarning,
    ImageSource,
    build_image_data,
    format_from_filename,
    generate_image_data,
    set_default_dimensions,
)
from staticimg.layout import Fit, Layout, calculate_image_sizes

# --------------------------------------------------------------------------------------------
# §8.1: the generateImageData helper. Base args: afile.jpg, 800×600 jpg, fixed, width 400.

Call = tuple[str, int, int, str, Fit | None, Mapping[str, Any] | None]


class FakeResolver:
    """A `generate_image_source` that records its calls, like Gatsby's jest mock."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def __call__(
        self,
        filename: str,
        width: int,
        height: int,
        format: str,
        fit: Fit | None,
        options: Mapping[str, Any] | None,
        /,
    ) -> ImageSource:
        self.calls.append((filename, width, height, format, fit, options))
        src = f"https://example.com/{filename}/{width}/{height}/image.{format}"
        return ImageSource(src=src, width=width, height=height, format=format)


def url(width: int, height: int, fmt: str) -> str:
    return f"https://example.com/afile.jpg/{width}/{height}/image.{fmt}"


def helper(resolver: FakeResolver | None = None, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "filename": "afile.jpg",
        "generate_image_source": resolver or FakeResolver(),
        "source_width": 800,
        "source_height": 600,
        "source_format": "jpg",
        "layout": "fixed",
        "width": 400,
        "plugin_name": "gatsby-plugin-fake",
    }
    return generate_image_data(**(arguments | overrides))


def test_fixed_sizes_attribute() -> None:
    data = helper()
    assert data["images"]["fallback"]["sizes"] == "400px"
    assert data["images"]["sources"][0]["sizes"] == "400px"


def test_constrained_sizes_attribute() -> None:
    data = helper(layout="constrained")
    assert data["images"]["fallback"]["sizes"] == "(min-width: 400px) 400px, 100vw"


def test_full_width_uses_the_default_breakpoints() -> None:
    data = helper(layout="fullWidth", source_width=2000, source_height=1500)
    fallback = data["images"]["fallback"]
    assert fallback["sizes"] == "100vw"
    # Gatsby's helper picks images[0] (750/563) because it looks for the ignored width 400;
    # like sharp's path, our fullWidth fallback is the largest image.
    assert fallback["src"] == url(1920, 1440, "jpg")
    assert data["images"]["sources"][0]["srcSet"] == ",\n".join(
        [
            f"{url(750, 563, 'webp')} 750w",  # 562.5 rounds up, as Math.round does
            f"{url(1080, 810, 'webp')} 1080w",
            f"{url(1366, 1025, 'webp')} 1366w",
            f"{url(1920, 1440, 'webp')} 1920w",
        ]
    )
    assert (data["width"], data["height"]) == (1, 0.75)


def test_fixed_urls() -> None:
    resolver = FakeResolver()
    data = helper(resolver)
    assert data["images"]["fallback"]["src"] == url(400, 300, "jpg")
    assert data["images"]["fallback"]["srcSet"] == (
        f"{url(400, 300, 'jpg')} 400w,\n{url(800, 600, 'jpg')} 800w"
    )
    assert data["images"]["sources"] == [
        {
            "srcSet": f"{url(400, 300, 'webp')} 400w,\n{url(800, 600, 'webp')} 800w",
            "type": "image/webp",
            "sizes": "400px",
        }
    ]
    assert ("afile.jpg", 800, 600, "jpg", None, None) in resolver.calls
    assert (data["width"], data["height"]) == (400, 300)


def test_fit_and_options_reach_the_resolver() -> None:
    resolver = FakeResolver()
    helper(resolver, fit="inside", options={"quality": 70}, formats=["jpg"])
    assert resolver.calls[0][4:] == ("inside", {"quality": 70})


@pytest.mark.parametrize(
    ("formats", "source_format", "fallback", "sources"),
    [
        (["png"], "jpg", url(400, 300, "png"), []),
        (["auto"], "jpg", url(400, 300, "jpg"), []),
        (["jpg"], "jpg", url(400, 300, "jpg"), []),
        (["webp"], "jpg", None, ["image/webp"]),
        (["avif"], "jpg", None, ["image/avif"]),
        (["auto"], "png", url(400, 300, "png"), []),
        ([""], "jpg", url(400, 300, "jpg"), []),
        ([], "jpg", url(400, 300, "jpg"), []),
        (["AUTO", "WebP"], "jpg", url(400, 300, "jpg"), ["image/webp"]),
        (["jpeg"], "png", url(400, 300, "jpg"), []),
        # Gatsby's helper lists sources in the order asked ([webp, avif]); sharp's path puts
        # AVIF first, and so do we everywhere: the browser takes the first it supports.
        (["jpg", "webp", "avif"], "jpg", url(400, 300, "jpg"), ["image/avif", "image/webp"]),
    ],
)
def test_formats(
    formats: list[str], source_format: str, fallback: str | None, sources: list[str]
) -> None:
    data = helper(formats=formats, source_format=source_format)
    assert data["images"].get("fallback", {}).get("src") == fallback
    assert [source["type"] for source in data["images"]["sources"]] == sources


def test_source_format_comes_from_the_filename_when_not_given() -> None:
    data = helper(filename="afile.png", source_format=None, formats=["auto"])
    assert data["images"]["fallback"]["src"].endswith("/400/300/image.png")


@pytest.mark.parametrize("source_format", ["jpg", "png"])
def test_jpg_with_png_warns_and_keeps_the_sources_format(source_format: str) -> None:
    with pytest.warns(ImageDataWarning, match=r"\[gatsby-plugin-fake\] Specifying both 'jpg'"):
        data = helper(formats=["jpg", "png"], source_format=source_format)
    assert data["images"]["fallback"]["src"] == url(400, 300, source_format)
    assert data["images"]["sources"] == []


def test_placeholder_url() -> None:
    placeholder = "data:image/jpg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD"
    data = helper(placeholder_url=placeholder)
    assert data["placeholder"] == {"fallback": placeholder}


@pytest.mark.parametrize("missing", ["src", "height", "width", "format"])
def test_invalid_resolver_result_warns_and_is_dropped(missing: str) -> None:
    def resolver(
        filename: str,
        width: int,
        height: int,
        format: str,
        fit: Fit | None,
        options: Mapping[str, Any] | None,
        /,
    ) -> dict[str, Any]:
        result = {"src": f"{width}.{format}", "width": width, "height": height, "format": format}
        if width == 800:  # only the 2x image is broken
            del result[missing]
        return result

    message = r"\[gatsby-plugin-fake\] The resolver for image afile.jpg returned an invalid value\."
    with pytest.warns(ImageDataWarning, match=message):
        data = generate_image_data(
            filename="afile.jpg",
            generate_image_source=resolver,
            source_width=800,
            source_height=600,
            layout="fixed",
            width=400,
            formats=["jpg"],
            plugin_name="gatsby-plugin-fake",
        )
    assert data["images"]["fallback"] == {
        "src": "400.jpg",
        "srcSet": "400.jpg 400w",
        "sizes": "400px",
    }


def test_missing_plugin_name_warns() -> None:
    with pytest.warns(ImageDataWarning, match="was not passed a plugin name"):
        helper(plugin_name=None)


def test_generate_image_source_must_be_callable() -> None:
    with pytest.raises(TypeError, match="generate_image_source must be a function"):
        helper(generate_image_source="https://example.com")


def test_user_sizes_and_background_color_are_kept() -> None:
    data = helper(sizes="50vw", background_color="#663399")
    assert data["backgroundColor"] == "#663399"
    assert data["images"]["fallback"]["sizes"] == "50vw"


def test_constrained_request_larger_than_the_source() -> None:
    # Gatsby's helper writes width 2000 (args.width) around files of at most 800 px.
    data = helper(layout="constrained", width=2000, formats=["jpg"])
    assert (data["width"], data["height"]) == (800, 600)
    assert data["images"]["fallback"]["src"] == url(800, 600, "jpg")
    assert data["images"]["fallback"]["sizes"] == "(min-width: 800px) 800px, 100vw"


def test_without_source_dimensions_the_request_is_the_largest_size() -> None:
    data = generate_image_data(
        filename="afile.jpg",
        generate_image_source=FakeResolver(),
        layout="constrained",
        width=600,
        height=300,
        formats=["jpg"],
        plugin_name="p",
    )
    assert data["images"]["fallback"]["srcSet"].splitlines() == [
        f"{url(150, 75, 'jpg')} 150w,",
        f"{url(300, 150, 'jpg')} 300w,",
        f"{url(600, 300, 'jpg')} 600w",
    ]
    assert (data["width"], data["height"]) == (600, 300)


def test_without_source_dimensions_or_height_the_shape_is_4_by_3() -> None:
    # Gatsby's helper divides by an undefined height here and writes NaN heights.
    data = generate_image_data(
        filename="afile.jpg",
        generate_image_source=FakeResolver(),
        layout="constrained",
        width=600,
        formats=["jpg"],
        plugin_name="p",
    )
    assert data["images"]["fallback"]["src"] == url(600, 450, "jpg")
    assert (data["width"], data["height"]) == (600, 450)


def test_half_known_source_dimensions_raise() -> None:
    with pytest.raises(ValueError, match="go together"):
        helper(source_height=None)


def test_dimensions_below_one_raise() -> None:
    with pytest.raises(ValueError, match="Problem dimensions you have are width: 0"):
        helper(width=0)


# --------------------------------------------------------------------------------------------
# §5.2 setDefaultDimensions


@pytest.mark.parametrize(
    ("layout", "kwargs", "expected"),
    [
        ("fixed", {"width": 400, "source_width": 800, "source_height": 600}, (400, 300, 4 / 3)),
        ("fixed", {"width": 200, "height": 100}, (200, 100, 2)),
        ("constrained", {"source_width": 800, "source_height": 600}, (800, 600, 4 / 3)),
        ("constrained", {"height": 300, "aspect_ratio": 2}, (600, 300, 2)),
        ("constrained", {}, (800, 600, 4 / 3)),
        # Gatsby computes height / (4/3) = 225 here: a portrait box from a landscape default.
        ("constrained", {"height": 300}, (400, 300, 4 / 3)),
        ("fullWidth", {}, (1920, 1440, 4 / 3)),
        ("fullWidth", {"breakpoints": [300, 600]}, (600, 450, 4 / 3)),
        ("fullWidth", {"width": 1000, "height": 250}, (1000, 250, 4)),
        # with a known source, fullWidth ignores width and height, as the compiler does
        (
            "fullWidth",
            {"width": 1000, "height": 250, "source_width": 800, "source_height": 600},
            (800, 600, 4 / 3),
        ),
    ],
)
def test_set_default_dimensions(
    layout: Layout, kwargs: dict[str, Any], expected: tuple[float, float, float]
) -> None:
    dimensions = set_default_dimensions(layout=layout, **kwargs)
    assert (dimensions.width, dimensions.height) == expected[:2]
    assert dimensions.aspect_ratio == pytest.approx(expected[2])


# --------------------------------------------------------------------------------------------
# §8.1: getLowResolutionImageURL and formatFromFilename


def low_resolution(**overrides: Any) -> str | None:
    arguments: dict[str, Any] = {
        "filename": "afile.jpg",
        "generate_image_source": FakeResolver(),
        "source_width": 800,
        "source_height": 600,
        "source_format": "jpg",
        "layout": "fixed",
        "width": 400,
    }
    return get_low_resolution_image_url(**(arguments | overrides))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, url(20, 15, "jpg")),
        ({"width": 200, "height": 200}, url(20, 20, "jpg")),
        ({"layout": "fullWidth", "aspect_ratio": 2}, url(20, 10, "jpg")),
        ({"placeholder_width": 40}, url(40, 30, "jpg")),
        # Gatsby ignores fit here (20/20); the placeholder must have the main image's shape,
        # and `inside` makes that 200×150.
        ({"width": 200, "height": 200, "fit": "inside"}, url(20, 15, "jpg")),
        # Gatsby falls back to jpg; the file name says png, which keeps transparency.
        (
            {"filename": "afile.png", "source_format": None},
            "https://example.com/afile.png/20/15/image.png",
        ),
    ],
)
def test_low_resolution_image_url(overrides: dict[str, Any], expected: str) -> None:
    assert low_resolution(**overrides) == expected


def test_low_resolution_image_url_is_none_when_the_resolver_gives_nothing() -> None:
    def nothing(*_: Any) -> None:
        return None

    assert low_resolution(generate_image_source=nothing) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("filename.jpg", "jpg"),
        ("filename.jpeg", "jpg"),
        ("filename.png", "png"),
        ("filename.heic", "heic"),
        ("filename.jp", None),
        ("filename.jpgjpg", None),
        ("file.name.jpg", "jpg"),
        ("file.name.", None),
        ("filenamejpg", None),
        (".jpg", "jpg"),
        ("PHOTO.JPEG", "jpg"),  # Gatsby returns "JPEG" as is; formats are lower-case here
    ],
)
def test_format_from_filename(name: str, expected: str | None) -> None:
    assert format_from_filename(name) == expected


# --------------------------------------------------------------------------------------------
# §8.2: getImageData on a 1600×1200 source, url_builder → <base>/<w>x<h>.<fmt>

BASE = "https://images.example.com/photo"


def build_url(
    *, base_url: str, width: int, height: int, format: str, options: Mapping[str, Any] | None
) -> str:
    return f"{base_url}/{width}x{height}.{format}"


def cdn(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "base_url": BASE,
        "url_builder": build_url,
        "source_width": 1600,
        "source_height": 1200,
    }
    return get_image_data(**(arguments | overrides))


def widths_and_heights(src_set: str) -> list[str]:
    return [entry.split()[0].rsplit("/", 1)[1].split(".")[0] for entry in src_set.split(",\n")]


def test_get_image_data_defaults() -> None:
    data = cdn()
    assert (data["layout"], data["width"], data["height"]) == ("constrained", 1600, 1200)
    fallback = data["images"]["fallback"]
    assert fallback["sizes"] == "(min-width: 1600px) 1600px, 100vw"
    assert fallback["src"] == f"{BASE}/1600x1200.auto"
    assert widths_and_heights(fallback["srcSet"]) == ["400x300", "800x600", "1600x1200"]
    assert data["images"]["sources"] == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"width": 600}, ["150x113", "300x225", "600x450", "1200x900"]),
        (
            {"layout": "fullWidth"},
            ["320x240", "654x491", "768x576", "1024x768", "1366x1025", "1600x1200"],
        ),
        (
            {"layout": "FULL_WIDTH", "breakpoints": [100, 200, 300, 1024, 2048]},
            ["100x75", "200x150", "300x225", "1024x768", "1600x1200"],
        ),
    ],
)
def test_get_image_data_sizes(overrides: dict[str, Any], expected: list[str]) -> None:
    data = cdn(**overrides)
    assert widths_and_heights(data["images"]["fallback"]["srcSet"]) == expected


def test_get_image_data_width_600_sizes_attribute() -> None:
    assert cdn(width=600)["images"]["fallback"]["sizes"] == "(min-width: 600px) 600px, 100vw"


def test_get_image_data_formats() -> None:
    data = cdn(formats=["jpg", "webp", "avif"])
    fallback = data["images"]["fallback"]
    assert widths_and_heights(fallback["srcSet"]) == ["400x300", "800x600", "1600x1200"]
    assert fallback["src"].endswith(".jpg")
    sources = data["images"]["sources"]
    # Gatsby: [webp, avif], the order asked. Ours: AVIF first, as sharp's path does.
    assert [source["type"] for source in sources] == ["image/avif", "image/webp"]
    for source in sources:
        extension = source["type"].removeprefix("image/")
        assert source["srcSet"] == fallback["srcSet"].replace(".jpg", f".{extension}")
        assert source["sizes"] == fallback["sizes"]


def test_get_image_data_passes_options_to_the_url_builder() -> None:
    seen: list[Mapping[str, Any] | None] = []

    def builder(
        *, base_url: str, width: int, height: int, format: str, options: Mapping[str, Any] | None
    ) -> str:
        seen.append(options)
        return f"{base_url}?w={width}"

    get_image_data(base_url=BASE, url_builder=builder, width=100, options={"q": 60})
    assert seen and all(options == {"q": 60} for options in seen)


# --------------------------------------------------------------------------------------------
# build_image_data: the shape, the order, the bytes


def test_json_shape_key_order_and_bytes() -> None:
    sizes = calculate_image_sizes(source_width=1600, source_height=1200, layout="constrained")
    data = build_image_data(
        layout="constrained",
        sizes=sizes,
        fallback=("jpg", [("/a-400.jpg", 400), ("/a-800.jpg", 800), ("/a-1600.jpg", 1600)]),
        sources=[
            ("image/webp", [("/a-400.webp", 400), ("/a-1600.webp", 1600)]),
            ("image/avif", [("/a-400.avif", 400), ("/a-1600.avif", 1600)]),
        ],
        background_color="#d8d8d8",
        placeholder_url="data:image/png;base64,AAAA",
        blur_hash="LEHV6nWB2yk8",
    )
    sizes_text = "(min-width: 1600px) 1600px, 100vw"
    expected = (
        '{"layout":"constrained","width":1600,"height":1200,"backgroundColor":"#d8d8d8",'
        '"images":{"fallback":{"src":"/a-1600.jpg",'
        '"srcSet":"/a-400.jpg 400w,\\n/a-800.jpg 800w,\\n/a-1600.jpg 1600w",'
        f'"sizes":"{sizes_text}"}},'
        '"sources":[{"srcSet":"/a-400.avif 400w,\\n/a-1600.avif 1600w","type":"image/avif",'
        f'"sizes":"{sizes_text}"}},'
        '{"srcSet":"/a-400.webp 400w,\\n/a-1600.webp 1600w","type":"image/webp",'
        f'"sizes":"{sizes_text}"}}]}},'
        '"placeholder":{"fallback":"data:image/png;base64,AAAA"},"blurHash":"LEHV6nWB2yk8"}'
    )
    assert orjson.dumps(data).decode() == expected


def test_optional_keys_are_absent_not_null() -> None:
    sizes = calculate_image_sizes(source_width=100, source_height=50, layout="fixed")
    data = build_image_data(layout="fixed", sizes=sizes, fallback=None, sources=[])
    assert data == {"layout": "fixed", "width": 100, "height": 50, "images": {"sources": []}}


def test_fallback_src_is_the_nearest_when_the_exact_width_is_missing() -> None:
    sizes = calculate_image_sizes(source_width=1600, source_height=1200, layout="constrained")
    data = build_image_data(
        layout="constrained",
        sizes=sizes,
        fallback=("jpg", [("/a-400.jpg", 400), ("/a-1500.jpg", 1500), ("/a-800.jpg", 800)]),
    )
    assert data["images"]["fallback"]["src"] == "/a-1500.jpg"
    assert data["images"]["fallback"]["srcSet"].startswith("/a-400.jpg 400w,\n/a-800.jpg")


def test_constrained_height_keeps_the_exact_ratio() -> None:
    sizes = calculate_image_sizes(source_width=1000, source_height=300, layout="constrained")
    data = build_image_data(layout="constrained", sizes=sizes, fallback=None)
    assert data["width"] == 1000
    assert data["height"] == 300
    odd = calculate_image_sizes(
        source_width=1000, source_height=1000, layout="constrained", width=700, aspect_ratio=3
    )
    data = build_image_data(layout="constrained", sizes=odd, fallback=None)
    assert data["height"] == pytest.approx(700 / 3)


def test_layout_must_match_the_sizes() -> None:
    sizes = calculate_image_sizes(source_width=100, source_height=50, layout="fixed")
    with pytest.raises(ValueError, match="does not match"):
        build_image_data(layout="constrained", sizes=sizes, fallback=None)


# --------------------------------------------------------------------------------------------
# Properties of the helper's output


@given(
    source_width=st.integers(min_value=1, max_value=5000),
    source_height=st.integers(min_value=1, max_value=5000),
    layout=st.sampled_from(["constrained", "fixed", "fullWidth"]),
    width=st.one_of(st.none(), st.integers(min_value=1, max_value=8000)),
    height=st.one_of(st.none(), st.integers(min_value=1, max_value=8000)),
    aspect_ratio=st.one_of(st.none(), st.floats(min_value=0.1, max_value=10)),
)
def test_helper_output_is_consistent(
    source_width: int,
    source_height: int,
    layout: Layout,
    width: int | None,
    height: int | None,
    aspect_ratio: float | None,
) -> None:
    data = cdn(
        source_width=source_width,
        source_height=source_height,
        layout=layout,
        width=width,
        height=height,
        aspect_ratio=aspect_ratio,
        formats=["auto", "webp"],
    )
    fallback = data["images"]["fallback"]
    widths = [
        int(entry.rsplit(" ", 1)[1].removesuffix("w")) for entry in fallback["srcSet"].split(",\n")
    ]
    assert widths == sorted(set(widths))
    assert widths[-1] <= source_width
    # the fallback src is one of the srcset candidates
    assert fallback["src"] in [entry.rsplit(" ", 1)[0] for entry in fallback["srcSet"].split(",\n")]
    if layout == "constrained":
        assert data["width"] <= source_width
        assert f"{data['width']}px" in fallback["sizes"]
    if layout == "fixed":
        assert data["width"] <= source_width
        assert fallback["sizes"] == f"{data['width']}px"
    assert data["images"]["sources"][0]["srcSet"] == fallback["srcSet"].replace(".auto", ".webp")
