"""Encoder settings (resolved from the props) and encoding to bytes, with Pillow.

`encoder_settings` turns a format and the user's options into a fully resolved
`EncoderSettings`: every value that shapes the bytes is explicit, so `EncoderSettings.key()`
plus `encoder_identity()` is a complete recipe for the output file's digest.

`encode` writes no metadata at all (no EXIF, ICC, XMP or comments, even when the image object
carries them: Pillow copies some of them from `Image.info` unless told otherwise), because the
pixels handed in are already sRGB and untagged sRGB is what browsers assume. It is
deterministic: the same pixels and settings give the same bytes in any process; AVIF is
encoded on one thread because libaom's output depends on its thread count.

What each option means, the default qualities and the measurements behind them:
docs/formats.md.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cache
from types import MappingProxyType
from typing import Any, Final, TypeVar

import PIL
from PIL import Image, features

from staticimg.compiler.images.transform import rgba
from staticimg.compiler.props import (
    AvifOptions,
    EncodedFormat,
    JpgOptions,
    PngOptions,
    WebpOptions,
)

__all__ = [
    "DEFAULT_QUALITY",
    "ENCODE_RECIPE",
    "EXTENSIONS",
    "MIME_TYPES",
    "EncoderSettings",
    "encode",
    "encode_animation",
    "encoder_identity",
    "encoder_settings",
]

_T = TypeVar("_T")

# Bump when encoding changes in a way the settings and library versions do not show (a new
# fixed encoder flag, different mode handling): it is part of `encoder_identity`, so every
# output file gets a new name.
ENCODE_RECIPE: Final = "1"

# Chosen by bench/quality.py on the 37-photo corpus at 800 and 1600 px (docs/formats.md):
# JPEG 75 is where quality starts to cost more bytes per SSIM gained; WebP and AVIF get the
# lowest quality whose median SSIM matches JPEG 75 at both widths, so every <source> looks the
# same and the newer formats' smaller files (WebP 34-44%, AVIF 60-62% below JPEG) are pure
# savings. PNG is lossless unless `png_options.quality` asks for palette quantisation.
DEFAULT_QUALITY: Final[Mapping[EncodedFormat, int | None]] = MappingProxyType(
    {"jpg": 75, "png": None, "webp": 79, "avif": 54}
)

MIME_TYPES: Final[Mapping[EncodedFormat, str]] = MappingProxyType(
    {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}
)

EXTENSIONS: Final[Mapping[EncodedFormat, str]] = MappingProxyType(
    {"jpg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}
)

# Gatsby's (and sharp's) defaults for the options it documents.
DEFAULT_JPG_PROGRESSIVE: Final = True
DEFAULT_PNG_COMPRESSION_SPEED: Final = 4
DEFAULT_WEBP_EFFORT: Final = 4  # libwebp's `method`, 0 (fast) – 6 (small); libwebp's default
# libavif 0 (slowest, smallest) – 10 (fastest). Measured: 5 is 4-5x slower for 2-8% smaller
# files; 8 is 3-4x faster for 8-9% larger ones at lower SSIM. AVIF is most of a cold build's
# encode time either way; 6 keeps most of its size advantage (docs/formats.md).
DEFAULT_AVIF_SPEED: Final = 6

# At quality ≥ 90 the 4:2:0 chroma subsampling becomes the largest loss in a JPEG (coloured
# edges, red text), so full-resolution chroma is kept, as libvips does in its automatic mode.
JPG_FULL_CHROMA_FROM_QUALITY: Final = 90

# libwebp's lossless mode reads `quality` as compression effort; cwebp's default.
WEBP_LOSSLESS_EFFORT: Final = 75

_PILLOW_FORMAT: Final[Mapping[EncodedFormat, str]] = MappingProxyType(
    {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}
)

# Which settings fields shape each format's bytes (the rest are None for that format).
_FIELDS: Final[Mapping[EncodedFormat, tuple[str, ...]]] = MappingProxyType(
    {
        "jpg": ("quality", "progressive", "subsampling"),
        "png": ("quality", "palette_colours", "compress_level"),
        "webp": ("quality", "lossless", "effort"),
        "avif": ("quality", "lossless", "speed", "subsampling"),
    }
)


@dataclass(frozen=True, slots=True)
class EncoderSettings:
    """Everything that decides an encoder's output, resolved: no None meaning "default".

    A field is None only where it does not apply to `format` (or, for `quality`, where the
    output is lossless: PNG without quantisation, lossless WebP and AVIF).
    """

    format: EncodedFormat
    quality: int | None
    progressive: bool | None = None  # jpg
    subsampling: str | None = None  # jpg, avif: "4:2:0" or "4:4:4"
    lossless: bool | None = None  # webp, avif
    effort: int | None = None  # webp: libwebp method, 0 (fast) – 6 (small)
    speed: int | None = None  # avif: libavif speed, 0 (slow, small) – 10 (fast)
    palette_colours: int | None = None  # png: quantise to this many colours; None = truecolour
    compress_level: int | None = None  # png: zlib level, 1–9

    def key(self) -> dict[str, object]:
        """JSON-ready, only the fields this format uses: the output file's digest covers it."""
        return {"format": self.format} | {
            name: getattr(self, name) for name in _FIELDS[self.format]
        }

    def __post_init__(self) -> None:
        unused = {f.name for f in fields(self)} - {"format", *_FIELDS[self.format]}
        stray = sorted(name for name in unused if getattr(self, name) is not None)
        if stray:
            raise ValueError(f"settings that do not apply to {self.format}: {', '.join(stray)}")


