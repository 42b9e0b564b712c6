"""Assembling image data: the `IGatsbyImageData` dict, and the helpers for CDN images.

`build_image_data` is the one place the dict is put together; the compiler's image stage
calls it with the files it wrote, and `generate_image_data` calls it with the URLs a
`generate_image_source` callback returns. `get_image_data` is Gatsby's runtime URL-builder
helper on top of that, for images a CDN resizes on request. Stdlib only: the result is
plain dicts, lists, strings and numbers, ready for orjson.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from staticimg.layout import (
    DEFAULT_BREAKPOINTS,
    Fit,
    ImageSizes,
    Layout,
    calculate_image_sizes,
    check_dimensions,
    js_round,
    normalize_layout,
    output_height,
    sizes_attribute,
)

# gatsby-plugin-image `image-utils.ts` constants (reference/gatsby.md §5.1).
EVERY_BREAKPOINT: Final[tuple[int, ...]] = (
    320, 654, 768, 1024, 1366, 1600, 1920, 2048, 2560, 3440, 3840, 4096,
)  # fmt: skip
DEFAULT_ASPECT_RATIO: Final = 4 / 3
DEFAULT_WIDTH: Final = 800  # when neither the request nor the source says
DEFAULT_PLACEHOLDER_WIDTH: Final = 20
DEFAULT_FORMATS: Final[tuple[str, ...]] = ("auto", "webp")

# Formats that become the `<img>` itself; the rest become `<source>` elements.
FALLBACK_FORMATS: Final = frozenset({"jpg", "png", "auto"})
# The browser takes the first `<source>` it supports, so the smallest files go first.
_SOURCE_RANK: Final[dict[str, int]] = {"image/avif": 0, "image/webp": 1}

SrcSetEntry = tuple[str, int]  # (url, width in pixels)
ImageDataDict = dict[str, Any]


class ImageDataWarning(UserWarning):
    """Something in a helper's input was ignored or dropped; the result is still usable."""


@dataclass(frozen=True, slots=True)
class ImageSource:
    """One resized image, as a `generate_image_source` callback describes it."""

    src: str
    width: int
    height: int
    format: str


class GenerateImageSource(Protocol):
    """Gatsby's `generateImageSource(filename, width, height, format, fit, options)`.

    Called positionally, in Gatsby's order, so a plugin's resolver ports as it is. It may
    return an `ImageSource` or a mapping with `src`, `width`, `height` and `format`.
    """

    def __call__(
        self,
        filename: str,
        width: int,
        height: int,
        format: str,
        fit: Fit | None,
        options: Mapping[str, Any] | None,
        /,
    ) -> ImageSource | Mapping[str, Any] | None: ...


class UrlBuilder(Protocol):
    """The URL of `base_url` resized to `width`×`height` in `format` (`"auto"`: CDN's choice)."""

    def __call__(
        self,
        *,
        base_url: str,
        width: int,
        height: int,
        format: str,
        options: Mapping[str, Any] | None,
    ) -> str: ...


@dataclass(frozen=True, slots=True)
class DefaultDimensions:
    """The size a helper call asks for once Gatsby's `setDefaultDimensions` has filled gaps."""

    width: float
    height: float
    aspect_ratio: float


def src_set(entries: Sequence[SrcSetEntry]) -> str:
    """`srcset` text as Gatsby stores it in JSON: `"<url> <w>w"`, joined by comma + newline."""
    return ",\n".join(f"{url} {width}w" for url, width in entries)


def build_image_data(
    *,
    layout: Layout,
    sizes: ImageSizes,
    fallback: tuple[str, Sequence[SrcSetEntry]] | None,
    sources: Sequence[tuple[str, Sequence[SrcSetEntry]]] = (),
    sizes_attribute: str | None = None,
    background_color: str | None = None,
    placeholder_url: str | None = None,
    blur_hash: str | None = None,
) -> ImageDataDict:
    """The image-data dict, in Gatsby's shape with camelCase keys and a fixed key order.

    `fallback` is `(format, [(url, width), ...])` for the `<img>`; `sources` are
    `(mime type, [(url, width), ...])` for the `<source>` elements, put AVIF first, then
    WebP, then the rest in the order given. `sizes_attribute` is the user's `sizes`, else
    the layout's formula. A format with no entries is left out.
    """
    if layout != sizes.layout:
        raise ValueError(f"layout {layout!r} does not match the sizes' {sizes.layout!r}")
    attribute = sizes_attribute or _sizes_attribute(sizes)
    width, height = _json_dimensions(sizes)
    data: ImageDataDict = {"layout": layout, "width": width, "height": height}
    if background_color:
        data["backgroundColor"] = background_color

    images: dict[str, Any] = {}
    if fallback and fallback[1]:
        entries = sorted(fallback[1], key=lambda entry: entry[1])
        images["fallback"] = {
            "src": _nearest(entries, sizes.fallback_width),
            "srcSet": src_set(entries),
            "sizes": attribute,
        }
    ranked = sorted(sources, key=lambda source: _SOURCE_RANK.get(source[0], len(_SOURCE_RANK)))
    images["sources"] = [
        {
            "srcSet": src_set(sorted(entries, key=lambda entry: entry[1])),
            "type": mime,
            "sizes": attribute,
        }
        for mime, entries in ranked
        if entries
    ]
    data["images"] = images

    if placeholder_url:
        data["placeholder"] = {"fallback": placeholder_url}
    if blur_hash:
        data["blurHash"] = blur_hash
    return data


