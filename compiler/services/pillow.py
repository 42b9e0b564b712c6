"""The Pillow image service: Astro's sharp service (reference: astro.md §2.1), in Python.

`plan_transform` is the geometry, pure: from Astro's transform options and the source's
oriented size it decides the output size, the crop and the encoder format exactly as sharp
does under Astro (§9.3), without touching pixels. The build uses it to name outputs before any
image work; `PillowService.transform` uses it to do the work, with the project's own decoder
(EXIF orientation, ICC → sRGB, decompression-bomb limit), transform helpers and encoders.

sharp's resize rules, which Astro relies on and which are reproduced here:

* both width and height: Astro's `fit` mapped to sharp's (`contain` and `scale-down` →
  `inside`, `none` → `outside`, an unknown name → `inside`; unset → `cover`);
* one side: the other follows the source's aspect ratio;
* `withoutEnlargement` always: each axis' shrink factor is at least 1, so nothing is ever
  upscaled, and a `cover` crop larger than the (unscaled) source is cut down to it: a
  3000×2000 cover of a 600×400 source is 600×400, an 800×300 one is 600×300;
* sizes are rounded half up, as libvips and Astro's `Math.round` do.
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final, Literal, cast

from PIL import Image

from staticimg.astro.service import (
    SHARP_FIT,
    BaseLocalService,
    parse_quality,
    resolve_quality,
    sniff_format,
)
from staticimg.astro.types import ImageError, ImageSettings, Options
from staticimg.compiler.images import decode as decoder
from staticimg.compiler.images.encode import EncoderSettings, encode, encode_animation
from staticimg.compiler.images.encode import encoder_settings as resolve_encoder_settings
from staticimg.compiler.images.transform import crop_box, resize, rgba
from staticimg.compiler.props import (
    CROP_FOCUS_NAMES,
    AvifOptions,
    CropFocus,
    JpgOptions,
    PngOptions,
    WebpOptions,
    _squash,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "MIME_TYPES",
    "OUTPUT_FORMATS",
    "Crop",
    "OutputFormat",
    "PillowService",
    "SharpFit",
    "TransformPlan",
    "crop_focus",
    "output_format",
    "plan_encoder_settings",
    "plan_transform",
]

OutputFormat = Literal["webp", "jpg", "png", "avif", "gif"]
SharpFit = Literal["cover", "fill", "inside", "outside"]

# Astro's VALID_OUTPUT_FORMATS (svg aside: passed through, never encoded), plus gif: Astro's
# <Picture> asks for a gif fallback for a gif source, and sharp encodes it.
OUTPUT_FORMATS: Final[Mapping[str, OutputFormat]] = {
    "webp": "webp",
    "jpg": "jpg",
    "jpeg": "jpg",
    "png": "png",
    "avif": "avif",
    "gif": "gif",
}
MIME_TYPES: Final[Mapping[str, str]] = {
    "webp": "image/webp",
    "jpg": "image/jpeg",
    "png": "image/png",
    "avif": "image/avif",
    "gif": "image/gif",
    "svg": "image/svg+xml",
}
DEFAULT_OUTPUT: Final[OutputFormat] = "webp"

# Astro's `fitMap` (sharp.ts); any other name is `inside`.
_FITS: Final = cast(Mapping[str, SharpFit], SHARP_FIT)

# The same limit as `Config.max_image_pixels`' default: a service built without a config
# (a user's own code, tests) is as safe as the build.
DEFAULT_MAX_PIXELS: Final = 100_000_000

# --------------------------------------------------------------------------------------------
# Positions


_POSITION_HINT: Final = (
    'Give a CSS object-position made of keywords ("center", "top", "right top", "left '
    'bottom", "top center", …), a sharp gravity ("north", "southeast", …) or a strategy '
    '("entropy", "attention").'
)


def crop_focus(position: object) -> CropFocus:
    """Where a `cover` crop keeps the image, from Astro's `position`: CSS object-position
    keywords in either order (`"right top"`, `"top right"`, `"center top"`; hyphens as in
    Astro's `data-astro-image-pos` work too), sharp's gravities (`"north"`, `"southeast"`,
    `"centre"`) and strategies (`"entropy"`, `"attention"`). None or "" is the centre.

    sharp itself accepts only its own spellings ("right top", not "top right"); every
    spelling CSS accepts is accepted here. Lengths and percentages cannot place a crop the
    way sharp does and raise ImageError("InvalidParameter")."""
    if position is None or position == "":
        return "center"
    if not isinstance(position, str):
        raise _bad_position(position)
    focus = CROP_FOCUS_NAMES.get(_squash(position))
    if focus is None:
        raise _bad_position(position)
    return focus


def _bad_position(position: object) -> ImageError:
    return ImageError("InvalidParameter", f"unknown position {position!r}", _POSITION_HINT)


# --------------------------------------------------------------------------------------------
# The plan


@dataclass(frozen=True, slots=True)
class Crop:
    """The part of the source a `cover` resize keeps: the largest region with the output's
    aspect ratio (`width`×`height`, in oriented source pixels), placed by `focus`.

    For a gravity the placement follows from the sizes alone (`transform.crop_box`); for
    `entropy` and `attention` it is found in the pixels."""

    width: int
    height: int
    focus: CropFocus


@dataclass(frozen=True, slots=True)
class TransformPlan:
    """What one transform makes of one source, decided without pixels."""

    width: int  # of the output
    height: int
    # sharp's fit after Astro's map: "cover" crops (see `crop`), "fill" stretches, "inside"
    # and "outside" keep the aspect ratio; None when neither width nor height was asked.
    fit: SharpFit | None
    crop: Crop | None  # only for "cover", and only when the aspect ratio changes
    format: OutputFormat
    quality: int | None  # 0–100, presets resolved; None: the encoder's default
    background: str | None  # flatten transparency onto this colour

    @property
    def aspect_ratio(self) -> float:
        return self.width / self.height


def output_format(value: object) -> OutputFormat:
    """The encoder format for Astro's `format` option: webp when unset; `jpeg` is `jpg`.
    Raises ImageError: "UnsupportedImageConversion" for svg (a raster source never becomes
    an SVG), "InvalidParameter" for a name no encoder has."""
    if value is None or value == "":
        return DEFAULT_OUTPUT
    name = str(value).strip().lower()
    if name == "svg":
        raise ImageError(
            "UnsupportedImageConversion",
            "Converting between vector (such as SVGs) and raster (such as PNGs and JPEGs) "
            "images is not supported: this source is a raster image, format svg was asked.",
            'Remove format="svg" (the default output is webp), or give an SVG source.',
        )
    if name not in OUTPUT_FORMATS:
        raise ImageError(
            "InvalidParameter",
            f"unknown output format {value!r}",
            f"Use one of: {', '.join(sorted(OUTPUT_FORMATS))} (or svg for an SVG source).",
        )
    return OUTPUT_FORMATS[name]


def plan_transform(transform: Options, source_size: tuple[int, int]) -> TransformPlan:
    """The output of `transform` (Astro's options: width, height, fit, position, background,
    format, quality; other keys are ignored) for a source of `source_size` (after EXIF
    orientation), exactly as sharp computes it under Astro. Pure: no I/O, no pixels.

    Raises ImageError("InvalidParameter") for a negative or non-numeric size, an unknown
    position (when both sides are given: sharp reads it only then) or an unreadable
    background colour, and `output_format`'s errors for the format."""
    source_width, source_height = source_size
    if source_width < 1 or source_height < 1:
        raise ValueError(f"source size must be positive, not {source_size}")
    width = _dimension(transform.get("width"), "width")
    height = _dimension(transform.get("height"), "height")
    fmt = output_format(transform.get("format"))
    quality = _quality(transform.get("quality"))
    background = _background(transform.get("background"))

    fit: SharpFit | None = None
    crop: Crop | None = None
    if width and height:
        raw_fit = transform.get("fit")
        # Astro: `fit ? fitMap[fit] ?? "inside" : <sharp's default, cover>`.
        fit = _FITS.get(str(raw_fit), "inside") if raw_fit else "cover"
        focus = crop_focus(transform.get("position"))
        out_width, out_height = _resize_both(source_width, source_height, width, height, fit, focus)
        if fit == "cover":
            crop = _crop(source_width, source_height, out_width, out_height, focus)
    elif width or height:
        # One side: the shrink factor of that side, for both (sharp's default fit is
        # irrelevant: there is no box to cover).
        fit = "inside"
        if width:
            shrink = max(Fraction(1), Fraction(source_width, width))
        else:
            assert height is not None
            shrink = max(Fraction(1), Fraction(source_height, height))
        out_width = _scaled(source_width, shrink)
        out_height = _scaled(source_height, shrink)
    else:
        out_width, out_height = source_width, source_height
    return TransformPlan(out_width, out_height, fit, crop, fmt, quality, background)


def _resize_both(
    source_width: int, source_height: int, width: int, height: int, fit: SharpFit, focus: str
) -> tuple[int, int]:
    """sharp's `ResolveShrink` with `withoutEnlargement`, then its crop for `cover`."""
    horizontal = Fraction(source_width, width)
    vertical = Fraction(source_height, height)
    if fit in ("cover", "outside"):
        horizontal = vertical = min(horizontal, vertical)
    elif fit == "inside":
        horizontal = vertical = max(horizontal, vertical)
    # "fill" keeps each axis' own factor. Never enlarge: each factor is at least 1 (and so
    # no axis can shrink to 0 either).
    horizontal, vertical = max(Fraction(1), horizontal), max(Fraction(1), vertical)
    resized = _scaled(source_width, horizontal), _scaled(source_height, vertical)
    if fit == "cover":
        # The box is cut from the resized image, and cannot be larger than it.
        return min(width, resized[0]), min(height, resized[1])
    return resized


def _scaled(size: int, shrink: Fraction) -> int:
    # Half up, as libvips rounds its output size (and Astro's Math.round the HTML size).
    return max(1, math.floor(Fraction(size) / shrink + Fraction(1, 2)))


def _crop(
    source_width: int, source_height: int, width: int, height: int, focus: CropFocus
) -> Crop | None:
    """The largest region of the output's aspect ratio; None when it is the whole source.
    The same rounding as `transform.crop_box`, which places it."""
    aspect = width / height
    if source_width / source_height > aspect:
        region = min(source_width, max(1, round(source_height * aspect))), source_height
    else:
        region = source_width, min(source_height, max(1, round(source_width / aspect)))
    if region == (source_width, source_height):
        return None
    return Crop(region[0], region[1], focus)


def _dimension(value: object, name: str) -> int | None:
    """A requested width or height: None when unset (Astro tests truthiness, so 0 is unset
    too); floats are rounded half up as Astro's `validateOptions` does."""
    if value is None or value == 0 or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _bad_dimension(value, name)
    try:
        number = float(value)
    except ValueError:
        raise _bad_dimension(value, name) from None
    if not math.isfinite(number) or number < 0:
        raise _bad_dimension(value, name)
    rounded = math.floor(number + 0.5)
    return rounded or None


def _bad_dimension(value: object, name: str) -> ImageError:
    return ImageError(
        "InvalidParameter",
        f"`{name}` must be a positive number of pixels, not {value!r}",
        f"Give {name}=640, for example.",
    )


def _quality(value: object) -> int | None:
    """Astro's rule: a falsy quality is none; a number (or a string starting with one) is
    used as is; a preset (low, mid, high, max) is looked up; an unknown preset is none."""
    if not value:
        return None
    parsed = parse_quality(value)
    if isinstance(parsed, int) and not 0 <= parsed <= 100:
        raise ImageError(
            "InvalidParameter",
            f"quality must be between 0 and 100, not {value!r}",
            "Give a number from 1 to 100 or a preset: low (25), mid (50), high (80), max (100).",
        )
    return resolve_quality(value)


def _background(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _bad_colour(value)
    try:
        rgba(value)
    except ValueError:
        raise _bad_colour(value) from None
    return value


def _bad_colour(value: object) -> ImageError:
    return ImageError(
        "InvalidParameter",
        f"background {value!r} is not a colour",
        'Give a CSS colour: a name ("white"), "#rrggbb" or "rgb(255, 255, 255)".',
    )


# --------------------------------------------------------------------------------------------
# Encoder settings


def plan_encoder_settings(
    plan: TransformPlan, service_config: Mapping[str, Any] | None = None
) -> EncoderSettings:
    """The encoder settings for `plan` (not for gif: Pillow's GIF encoder has none).

    `service_config` holds sharp's per-format defaults as Astro takes them (`jpeg` (or
    `jpg`), `png`, `webp`, `avif` tables with sharp's option names: `quality`,
    `progressive`, `compressionLevel`, `lossless`, `effort`); the transform's quality wins
    over the table's, which wins over our per-format default (docs/formats.md)."""
    if plan.format == "gif":
        raise ValueError("gif output has no encoder settings")
    table = _format_table(service_config or {}, plan.format)
    quality = plan.quality if plan.quality is not None else _int(table, "quality", 0, 100)
    if plan.format == "jpg":
        jpg = JpgOptions(progressive=_bool(table, "progressive"))
        return resolve_encoder_settings(
            "jpg", quality=quality, jpg=jpg, png=None, webp=None, avif=None
        )
    if plan.format == "png":
        level = _int(table, "compressionLevel", 0, 9)
        # sharp quantises a PNG when it is given a quality, as our `png_options.quality` does.
        png = PngOptions(
            quality=None if quality is None else max(1, quality),
            compression_speed=None if level is None else 10 - level,
        )
        return resolve_encoder_settings(
            "png", quality=None, jpg=None, png=png, webp=None, avif=None
        )
    if plan.format == "webp":
        webp = WebpOptions(lossless=_bool(table, "lossless"), effort=_int(table, "effort", 0, 6))
        return resolve_encoder_settings(
            "webp", quality=quality, jpg=None, png=None, webp=webp, avif=None
        )
    effort = _int(table, "effort", 0, 9)
    # sharp's AVIF effort (0 fast – 9 slow) is libavif's speed (0 slow – 10 fast) reversed.
    avif = AvifOptions(
        lossless=_bool(table, "lossless"), speed=None if effort is None else 9 - effort
    )
    return resolve_encoder_settings(
        "avif", quality=quality, jpg=None, png=None, webp=None, avif=avif
    )


def _format_table(service_config: Mapping[str, Any], fmt: OutputFormat) -> Mapping[str, Any]:
    names = ("jpeg", "jpg") if fmt == "jpg" else (fmt,)
    for name in names:
        table = service_config.get(name)
        if table is not None:
            if not isinstance(table, Mapping):
                raise ValueError(
                    f"image service_config.{name} must be a table of encoder options, not {table!r}"
                )
            return table
    return {}


def _option(table: Mapping[str, Any], name: str) -> object:
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
    return table.get(name, table.get(snake))


def _int(table: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = _option(table, name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"image service_config: `{name}` must be a whole number from {low} to {high}, "
            f"not {value!r}"
        )
    return value


def _bool(table: Mapping[str, Any], name: str) -> bool | None:
    value = _option(table, name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise ValueError(f"image service_config: `{name}` must be true or false, not {value!r}")
    return value


# --------------------------------------------------------------------------------------------
# The service


_SVG_HINT: Final = (
    "Leave `format` unset (or svg) to serve the SVG as it is: it scales to any size. To get "
    "raster sizes, export the image as PNG or WebP."
)

# decode.py's stable codes → Astro's error names (the endpoint turns them into statuses).
_DECODE_ERRORS: Final[Mapping[str, str]] = {
    "SI303": "NoImageMetadata",  # not an image, or a format we do not read
    "SI304": "CouldNotTransformImage",  # damaged or truncated
    "SI305": "ImageTooLarge",  # over the decompression-bomb limit
}


class PillowService(BaseLocalService):
    """Astro's sharp service on Pillow: `/_image` URLs (from `BaseLocalService`) and
    `transform`, which the build and the `/_image` endpoint call.

    `max_pixels` is the decompression-bomb limit; Astro's `service_config.limitInputPixels`
    overrides it (a number; `false` lifts it, as in sharp)."""

    def __init__(self, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        if max_pixels < 1:
            raise ValueError(f"max_pixels must be positive, not {max_pixels}")
        self.max_pixels = max_pixels

    def transform(
        self, data: bytes, transform: Options, config: ImageSettings
    ) -> tuple[bytes, str]:
        """The encoded image and its format ("webp", "jpg", "png", "avif", "gif" or "svg").

        An SVG source is passed through unchanged (format unset or svg) or refused
        ("UnsupportedImageFormat": it is never rasterised); a raster source asked for svg is
        "UnsupportedImageConversion". A raster source is oriented, converted to sRGB,
        resized by `plan_transform`, flattened onto `background` when given and encoded with
        no metadata. An animation (GIF, WebP, APNG) asked for as webp or gif stays animated;
        a GIF becomes a WebP that loops forever unless `service_config.webp.loop` says
        otherwise. Raises ImageError only for what the request or the image caused."""
        requested = transform.get("format")
        wants_svg = isinstance(requested, str) and requested.strip().lower() == "svg"
        if sniff_format(data) == "svg":
            if not requested or wants_svg:
                return data, "svg"
            raise ImageError(
                "UnsupportedImageFormat", "SVG images are passed through, not rasterised", _SVG_HINT
            )
        output_format(requested)  # svg or an unknown name fails before any decoding
        max_pixels = self._max_pixels(config)
        try:
            info = decoder.probe(data, max_pixels=max_pixels)
            # Checked here as well as by the decoder: Pillow's limit is process-wide state,
            # and two requests decoding at once in threads could see each other's.
            if info.width * info.height > max_pixels:
                raise decoder.ImageError(
                    "SI305",
                    f"the image has more than {max_pixels:,} pixels, the decompression-bomb limit",
                    "Use a smaller source image.",
                )
            plan = plan_transform(transform, (info.width, info.height))
            animated = info.frames > 1 and plan.format in ("webp", "gif")
            min_size = _decode_size(plan, (info.width, info.height))
            decoded = decoder.decode(
                data,
                min_width=min_size[0],
                min_height=min_size[1],
                max_pixels=max_pixels,
                all_frames=animated,
            )
        except decoder.ImageError as exc:
            raise ImageError(
                _DECODE_ERRORS.get(exc.code, "NoImageMetadata"), exc.message, exc.hint
            ) from None
        if decoded.frames:
            frames = [frame.image for frame in decoded.frames]
            durations = [frame.duration_ms for frame in decoded.frames]
        else:
            frames, durations = [decoded.image], [0]
        box = _crop_box(frames[0], plan)
        finished = [_apply(frame, plan, box) for frame in frames]
        if plan.format == "gif":
            return _encode_gif(finished, durations, decoded.loop), "gif"
        settings = plan_encoder_settings(plan, config.service_config)
        if len(finished) > 1:
            loop = self._loop(config, source_format=info.format, source_loop=decoded.loop)
            return encode_animation(
                list(zip(finished, durations, strict=True)), loop, settings
            ), "webp"
        return encode(finished[0], settings, background=plan.background), plan.format

    def _max_pixels(self, config: ImageSettings) -> int:
        limit = config.service_config.get("limitInputPixels")
        if limit is False:
            return sys.maxsize
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            return limit
        return self.max_pixels

    @staticmethod
    def _loop(config: ImageSettings, *, source_format: str, source_loop: int) -> int:
        """Astro's fix for GIFs that stopped looping (#13683): loop forever unless the
        `webp` encoder config sets `loop`; other animations keep their own count."""
        table = config.service_config.get("webp")
        if isinstance(table, Mapping):
            loop = table.get("loop")
            if isinstance(loop, int) and not isinstance(loop, bool) and loop >= 0:
                return loop
        return 0 if source_format == "gif" else source_loop


def _decode_size(plan: TransformPlan, source: tuple[int, int]) -> tuple[int, int]:
    """The smallest decoded size that still gives the output full resolution (JPEG draft
    mode may then decode at 1/2, 1/4 or 1/8)."""
    if plan.crop is None:
        return plan.width, plan.height
    return (
        math.ceil(source[0] * plan.width / plan.crop.width),
        math.ceil(source[1] * plan.height / plan.crop.height),
    )


def _crop_box(image: Image.Image, plan: TransformPlan) -> tuple[int, int, int, int] | None:
    """Found once, on the first frame, so an animation's frames are all cut alike."""
    if plan.crop is None:
        return None
    box = crop_box(image, plan.aspect_ratio, plan.crop.focus)
    return None if box == (0, 0, image.width, image.height) else box


def _apply(
    image: Image.Image, plan: TransformPlan, box: tuple[int, int, int, int] | None
) -> Image.Image:
    if box is not None:
        image = image.crop(box)
    if image.size != (plan.width, plan.height):
        # The plan has already decided the exact size (and the crop the aspect ratio).
        image = resize(image, plan.width, plan.height, fit="fill", background=None)
    if plan.background is not None and image.mode in ("RGBA", "LA"):
        image = _flatten(image, plan.background)
    return image


def _flatten(image: Image.Image, background: str) -> Image.Image:
    """sharp's `flatten`: transparency merged onto the colour, whose own alpha is ignored."""
    red, green, blue, _ = rgba(background)
    canvas = Image.new("RGBA", image.size, (red, green, blue, 255))
    return Image.alpha_composite(canvas, image.convert("RGBA")).convert("RGB")


def _encode_gif(frames: Sequence[Image.Image], durations: Sequence[int], loop: int) -> bytes:
    """GIF, as sharp writes it for Astro's gif fallback: every frame, the source's loop."""
    buffer = io.BytesIO()
    options: dict[str, Any] = {"optimize": False, "comment": b""}
    if len(frames) > 1:
        options.update(
            save_all=True,
            append_images=list(frames[1:]),
            duration=list(durations),
            loop=loop,
            disposal=2,
        )
    frames[0].save(buffer, "GIF", **options)
    return buffer.getvalue()
