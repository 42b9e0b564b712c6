"""`GatsbyImage`: image data → the HTML Gatsby's server render makes, with its bugs fixed.

The structure and the class and data attribute names are Gatsby's (reference/gatsby.md §6),
so CSS written for Gatsby applies: a wrapper, a sizer (constrained, fullWidth), a
placeholder, then `<picture>` with one `<source>` per extra format and the main `<img>`. The
differences (docs/runtime.md, "Differences from Gatsby"): the main image has real
`src`/`srcset`, `width`/`height`, native `loading` and no inline `opacity:0`, so it works
without JavaScript (and needs no `<noscript>` copy); `sizes` reaches every `<source>`;
`loading="eager"` adds `fetchpriority="high"`; `fade=False` turns the fade off; a
`background_color` prop wins over the dominant colour; nothing leaks as a stray attribute.

Speed: everything that depends only on the image data is computed once into a `_Prepared`
(cached by reference for data read from the store); a render joins a few strings and escapes
only the per-call values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from markupsafe import Markup

from staticimg import data_store, notice
from staticimg.html import (
    attribute_name,
    attribute_value,
    escaped,
    join_styles,
    number,
    srcset,
    srcset_candidates,
    style_text,
    tag_name,
)
from staticimg.layout import js_round, normalize_layout

__all__ = ["LOADING", "GatsbyImage"]

LOADING: Final = frozenset({"lazy", "eager"})

# Gatsby's camelCase (and Preact's `class`) spellings of the keyword props.
_ALIASES: Final[Mapping[str, str]] = {
    "className": "class_name",
    "class": "class_name",
    "class_": "class_name",
    "imgClassName": "img_class_name",
    "imgStyle": "img_style",
    "backgroundColor": "background_color",
    "objectFit": "object_fit",
    "objectPosition": "object_position",
    "as": "as_",
}

# Attributes the image itself writes, keyed by the name squashed to lower-case letters: a
# user value would contradict the image data or the loading behaviour.
_FROM_IMAGE_DATA: Final = frozenset({"src", "srcset", "width", "height", "decoding"})
# Build props (and the image data's own keys): they shape the files at build time, and in
# Gatsby they leak onto the `<img>` as stray attributes.
_BUILD_PROPS: Final = frozenset(
    {
        "layout",
        "placeholder",
        "aspectratio",
        "formats",
        "quality",
        "breakpoints",
        "outputpixeldensities",
        "transformoptions",
        "blurredoptions",
        "tracedsvgoptions",
        "jpgoptions",
        "pngoptions",
        "webpoptions",
        "avifoptions",
        "images",
        "sources",
        "image",
    }
)

_SIZER_SVG: Final = (
    "data:image/svg+xml;charset=utf-8,%3Csvg%20height='{h}'%20width='{w}'%20"
    "xmlns='http://www.w3.org/2000/svg'%20version='1.1'%3E%3C/svg%3E"
)
_COVER: Final = "position:absolute;top:0;left:0;bottom:0;right:0"


@dataclass(frozen=True, slots=True)
class _Prepared:
    """The parts of the HTML that depend only on the image data, ready to join."""

    wrapper_class: str
    wrapper_style: str  # fixed: the box; others: ""
    sizer: str
    color: str | None  # the data's backgroundColor (dominant colour), raw
    placeholder_box: str  # how a colour placeholder covers the wrapper
    placeholder_src: str  # escaped data URL of the blurred image, or ""
    placeholder_sources: str  # `<source media srcset>` for art-directed placeholders
    placeholder: str  # the placeholder for the default props
    sources: tuple[str, ...]  # `<source type media srcset` each, open for `sizes`
    sizes: str  # escaped: the fallback's (else the first source's) sizes, or ""
    picture: str  # `<picture>` + sources with the default sizes, or "" (no sources)
    src_attributes: str  # ` src="…" srcset="…"`
    dimensions: str  # ` width="…" height="…"`


_by_reference: dict[str, tuple[Mapping[str, Any], _Prepared]] = {}


def GatsbyImage(
    image: Mapping[str, Any] | str | None,
    alt: str,
    *,
    as_: str = "div",
    class_name: str | None = None,
    style: str | Mapping[str, object] | None = None,
    img_class_name: str | None = None,
    img_style: str | Mapping[str, object] | None = None,
    background_color: str | None = None,
    object_fit: str | None = None,
    object_position: str | None = None,
    loading: str = "lazy",
    fade: bool | None = None,
    sizes: str | None = None,
    **attributes: object,
) -> Markup:
    """Render image data (a mapping, or the reference `staticimg inject` writes) as HTML.

    `alt` is required (`""` for a decorative image). `class_name`/`style` go on the wrapper,
    `img_class_name`/`img_style` on the main `<img>`; a style is CSS text or a mapping.
    `background_color` colours the wrapper and the placeholder, over the dominant colour.
    `loading="eager"` (with `fetchpriority="high"`) is for the image that is the page's
    largest paint. The main image fades in over the placeholder unless `fade=False`; an
    eager image does not fade unless `fade=True`: a browser does not count an image that is
    still transparent as the largest contentful paint. Other keyword arguments
    become `<img>` attributes (`data_testid` → `data-testid`; None/False leave it out, True
    writes it empty). Gatsby's camelCase names (`className`, `imgStyle`, …) work too.
    """
    if fade is None:
        fade = loading != "eager"
    extra = ""
    user_priority = False
    if attributes:
        if not _ALIASES.keys().isdisjoint(attributes):
            given: dict[str, Any] = {
                "class_name": class_name,
                "img_class_name": img_class_name,
                "img_style": img_style,
                "background_color": background_color,
                "object_fit": object_fit,
                "object_position": object_position,
                "as_": None if as_ == "div" else as_,
            }
            for alias, name in _ALIASES.items():
                if alias in attributes:
                    if given[name] is not None:
                        raise TypeError(f"GatsbyImage got both {name} and {alias}: give one")
                    given[name] = attributes.pop(alias)
            class_name = _optional_str(given["class_name"], "class_name")
            img_class_name = _optional_str(given["img_class_name"], "img_class_name")
            img_style = given["img_style"]
            background_color = _optional_str(given["background_color"], "background_color")
            object_fit = _optional_str(given["object_fit"], "object_fit")
            object_position = _optional_str(given["object_position"], "object_position")
            as_ = given["as_"] or "div"
        extra, user_priority = _img_attributes(attributes)

    if loading not in LOADING:
        raise ValueError(f'loading must be "lazy" or "eager", not {loading!r}')
    if not isinstance(alt, str):
        raise TypeError(
            f"alt must be a string, not {type(alt).__name__}: describe the image, or pass "
            'alt="" if it is decoration'
        )

    prepared = _resolve(image)
    if isinstance(prepared, Markup):
        return prepared

    # wrapper
    wrapper_class = prepared.wrapper_class
    if class_name:
        wrapper_class += " " + attribute_value(class_name)
    wrapper_style = prepared.wrapper_style
    if style or background_color:
        wrapper_style = join_styles(
            wrapper_style,
            style_text(style),
            f"background-color:{background_color}" if background_color else "",
        )
    tag = as_ if as_ == "div" else tag_name(as_)
    html = [
        f'<{tag} data-gatsby-image-wrapper=""',
        "" if fade else ' data-no-fade=""',
        f' class="{wrapper_class}"',
        f' style="{attribute_value(wrapper_style)}">' if wrapper_style else ">",
        prepared.sizer,
    ]

    # placeholder
    fit = ""
    if object_fit or object_position:
        fit = join_styles(
            f"object-fit:{object_fit}" if object_fit else "",
            f"object-position:{object_position}" if object_position else "",
        )
    if fit or background_color:
        html.append(_placeholder(prepared, background_color or prepared.color, fit))
    else:
        html.append(prepared.placeholder)

    # main image
    if sizes is None:
        sizes_text = prepared.sizes
        html.append(prepared.picture)
    else:
        sizes_text = attribute_value(sizes)
        if prepared.sources:
            html.append(_picture(prepared.sources, sizes_text))
    img_style_text = join_styles(fit, style_text(img_style)) if img_style else fit
    html += [
        '<img data-main-image=""',
        f' class="{attribute_value(img_class_name)}"' if img_class_name else "",
        f' style="{attribute_value(img_style_text)}"' if img_style_text else "",
        prepared.dimensions,
        f' sizes="{sizes_text}"' if sizes_text else "",
        ' decoding="async" loading="lazy"'
        if loading == "lazy"
        else ' decoding="async" loading="eager"'
        if user_priority
        else ' decoding="async" loading="eager" fetchpriority="high"',
        prepared.src_attributes,
        f' alt="{attribute_value(alt)}"',
        extra,
        "></picture>" if prepared.sources else ">",
        f"</{tag}>",
    ]
    return Markup("".join(html))


def _optional_str(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a string, not {type(value).__name__}")


def _img_attributes(attributes: Mapping[str, object]) -> tuple[str, bool]:
    """The extra `<img>` attributes as HTML, and whether one of them is `fetchpriority`."""
    parts = []
    priority = False
    for key, value in attributes.items():
        name = attribute_name(key)
        squashed = name.replace("-", "").replace("_", "")
        if squashed in _FROM_IMAGE_DATA:
            raise TypeError(
                f"{key!r} is written by staticimg from the image data and cannot be set; "
                "change the image's build props instead"
            )
        if squashed in _BUILD_PROPS:
            raise TypeError(
                f"{key!r} is a build prop: it shapes the image files when `staticimg build` "
                "runs, so it belongs on StaticImage (or in get_image_data), not on GatsbyImage"
            )
        if name in ("alt", "class", "style") or squashed in ("loading", "sizes", "fade"):
            raise TypeError(f"{key!r} was given twice: pass it once, as a keyword argument")
        if name.startswith("on"):
            raise TypeError(
                f"{key!r}: inline event handlers are not written (they defeat a "
                "Content-Security-Policy); attach listeners from a script instead"
            )
        if name == "fetchpriority":
            priority = True
        if value is None or value is False:
            continue
        if value is True:
            parts.append(f' {name}=""')
        else:
            parts.append(f' {name}="{attribute_value(value)}"')
    return "".join(parts), priority


def _resolve(image: Mapping[str, Any] | str | None) -> _Prepared | Markup:
    """The prepared parts for `image`, or the element to render instead of it."""
    if isinstance(image, str) and hasattr(image, "__html__"):
        # HTML, not a reference: what StaticImage returned carries the data it shows
        image = getattr(image, "image_data", None)
        if image is None:
            return notice.problem("GatsbyImage got HTML without image data: pass image data")
    if isinstance(image, str):
        record = data_store.load(image)
        if record is None:
            return notice.missing_data(image, image)
        cached = _by_reference.get(image)
        if cached is not None and cached[0] is record:
            return cached[1]
        if "error" in record:
            return notice.build_error(record["error"])
        prepared = _prepare(record)
        _by_reference[image] = (record, prepared)
        return prepared
    if image is None:
        return notice.problem(
            "GatsbyImage got no image (image=None): pass image data or a reference; if it "
            "came from get_image(...), that node holds no image data"
        )
    if not isinstance(image, Mapping):
        raise TypeError(
            f"image must be image data (a mapping) or a reference string, not "
            f"{type(image).__name__}"
        )
    if "error" in image and "images" not in image:
        return notice.build_error(image["error"])
    return _prepare(image)


def _prepare(image: Mapping[str, Any]) -> _Prepared:
    try:
        layout = normalize_layout(image["layout"])
        width = image["width"]
        height = image["height"]
        images = image["images"]
        if not isinstance(images, Mapping):
            raise TypeError("images")
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(
            "not image data: it needs layout, width, height and images (what `staticimg "
            f"build`, get_image_data or with_art_direction return); missing {exc}"
        ) from None
    if not (_positive(width) and _positive(height)):
        raise ValueError(
            f"image data width and height must be positive numbers, got {width!r} and {height!r}"
        )
    fallback = images.get("fallback") or {}
    source_list: Sequence[Mapping[str, Any]] = images.get("sources") or ()
    w, h = number(width), number(height)

    if layout == "fixed":
        wrapper_class = "gatsby-image-wrapper"
        wrapper_style = f"width:{w}px;height:{h}px"
        sizer = ""
        placeholder_box = f"width:{w}px;height:{h}px;position:relative"
    elif layout == "constrained":
        wrapper_class = "gatsby-image-wrapper gatsby-image-wrapper-constrained"
        wrapper_style = ""
        sizer = (
            f'<div style="max-width:{w}px;display:block"><img alt="" role="presentation" '
            f'aria-hidden="true" src="{_SIZER_SVG.format(w=w, h=h)}" '
            'style="max-width:100%;display:block;position:static"></div>'
        )
        placeholder_box = _COVER
    else:
        wrapper_class = "gatsby-image-wrapper"
        wrapper_style = ""
        sizer = (
            f'<div aria-hidden="true" style="padding-top:{number(height / width * 100)}%"></div>'
        )
        placeholder_box = _COVER

    # the placeholder
    color = image.get("backgroundColor")
    color = str(color) if color else None
    placeholder_data = image.get("placeholder") or {}
    blurred = placeholder_data.get("fallback")
    placeholder_src = escaped(blurred) if isinstance(blurred, str) and blurred else ""
    placeholder_sources = "".join(
        f'<source{_attr("media", entry.get("media"))} srcset="{srcset(entry["srcSet"])}">'
        for entry in placeholder_data.get("sources") or ()
        if isinstance(entry, Mapping) and isinstance(entry.get("srcSet"), str)
    )

    # the main image
    sizes = fallback.get("sizes")
    if not sizes and source_list:
        sizes = source_list[0].get("sizes")
    sizes_text = escaped(sizes) if isinstance(sizes, str) and sizes else ""
    sources = tuple(
        f"<source{_attr('type', source.get('type'))}{_attr('media', source.get('media'))}"
        f' srcset="{srcset(source["srcSet"])}"'
        for source in source_list
        if isinstance(source, Mapping) and isinstance(source.get("srcSet"), str)
    )
    src, main_srcset = _main_src(layout, width, fallback, source_list)
    src_attributes = (f' src="{escaped(src)}"' if src else "") + (
        f' srcset="{srcset(main_srcset)}"' if main_srcset else ""
    )

    prepared = _Prepared(
        wrapper_class=wrapper_class,
        wrapper_style=wrapper_style,
        sizer=sizer,
        color=color,
        placeholder_box=placeholder_box,
        placeholder_src=placeholder_src,
        placeholder_sources=placeholder_sources,
        placeholder="",
        sources=sources,
        sizes=sizes_text,
        picture=_picture(sources, sizes_text) if sources else "",
        src_attributes=src_attributes,
        dimensions=_dimensions(layout, width, height, fallback, source_list),
    )
    return _with_placeholder(prepared)


def _with_placeholder(prepared: _Prepared) -> _Prepared:
    # a frozen dataclass with slots: rebuild once with the default placeholder filled in
    fields = {name: getattr(prepared, name) for name in _Prepared.__slots__}
    fields["placeholder"] = _placeholder(prepared, prepared.color, "")
    return _Prepared(**fields)


def _placeholder(prepared: _Prepared, color: str | None, fit: str) -> str:
    """The placeholder: the blurred image (in `<picture>` when art-directed), else a colour
    box, else nothing. A colour also sits behind the blurred image, as in Gatsby."""
    style = join_styles(
        f"background-color:{color};{prepared.placeholder_box}" if color else "", fit
    )
    style_attribute = f' style="{attribute_value(style)}"' if style else ""
    if prepared.placeholder_src:
        img = (
            f'<img aria-hidden="true" data-placeholder-image=""{style_attribute} '
            f'decoding="async" src="{prepared.placeholder_src}" alt="">'
        )
        if prepared.placeholder_sources:
            return f"<picture>{prepared.placeholder_sources}{img}</picture>"
        return img
    if color:
        return f'<div aria-hidden="true" data-placeholder-image=""{style_attribute}></div>'
    return ""


def _picture(sources: tuple[str, ...], sizes: str) -> str:
    tail = f' sizes="{sizes}">' if sizes else ">"
    return "<picture>" + tail.join(sources) + tail


def _main_src(
    layout: str,
    width: float,
    fallback: Mapping[str, Any],
    sources: Sequence[Mapping[str, Any]],
) -> tuple[str, str]:
    """`src` and `srcset` of the `<img>`: the fallback's. An image made only in modern
    formats has no fallback; its `<img>` then takes the last (most widely supported) source,
    so it still has a real `src` for a browser that ignores `<source>`."""
    src, main_srcset = fallback.get("src"), fallback.get("srcSet")
    if isinstance(src, str) and src:
        return src, main_srcset if isinstance(main_srcset, str) else ""
    if not sources:
        return "", main_srcset if isinstance(main_srcset, str) else ""
    last = sources[-1].get("srcSet")
    if not isinstance(last, str):
        return "", ""
    candidates = [(url, _width(descriptor)) for url, descriptor in srcset_candidates(last)]
    if not candidates:
        return "", last
    sized = sorted((w, url) for url, w in candidates if w)
    if not sized:
        return candidates[0][0], last
    if layout != "fullWidth":
        for candidate_width, url in sized:
            if candidate_width >= width:
                return url, last
    return sized[-1][1], last


def _dimensions(
    layout: str,
    width: float,
    height: float,
    fallback: Mapping[str, Any],
    sources: Sequence[Mapping[str, Any]],
) -> str:
    """`width`/`height` attributes, so the browser knows the aspect ratio before any CSS.

    fixed and constrained: the data's box. fullWidth stores only a ratio (1 × 1/ratio), so
    the largest srcset candidate gives the width and the ratio the height."""
    if layout != "fullWidth":
        return f' width="{js_round(width)}" height="{max(1, js_round(height))}"'
    text = fallback.get("srcSet")
    if not isinstance(text, str) and sources:
        text = sources[0].get("srcSet")
    widths = [_width(d) for _, d in srcset_candidates(text)] if isinstance(text, str) else []
    largest = max(widths, default=0)
    if not largest:
        return ""
    return f' width="{largest}" height="{max(1, js_round(largest * height / width))}"'


def _width(descriptor: str) -> int:
    if descriptor.endswith("w") and descriptor[:-1].isdigit():
        return int(descriptor[:-1])
    return 0


def _attr(name: str, value: object) -> str:
    if value is None or value == "":
        return ""
    return f' {name}="{escaped(str(value))}"'


def _positive(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value > 0
        and value != float("inf")
    )
