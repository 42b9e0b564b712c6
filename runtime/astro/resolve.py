"""Astro's `getImage` (reference: astro.md §3.1, §3.5, §4): options in, URLs and attributes out.

`resolve_image` and `resolve_picture` are the pure core: given the settings and a service
they compute the dimensions, the responsive widths and `sizes`, the srcset and every URL. The
build calls them for each static call (with `emit`, which turns each transform into a file it
will write); the runtime calls them for dynamic calls (URLs from the service: the `/_image`
endpoint or a CDN). `get_image` is the public entry point: a call `staticimg inject` rewrote
reads its record back instead of resolving anything.

Beyond Astro, on purpose:
* a `<source>` of a Picture gets the layout's computed `sizes` too, not only a user's
  `sizes` (Astro drops it, so browsers assume 100vw and fetch too large a file: #12823);
* srcset URLs never contain whitespace (percent-encoded), whatever the file names hold;
* a remote image whose size the build measured arrives as `ImageMetadata`, so its widths are
  capped at its own size like a local image's: nothing is upscaled (#13186);
* a Picture `<source>` that only uses `w` descriptors never asks for the unused full-size
  image (with `emit`, no file is made for it; #14557);
* densities given together with a layout are dropped for the `<source>`s too (Astro would
  mix `x` and `w` descriptors in one srcset).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Final

from staticimg import data_store, notice
from staticimg.astro.layout import (
    DEFAULT_RESOLUTIONS,
    LIMITED_RESOLUTIONS,
    get_sizes_attribute,
    get_widths,
    parse_layout,
)
from staticimg.astro.record import result_from_record
from staticimg.astro.types import (
    GetImageResult,
    ImageError,
    ImageMetadata,
    ImageService,
    ImageSettings,
    Options,
    PictureResult,
    PictureSource,
    is_local_service,
)
from staticimg.injected import pop_injected
from staticimg.layout import js_round

__all__ = [
    "BUILD_PROPS",
    "MIME_TYPES",
    "BuildFailure",
    "fallback_format",
    "get_image",
    "get_picture",
    "merge_rendering",
    "resolve_image",
    "resolve_picture",
]

# The props the build resolves; everything else is a rendering prop, merged at render time.
BUILD_PROPS: Final = frozenset(
    {
        "src", "width", "height", "widths", "densities", "layout", "fit", "position",
        "quality", "format", "formats", "fallback_format", "background", "infer_size",
    }
)  # fmt: skip
# camelCase spellings an Astro user writes → ours.
_ALIASES: Final = {
    "fallbackFormat": "fallback_format",
    "pictureAttributes": "picture_attributes",
    "inferSize": "infer_size",
    "className": "class",
    "class_name": "class",
    "class_": "class",
}
MIME_TYPES: Final[Mapping[str, str]] = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "gif": "image/gif",
    "svg": "image/svg+xml",
    "tiff": "image/tiff",
}
_FIT_ATTRIBUTES: Final = frozenset({"fill", "contain", "cover", "scale-down"})
_FALLBACK_KEEPS: Final = frozenset({"gif", "svg", "jpg", "jpeg"})
_WHITESPACE: Final = re.compile(r"[ \t\n\r\f]")

Emit = Callable[[Options], str]


class BuildFailure(ImageError):
    """The build could not make this call's image (`__error`, or an error record), or there
    is no record for it yet. Components render it as staticimg's notice; `get_image` raises."""

    def __init__(
        self,
        name: str,
        message: str,
        hint: str | None = None,
        *,
        diagnostic: Mapping[str, Any] | str | None = None,
        reference: str | None = None,
    ) -> None:
        super().__init__(name, message, hint)
        self.diagnostic = diagnostic
        self.reference = reference


# --------------------------------------------------------------------------------------------
# The pure core


def resolve_image(
    options: Mapping[str, Any],
    *,
    settings: ImageSettings,
    service: ImageService,
    emit: Emit | None = None,
) -> GetImageResult:
    """Astro's `getImage`, synchronous and pure (URLs from `service.get_url`, or from `emit`
    for a local service when given)."""
    return _resolve(options, settings, service, emit, need_src=True)


