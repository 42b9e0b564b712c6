"""Gatsby's image-data helpers (`components/hooks.ts`, reference/gatsby.md §5.7, §5.9).

`get_image` finds image data in a node the way Gatsby's does, in Python's spellings too
(`gatsby_image_data`, `child_image_sharp`), and also takes a reference string. Unlike
Gatsby it counts a mapping with `images` and `layout` as image data, so an image made only in
WebP or AVIF (no `images.fallback`) is found. `with_art_direction` is Gatsby's, warning with
`warnings.warn` where Gatsby warns only in development.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeGuard

from staticimg import data_store
from staticimg.image_data import ImageDataWarning

__all__ = ["get_image", "get_src", "get_src_set", "is_image_data", "with_art_direction"]

ImageData = Mapping[str, Any]

_DATA_KEYS: Final = ("gatsbyImageData", "gatsby_image_data", "gatsbyImage", "gatsby_image")
_CHILD_KEYS: Final = ("childImageSharp", "child_image_sharp")
_CHILD_DATA_KEYS: Final = ("gatsbyImageData", "gatsby_image_data")


def is_image_data(node: object) -> TypeGuard[Mapping[str, Any]]:
    """Whether `node` is image data itself: a mapping with `images` and `layout`."""
    return isinstance(node, Mapping) and "images" in node and "layout" in node


def get_image(node: object) -> ImageData | None:
    """The image data in `node`, or None. Looked for, in order: `node` itself, a reference
    string (loaded from the data store), what a `StaticImage(...)` call returned,
    `gatsbyImageData`, `gatsbyImage` (Image CDN), `childImageSharp.gatsbyImageData`;
    snake_case spellings of each are accepted."""
    if isinstance(node, str):
        if hasattr(node, "__html__"):
            # HTML: what StaticImage returned carries its image data; other HTML has none
            carried = getattr(node, "image_data", None)
            return carried if is_image_data(carried) else None
        record = data_store.load(node)
        return record if is_image_data(record) else None
    if not isinstance(node, Mapping):
        return None  # numbers, None, …: Gatsby's helper is null-safe too
    if is_image_data(node):
        return node
    for key in _DATA_KEYS:
        found = _image_at(node.get(key))
        if found is not None:
            return found
    for key in _CHILD_KEYS:
        child = node.get(key)
        if isinstance(child, Mapping):
            for data_key in _CHILD_DATA_KEYS:
                found = _image_at(child.get(data_key))
                if found is not None:
                    return found
    return None


def get_src(node: object) -> str | None:
    """The `src` of the fallback image (`images.fallback.src`), or None."""
    fallback = _fallback(node)
    src = fallback.get("src") if fallback is not None else None
    return src if isinstance(src, str) else None


def get_src_set(node: object) -> str | None:
    """The `srcSet` of the fallback image (`images.fallback.srcSet`), or None."""
    fallback = _fallback(node)
    value = fallback.get("srcSet") if fallback is not None else None
    return value if isinstance(value, str) else None


def with_art_direction(
    default_image: object, art_directed: Iterable[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """One image that switches source by media query: Gatsby's `withArtDirection`.

    `art_directed` is `[{"media": "(max-width: 600px)", "image": <image data>}, …]`; the
    first matching media wins, and the default image's own sources come last. Layout, size
    and colour are the default image's: give the art-directed images the same aspect ratio,
    or set it per media query in CSS. An entry without `media` is skipped with a warning.
    Each image may be image data, a reference, or what a `StaticImage(...)` call returned.

    Without image data for the default image (the build has not run yet, say) it warns and
    returns None, which GatsbyImage renders as its "no image" notice rather than failing.
    """
    default = get_image(default_image)
    if default is None:
        _warn(
            "with_art_direction got no image data for the default image: pass image data, "
            "a reference or a StaticImage(...) result (has `staticimg build` run?)"
        )
        return None
    images = default["images"]
    placeholder = default.get("placeholder")
    sources: list[Mapping[str, Any]] = []
    placeholder_sources: list[Mapping[str, Any]] = []
    output: dict[str, Any] = {
        key: value for key, value in default.items() if key not in ("images", "placeholder")
    }
    output["images"] = {**images, "sources": sources}
    if placeholder:
        output["placeholder"] = {**placeholder, "sources": placeholder_sources}

    for entry in art_directed:
        media = entry.get("media")
        if not media:
            _warn(
                "All art-directed images passed to with_art_direction must have a value set "
                "for `media`. Skipping."
            )
            continue
        image = get_image(entry.get("image"))
        if image is None:
            _warn(f"The art-directed image for media {media!r} has no image data. Skipping.")
            continue
        if image.get("layout") != default.get("layout"):
            _warn(
                f'Mismatched image layout: expected "{default.get("layout")}" but received '
                f'"{image.get("layout")}". All art-directed images use the same layout as '
                "the default image"
            )
        art_images = image["images"]
        sources.extend({**source, "media": media} for source in art_images.get("sources") or ())
        fallback = art_images.get("fallback")
        if isinstance(fallback, Mapping) and fallback.get("srcSet"):
            sources.append({"media": media, "srcSet": fallback["srcSet"]})
        if placeholder:
            blurred = (image.get("placeholder") or {}).get("fallback")
            if blurred:
                placeholder_sources.append({"media": media, "srcSet": blurred})

    sources.extend(images.get("sources") or ())
    if placeholder:
        placeholder_sources.extend(placeholder.get("sources") or ())
    return output


def _image_at(value: object) -> ImageData | None:
    if isinstance(value, str):
        record = data_store.load(value)
        return record if is_image_data(record) else None
    return value if is_image_data(value) else None


def _fallback(node: object) -> Mapping[str, Any] | None:
    image = get_image(node)
    if image is None:
        return None
    fallback = (image.get("images") or {}).get("fallback")
    return fallback if isinstance(fallback, Mapping) else None


def _warn(message: str) -> None:
    # stacklevel 3: the warning points at the caller of with_art_direction
    warnings.warn(f"[staticimg] {message}", ImageDataWarning, stacklevel=3)
