"""Astro's getImage and Picture: reference/astro.md §9.1 (integration), §9.2, §3.5, §4."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from staticimg import data_store
from staticimg.astro import settings as astro_settings
from staticimg.astro.record import image_record, picture_record
from staticimg.astro.resolve import (
    BuildFailure,
    get_image,
    get_picture,
    resolve_image,
    resolve_picture,
)
from staticimg.astro.services import PILLOW_URLS, CDNService, reset_services
from staticimg.astro.types import (
    GetImageResult,
    ImageError,
    ImageMetadata,
    ImageSettings,
    RemotePattern,
)

SETTINGS = ImageSettings()
PENGUIN = ImageMetadata("/images/penguin1.jpg", 207, 243, "jpg")
WALRUS = ImageMetadata("/images/walrus_600x400.jpg", 600, 400, "jpg")
BIG = ImageMetadata("/images/walrus.jpg", 2316, 1544, "jpg")


def image(**options: Any) -> GetImageResult:
    return resolve_image(options, settings=SETTINGS, service=PILLOW_URLS)


def urls(result: GetImageResult) -> set[str]:
    return {result.src, *(v.url for v in result.src_set)}


def widths(srcset: str) -> list[int]:
    return [int(entry.rsplit(" ", 1)[1][:-1]) for entry in srcset.split(", ")]


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    astro_settings.reset()
    reset_services()
    data_store.reset()
    yield
    astro_settings.reset()
    reset_services()
    data_store.reset()


# --------------------------------------------------------------------------------------------
# §9.2 dimensions and srcset


@pytest.mark.parametrize(
    ("props", "size"),
    [
        ({}, (207, 243)),
        ({"width": 350}, (350, 411)),
        ({"height": 200}, (170, 200)),
        ({"width": 300, "height": 400}, (300, 400)),
        ({"width": "350"}, (350, 411)),  # components parseInt string sizes
    ],
)
def test_dimensions(props: dict[str, Any], size: tuple[int, int]) -> None:
    result = image(src=PENGUIN, **props)
    assert (result.attributes["width"], result.attributes["height"]) == size
    assert f"w={size[0]}&h={size[1]}&f=webp" in result.src


def test_default_image_matches_astros_example() -> None:
    result = image(src=PENGUIN, alt="a penguin")
    assert result.src == "/_image?href=%2Fimages%2Fpenguin1.jpg&w=207&h=243&f=webp"
    assert result.src_set == ()
    assert result.attributes == {
        "alt": "a penguin", "loading": "lazy", "decoding": "async", "width": 207, "height": 243,
    }  # fmt: skip


def test_densities_2x() -> None:
    result = image(src=WALRUS, width=300, densities=[2])
    assert result.src.endswith("w=300&h=200&f=webp")
    assert result.src_set_attribute.endswith("w=600&h=400&f=webp 2x")
    jpg = image(src=WALRUS, width=300, densities=[2], format="jpg")
    assert jpg.src.endswith("f=jpg") and jpg.src_set_attribute.endswith("f=jpg 2x")


@pytest.mark.parametrize(
    ("props", "distinct"),
    [
        ({"src": PENGUIN, "densities": [1.5, 2]}, 3),
        ({"src": PENGUIN, "densities": [1]}, 1),
        ({"src": PENGUIN, "widths": [207], "width": 207 / 2}, 2),
        ({"src": "https://x.example/a.png", "width": 32, "height": 32, "widths": [64]}, 2),
    ],
)
def test_dedup_counts(props: dict[str, Any], distinct: int) -> None:
    settings = ImageSettings(domains=("x.example",))
    result = resolve_image(props, settings=settings, service=PILLOW_URLS)
    assert len(urls(result)) == distinct


def test_srcset_entry_equal_to_the_main_image_reuses_its_url_and_emits_once() -> None:
    emitted: list[dict[str, Any]] = []

    def emit(transform: dict[str, Any]) -> str:
        emitted.append(transform)
        return f"/_static/{transform['width']}x{transform['height']}.{transform['format']}"

    result = resolve_image(
        {"src": PENGUIN, "densities": [1, 2]}, settings=SETTINGS, service=PILLOW_URLS, emit=emit
    )
    assert result.src == "/_static/207x243.webp"
    assert result.src_set_attribute == "/_static/207x243.webp 1x, /_static/414x486.webp 2x"
    assert [(t["width"], t["height"]) for t in emitted] == [(207, 243), (414, 486)]


def test_srcset_urls_never_contain_spaces() -> None:
    result = resolve_image(
        {"src": ImageMetadata("/my photos/a b.jpg", 800, 600, "jpg"), "widths": [400, 800]},
        settings=SETTINGS,
        service=PILLOW_URLS,
        emit=lambda t: f"/out/a b-{t['width']}.webp",
    )
    assert result.src_set_attribute == "/out/a%20b-400.webp 400w, /out/a%20b-800.webp 800w"
    assert " " not in result.src


# --------------------------------------------------------------------------------------------
# §9.1 integration (local service ⇒ LIMITED breakpoints)


def test_constrained_1158_picture_in_two_formats() -> None:
    picture = resolve_picture(
        {"src": BIG, "width": 1158, "formats": ["avif", "webp"], "layout": "constrained"},
        settings=SETTINGS,
        service=PILLOW_URLS,
    )
    assert [s.type for s in picture.sources] == ["image/avif", "image/webp"]
    for source in picture.sources:
        assert widths(source.srcset) == [640, 750, 828, 1080, 1158, 1280, 1668, 2048, 2316]
        assert source.sizes == "(min-width: 1158px) 1158px, 100vw"  # beyond Astro: copied
    img = picture.fallback.attributes
    assert (img["width"], img["height"]) == (1158, 772)


@pytest.mark.parametrize(
    ("props", "expected_widths", "size"),
    [
        ({"width": 800, "layout": "constrained"}, None, (800, 533)),
        ({"width": 300, "height": 400, "layout": "constrained"}, [300, 600], (300, 400)),
        ({"width": 400, "height": 300, "layout": "fixed"}, [400, 800], (400, 300)),
        ({"layout": "full-width"}, [640, 750, 828, 1080, 1280, 1668, 2048], (2316, 1544)),
        ({"width": 350}, None, (350, 233)),
        ({"height": 200}, None, (300, 200)),
        ({}, None, (2316, 1544)),
    ],
)
def test_layout_integration(
    props: dict[str, Any], expected_widths: list[int] | None, size: tuple[int, int]
) -> None:
    result = image(src=BIG, **props)
    assert (result.attributes["width"], result.attributes["height"]) == size
    if expected_widths is not None:
        assert widths(result.src_set_attribute) == expected_widths
    if props.get("width") == 800:
        assert widths(result.src_set_attribute)[-1] == 1600


def test_priority_and_default_loading() -> None:
    eager = image(src=BIG, width=300, priority=True).attributes
    assert (eager["loading"], eager["decoding"], eager["fetchpriority"]) == (
        "eager",
        "sync",
        "high",
    )
    lazy = image(src=BIG, width=300).attributes
    assert (lazy["loading"], lazy["decoding"]) == ("lazy", "async")
    assert "fetchpriority" not in lazy and "priority" not in lazy


def test_layout_attributes_and_component_defaults() -> None:
    result = image(src=BIG, width=300, layout="constrained", position="right top")
    assert result.attributes["data-astro-image"] == "constrained"
    assert result.attributes["data-astro-image-pos"] == "right-top"
    assert result.attributes["data-astro-image-fit"] == "cover"  # fit ??= "cover"
    assert "fit=cover&position=right+top" in result.src
    for key in ("fit", "position", "layout", "widths", "densities", "format", "quality"):
        assert key not in result.attributes


@pytest.mark.parametrize("fit", ["fill", "contain", "cover", "scale-down"])
def test_fit_attribute(fit: str) -> None:
    assert (
        image(src=BIG, width=300, layout="fixed", fit=fit).attributes["data-astro-image-fit"] == fit
    )


def test_settings_layout_object_fit_and_breakpoints() -> None:
    settings = ImageSettings(
        layout="constrained", object_fit="contain", object_position="top", breakpoints=(500, 900)
    )
    result = resolve_image({"src": BIG, "width": 600}, settings=settings, service=PILLOW_URLS)
    assert widths(result.src_set_attribute) == [500, 600, 900, 1200]
    assert result.attributes["data-astro-image-fit"] == "contain"
    assert result.attributes["data-astro-image-pos"] == "top"
    # without a layout the config's fit/position still reach the service, not the attributes
    plain = resolve_image(
        {"src": BIG, "width": 600, "layout": "none"}, settings=settings, service=PILLOW_URLS
    )
    assert "fit=contain&position=top" in plain.src and "data-astro-image" not in plain.attributes
    assert "sizes" not in plain.attributes


def test_layout_drops_densities_and_user_widths_and_sizes_win() -> None:
    result = image(
        src=BIG, width=400, layout="constrained", densities=[2], widths=[100, 400], sizes="50vw"
    )
    assert widths(result.src_set_attribute) == [100, 400]
    assert result.attributes["sizes"] == "50vw"


def test_unknown_layout_is_an_error() -> None:
    with pytest.raises(ImageError) as caught:
        image(src=BIG, layout="responsive")
    assert caught.value.name == "InvalidParameter"


# --------------------------------------------------------------------------------------------
# getImage unit cases (external-like service ⇒ DEFAULT list), remote and data: sources


CDN = ImageSettings(service_config={"base_url": "https://cdn.example"}, domains=("x.example",))


def cdn(**options: Any) -> GetImageResult:
    return resolve_image(options, settings=CDN, service=CDNService())


def test_remote_layouts_with_an_external_service() -> None:
    src = "https://x.example/a.jpg"
    constrained = cdn(src=src, width=800, height=600, layout="constrained")
    found = widths(constrained.src_set_attribute)
    assert 800 in found and max(found) == 1600
    assert constrained.attributes["sizes"] == "(min-width: 800px) 800px, 100vw"
    assert (constrained.attributes["width"], constrained.attributes["height"]) == (800, 600)
    assert constrained.attributes["data-astro-image"] == "constrained"
    fixed = cdn(src=src, width=800, height=600, layout="fixed")
    assert widths(fixed.src_set_attribute) == [800, 1600] and fixed.attributes["sizes"] == "800px"
    full = cdn(src=src, width=800, height=600, layout="full-width")
    assert len(widths(full.src_set_attribute)) > 10 and full.attributes["sizes"] == "100vw"
    small = cdn(src=src, width=300, height=400, layout="constrained")
    assert [v.transform["height"] for v in small.src_set] == [400, 800]  # 300/400 kept


def test_style_object_is_preserved_and_no_layout_means_no_sizes() -> None:
    style = {"border": "1px solid red"}
    result = cdn(src="https://x.example/a.jpg", width=10, height=10, style=style)
    assert result.attributes["style"] is style
    assert "sizes" not in result.attributes and "data-astro-image" not in result.attributes


@pytest.mark.parametrize(
    ("src", "options", "fragment"),
    [
        ("https://x.example/a.jpg", {}, "f=webp"),
        ("https://x.example/a.svg", {}, "f=svg"),
        ("https://x.example/api/avatar", {}, None),
        ("https://x.example/a.jpg", {"format": "png"}, "f=png"),
    ],
)
def test_remote_format(src: str, options: dict[str, Any], fragment: str | None) -> None:
    result = resolve_image(
        {"src": src, "width": 10, "height": 10, **options},
        settings=ImageSettings(domains=("x.example",)),
        service=PILLOW_URLS,
    )
    if fragment is None:
        assert "&f=" not in result.src
    else:
        assert fragment in result.src


def test_remote_allowlist_decides_optimisation() -> None:
    settings = ImageSettings(
        remote_patterns=(
            RemotePattern(hostname="**.example.com"),
            RemotePattern(hostname="cdn.example.org", pathname="/images/**"),
        )
    )

    def src_of(url: str) -> str:
        return resolve_image(
            {"src": url, "width": 10, "height": 10}, settings=settings, service=PILLOW_URLS
        ).src

    assert src_of("https://cdn.example.com/a.jpg").startswith("/_image?href=https")
    assert src_of("https://a.b.c.example.com/a.jpg").startswith("/_image?href=https")
    assert src_of("https://cdn.example.org/other/photo.jpg") == (
        "https://cdn.example.org/other/photo.jpg"
    )
    assert src_of("https://elsewhere.net/a.jpg") == "https://elsewhere.net/a.jpg"


def test_data_uri() -> None:
    data = "data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'/%3E"
    options = {"src": data, "width": 256, "height": 144}
    plain = resolve_image(options, settings=SETTINGS, service=PILLOW_URLS)
    assert plain.src == data and plain.options["format"] == "svg"
    allowed = ImageSettings(remote_patterns=(RemotePattern(protocol="data"),))
    result = resolve_image(options, settings=allowed, service=PILLOW_URLS)
    assert result.src.startswith("/_image?href=data%3Aimage%2Fsvg%2Bxml")
    assert result.src.endswith("&w=256&h=144&f=svg")


def test_remote_image_measured_by_the_build_is_not_upscaled() -> None:
    measured = ImageMetadata("https://x.example/small.jpg", 700, 350, "jpg")
    result = image(src=measured, width=600, layout="constrained")
    assert widths(result.src_set_attribute) == [600, 640]  # capped at its 700 px
    unknown = resolve_image(
        {"src": measured.src, "width": 600, "height": 300, "layout": "constrained"},
        settings=ImageSettings(domains=("x.example",)),
        service=PILLOW_URLS,
    )
    assert widths(unknown.src_set_attribute) == [600, 640, 750, 828, 1080, 1200]


# --------------------------------------------------------------------------------------------
# Picture (§4.2, §9.2)


def picture(**options: Any) -> Any:
    return resolve_picture(options, settings=SETTINGS, service=PILLOW_URLS)


def test_picture_widths_and_user_sizes() -> None:
    sizes = "(max-width: 448px) 400px, (max-width: 810px) 750px, 1050px"
    result = picture(src=PENGUIN, width=104, widths=[207], sizes=sizes)
    assert len(result.sources) == 1
    assert widths(result.sources[0].srcset) == [207]
    assert result.sources[0].sizes == sizes and result.fallback.attributes["sizes"] == sizes


def test_picture_densities_put_the_1x_first_without_descriptor() -> None:
    result = picture(src=PENGUIN, densities=[2], formats=["avif", "webp"])
    assert len(result.sources) == 2
    for source, fmt in zip(result.sources, ["avif", "webp"], strict=True):
        first, second = source.srcset.split(", ")
        assert " " not in first and first.endswith(f"f={fmt}")
        assert second.endswith(f"f={fmt} 2x")


def test_picture_types_in_order() -> None:
    result = picture(src=PENGUIN, formats=["jpg", "jpeg", "png", "avif", "webp"])
    assert [s.type for s in result.sources] == [
        "image/jpeg", "image/jpeg", "image/png", "image/avif", "image/webp",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("src", "options", "expected"),
    [
        (PENGUIN, {}, "jpg"),
        (PENGUIN, {"fallback_format": "jpeg"}, "jpeg"),
        (PENGUIN, {"fallbackFormat": "avif"}, "avif"),
        (ImageMetadata("/a.gif", 4, 4, "gif"), {}, "gif"),
        (ImageMetadata("/a.svg", 4, 4, "svg"), {}, "svg"),
        (ImageMetadata("/a.png", 4, 4, "png"), {}, "png"),
        (ImageMetadata("/a.webp", 4, 4, "webp"), {}, "png"),
        ("/static.jpg", {"width": 4, "height": 4}, "png"),  # strings always fall back to png
    ],
)
def test_fallback_format(src: Any, options: dict[str, Any], expected: str) -> None:
    result = picture(src=src, **options)
    assert result.fallback.src.endswith(f"&f={expected}")
    assert "fallback_format" not in result.fallback.attributes
    assert "fallbackformat" not in str(result.fallback.attributes).lower()


def test_picture_with_widths_never_makes_the_unused_full_size_source() -> None:
    emitted: list[tuple[int, str]] = []

    def emit(transform: dict[str, Any]) -> str:
        emitted.append((transform["width"], transform["format"]))
        return f"/o/{transform['width']}.{transform['format']}"

    resolve_picture(
        {"src": PENGUIN, "widths": [100, 200]}, settings=SETTINGS, service=PILLOW_URLS, emit=emit
    )
    assert sorted(w for w, f in emitted if f == "webp") == [100, 200]  # no 207 webp
    assert sorted(w for w, f in emitted if f == "jpg") == [100, 200, 207]


def test_picture_attributes() -> None:
    result = picture(src=PENGUIN, picture_attributes={"class": "frame"}, alt="x")
    assert result.picture_attributes == {"class": "frame"}
    assert "picture_attributes" not in result.fallback.attributes


# --------------------------------------------------------------------------------------------
# get_image: dynamic, from a record, errors


def test_get_image_uses_the_configured_service() -> None:
    astro_settings.configure(service="cdn", service_config={"base_url": "https://cdn.example"})
    result = get_image("/img/a.jpg", width=100, height=50, alt="x")
    assert result.src == "https://cdn.example/img/a.jpg?w=100&h=50&fm=webp"
    assert get_image({"src": "/img/a.jpg", "width": 100, "height": 50}).src == result.src


def test_get_image_string_needs_dimensions() -> None:
    with pytest.raises(ImageError) as caught:
        get_image("https://x.example/a.jpg", width=10)
    assert caught.value.name == "MissingImageDimension"
    with pytest.raises(ImageError) as caught:
        get_image(None)
    assert caught.value.name == "ExpectedImage"


def _store(tmp_path: Path, reference: str, record: dict[str, Any]) -> None:
    (tmp_path / f"{reference}.json").write_bytes(orjson.dumps(record))
    data_store.configure(data_dir=tmp_path)


def test_get_image_reads_the_record_and_merges_rendering_props(tmp_path: Path) -> None:
    built = resolve_image(
        {"src": BIG, "width": 800, "layout": "constrained"},
        settings=SETTINGS,
        service=PILLOW_URLS,
        emit=lambda t: f"/_static/walrus-{t['width']}.{t['format']}",
    )
    _store(tmp_path, "0123456789abcdef0123", image_record(built))
    result = get_image(
        "../images/walrus.jpg",
        width=800,
        layout="constrained",
        alt="A walrus",
        priority=True,
        class_="hero",
        sizes="50vw",
        __image_data="0123456789abcdef0123",
    )
    assert result.src == "/_static/walrus-800.webp"
    assert result.src_set_attribute == built.src_set_attribute
    attributes = result.attributes
    assert attributes["alt"] == "A walrus" and attributes["class"] == "hero"
    assert attributes["sizes"] == "50vw" and attributes["loading"] == "eager"
    assert attributes["fetchpriority"] == "high" and attributes["width"] == 800
    assert "layout" not in attributes


def test_get_picture_from_record(tmp_path: Path) -> None:
    built = resolve_picture(
        {"src": PENGUIN, "formats": ["avif", "webp"], "widths": [100, 207]},
        settings=SETTINGS,
        service=PILLOW_URLS,
        emit=lambda t: f"/o/{t['width']}.{t['format']}",
    )
    _store(tmp_path, "0123456789abcdef0124", picture_record(built))
    result = get_picture(
        "p.jpg", alt="x", sizes="10vw", picture_attributes={"id": "p"},
        __image_data="0123456789abcdef0124",
    )  # fmt: skip
    assert [s.sizes for s in result.sources] == ["10vw", "10vw"]
    assert result.picture_attributes == {"id": "p"} and result.fallback.src == "/o/207.jpg"


def test_get_image_with_error_or_missing_record(tmp_path: Path) -> None:
    with pytest.raises(BuildFailure) as caught:
        get_image("a.jpg", __error="SI101 page.py:3:1: no such file")
    assert caught.value.name == "BuildError" and "no such file" in caught.value.message
    data_store.configure(data_dir=tmp_path)
    with pytest.raises(BuildFailure) as caught:
        get_image("a.jpg", __image_data="0123456789abcdef0125")
    assert caught.value.name == "MissingImageData"
    _store(tmp_path, "0123456789abcdef0126", {"error": {"code": "SI301", "message": "broken"}})
    with pytest.raises(BuildFailure) as caught:
        get_image("a.jpg", __image_data="0123456789abcdef0126")
    assert caught.value.name == "BuildError" and "broken" in caught.value.message