def resolve_picture(
    options: Mapping[str, Any],
    *,
    settings: ImageSettings,
    service: ImageService,
    emit: Emit | None = None,
) -> PictureResult:
    """Astro's `<Picture>`: one `<source>` per entry of `formats` (default webp), in order,
    and the fallback `<img>` in `fallback_format` (default: the source's format if it is gif,
    svg, jpg or jpeg, else png)."""
    opts = _normalise(options)
    formats = opts.pop("formats", None) or ("webp",)
    if isinstance(formats, str):
        formats = (formats,)
    fallback = fallback_format(opts.get("src"), opts.pop("fallback_format", None))
    picture_attributes = dict(opts.pop("picture_attributes", None) or {})
    layout = _layout(opts, settings)
    densities = opts.get("densities") if layout == "none" else None

    sources = []
    for fmt in formats:
        # Only `w` descriptors: the source never names its full-size image, so don't make it.
        x_descriptors = bool(densities) or (not opts.get("widths") and layout == "none")
        result = _resolve({**opts, "format": fmt}, settings, service, emit, x_descriptors)
        srcset = result.src_set_attribute
        if x_descriptors:
            srcset = result.src + (f", {srcset}" if srcset else "")
        sizes = result.attributes.get("sizes")
        sources.append(
            PictureSource(
                type=MIME_TYPES.get(str(fmt).lower(), f"image/{fmt}"),
                srcset=srcset,
                sizes=str(sizes) if sizes else None,
            )
        )
    image = _resolve({**opts, "format": fallback}, settings, service, emit, need_src=True)
    return PictureResult(tuple(sources), image, picture_attributes)


def fallback_format(src: object, requested: object = None) -> str:
    """The `<img>` format of a Picture: `requested`, else the source's own format when
    browsers all show it (gif, svg, jpg, jpeg), else png. Purely by format, as Astro."""
    if requested:
        return str(requested)
    if isinstance(src, ImageMetadata) and src.format in _FALLBACK_KEEPS:
        return src.format
    return "png"


def _normalise(options: Mapping[str, Any]) -> Options:
    opts: Options = {}
    for key, value in options.items():
        opts[_ALIASES.get(key, key)] = value
    return opts


def _layout(opts: Mapping[str, Any], settings: ImageSettings) -> str:
    given = opts.get("layout")
    if given is not None and given != "":
        layout = parse_layout(given)
        if layout is None:
            raise ImageError(
                "InvalidParameter",
                f"Unknown layout {given!r}",
                'Use layout="constrained", "fixed", "full-width" or "none".',
            )
        return layout
    return parse_layout(settings.layout) or "none"