def format_from_filename(name: str) -> str | None:
    """The format named by a file's extension (`jpeg` → `jpg`), if it is 3 or 4 letters."""
    dot = name.rfind(".")
    if dot == -1:
        return None
    extension = name[dot + 1 :].lower()
    if extension == "jpeg":
        return "jpg"
    return extension if len(extension) in (3, 4) else None


def set_default_dimensions(
    *,
    layout: Layout,
    width: float | None = None,
    height: float | None = None,
    aspect_ratio: float | None = None,
    source_width: int | None = None,
    source_height: int | None = None,
    breakpoints: Sequence[int] | None = None,
) -> DefaultDimensions:
    """Gatsby's `setDefaultDimensions` (reference/gatsby.md §5.2), every gap filled.

    With a known source, fullWidth ignores width and height as the compiler does. Where
    Gatsby leaves the aspect ratio undefined (no source, no height) it is 4:3.
    """
    source_known = source_width is not None and source_height is not None
    if layout == "fullWidth" and source_known:
        assert source_width is not None and source_height is not None
        ratio = aspect_ratio or source_width / source_height
        return DefaultDimensions(source_width, js_round(source_width / ratio), ratio)
    if width and height:
        return DefaultDimensions(width, height, width / height)
    if aspect_ratio is None and source_width and source_height:
        aspect_ratio = source_width / source_height

    if layout == "fullWidth":
        width = width or max(breakpoints or DEFAULT_BREAKPOINTS)
        ratio = aspect_ratio or DEFAULT_ASPECT_RATIO
        return DefaultDimensions(width, height or js_round(width / ratio), ratio)

    if not width:
        if height and aspect_ratio:
            width = height * aspect_ratio
        elif source_width:
            width = source_width
        elif height:
            # Gatsby divides here (`height / (4/3)`), which turns a landscape default into
            # a portrait box.
            width = js_round(height * DEFAULT_ASPECT_RATIO)
        else:
            width = DEFAULT_WIDTH
    if height:
        return DefaultDimensions(width, height, aspect_ratio or width / height)
    ratio = aspect_ratio or DEFAULT_ASPECT_RATIO
    return DefaultDimensions(width, js_round(width / ratio), ratio)


def generate_image_data(
    *,
    filename: str,
    generate_image_source: GenerateImageSource,
    source_width: int | None = None,
    source_height: int | None = None,
    source_format: str | None = None,
    layout: str = "constrained",
    width: float | None = None,
    height: float | None = None,
    aspect_ratio: float | None = None,
    formats: Sequence[str] | None = None,
    breakpoints: Sequence[int] | None = None,
    output_pixel_densities: Sequence[float] | None = None,
    fit: Fit | None = None,
    background_color: str | None = None,
    placeholder_url: str | None = None,
    options: Mapping[str, Any] | None = None,
    sizes: str | None = None,
    plugin_name: str | None = None,
) -> ImageDataDict:
    """Gatsby's `generateImageData` helper (reference/gatsby.md §5.3), for images whose
    resized URLs come from `generate_image_source` (a CDN, an image service).

    Without `source_width`/`source_height` the requested size is taken as the source's, and
    the service is trusted to deliver it. Problems that do not stop the image (an invalid
    callback result, jpg together with png, no plugin name) warn with `ImageDataWarning`.
    """
    if not callable(generate_image_source):
        raise TypeError("generate_image_source must be a function")
    if not plugin_name:
        _warn('[staticimg] "generate_image_data" was not passed a plugin name')
    name = plugin_name or "generate_image_data"
    chosen_layout = normalize_layout(layout)
    image_sizes = _helper_sizes(
        layout=chosen_layout,
        width=width,
        height=height,
        aspect_ratio=aspect_ratio,
        source_width=source_width,
        source_height=source_height,
        fit=fit,
        output_pixel_densities=output_pixel_densities,
        breakpoints=breakpoints,
    )

    own_format = _normal_format(source_format or format_from_filename(filename) or "auto")
    fallback: tuple[str, list[SrcSetEntry]] | None = None
    extra: list[tuple[str, list[SrcSetEntry]]] = []
    for fmt in _resolve_formats(formats, own_format, name):
        if fmt in FALLBACK_FORMATS and fallback is not None:
            continue  # one `<img>` only; jpg+png was already reduced to one of them
        entries: list[SrcSetEntry] = []
        for size in image_sizes.sizes:
            height_px = output_height(size, image_sizes.aspect_ratio)
            image = _image_source(
                generate_image_source(filename, size, height_px, fmt, fit, options)
            )
            if image is None:
                _warn(f"[{name}] The resolver for image {filename} returned an invalid value.")
                continue
            entries.append((image.src, image.width))
        if fmt in FALLBACK_FORMATS:
            fallback = (fmt, entries)
        else:
            extra.append((f"image/{fmt}", entries))

    return build_image_data(
        layout=chosen_layout,
        sizes=image_sizes,
        fallback=fallback,
        sources=extra,
        sizes_attribute=sizes,
        background_color=background_color,
        placeholder_url=placeholder_url,
    )


