"""Astro's `baseService` (reference: astro.md §1.2, §1.3): the hooks every image service
shares, with Astro's defaults, and the URL half of a local service.

`BaseService` validates options, computes the `<img>` attributes and the srcset; a service
only has to say where an image is served from (`get_url`). `BaseLocalService` adds Astro's
`/_image` URLs (`get_url` / `parse_url`); the compiler's Pillow service subclasses it and adds
`transform`, which the runtime never needs (it cannot transform: no Pillow here).

A string `src` is a remote URL (http, https or `data:`) or a `/`-rooted path under the
project's static root. One deviation from Astro, by design: Astro returns a `/`-rooted string
(a `public/` file) unchanged and unoptimised; here it goes through the endpoint like any other
image, which can read it from the static root. It needs `width` and `height` like a remote
URL, unless the build resolved it to an `ImageMetadata` (write the call with constant props).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qs, urlencode, urlsplit

from staticimg.astro.types import ImageError, ImageMetadata, ImageSettings, Options, SrcSetValue
from staticimg.html import number
from staticimg.layout import js_round
from staticimg.remote_patterns import is_remote_allowed

__all__ = [
    "DEFAULT_HASH_PROPS",
    "DEFAULT_OUTPUT_FORMAT",
    "HTML_EXCLUDED",
    "QUALITY_PRESETS",
    "SHARP_FIT",
    "VALID_OUTPUT_FORMATS",
    "VALID_SUPPORTED_FORMATS",
    "BaseLocalService",
    "BaseService",
    "infer_source_format",
    "is_remote_string",
    "is_root_path",
    "parse_quality",
    "resolve_quality",
    "sniff_format",
    "target_dimensions",
    "verify_options",
]

QUALITY_PRESETS: Final[Mapping[str, int]] = {"low": 25, "mid": 50, "high": 80, "max": 100}
DEFAULT_HASH_PROPS: Final = (
    "src", "width", "height", "format", "quality", "fit", "position", "background",
)  # fmt: skip
DEFAULT_OUTPUT_FORMAT: Final = "webp"
# What `Image`/`Picture`/`get_image` accept as a local source (APNG is importable in Astro
# but refused here, as there).
VALID_SUPPORTED_FORMATS: Final = ("jpeg", "jpg", "png", "tiff", "webp", "gif", "svg", "avif")
VALID_OUTPUT_FORMATS: Final = ("avif", "png", "webp", "jpeg", "jpg", "svg")
# Astro's fit names → sharp's (and our Pillow service's): `contain` means "fit inside",
# without letterbox padding, as in Astro.
SHARP_FIT: Final[Mapping[str, str]] = {
    "fill": "fill",
    "contain": "inside",
    "cover": "cover",
    "none": "outside",
    "scale-down": "inside",
    "outside": "outside",
    "inside": "inside",
}
# Keys `get_html_attributes` never writes as attributes (they describe the image).
HTML_EXCLUDED: Final = frozenset(
    {
        "src", "width", "height", "format", "quality", "densities", "widths", "formats",
        "layout", "priority", "fit", "position", "background", "infer_size",
        "fallback_format", "picture_attributes",
    }
)  # fmt: skip
# The URL parameters of `/_image`, in Astro's order, and the option each one carries.
_URL_PARAMS: Final = (
    ("href", "src"),
    ("w", "width"),
    ("h", "height"),
    ("q", "quality"),
    ("f", "format"),
    ("fit", "fit"),
    ("position", "position"),
    ("background", "background"),
)
_SCHEME: Final = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]+:")
_DATA_IMAGE: Final = re.compile(r"data:image/([^;,]+)[;,]", re.IGNORECASE)
_LEADING_INT: Final = re.compile(r"\s*([+-]?\d+)")
_POSITIVE_INT: Final = re.compile(r"[0-9]{1,9}\Z")


# --------------------------------------------------------------------------------------------
# Small helpers the services and the endpoint share


def parse_quality(quality: object) -> int | str | None:
    """Astro's `parseQuality`: an integer when the value starts with one (`"80"`, `72.5`),
    else the string itself (a preset name such as "high"); None for no quality."""
    if quality is None or quality == "" or isinstance(quality, bool):
        return None
    if isinstance(quality, int):
        return quality
    if isinstance(quality, float):
        return int(quality) if quality == quality else None  # NaN: no quality
    text = str(quality)
    match = _LEADING_INT.match(text)
    return int(match.group(1)) if match else text


def resolve_quality(quality: object) -> int | None:
    """The encoder quality (0–100) for a quality option: numbers as they are (clamped),
    presets by `QUALITY_PRESETS`; None for no quality or an unknown preset (the encoder's
    default then applies, as with sharp)."""
    parsed = parse_quality(quality)
    if isinstance(parsed, int):
        return max(0, min(100, parsed))
    if isinstance(parsed, str):
        return QUALITY_PRESETS.get(parsed.strip().lower())
    return None


def infer_source_format(src: str) -> str | None:
    """The format a source string names (Astro's `inferSourceFormat`): the extension of its
    last path segment, lower case, ignoring `?query` and `#fragment`; for a `data:` URI the
    image MIME subtype (`image/svg+xml` → "svg"). None when nothing says."""
    if src[:5].lower() == "data:":
        match = _DATA_IMAGE.match(src)
        if match is None:
            return None
        subtype = match.group(1).lower()
        return "svg" if subtype == "svg+xml" else subtype
    path = src.split("#", 1)[0].split("?", 1)[0]
    if "://" in path:
        after = path.split("://", 1)[1]
        path = after[after.find("/") :] if "/" in after else ""
    segment = path.rsplit("/", 1)[-1]
    _, dot, extension = segment.rpartition(".")
    if not dot or not extension:
        return None
    return extension.lower()


def is_root_path(src: str) -> bool:
    """A `/`-rooted path under the static root (not `//host/…`, a network path)."""
    return src.startswith("/") and not src.startswith(("//", "/\\"))


def is_remote_string(src: str) -> bool:
    """Whether a string `src` is a URL rather than a path: a scheme (`https:`, `data:`, …;
    not a drive letter), a network path (`//host/x`) or a leading backslash."""
    return bool(_SCHEME.match(src)) or src.startswith(("//", "\\", "/\\"))


def sniff_format(data: bytes) -> str | None:
    """The image format of `data` from its first bytes: jpg, png, gif, webp, avif, tiff or
    svg (an `<svg` in the first ~1000 characters, as Astro's detector does); None when it is
    none of them."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        box_size = int.from_bytes(head[:4], "big")
        brands = data[8 : max(16, min(box_size, 64))]
        if any(brands[i : i + 4] in (b"avif", b"avis") for i in range(0, len(brands), 4)):
            return "avif"
        return None
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    text = data[:1024].decode("utf-8", "ignore").lstrip("\ufeff \t\r\n")
    if text.startswith("<") and "<svg" in text:
        return "svg"
    return None


def target_dimensions(options: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """Astro's `getTargetDimensions`: a local image fills a missing side from its aspect ratio
    (both missing: its own size); a string source keeps exactly what was given."""
    width, height = options.get("width"), options.get("height")
    src = options.get("src")
    if isinstance(src, ImageMetadata):
        aspect = src.width / src.height if src.height else 1.0
        if width and not height:
            height = js_round(width / aspect)
        elif height and not width:
            width = js_round(height * aspect)
        elif not width and not height:
            width, height = src.width, src.height
    return (int(width) if width else None, int(height) if height else None)


def verify_options(options: Mapping[str, Any]) -> None:
    """Astro's `verifyOptions`: raises ImageError for options no service can serve."""
    src = options.get("src")
    if not src or not isinstance(src, str | ImageMetadata):
        shown = {key: value for key, value in options.items() if key != "src"}
        raise ImageError(
            "ExpectedImage",
            f"Expected `src` for get_image, Image or Picture to be an image the build resolved "
            f"or a remote image URL; received `{src!r}` (type: {type(src).__name__}). "
            f"Full options received: {shown!r}.",
            "Check the path of the image. A local image is written as a constant path "
            '(src="../images/hero.jpg") so `staticimg build` can resolve it; a remote image is '
            "an http(s) URL.",
        )
    if isinstance(src, str):
        if src.startswith("/@fs/") or not (is_remote_string(src) or src.startswith("/")):
            raise ImageError(
                "LocalImageUsedWrongly",
                f"`src` must be an image the build resolved or a URL, not a file path string "
                f"computed at run time. Received `{src}`.",
                'Write the call with constant props (src="../images/hero.jpg", not a '
                "variable) so `staticimg build` resolves and measures the image, or give a "
                "`/`-rooted path under the static root or an http(s) URL, with width and "
                "height.",
            )
        width, height = options.get("width"), options.get("height")
        if not width or not height:
            missing = (
                "width and height attributes"
                if not width and not height
                else "width attribute"
                if not width
                else "height attribute"
            )
            raise ImageError(
                "MissingImageDimension",
                f"Missing {missing} for {src}. When using remote images, both dimensions are "
                "required in order to avoid layout shift (CLS).",
                "Give width= and height= (the image's size, or the size to show it at); for "
                "a local file, write the call with constant props so the build measures it.",
            )
        return
    if src.format not in VALID_SUPPORTED_FORMATS:
        raise ImageError(
            "UnsupportedImageFormat",
            f"Received unsupported format `{src.format}` from `{src.src}`. Currently only "
            f"{', '.join(VALID_SUPPORTED_FORMATS)} are supported by the image services.",
            "Use a plain <img> tag for this file, or convert it to one of those formats.",
        )
    if options.get("widths") and options.get("densities"):
        raise ImageError(
            "IncompatibleDescriptorOptions",
            "Only one of `densities` or `widths` can be specified. In most cases you want "
            "`widths` if you need specific widths.",
            "Remove one of them: a srcset cannot mix `x` (density) and `w` (width) descriptors.",
        )
    if src.format != "svg" and options.get("format") == "svg":
        raise ImageError(
            "UnsupportedImageConversion",
            "Converting between vector (such as SVGs) and raster (such as PNGs and JPEGs) "
            f"images is not supported: `{src.src}` is {src.format}, format='svg' was asked.",
            'Remove format="svg" (the default output is webp), or give an SVG source.',
        )


def _descriptor_density(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = re.match(r"\s*([0-9]*\.?[0-9]+)", str(value))
    if match is None:
        raise ImageError(
            "InvalidParameter",
            f"{value!r} is not a pixel density",
            'Give densities as numbers or "<number>x" strings, e.g. densities=[1.5, "2x"].',
        )
    return float(match.group(1))


# --------------------------------------------------------------------------------------------
# The services


class BaseService:
    """Astro's `baseService`: every hook but `get_url`, with Astro's defaults. Subclass it
    and define `get_url` (an external service, i.e. a CDN) or use `BaseLocalService`."""

    local: bool = False
    properties_to_hash: tuple[str, ...] = DEFAULT_HASH_PROPS

    def validate_options(self, options: Options, config: ImageSettings) -> Options:
        """`verify_options`, then Astro's normalisation: a default format (svg for an SVG
        source, else webp; a string source whose format cannot be inferred keeps none),
        width/height rounded, `layout` dropped and `fit="none"` dropped."""
        verify_options(options)
        result = dict(options)
        src = result["src"]
        if not result.get("format"):
            result.pop("format", None)
            if isinstance(src, ImageMetadata):
                result["format"] = "svg" if src.format == "svg" else DEFAULT_OUTPUT_FORMAT
            else:
                inferred = infer_source_format(src)
                if inferred == "svg":
                    result["format"] = "svg"
                elif inferred:
                    result["format"] = DEFAULT_OUTPUT_FORMAT
        for key in ("width", "height"):
            if result.get(key) is not None:
                result[key] = js_round(float(result[key]))
        result.pop("layout", None)
        if result.get("fit") == "none":
            del result["fit"]
        return result

    def get_html_attributes(self, options: Options, config: ImageSettings) -> dict[str, Any]:
        """Every option that is not about the image itself, plus the target `width` and
        `height`, `loading` (default "lazy") and `decoding` (default "async")."""
        attributes = {
            key: value
            for key, value in options.items()
            if key not in HTML_EXCLUDED and not key.startswith("__")
        }
        width, height = target_dimensions(options)
        if width is not None:
            attributes["width"] = width
        if height is not None:
            attributes["height"] = height
        if attributes.get("loading") is None:
            attributes["loading"] = "lazy"
        if attributes.get("decoding") is None:
            attributes["decoding"] = "async"
        return attributes

    def get_src_set(self, options: Options, config: ImageSettings) -> list[SrcSetValue]:
        """Astro's `getSrcSet`: one candidate per density (`"2x"`) or per width (`"640w"`).

        Widths are sorted; for a local image (and a remote one whose size the build measured,
        which arrives as ImageMetadata too) widths above the original are replaced by the
        original's width, so nothing is upscaled; repeats are dropped. Each candidate keeps
        the target aspect ratio."""
        target_width, target_height = target_dimensions(options)
        if not target_width or not target_height:
            return []
        aspect = target_width / target_height
        widths = sorted(int(w) for w in options.get("widths") or ())
        src = options.get("src")
        if isinstance(src, ImageMetadata) and widths and widths[-1] > src.width:
            widths = [w for w in widths if w <= src.width] + [src.width]
        widths = list(dict.fromkeys(widths))
        rest = {k: v for k, v in options.items() if k not in ("width", "height")}
        attributes = {"type": f"image/{options['format']}"} if options.get("format") else {}

        entries: list[tuple[int, str]] = []
        densities = options.get("densities")
        if densities:
            for density in sorted(_descriptor_density(d) for d in densities):
                entries.append((js_round(target_width * density), f"{number(density)}x"))
        else:
            entries = [(w, f"{w}w") for w in widths]
        return [
            SrcSetValue(
                transform={**rest, "width": w, "height": js_round(w / aspect)},
                descriptor=descriptor,
                attributes=dict(attributes),
            )
            for w, descriptor in entries
        ]

    def get_url(self, options: Options, config: ImageSettings) -> str:
        raise NotImplementedError(
            f"{type(self).__name__} must define get_url(options, config): an external image "
            "service says where each transformed image is served from (its CDN URL)"
        )


class BaseLocalService(BaseService):
    """The URL half of a local service: images are served by the `/_image` endpoint (or, in a
    static build, written as files by the compiler, which subclasses this to add `transform`).
    """

    local: bool = True

    def get_url(self, options: Options, config: ImageSettings) -> str:
        """`<endpoint>?href=…&w=…&h=…&q=…&f=…&fit=…&position=…&background=…`: only the truthy
        parameters, in that order, URL-encoded.

        A remote URL the allowlist does not allow (and anything else that is neither a local
        image nor a `/`-rooted path) is returned unchanged, as Astro does: not optimised."""
        src = options.get("src")
        if isinstance(src, ImageMetadata):
            href = src.src
        elif isinstance(src, str) and (
            is_root_path(src) or is_remote_allowed(src, config.domains, config.remote_patterns)
        ):
            href = src
        else:
            return str(src)
        params: list[tuple[str, str]] = []
        for name, key in _URL_PARAMS:
            value = href if key == "src" else options.get(key)
            if value:
                params.append((name, _param_text(value)))
        return f"{config.endpoint}?{urlencode(params)}"

    def parse_url(self, url: str, config: ImageSettings) -> Options | None:
        """Astro's `parseURL`: the transform a `get_url` URL asks for, None without `href`.

        `w`/`h` must be positive integers, else ImageError("InvalidParameter") (the endpoint
        answers 400); `q` is an integer or a preset name. Absent parameters are absent keys.
        """
        query = parse_qs(urlsplit(url).query, keep_blank_values=True)

        def first(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        href = first("href")
        if not href:
            return None
        options: Options = {"src": href}
        for name, key in (("w", "width"), ("h", "height")):
            text = first(name)
            if text is None or text == "":
                continue
            if not _POSITIVE_INT.match(text) or int(text) == 0:
                raise ImageError(
                    "InvalidParameter",
                    f"`{name}` must be a positive whole number of pixels, not {text!r}",
                    f"Request {config.endpoint}?href=…&{name}=640",
                )
            options[key] = int(text)
        quality = parse_quality(first("q"))
        if quality is not None:
            options["quality"] = quality
        for name, key in (("f", "format"), ("fit", "fit"), ("position", "position")):
            text = first(name)
            if text:
                options[key] = text
        background = first("background")
        if background:
            options["background"] = background
        return options


def _param_text(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(value)
    return str(value)
