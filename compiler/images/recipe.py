"""What one call needs, worked out without touching pixels.

From a request and its source's header, a `Recipe` fixes everything the image stage will do:
the layout's widths, the geometry (trim, rotation, fit, crop focus, effects), every output
file with its encoder settings and its content-addressed name, and the placeholder. Because
names depend only on inputs, a warm build finds its outputs by name and decodes nothing.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

import orjson

from staticimg.compiler.diagnostics import Diagnostic
from staticimg.compiler.images.decode import SourceInfo
from staticimg.compiler.images.encode import (
    EXTENSIONS,
    EncoderSettings,
    encoder_identity,
    encoder_settings,
)
from staticimg.compiler.images.sources import SourceFile
from staticimg.compiler.images.transform import rotated_size
from staticimg.compiler.props import (
    CropFocus,
    Duotone,
    EncodedFormat,
    Fit,
    ImageRequest,
    Placeholder,
)
from staticimg.layout import ImageSizes, Layout, calculate_image_sizes, js_round, output_height

# Bump when a change to the image stage alters its output for the same inputs: every name
# and every cached placeholder changes with it.
# 2: names digest how the call decodes its source (JPEG draft scale, all frames or one) and
#    the call's whole chain of sizes, which every output's pixels depend on.
RECIPE_VERSION: Final = 2

DEFAULT_FORMATS: Final[tuple[str, ...]] = ("auto", "webp")
DEFAULT_BLURRED_WIDTH: Final = 20
# A BlurHash holds at most 9×9 cosines: 32 px along the long side paints it smoothly, and
# the browser's upscaling of so small an image adds blur, not detail.
BLURHASH_IMAGE_LONG_SIDE: Final = 32
# Placeholder colours and BlurHash come from a thumbnail this large (Gatsby's 200 px).
THUMBNAIL_SIZE: Final = 200
# Formats a browser can show as the fallback `<img>`; other sources become PNG or JPEG.
WEB_FORMATS: Final[frozenset[str]] = frozenset({"jpg", "png", "webp", "avif"})
NAME_DIGEST_CHARS: Final = 12
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Geometry:
    """How source pixels become output pixels; shared by every output of one call."""

    trim: float | None  # edge threshold, or None for no trim
    rotate: float  # clockwise degrees
    fit: Fit
    focus: CropFocus
    aspect_ratio: float  # width / height of every output
    background: str | None
    grayscale: bool
    duotone: Duotone | None

    def key(self) -> dict[str, Any]:
        duotone = self.duotone
        return {
            "trim": self.trim,
            "rotate": self.rotate,
            "fit": self.fit,
            "focus": self.focus,
            "aspect": round(self.aspect_ratio, 9),
            "background": self.background,
            "grayscale": self.grayscale,
            "duotone": None
            if duotone is None
            else [duotone.highlight, duotone.shadow, duotone.opacity],
        }


@dataclass(frozen=True, slots=True)
class Output:
    name: str  # file name inside output_dir
    width: int
    height: int
    settings: EncoderSettings
    animated: bool


@dataclass(frozen=True, slots=True)
class FormatSet:
    format: EncodedFormat
    outputs: tuple[Output, ...]  # ascending width


@dataclass(frozen=True, slots=True)
class PlaceholderSpec:
    key: str  # cache key of the computed values
    blurred: tuple[int, int, EncoderSettings] | None  # size and encoding of the data URI
    # placeholder="blurhash": the size the BlurHash is painted at, as a data URI the browser
    # stretches (no decoder script on the page).
    blurhash_image: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Recipe:
    request: ImageRequest
    source: SourceFile
    info: SourceInfo
    layout: Layout
    sizes: ImageSizes
    geometry: Geometry
    fallback: FormatSet | None
    sources: tuple[FormatSet, ...]  # AVIF before WebP
    placeholder_spec: PlaceholderSpec | None  # None for placeholder="none"
    warnings: tuple[Diagnostic, ...]
    # How the source is decoded for this call: the JPEG draft reduction (1, 2, 4 or 8) and
    # whether every frame is decoded (the call has an animated output). Both are functions of
    # this call alone and are digested into its names (see `decode_reduction`).
    reduction: int = 1
    all_frames: bool = False

    @property
    def outputs(self) -> tuple[Output, ...]:
        sets = ((self.fallback,) if self.fallback else ()) + self.sources
        return tuple(output for fs in sets for output in fs.outputs)


def make_recipe(request: ImageRequest, source: SourceFile, info: SourceInfo) -> Recipe:
    """Raises ValueError (with a message for the user) when the layout cannot be computed."""
    transform = request.transform_options
    rotate = float(transform.rotate or 0) if transform else 0.0
    trim = _trim_threshold(transform.trim if transform else None)
    fit: Fit = (transform.fit if transform else None) or "cover"
    focus: CropFocus = (transform.crop_focus if transform else None) or "attention"
    layout: Layout = request.layout or "constrained"
    width, height = rotated_size(info.width, info.height, rotate)

    sizes = calculate_image_sizes(
        source_width=width,
        source_height=height,
        layout=layout,
        width=None if request.width is None else js_round(request.width),
        height=None if request.height is None else js_round(request.height),
        aspect_ratio=request.aspect_ratio,
        fit=fit,
        output_pixel_densities=request.output_pixel_densities,
        breakpoints=request.breakpoints,
    )
    duotone = transform.duotone if transform and transform.duotone else None
    geometry = Geometry(
        trim=trim,
        rotate=rotate,
        fit=fit,
        focus=focus,
        aspect_ratio=sizes.aspect_ratio,
        background=request.background_color,
        grayscale=bool(transform and transform.grayscale),
        duotone=duotone,
    )
    primary, extra = choose_formats(request.formats, info)
    placeholder: Placeholder = request.placeholder or "dominantColor"
    all_frames = info.frames > 1 and "webp" in (primary, *extra)
    output_sizes = [(w, output_height(w, sizes.aspect_ratio)) for w in sizes.sizes]
    reduction = decode_reduction(info, geometry, output_sizes, placeholder=placeholder != "none")
    decoding = {"reduction": reduction, "all_frames": all_frames, "chain": list(sizes.sizes)}
    base = _digest_base(source, geometry, decoding)
    stem = _stem(source.relative)

    def format_set(fmt: EncodedFormat) -> FormatSet:
        settings = _settings(request, fmt)
        animated = info.frames > 1 and fmt == "webp"
        outputs = tuple(
            _output(base, stem, w, output_height(w, sizes.aspect_ratio), settings, animated)
            for w in sizes.sizes
        )
        return FormatSet(fmt, outputs)

    spec = None
    if placeholder != "none":
        blurred = None
        if placeholder == "blurred":
            options = request.blurred_options
            bw = (options.width if options else None) or DEFAULT_BLURRED_WIDTH
            bfmt = (options.to_format if options else None) or primary or "png"
            blurred = (bw, output_height(bw, sizes.aspect_ratio), _settings(request, bfmt))
        painted = None
        if placeholder == "blurhash":
            ratio = sizes.aspect_ratio
            long_side = BLURHASH_IMAGE_LONG_SIDE
            painted = (
                (long_side, max(1, round(long_side / ratio)))
                if ratio >= 1
                else (max(1, round(long_side * ratio)), long_side)
            )
        spec = PlaceholderSpec(_placeholder_key(base, blurred, painted), blurred, painted)

    return Recipe(
        request=request,
        source=source,
        info=info,
        layout=layout,
        sizes=sizes,
        geometry=geometry,
        fallback=format_set(primary) if primary else None,
        sources=tuple(format_set(fmt) for fmt in extra),
        placeholder_spec=spec,
        warnings=_warnings(request, source, info, layout, (width, height), primary, extra),
        reduction=reduction,
        all_frames=all_frames,
    )


def decode_reduction(
    info: SourceInfo,
    geometry: Geometry,
    sizes: Sequence[tuple[int, int]],
    *,
    placeholder: bool,
) -> int:
    """The JPEG draft reduction (1, 2, 4 or 8) a call decodes its source at: the largest
    whose decoded image still covers every output and the placeholder's thumbnail, as
    Pillow's `draft()` picks it. Other formats decode at full size (1).

    It depends on this call alone, never on which other calls share the source or which of
    the call's files a build happens to be missing, and it is digested into the call's
    names: the pixels of a file are a function of its name's inputs, so a build that only
    repairs a deleted file writes the same bytes as a clean build."""
    if info.format != "jpg":
        return 1
    scale = _scale_needed(info, geometry, sizes, placeholder)
    min_width = max(1, min(info.width, math.ceil(info.width * scale)))
    min_height = max(1, min(info.height, math.ceil(info.height * scale)))
    reduction = 1
    while (
        reduction < 8
        and info.width // (reduction * 2) >= min_width
        and info.height // (reduction * 2) >= min_height
    ):
        reduction *= 2
    return reduction


def _scale_needed(
    info: SourceInfo, geometry: Geometry, sizes: Sequence[tuple[int, int]], placeholder: bool
) -> float:
    """The fraction of the source's resolution that still covers every output size (and the
    placeholder's thumbnail)."""
    if geometry.trim is not None or geometry.rotate % 90:
        return 1.0  # the crop is found on the pixels themselves: decode them all
    width, height = info.width, info.height
    if geometry.rotate % 180:
        width, height = height, width
    if geometry.fit == "cover":
        # The largest box of the output's aspect ratio inside the source.
        region_width = min(width, height * geometry.aspect_ratio)
        region_height = min(height, width / geometry.aspect_ratio)
    else:
        region_width, region_height = width, height
    needed = 0.0
    for output_width, output_height_ in sizes:
        needed = max(needed, output_width / region_width, output_height_ / region_height)
    if placeholder:
        needed = max(needed, min(1.0, THUMBNAIL_SIZE / max(region_width, region_height)))
    return min(1.0, needed)