def png_compress_level(compression_speed: int) -> int:
    """Gatsby's `compressionSpeed` (1 slowest – 10 fastest, default 4) as a zlib level.

    Gatsby took the name from pngquant's speed; we have no pngquant, and the speed/size
    trade-off left in a PNG encoder is zlib's level: speed 1 → level 9, 4 → 6 (zlib's own
    default), 9 and 10 → 1 (level 0 would store the pixels uncompressed).
    """
    return max(1, min(9, 10 - compression_speed))


def png_palette_colours(quality: int) -> int:
    """`png_options.quality` (1–100) as a palette size: 100 → 256 colours, 50 → 128, … ≥ 2.

    sharp hands the quality to libimagequant as a target it meets with as few colours as it
    can; without libimagequant there is no such target, so the quality caps the palette.
    """
    return max(2, min(256, round(256 * quality / 100)))


def encoder_settings(
    fmt: EncodedFormat,
    *,
    quality: int | None,
    jpg: JpgOptions | None,
    png: PngOptions | None,
    webp: WebpOptions | None,
    avif: AvifOptions | None,
) -> EncoderSettings:
    """Resolve one format's settings from the shared `quality` and the per-format options.

    Quality precedence is Gatsby's: `<fmt>_options.quality`, then `quality`, then
    `DEFAULT_QUALITY[fmt]`, with one deliberate exception: PNG is quantised only when
    `png_options.quality` is given (the shared `quality` tunes the lossy formats and must
    not turn a lossless PNG into a 256-colour one). Every option Gatsby documents is
    honoured, including the ones it drops (progressive, compressionSpeed, lossless, speed).
    Values are not validated here: props.py did that.
    """
    if fmt == "jpg":
        options_jpg = jpg or JpgOptions()
        q = _first(options_jpg.quality, quality, DEFAULT_QUALITY["jpg"])
        return EncoderSettings(
            "jpg",
            q,
            progressive=_first(options_jpg.progressive, DEFAULT_JPG_PROGRESSIVE),
            subsampling="4:4:4" if q >= JPG_FULL_CHROMA_FROM_QUALITY else "4:2:0",
        )
    if fmt == "png":
        options_png = png or PngOptions()
        speed = _first(options_png.compression_speed, DEFAULT_PNG_COMPRESSION_SPEED)
        colours = None if options_png.quality is None else png_palette_colours(options_png.quality)
        return EncoderSettings(
            "png",
            options_png.quality,
            palette_colours=colours,
            compress_level=png_compress_level(speed),
        )
    if fmt == "webp":
        options_webp = webp or WebpOptions()
        lossless = bool(options_webp.lossless)
        return EncoderSettings(
            "webp",
            None if lossless else _first(options_webp.quality, quality, DEFAULT_QUALITY["webp"]),
            lossless=lossless,
            effort=_first(options_webp.effort, DEFAULT_WEBP_EFFORT),
        )
    options_avif = avif or AvifOptions()
    lossless = bool(options_avif.lossless)
    return EncoderSettings(
        "avif",
        None if lossless else _first(options_avif.quality, quality, DEFAULT_QUALITY["avif"]),
        lossless=lossless,
        speed=_first(options_avif.speed, DEFAULT_AVIF_SPEED),
        subsampling="4:4:4" if lossless else "4:2:0",
    )