def _dimension(value: Any, name: str) -> int | None:
    """Astro's components `parseInt` string sizes; numbers are rounded later."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ImageError("InvalidParameter", f"{name} must be a number, not {value!r}")
    if isinstance(value, int | float):
        return value  # type: ignore[return-value]
    match = re.match(r"\s*(\d+)", str(value))
    if match is None:
        raise ImageError(
            "InvalidParameter",
            f"{name} must be a number of pixels, not {value!r}",
            f"Give {name}=800 (or a string such as '800').",
        )
    return int(match.group(1))


def _resolve(
    options: Mapping[str, Any],
    settings: ImageSettings,
    service: ImageService,
    emit: Emit | None,
    need_src: bool,
) -> GetImageResult:
    raw = dict(options)
    opts = _normalise(options)
    if "src" not in opts or opts["src"] is None:
        raise ImageError(
            "ExpectedImage",
            "Expected `src` property for get_image, Image or Picture; received None.",
            "Pass src=: a constant path the build resolves, a `/`-rooted static path or a URL.",
        )
    # The runtime cannot measure images: the build does it for `infer_size` and passes the
    # measured size as ImageMetadata; here the option only has to disappear.
    opts.pop("infer_size", None)
    for key in ("width", "height"):
        if key in opts:
            opts[key] = _dimension(opts[key], key)
            if opts[key] is None:
                del opts[key]
    src = opts["src"]
    original_width: int | None = None
    if isinstance(src, ImageMetadata):
        original_width = src.width
        aspect = src.width / src.height if src.height else 1.0
        width, height = opts.get("width"), opts.get("height")
        if width and not height:
            opts["height"] = js_round(width / aspect)
        elif height and not width:
            opts["width"] = js_round(height * aspect)
        elif not width and not height:
            opts["width"], opts["height"] = src.width, src.height

    layout = _layout(opts, settings)
    opts.pop("layout", None)
    if layout != "none":
        # The component defaults (Image.astro / Picture.astro): a responsive image is cropped
        # to its box, centred, unless told otherwise.
        if opts.get("fit") is None:
            opts["fit"] = settings.object_fit or "cover"
        if opts.get("position") is None:
            opts["position"] = settings.object_position or "center"
    else:
        if opts.get("fit") is None and settings.object_fit:
            opts["fit"] = settings.object_fit
        if opts.get("position") is None and settings.object_position:
            opts["position"] = settings.object_position
    for key in ("fit", "position"):
        if opts.get(key) is None:
            opts.pop(key, None)

    if opts.pop("priority", False):
        _default(opts, "loading", "eager")
        _default(opts, "decoding", "sync")
        _default(opts, "fetchpriority", "high")
    else:
        _default(opts, "loading", "lazy")
        _default(opts, "decoding", "async")

    if layout != "none":
        breakpoints = settings.breakpoints or (
            LIMITED_RESOLUTIONS if is_local_service(service) else DEFAULT_RESOLUTIONS
        )
        if not opts.get("widths"):
            opts["widths"] = get_widths(
                width=opts.get("width"),
                layout=layout,
                breakpoints=breakpoints,
                original_width=original_width,
            )
        if not opts.get("sizes"):
            sizes = get_sizes_attribute(width=opts.get("width"), layout=layout)
            if sizes:
                opts["sizes"] = sizes
        opts.pop("densities", None)
        opts["data-astro-image"] = layout
        fit = opts.get("fit")
        if fit in _FIT_ATTRIBUTES:
            opts["data-astro-image-fit"] = fit
        opts["data-astro-image-pos"] = re.sub(r"\s+", "-", str(opts.get("position") or "center"))

    validated = service.validate_options(opts, settings)
    values = service.get_src_set(validated, settings)
    use_emit = emit is not None and is_local_service(service)

    def url_for(transform: Options) -> str:
        url = emit(transform) if use_emit and emit is not None else None
        if url is None:
            url = service.get_url(transform, settings)
        return _no_whitespace(url)

    main: list[str] = []

    def main_url() -> str:
        if not main:
            main.append(url_for(validated))
        return main[0]

    src_set = []
    for value in values:
        same = all(
            value.transform.get(key) == validated.get(key) for key in ("width", "height", "format")
        )
        src_set.append(replace(value, url=main_url() if same else url_for(value.transform)))
    return GetImageResult(
        raw_options=raw,
        options=validated,
        src=main[0] if main else main_url() if need_src or not src_set else "",
        src_set=tuple(src_set),
        attributes=service.get_html_attributes(validated, settings),
    )


def _default(opts: Options, key: str, value: str) -> None:
    if opts.get(key) is None:
        opts[key] = value


def _no_whitespace(url: str) -> str:
    # A srcset candidate ends at whitespace: a space in a URL would cut it (Astro: a file
    # name with a space broke srcset). Percent-encoding it names the same resource.
    if not _WHITESPACE.search(url):
        return url
    return (
        url.replace(" ", "%20")
        .replace("\t", "%09")
        .replace("\n", "%0A")
        .replace("\r", "%0D")
        .replace("\f", "%0C")
    )


# --------------------------------------------------------------------------------------------
# The public entry points


def get_image(src: Any = None, **options: Any) -> GetImageResult:
    """Astro's `getImage`: the URL, srcset and `<img>` attributes for an image.

    A call `staticimg inject` rewrote (`__image_data=`) reads what the build made and only
    merges its rendering props (alt, class, loading, priority, sizes, …); one with `__error=`
    raises ImageError("BuildError"). Otherwise the image is resolved now, with the configured
    service (`staticimg.astro.configure` / `[tool.staticimg.image]`): `src` is an
    `ImageMetadata`, a remote URL or a `/`-rooted static path, and a string needs `width` and
    `height`. `get_image({"src": ..., ...})` (Astro's one-object form) works too.
    """
    if isinstance(src, Mapping):
        options = {**src, **options}
        src = options.pop("src", None)
    result = _from_injected(src, options, picture=False)
    if result is not None:
        assert isinstance(result, GetImageResult)
        return result
    settings, service = _configured()
    return resolve_image({"src": src, **options}, settings=settings, service=service)


def get_picture(src: Any = None, **options: Any) -> PictureResult:
    """`get_image` for a `<picture>`: its sources, its fallback `<img>` and the `<picture>`
    attributes (what `Picture` renders)."""
    if isinstance(src, Mapping):
        options = {**src, **options}
        src = options.pop("src", None)
    result = _from_injected(src, options, picture=True)
    if result is not None:
        assert isinstance(result, PictureResult)
        return result
    settings, service = _configured()
    return resolve_picture({"src": src, **options}, settings=settings, service=service)


def _configured() -> tuple[ImageSettings, ImageService]:
    from staticimg.astro.services import load_service
    from staticimg.astro.settings import image_settings

    settings = image_settings()
    return settings, load_service(settings)


def _from_injected(
    src: Any, options: dict[str, Any], *, picture: bool
) -> GetImageResult | PictureResult | None:
    """The result a rewritten call's record holds, rendering props merged; None for a call
    the build did not rewrite. Pops the injected keys from `options`."""
    reference, error = pop_injected(options)
    if reference is None:
        if error is not None:
            raise _build_failure(error)
        return None
    if error is not None:
        # The image was made, with a warning worth seeing (as StaticImage does).
        notice.log_once(error if isinstance(error, str) else notice.describe(error))
    if isinstance(reference, Mapping):
        record: Mapping[str, Any] | None = reference
    else:
        record = data_store.load(str(reference))
    if record is None:
        raise BuildFailure(
            "MissingImageData",
            f'No image data for "{src}": run `staticimg build` (extract, then inject)',
            f"(no {reference}.json in {data_store.data_dir()})",
            reference=str(reference),
        )
    if "error" in record and "astro" not in record:
        raise _build_failure(record["error"])
    try:
        result = result_from_record(record)
    except ValueError as exc:
        raise BuildFailure("BuildError", str(exc), diagnostic=str(exc)) from None
    if picture and isinstance(result, GetImageResult):
        result = PictureResult((), result, {})
    elif not picture and isinstance(result, PictureResult):
        result = result.fallback
    return merge_rendering(result, options)


def _build_failure(error: Mapping[str, Any] | str) -> BuildFailure:
    text = error if isinstance(error, str) else notice.describe(error)
    return BuildFailure("BuildError", text, diagnostic=error)


def merge_rendering(
    result: GetImageResult | PictureResult, rendering: Mapping[str, Any]
) -> GetImageResult | PictureResult:
    """`result` (what the build made) with a call's rendering props on top: attributes
    replaced or added (None or False removes one), `priority` → eager/sync/high unless the
    call says otherwise, `sizes` on every `<source>` too, `picture_attributes` merged. Build
    props in `rendering` are ignored: they were used when the record was made."""
    props = _normalise(rendering)
    picture_attributes = props.pop("picture_attributes", None)
    changes: dict[str, Any] = {}
    if props.pop("priority", False):
        changes.update(loading="eager", decoding="sync", fetchpriority="high")
    for key, value in props.items():
        if key not in BUILD_PROPS:
            changes[key] = value
    fallback = result.fallback if isinstance(result, PictureResult) else result
    # `alt` first, as a dynamic call writes it; overrides in place; new attributes last.
    attributes = {"alt": changes["alt"]} if changes.get("alt") is not None else {}
    for key, value in (*fallback.attributes.items(), *changes.items()):
        value = changes.get(key, value)
        if value is None or value is False:
            attributes.pop(key, None)
        else:
            attributes[key] = value
    image = replace(fallback, attributes=attributes)
    if isinstance(result, GetImageResult):
        return image
    sources = result.sources
    sizes = changes.get("sizes")
    if isinstance(sizes, str) and sizes:
        sources = tuple(replace(source, sizes=sizes) for source in sources)
    merged_picture = dict(result.picture_attributes)
    if picture_attributes:
        merged_picture.update(picture_attributes)
    return PictureResult(sources, image, merged_picture)