def _warnings(
    request: ImageRequest,
    source: SourceFile,
    info: SourceInfo,
    layout: Layout,
    size: tuple[int, int],
    primary: EncodedFormat | None,
    extra: tuple[EncodedFormat, ...],
) -> tuple[Diagnostic, ...]:
    warnings = []
    if layout != "fullWidth":
        for prop, wanted, available in (
            ("width", request.width, size[0]),
            ("height", request.height, size[1]),
        ):
            if wanted is not None and wanted > available:
                warnings.append(
                    Diagnostic(
                        "SI351",
                        f"`{prop}` is {wanted:g} px but {source.relative} is only "
                        f"{available} px {'wide' if prop == 'width' else 'high'}: the image is "
                        f"made at {available} px and never upscaled",
                        request.file,
                        request.span,
                        prop=prop,
                        hint="Use a larger source image for sharp results on high-density "
                        "screens, or ask for the size the source has.",
                    )
                )
    if info.frames > 1:
        still = [f for f in (primary, *extra) if f is not None and f != "webp"]
        if still:
            kept = (
                "WebP keeps the animation"
                if "webp" in extra or primary == "webp"
                else ('add "webp" to `formats` to keep the animation')
            )
            warnings.append(
                Diagnostic(
                    "SI350",
                    f"{source.relative} is animated ({info.frames} frames), but "
                    f"{', '.join(still)} output shows only its first frame",
                    request.file,
                    request.src_span or request.span,
                    prop="src",
                    hint=f"Browsers that take the {still[0]} file see a still image; {kept}.",
                )
            )
    return tuple(warnings)