def _first(*values: _T | None) -> _T:
    for value in values:
        if value is not None:
            return value
    raise ValueError("no value and no default")


# --------------------------------------------------------------------------------------------
# Encoding


def encode(
    image: Image.Image, settings: EncoderSettings, *, background: str | None = None
) -> bytes:
    """Encode to bytes, with no metadata.

    An alpha channel that is fully opaque is dropped (it would cost bytes for nothing). Into
    JPEG, transparency is flattened onto `background` (white when None, and a translucent
    colour is itself laid on white first); the other formats keep alpha.
    """
    prepared = _prepare(image, settings.format, background)
    if settings.format == "png" and settings.palette_colours is not None:
        prepared = _quantise(prepared, settings.palette_colours)
    options = _save_options(settings)
    if settings.format == "avif" and prepared.mode == "L":
        # A grey image has no chroma to subsample or keep: monochrome AV1 is smaller, decodes
        # as grey, and is exactly lossless when `lossless` asks for it.
        options["subsampling"] = "4:0:0"
    buffer = io.BytesIO()
    prepared.save(buffer, _PILLOW_FORMAT[settings.format], **options)
    return buffer.getvalue()


def encode_animation(
    frames: Sequence[tuple[Image.Image, int]], loop: int, settings: EncoderSettings
) -> bytes:
    """An animated WebP: `frames` are (image, duration in ms), `loop` 0 means forever."""
    if settings.format != "webp":
        raise ValueError(f"animations are encoded as WebP only, not {settings.format}")
    if not frames:
        raise ValueError("an animation needs at least one frame")
    mode = "RGBA" if any(_has_alpha(frame) for frame, _ in frames) else "RGB"
    images = [frame if frame.mode == mode else frame.convert(mode) for frame, _ in frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        "WEBP",
        save_all=True,
        append_images=images[1:],
        duration=[duration for _, duration in frames],
        loop=loop,
        background=(0, 0, 0, 0),  # not the source's: Pillow would read it from Image.info
        **_save_options(settings),
    )
    data = bytearray(buffer.getvalue())
    if mode == "RGBA" and data[12:16] == b"VP8X" and not data[20] & _VP8X_ALPHA:
        # libwebp's lossy animation encoder crops each frame to its opaque part and lets the
        # transparent canvas show around it, but then leaves the container's alpha flag unset;
        # decoders that trust the flag (Pillow, and so any later tool) paint that canvas black.
        data[20] |= _VP8X_ALPHA
    return bytes(data)


_VP8X_ALPHA: Final = 0x10  # the "has alpha" bit of the VP8X chunk's flags byte


def _save_options(settings: EncoderSettings) -> dict[str, Any]:
    # Metadata keys are given explicitly (empty): some Pillow plugins fall back to
    # Image.info (JPEG comments, PNG/AVIF ICC profiles, PNG transparency) when they are absent.
    if settings.format == "jpg":
        return {
            "quality": settings.quality,
            "progressive": settings.progressive,
            "optimize": True,  # optimal Huffman tables: smaller, still deterministic
            "subsampling": settings.subsampling,
            "exif": b"",
            "icc_profile": None,
            "comment": b"",
        }
    if settings.format == "png":
        return {
            "compress_level": settings.compress_level,
            "icc_profile": b"",
            "exif": b"",
            "transparency": None,
        }
    if settings.format == "webp":
        return {
            "quality": WEBP_LOSSLESS_EFFORT if settings.lossless else settings.quality,
            "lossless": settings.lossless,
            "method": settings.effort,
            "icc_profile": "",
            "exif": b"",
            "xmp": "",
        }
    return {
        # libavif's quality 100 selects its lossless quantiser (see docs/formats.md).
        "quality": 100 if settings.lossless else settings.quality,
        "speed": settings.speed,
        "subsampling": settings.subsampling,
        "max_threads": 1,  # multi-threaded libaom output depends on the thread count
        "codec": _avif_codec()[0],
        "icc_profile": b"",
        "exif": b"",
        "xmp": b"",
    }