def get_image_data(
    *,
    base_url: str,
    url_builder: UrlBuilder,
    source_width: int | None = None,
    source_height: int | None = None,
    layout: str = "constrained",
    width: float | None = None,
    height: float | None = None,
    aspect_ratio: float | None = None,
    formats: Sequence[str] = ("auto",),
    breakpoints: Sequence[int] | None = None,
    output_pixel_densities: Sequence[float] | None = None,
    fit: Fit | None = None,
    background_color: str | None = None,
    placeholder_url: str | None = None,
    options: Mapping[str, Any] | None = None,
    sizes: str | None = None,
    plugin_name: str = "get_image_data",
) -> ImageDataDict:
    """Image data for an image served by a CDN that resizes on request (Gatsby's
    `getImageData`, reference/gatsby.md §5.6).

    `url_builder(base_url=..., width=..., height=..., format=..., options=...)` returns the
    URL of one size; `format` is `"auto"` for the fallback (let the CDN choose). fullWidth
    without `breakpoints` offers every common screen width (`EVERY_BREAKPOINT`).
    """
    chosen_layout = normalize_layout(layout)
    if chosen_layout == "fullWidth" and not breakpoints:
        breakpoints = EVERY_BREAKPOINT

    def generate(
        filename: str,
        width: int,
        height: int,
        format: str,
        fit: Fit | None,
        options: Mapping[str, Any] | None,
        /,
    ) -> ImageSource:
        url = url_builder(
            base_url=filename, width=width, height=height, format=format, options=options
        )
        return ImageSource(src=url, width=width, height=height, format=format)

    return generate_image_data(
        filename=base_url,
        generate_image_source=generate,
        source_width=source_width,
        source_height=source_height,
        source_format="auto",
        layout=chosen_layout,
        width=width,
        height=height,
        aspect_ratio=aspect_ratio,
        formats=formats,
        breakpoints=breakpoints,
        output_pixel_densities=output_pixel_densities,
        fit=fit,
        background_color=background_color,
        placeholder_url=placeholder_url,
        options=options,
        sizes=sizes,
        plugin_name=plugin_name,
    )


def get_low_resolution_image_url(
    *,
    filename: str,
    generate_image_source: GenerateImageSource,
    source_width: int | None = None,
    source_height: int | None = None,
    source_format: str | None = None,
    layout: str = "constrained",
    width: float | None = None,
    height: float | None = None,
    aspect_ratio: float | None = None,
    breakpoints: Sequence[int] | None = None,
    fit: Fit | None = None,
    options: Mapping[str, Any] | None = None,
    placeholder_width: int = DEFAULT_PLACEHOLDER_WIDTH,
) -> str | None:
    """The URL of a tiny image (20 px wide) with the main image's aspect ratio and crop, for
    a blurred placeholder (Gatsby's `getLowResolutionImageURL`, reference/gatsby.md §5.4)."""
    # The same layout as the main image, so the placeholder has its exact shape and crop.
    image_sizes = _helper_sizes(
        layout=normalize_layout(layout),
        width=width,
        height=height,
        aspect_ratio=aspect_ratio,
        source_width=source_width,
        source_height=source_height,
        fit=fit,
        output_pixel_densities=None,
        breakpoints=breakpoints,
    )
    fmt = _normal_format(source_format or format_from_filename(filename) or "jpg")
    result = generate_image_source(
        filename,
        placeholder_width,
        output_height(placeholder_width, image_sizes.aspect_ratio),
        fmt,
        fit,
        options,
    )
    src = result.src if isinstance(result, ImageSource) else (result or {}).get("src")
    return src if isinstance(src, str) and src else None


