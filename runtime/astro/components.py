"""Astro's `<Image />` and `<Picture />` (reference: astro.md §4) as functions returning HTML.

`Image(src=..., alt=..., **props)` renders `<img src srcset? {attributes} class?>`;
`Picture(...)` renders `<picture {picture_attributes}><source …>…<img …></picture>`. Both go
through `get_image`/`get_picture`, so a call the build resolved (`__image_data=`) reads its
record, and any other call is resolved with the configured service.

Every value is escaped once, here; attribute names are checked (`data_x` → `data-x`); `True`
writes a bare attribute, `None`/`False` none; `style` is a string or a mapping. Inline event
handlers (`onload=`, …) are refused: they defeat a Content-Security-Policy.

A call whose image the build could not make (`__error`, an error record), or that has no
record yet, renders staticimg's notice instead (visible in development, hidden in
production, logged once), exactly as `StaticImage` does. Other problems (no `alt`, bad
options) raise `ImageError`, as Astro's components throw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from markupsafe import Markup

from staticimg import notice
from staticimg.astro.resolve import BuildFailure, get_image, get_picture
from staticimg.astro.service import is_remote_string
from staticimg.astro.types import GetImageResult, ImageError, PictureResult
from staticimg.html import attribute_name, attribute_value, style_text

__all__ = ["Image", "Picture", "RefusedAttribute", "render_attributes"]

_CLASS_KEYS: Final = ("class", "class_", "class_name", "className")


class RefusedAttribute(TypeError, ValueError):
    """An attribute staticimg will not write (an inline event handler). Both a TypeError, as
    the Gatsby renderer raises for it, and a ValueError."""


def Image(src: Any = None, alt: str | None = None, **props: Any) -> Markup:
    """Astro's `<Image />`: an optimised `<img>` with width, height, lazy loading and, with
    `widths`, `densities` or a `layout`, a srcset."""
    return _render(get_image, src, alt, props, lambda r: r.attributes, _img)


def Picture(src: Any = None, alt: str | None = None, **props: Any) -> Markup:
    """Astro's `<Picture />`: one `<source>` per entry of `formats` (default webp), then the
    fallback `<img>`. `picture_attributes` go on the `<picture>` element."""
    return _render(get_picture, src, alt, props, lambda r: r.fallback.attributes, _picture)


_Result = TypeVar("_Result", GetImageResult, PictureResult)


def _render(
    resolve: Callable[..., _Result],
    src: Any,
    alt: str | None,
    props: dict[str, Any],
    attributes_of: Callable[[_Result], Mapping[str, Any]],
    html_of: Callable[[_Result], str],
) -> Markup:
    """Resolve, then render; a build failure or an unbuilt call renders the notice."""
    try:
        result = resolve(src, **_with_alt(alt, props))
    except BuildFailure as failure:
        return _notice(src, failure)
    except ImageError as error:
        missing = _unbuilt(src, error)
        if missing is not None:
            return missing
        raise
    _require_alt(src, alt, attributes_of(result))
    return Markup(html_of(result))


def _with_alt(alt: str | None, props: dict[str, Any]) -> dict[str, Any]:
    # `alt` first: it is what a reader of the HTML looks for.
    return props if alt is None else {"alt": alt, **props}


def _require_alt(src: Any, alt: str | None, attributes: Mapping[str, Any]) -> None:
    # After the record is read (as StaticImage does): a failed build shows its own notice.
    if alt is None and attributes.get("alt") is None:
        raise ImageError(
            "ImageMissingAlt",
            f"Image and Picture need `alt`: the image {_shown(src)} has none.",
            'Describe the image for people who cannot see it (alt="Harbour at dawn"), or '
            'pass alt="" if it is decoration.',
        )


def _shown(src: Any) -> str:
    return repr(getattr(src, "src", src))


def _notice(src: Any, failure: BuildFailure) -> Markup:
    if failure.name == "MissingImageData":
        return notice.missing_data(getattr(src, "src", src), failure.reference)
    diagnostic = failure.diagnostic if failure.diagnostic is not None else failure.message
    return notice.build_error(diagnostic)


def _unbuilt(src: Any, error: ImageError) -> Markup | None:
    """A relative path string means a call the build has not resolved yet (`staticimg build`
    has not run since it was written): the same notice as StaticImage, not a crash."""
    if (
        error.name == "LocalImageUsedWrongly"
        and isinstance(src, str)
        and not is_remote_string(src)
        and not src.startswith("/")
    ):
        return notice.missing_data(src)
    return None


# --------------------------------------------------------------------------------------------
# HTML


def _img(result: GetImageResult) -> str:
    attributes = dict(result.attributes)
    class_value = _pop_class(attributes)
    head: dict[str, Any] = {"src": result.src}
    srcset = result.src_set_attribute
    if srcset:
        head["srcset"] = srcset
    head.update(attributes)
    if class_value is not None:
        head["class"] = class_value
    return f"<img{render_attributes(head)}>"


def _picture(result: PictureResult) -> str:
    parts = [f"<picture{render_attributes(dict(result.picture_attributes))}>"]
    for source in result.sources:
        attributes: dict[str, Any] = {"srcset": source.srcset, "type": source.type}
        if source.sizes:
            attributes["sizes"] = source.sizes
        parts.append(f"<source{render_attributes(attributes)}>")
    parts.append(_img(result.fallback))
    parts.append("</picture>")
    return "".join(parts)


def _pop_class(attributes: dict[str, Any]) -> Any:
    value = None
    for key in _CLASS_KEYS:
        if key in attributes:
            given = attributes.pop(key)
            if given is not None and given is not False:
                value = given
    if isinstance(value, list | tuple):
        value = " ".join(str(item) for item in value if item)
    return value or None


def render_attributes(attributes: Mapping[str, Any]) -> str:
    """` name="value"` for each attribute, escaped; names checked and normalised."""
    attributes = dict(attributes)
    class_value = _pop_class(attributes)
    if class_value is not None:
        attributes["class"] = class_value
    written: dict[str, str] = {}
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        name = attribute_name(str(key))
        if name.startswith("on"):
            raise RefusedAttribute(
                f"{key!r}: inline event handlers are not written (they defeat a "
                "Content-Security-Policy); attach listeners from a script instead"
            )
        if name == "style":
            text = style_text(value)
            if not text:
                continue
            written[name] = f' style="{attribute_value(text)}"'
        elif value is True:
            written[name] = f" {name}"
        else:
            written[name] = f' {name}="{attribute_value(value)}"'
    return "".join(written.values())
