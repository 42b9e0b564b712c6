"""`StaticImage`: the call the compiler finds, at render time.

`staticimg extract` reads each call's build props and makes the images; `staticimg inject`
then adds `__image_data="<props hash>"` (or `__error="…"`) to the call. At render time the
build props have done their job: they are dropped, and the image data goes to `GatsbyImage`
with the rendering props (reference/gatsby.md §3, `_getStaticImage`). Unlike Gatsby, `layout`
is dropped too rather than leaking onto the `<img>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from markupsafe import Markup

from staticimg import data_store, notice
from staticimg.gatsby_image import GatsbyImage
from staticimg.injected import pop_injected

__all__ = ["BUILD_PROPS", "StaticImage", "StaticImageHTML"]

# The props that shape the image files, in our spelling and Gatsby's. `sizes` and
# `background_color` are build props too, but GatsbyImage also uses them, so they go on.
BUILD_PROPS: Final = frozenset(
    {
        "layout",
        "width",
        "height",
        "aspect_ratio",
        "aspectRatio",
        "placeholder",
        "formats",
        "quality",
        "breakpoints",
        "output_pixel_densities",
        "outputPixelDensities",
        "transform_options",
        "transformOptions",
        "blurred_options",
        "blurredOptions",
        "traced_svg_options",
        "tracedSVGOptions",
        "jpg_options",
        "jpgOptions",
        "png_options",
        "pngOptions",
        "webp_options",
        "webpOptions",
        "avif_options",
        "avifOptions",
    }
)


class StaticImageHTML(Markup):
    """What StaticImage returns: its HTML, as `Markup`, carrying the image data it shows.

    So `get_image(StaticImage(...))` gives that data, for `with_art_direction` or
    `get_src`: with no GraphQL layer, a StaticImage call is how a built image is had.
    """

    image_data: Mapping[str, Any] | None = None


def StaticImage(src: str | None = None, alt: str | None = None, **props: Any) -> Markup:
    """Render the image `staticimg build` made for this call.

    `src` and the build props (`layout`, `width`, `placeholder`, `formats`, …) were used at
    build time and are ignored here; everything else is passed to `GatsbyImage`. Without
    image data (the build has not run, or failed for this call) it renders a visible
    warning in development and an empty hidden element in production, and logs why.
    """
    image_data, error = pop_injected(props)
    if not BUILD_PROPS.isdisjoint(props):
        for key in BUILD_PROPS.intersection(props):
            del props[key]

    if image_data is None:
        if error is not None:
            return notice.build_error(error)
        return notice.missing_data(src)
    if error is not None:
        # Gatsby's non-fatal case: the image was made, with a warning worth seeing.
        notice.log_once(error if isinstance(error, str) else notice.describe(error))
    if isinstance(image_data, str):
        record = data_store.load(image_data)
        if record is None:
            return notice.missing_data(src, image_data)
        if "error" in record:
            return notice.build_error(record["error"])
    elif isinstance(image_data, Mapping):
        record = image_data
        if "error" in record and "images" not in record:
            return notice.build_error(record["error"])
    else:
        raise TypeError(
            f"__image_data must be a reference string or image data, not "
            f"{type(image_data).__name__}: run `staticimg build` again to rewrite the call"
        )
    if alt is None:
        raise TypeError(
            f'StaticImage(src="{src}") has no alt: describe the image, or pass alt="" if it '
            "is decoration"
        )
    html = StaticImageHTML(GatsbyImage(image_data, alt, **props))
    html.image_data = record
    return html