def _helper_sizes(
    *,
    layout: Layout,
    width: float | None,
    height: float | None,
    aspect_ratio: float | None,
    source_width: int | None,
    source_height: int | None,
    fit: Fit | None,
    output_pixel_densities: Sequence[float] | None,
    breakpoints: Sequence[int] | None,
) -> ImageSizes:
    """The helpers' layout: the compiler's, measured against the source when it is known.

    With no source to measure against, `set_default_dimensions` fills the gaps and the
    request itself stands in for the source: the largest image the service will make.
    """
    check_dimensions(width=width, height=height)
    source = _source_size(source_width, source_height)
    if source is None:
        dimensions = set_default_dimensions(
            layout=layout,
            width=width,
            height=height,
            aspect_ratio=aspect_ratio,
            breakpoints=breakpoints,
        )
        source = (max(1, js_round(dimensions.width)), max(1, js_round(dimensions.height)))
        width = height = aspect_ratio = None
    return calculate_image_sizes(
        source_width=source[0],
        source_height=source[1],
        layout=layout,
        width=width,
        height=height,
        aspect_ratio=aspect_ratio,
        fit=fit or "cover",
        output_pixel_densities=output_pixel_densities,
        breakpoints=breakpoints,
    )


def _sizes_attribute(sizes: ImageSizes) -> str:
    return sizes_attribute(sizes.unscaled_width, sizes.layout)


def _json_dimensions(sizes: ImageSizes) -> tuple[float, float]:
    """`width`/`height` of the JSON: the box the wrapper reserves (§4.1 step 20).

    fullWidth stores only its aspect ratio (1 × 1/ratio); constrained keeps Gatsby's exact
    `width / ratio` height so the reserved box has the output's exact shape.
    """
    if sizes.layout == "fixed":
        return sizes.presentation_width, sizes.presentation_height
    if sizes.layout == "fullWidth":
        return 1, _js_number(1 / sizes.aspect_ratio)
    return sizes.presentation_width, _js_number(sizes.presentation_width / sizes.aspect_ratio)


def _js_number(value: float) -> float:
    """Integral floats as ints, so the JSON says `1200` as JavaScript would, not `1200.0`."""
    return int(value) if value.is_integer() else value


def _nearest(entries: Sequence[SrcSetEntry], width: int) -> str:
    """The URL of the entry of `width`, or the closest one if a resolver dropped it."""
    url, _ = min(entries, key=lambda entry: (abs(entry[1] - width), -entry[1]))
    return url


def _source_size(width: int | None, height: int | None) -> tuple[int, int] | None:
    if width is None and height is None:
        return None
    if width is None or height is None or width < 1 or height < 1:
        raise ValueError(
            f"source_width and source_height go together, both ≥ 1: got {width} and {height}"
        )
    return width, height


def _normal_format(fmt: str) -> str:
    fmt = fmt.lower()
    return "jpg" if fmt == "jpeg" else fmt


def _resolve_formats(formats: Sequence[str] | None, own_format: str, plugin: str) -> list[str]:
    """The formats to make, in order: `auto`/`""`/none stand for the source's own format."""
    chosen = DEFAULT_FORMATS if formats is None else formats
    wanted = list(dict.fromkeys(_normal_format(f) for f in chosen))
    if not wanted or "auto" in wanted or "" in wanted:
        wanted = [f for f in wanted if f not in ("auto", "")]
        wanted.append(own_format)
        wanted = list(dict.fromkeys(wanted))
    if "jpg" in wanted and "png" in wanted:
        _warn(
            f"[{plugin}] Specifying both 'jpg' and 'png' formats is not supported. "
            "Using 'auto' instead"
        )
        wanted.remove("png" if own_format == "jpg" else "jpg")
    return wanted


def _image_source(value: object) -> ImageSource | None:
    """A callback's result, if it names a source, a positive width and height and a format."""
    if isinstance(value, ImageSource):
        fields: Mapping[str, Any] = {
            "src": value.src,
            "width": value.width,
            "height": value.height,
            "format": value.format,
        }
    elif isinstance(value, Mapping):
        fields = value
    else:
        return None
    src, width, height, fmt = (fields.get(key) for key in ("src", "width", "height", "format"))
    if not (isinstance(src, str) and src and isinstance(fmt, str) and fmt):
        return None
    width_px, height_px = _pixels(width), _pixels(height)
    if width_px is None or height_px is None:
        return None
    return ImageSource(src=src, width=width_px, height=height_px, format=fmt)


def _pixels(value: object) -> int | None:
    """A whole number of pixels ≥ 1 (srcset descriptors are integers), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    pixels = js_round(value)
    return pixels if pixels >= 1 else None


def _warn(message: str) -> None:
    # stacklevel 3: the warning points at the code that called the public helper.
    warnings.warn(message, ImageDataWarning, stacklevel=3)