def choose_formats(
    formats: tuple[str, ...] | None, info: SourceInfo
) -> tuple[EncodedFormat | None, tuple[EncodedFormat, ...]]:
    """The fallback format and the extra `<source>` formats, as Gatsby's sharp stage picks them."""
    wanted = set(DEFAULT_FORMATS if formats is None else formats)
    use_auto = not wanted or "auto" in wanted or {"jpg", "png"} <= wanted
    primary: EncodedFormat | None
    if use_auto:
        primary = auto_format(info)
    else:
        primary = next((f for f in ("png", "jpg", "webp", "avif") if f in wanted), None)
    extra = tuple(f for f in ("avif", "webp") if f in wanted and f != primary)
    return primary, extra


def auto_format(info: SourceInfo) -> EncodedFormat:
    """The source's own format where browsers show it; otherwise PNG if it may be
    transparent (never a JPEG for an image with alpha) and JPEG if not."""
    if info.format in WEB_FORMATS:
        return info.format  # type: ignore[return-value]
    return "png" if info.may_have_alpha else "jpg"


def _settings(request: ImageRequest, fmt: EncodedFormat) -> EncoderSettings:
    return encoder_settings(
        fmt,
        quality=request.quality,
        jpg=request.jpg_options,
        png=request.png_options,
        webp=request.webp_options,
        avif=request.avif_options,
    )


def _output(
    base: bytes, stem: str, width: int, height: int, settings: EncoderSettings, animated: bool
) -> Output:
    key = {"w": width, "h": height, "enc": settings.key(), "animated": animated}
    digest = hashlib.blake2b(base + orjson.dumps(key, option=orjson.OPT_SORT_KEYS))
    short = digest.hexdigest()[:NAME_DIGEST_CHARS]
    name = f"{stem}-{width}w-{short}.{EXTENSIONS[settings.format]}"
    return Output(name, width, height, settings, animated)


def _digest_base(source: SourceFile, geometry: Geometry, decoding: dict[str, Any]) -> bytes:
    """What every output of a call shares: recipe, encoder libraries, source bytes, geometry,
    and how the source is decoded and resized: the draft reduction, one frame or all, and
    the chain of sizes (each output is resized from the next larger one, and the placeholder
    from one of them).

    The crop box is not listed: it is a pure function of the source pixels and the geometry
    (the focus strategy included), so digesting those digests the box.
    """
    shared = {
        "recipe": RECIPE_VERSION,
        "encoder": _encoder_identity(),
        "source": source.digest,
        "geometry": geometry.key(),
        "decoding": decoding,
    }
    return orjson.dumps(shared, option=orjson.OPT_SORT_KEYS)


def _placeholder_key(
    base: bytes,
    blurred: tuple[int, int, EncoderSettings] | None,
    painted: tuple[int, int] | None,
) -> str:
    spec = None if blurred is None else [blurred[0], blurred[1], blurred[2].key()]
    key = {"placeholder": spec} if painted is None else {"placeholder": spec, "blurhash": painted}
    blob = base + orjson.dumps(key, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(blob, digest_size=16).hexdigest()


@cache
def _encoder_identity() -> dict[str, str]:
    return encoder_identity()


def _stem(relative: str) -> str:
    """A readable, URL-safe file stem from the source name."""
    name = relative.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return _UNSAFE.sub("-", stem).strip("-.")[:60] or "image"


def _trim_threshold(trim: bool | float | None) -> float | None:
    if trim is None or trim is False:
        return None
    return 10.0 if trim is True else float(trim)