_ALPHA_MODES: Final = frozenset({"RGBA", "LA", "RGBa", "La", "PA"})


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info)


def _prepare(image: Image.Image, fmt: EncodedFormat, background: str | None) -> Image.Image:
    """The image in a mode the encoder takes as is (L, LA, RGB or RGBA)."""
    if _has_alpha(image):
        image = image.convert("LA" if image.mode in ("LA", "La") else "RGBA")
        if image.getchannel("A").getextrema() == (255, 255):
            image = image.convert("L" if image.mode == "LA" else "RGB")
    elif image.mode not in ("L", "RGB"):
        one_band = len(image.getbands()) == 1 and image.mode != "P"  # 1, I, I;16, F
        image = image.convert("L" if one_band else "RGB")
    if fmt == "jpg" and image.mode in ("RGBA", "LA"):
        return _flatten(image, background)
    if fmt == "webp" and image.mode in ("L", "LA"):
        # WebP has no grey modes: Pillow would convert anyway; done here so it is explicit.
        return image.convert("RGBA" if image.mode == "LA" else "RGB")
    if fmt == "avif" and image.mode == "LA":
        return image.convert("RGBA")
    return image


def _flatten(image: Image.Image, background: str | None) -> Image.Image:
    red, green, blue, alpha = rgba(background or "white")
    colour = Image.new("RGBA", (1, 1), (red, green, blue, alpha))
    if alpha < 255:
        colour = Image.alpha_composite(Image.new("RGBA", (1, 1), "white"), colour)
    matte = Image.new("RGBA", image.size, colour.getpixel((0, 0)))
    return Image.alpha_composite(matte, image.convert("RGBA")).convert("RGB")


def _quantise(image: Image.Image, colours: int) -> Image.Image:
    if features.check_feature("libimagequant"):
        method = Image.Quantize.LIBIMAGEQUANT
    elif image.mode in ("RGBA", "LA"):
        method = Image.Quantize.FASTOCTREE  # the only built-in quantiser that keeps alpha
    else:
        method = Image.Quantize.MEDIANCUT
    source = image.convert("RGBA") if image.mode == "LA" else image
    if source.mode == "L":
        source = source.convert("RGB")
    return source.quantize(colours, method=method, dither=Image.Dither.FLOYDSTEINBERG)


# --------------------------------------------------------------------------------------------
# Identity


@cache
def _avif_codec() -> tuple[str, str]:
    """The AVIF encoder used (pinned to libaom when present) and its version."""
    if not features.check_module("avif"):
        return "auto", "none"
    from PIL import _avif

    for codec in ("aom", "rav1e", "svt"):
        if _avif.encoder_codec_available(codec):
            versions = str(_avif.codec_versions())
            for entry in versions.split(", "):
                if entry.split(" [")[0] == codec:
                    return codec, entry.split(":")[-1]
            return codec, "unknown"
    return "auto", "none"


@cache
def _identity() -> tuple[tuple[str, str], ...]:
    def version(name: str) -> str:
        found = features.version(name)
        return found or "none"

    codec, codec_version = _avif_codec()
    return (
        ("recipe", ENCODE_RECIPE),
        ("pillow", PIL.__version__),
        ("libjpeg_turbo", version("libjpeg_turbo")),
        ("libjpeg", version("jpg")),
        ("libwebp", version("webp")),
        ("libavif", version("avif")),
        ("avif_encoder", f"{codec} {codec_version}"),
        ("zlib", version("zlib")),
        ("zlib_ng", version("zlib_ng")),
        ("libimagequant", version("libimagequant")),
    )


def encoder_identity() -> dict[str, str]:
    """Pillow and codec library versions, and our encode recipe: part of every output digest.

    A new libjpeg-turbo, libwebp, libaom or zlib can change the bytes of every file, so a
    machine with other versions writes other file names instead of passing off different
    bytes under the same name.
    """
    return dict(_identity())
