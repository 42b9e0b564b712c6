"""Open, probe and decode one source image into a normalised Pillow image.

Everything downstream (crop, resize, encode, placeholders) sees one shape of image: oriented
as the camera meant it, in sRGB, mode "RGB", or "RGBA" only when some pixel is not opaque, with
no metadata left on it. Every way a file can be unusable becomes an `ImageError` with a stable
diagnostic code, never a Pillow traceback.

This module runs inside worker processes: it imports Pillow and nothing heavier.

Process-wide state: Pillow's decompression-bomb limit is a module global
(`Image.MAX_IMAGE_PIXELS`) and warning filters are process-wide too, so `probe` and `decode`
set both for the duration of the call and restore them. That is safe in worker processes and
in a single-threaded build; two threads decoding with different limits at once would race.
"""

from __future__ import annotations

import functools
import io
import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError

__all__ = ["Decoded", "Frame", "ImageError", "SourceInfo", "decode", "probe"]

# Pillow's format names → ours (Gatsby's). Only these plugins are tried: a file Pillow could
# open with an exotic plugin (EPS runs Ghostscript, PSD, ICO, …) is refused as unsupported.
# MPO is what Pillow calls a camera JPEG that carries extra pictures (a preview, a depth map).
_FORMAT_NAMES: Final = {
    "JPEG": "jpg",
    "MPO": "jpg",
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "AVIF": "avif",
    "TIFF": "tiff",
    "BMP": "bmp",
}
# MPO is not a plugin of its own: the JPEG plugin returns an MPO image when it finds one.
_PILLOW_FORMATS: Final = tuple(name for name in _FORMAT_NAMES if name != "MPO")
_SUPPORTED: Final = "jpg, png, webp, avif, gif, tiff, bmp"

# Formats whose extra frames are an animation. TIFF pages and MPO pictures are not: for those
# only the first picture is the image.
_ANIMATED_FORMATS: Final = frozenset({"GIF", "PNG", "WEBP", "AVIF"})

# The EXIF orientation → transpose table, the same one `ImageOps.exif_transpose` uses (a test
# checks that they agree). It is applied by hand so that the orientation comes from the header
# only (see `_orientation`) and the pixels are transposed without copying the EXIF block.
_TRANSPOSE: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES: Final = frozenset({5, 6, 7, 8})

_SIXTEEN_BIT_MODES: Final = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_MODES_WITH_ALPHA: Final = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})

_TOO_LARGE_HINT: Final = (
    "If the image is genuine, raise `max_image_pixels` in [tool.staticimg]; otherwise use a "
    "smaller source image."
)
_CORRUPT_HINT: Final = "Open the file in an image editor and save it again, or replace it."

# SVG is a text format Pillow has no decoder for, and staticimg never rasterises it (nor copies
# it: an SVG can carry scripts). It is recognised by its name or by its first elements (after
# an XML declaration, comments and a doctype), so the diagnostic can say what the file is.
_SNIFF_BYTES: Final = 4096
_SVG_SUFFIXES: Final = (".svg", ".svgz")
_SVG_START: Final = re.compile(
    # Each prolog item is matched without backtracking into another (no ReDoS on 4 KB).
    rb"(?:\xef\xbb\xbf)?\s*"
    rb"(?:(?:<\?(?:[^?]|\?(?!>))*\?>|<!--(?:[^-]|-(?!->))*-->|<!DOCTYPE(?:[^>\[]|\[[^\]]*\])*>)\s*)*"
    rb"<svg[\s>/]",
    re.IGNORECASE | re.DOTALL,
)
_SVG_ACTIVE: Final = re.compile(rb"<script|\son[a-z]+\s*=|javascript:", re.IGNORECASE)


class ImageError(Exception):
    """A source that cannot be used. `code` is a stable diagnostic id."""

    code: str
    message: str
    hint: str

    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.hint = hint

    def __reduce__(self) -> tuple[type[ImageError], tuple[str, str, str]]:
        # Exceptions pickle their `args`; ours has a different constructor. It crosses process
        # boundaries when a pool reports a worker's failure.
        return (ImageError, (self.code, self.message, self.hint))


@dataclass(frozen=True, slots=True)
class SourceInfo:
    format: str  # lower case, Gatsby's names: "jpg", "png", "webp", "gif", "avif", "tiff", "bmp"
    width: int  # after EXIF orientation
    height: int
    may_have_alpha: bool  # the mode or palette can carry transparency (not proof that it does)
    frames: int  # 1 for still images
    # Samples a progressive JPEG's decoder holds as DCT coefficients (2 bytes each) for the
    # whole full-size image, however small the draft scale: 1.5 a pixel with 4:2:0 chroma,
    # 3 without subsampling. 0 for every other image.
    coefficients: int = 0


@dataclass(frozen=True, slots=True)
class Frame:
    image: Image.Image
    duration_ms: int


@dataclass(frozen=True, slots=True)
class Decoded:
    image: Image.Image  # "RGB", or "RGBA" when some pixel is not opaque; sRGB; oriented
    scale: float  # image.width / SourceInfo.width: < 1 when JPEG draft mode reduced it
    has_alpha: bool  # image.mode == "RGBA"
    frames: tuple[Frame, ...]  # every frame of an animation when asked for; () otherwise
    loop: int  # animation loop count, 0 = forever


# --------------------------------------------------------------------------------------------
# Public API


def probe(path: Path | bytes, *, max_pixels: int) -> SourceInfo:
    """Header only: never decodes pixel data. Raises ImageError (SI301/SI307 when the file
    cannot be read at all, SI303 not an image, SI304 a damaged header, SI305 too many pixels).
    `path` may also be the file's bytes, already in memory (as for `decode`)."""
    with _pixel_limit(max_pixels), _read(path) as fp:
        image = _open(fp, max_pixels)
        try:
            return _source_info(image, _orientation(image))
        except Exception as exc:
            raise _corrupt(exc) from exc


def decode(
    path: Path | bytes,
    *,
    min_width: int,
    min_height: int,
    max_pixels: int,
    all_frames: bool = False,
) -> Decoded:
    """Decode once, at the smallest JPEG draft scale whose oriented result still covers
    `min_width` × `min_height` (pass the source size for full resolution). The result is
    oriented (EXIF), converted to sRGB through the embedded ICC profile, and RGB unless some
    pixel is not opaque. With `all_frames`, every frame of an animation is decoded the same way
    and all frames share one mode (RGBA if any frame needs it). Raises ImageError only."""
    with _pixel_limit(max_pixels), _read(path) as fp:
        image = _open(fp, max_pixels)
        try:
            return _decode_opened(image, min_width, min_height, all_frames)
        except ImageError:
            raise
        except MemoryError:
            raise ImageError(
                "SI305",
                "the image is too large to decode in the memory available",
                "Use a smaller source image, or lower `jobs` so fewer images are decoded at once.",
            ) from None
        except Exception as exc:
            # Pillow reports damage found while decoding with many exception types (OSError
            # "image file is truncated", SyntaxError "broken PNG file", EOFError, ValueError…).
            raise _corrupt(exc) from exc


# --------------------------------------------------------------------------------------------
# Opening


@contextmanager
def _pixel_limit(max_pixels: int) -> Iterator[None]:
    """Pillow's decompression-bomb limit is `max_pixels` for the duration of the call.

    Pillow warns above the limit and only refuses above twice the limit; the warning is made an
    error here so that the limit configured is the limit applied."""
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be positive, not {max_pixels}")
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


@contextmanager
def _read(path: Path | bytes) -> Iterator[IO[bytes]]:
    if isinstance(path, bytes):  # already in memory (the `/_image` endpoint's sources)
        yield io.BytesIO(path)
        return
    try:
        fp = path.open("rb")
    except FileNotFoundError:
        raise ImageError(
            "SI301", "the file does not exist", "Check the `src` path and the file name."
        ) from None
    except OSError as exc:
        raise ImageError(
            "SI307", f"the file cannot be read: {exc.strerror or exc}", "Check its permissions."
        ) from None
    with fp:
        yield fp


def _open(fp: IO[bytes], max_pixels: int) -> Image.Image:
    """`Image.open` with only the supported plugins; reads the header, not the pixels."""
    try:
        return Image.open(fp, formats=_PILLOW_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageError(
            "SI305",
            f"the image declares more than {max_pixels:,} pixels, the decompression-bomb limit",
            _TOO_LARGE_HINT,
        ) from None
    except Exception as exc:
        # UnidentifiedImageError when no plugin accepts the file; a plugin that accepted it may
        # also fail on a damaged header with its own exception ("Truncated File Read", …).
        fp.seek(0)
        raise _unopenable(fp.read(_SNIFF_BYTES), str(getattr(fp, "name", "")), exc) from exc


def _unopenable(head: bytes, filename: str, exc: Exception) -> ImageError:
    """Why Pillow could not open the file: empty, damaged, SVG, another format, or not an
    image. `head` is the start of the file."""
    if not head:
        return ImageError(
            "SI303", "the file is empty (0 bytes)", "Export or download the image again."
        )
    if _SVG_START.match(head) or filename.lower().endswith(_SVG_SUFFIXES):
        return _svg_refused(head)
    Image.init()  # loads every plugin, so that their signature checks can name the format
    recognised = [name for name, (_, accept) in Image.OPEN.items() if accept and accept(head)]
    ours = [name for name in recognised if name in _FORMAT_NAMES]
    if ours:
        return ImageError(
            "SI304",
            f"the file starts like a {_FORMAT_NAMES[ours[0]]} image but its header cannot be read:"
            " it is damaged or truncated",
            _CORRUPT_HINT,
        )
    if recognised:
        return ImageError(
            "SI303",
            f"the file is a {recognised[0]} image, which staticimg does not read",
            f"Convert it to one of: {_SUPPORTED}.",
        )
    if not isinstance(exc, UnidentifiedImageError):
        return _corrupt(exc)
    return ImageError(
        "SI303",
        f"the file is not an image Pillow can read (first bytes: {head[:16]!r})",
        f"Use an image in one of these formats: {_SUPPORTED}.",
    )


def _svg_refused(head: bytes) -> ImageError:
    active = _SVG_ACTIVE.search(head) is not None
    hint = (
        "Reference the SVG file directly (an <img src> to it scales to any size without "
        "responsive widths), or export it as PNG or WebP to get raster sizes."
    )
    if active:
        hint += (
            " This one contains a <script> element, event-handler attributes or a javascript:"
            " link: they run when the SVG is opened on its own or inlined, so serve it only"
            " through <img> or sanitise it first."
        )
    return ImageError(
        "SI303",
        "the file is an SVG (vector) image: staticimg makes raster sizes and never rasterises"
        " or copies SVG",
        hint,
    )


def _corrupt(exc: BaseException) -> ImageError:
    detail = str(exc) or type(exc).__name__
    return ImageError("SI304", f"the image is damaged or truncated ({detail})", _CORRUPT_HINT)


# --------------------------------------------------------------------------------------------
# Header facts


def _orientation(image: Image.Image) -> int:
    """The EXIF (or XMP) orientation, 1–8, read from what `Image.open` already parsed.

    `Image.Image.getexif` is called on the base class on purpose: PNG's override decodes the
    whole file to look for an eXIf chunk after the pixel data. Such a late chunk is ignored by
    both `probe` and `decode`, so the two always agree on the size. Broken EXIF counts as 1,
    as browsers treat it."""
    try:
        value = Image.Image.getexif(image).get(ExifTags.Base.Orientation, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _frame_count(image: Image.Image) -> int:
    if image.format not in _ANIMATED_FORMATS:
        return 1
    return int(getattr(image, "n_frames", 1))


def _source_info(image: Image.Image, orientation: int) -> SourceInfo:
    width, height = image.size
    if orientation in _SWAPS_AXES:
        width, height = height, width
    may_have_alpha = image.mode in _MODES_WITH_ALPHA or "transparency" in image.info
    frames = _frame_count(image)
    return SourceInfo(
        format=_FORMAT_NAMES[image.format or ""],
        width=width,
        height=height,
        may_have_alpha=may_have_alpha,
        frames=frames,
        coefficients=_coefficients(image),
    )


def _coefficients(image: Image.Image) -> int:
    if image.format != "JPEG" or "progression" not in image.info:
        return 0
    layers = getattr(image, "layer", None) or [(None, 1, 1, None)] * len(image.getbands())
    h_max = max(layer[1] for layer in layers) or 1
    v_max = max(layer[2] for layer in layers) or 1
    samples: float = sum(layer[1] * layer[2] for layer in layers) / (h_max * v_max)
    return math.ceil(image.width * image.height * samples)


# --------------------------------------------------------------------------------------------
# Decoding


def _decode_opened(
    image: Image.Image, min_width: int, min_height: int, all_frames: bool
) -> Decoded:
    orientation = _orientation(image)
    info = _source_info(image, orientation)
    icc = image.info.get("icc_profile") or None
    if image.format in ("JPEG", "MPO"):
        # draft() works in stored orientation: a portrait request on a rotated photo is a
        # landscape request on its pixels. It picks the largest 1/2, 1/4, 1/8 scale that still
        # covers the size asked for.
        wanted = (max(1, min_width), max(1, min_height))
        if orientation in _SWAPS_AXES:
            wanted = (wanted[1], wanted[0])
        if wanted[0] < image.width or wanted[1] < image.height:
            image.draft(image.mode, wanted)
    image.load()
    loop = int(image.info.get("loop", 1 if info.frames > 1 else 0))

    if not (all_frames and info.frames > 1):
        first = _drop_opaque_alpha(_normalise(image, orientation, icc, last_use=True))
        scale = first.width / info.width
        return Decoded(first, scale, first.mode == "RGBA", (), loop)

    frames: list[Frame] = []
    for index in range(info.frames):
        if index:
            image.seek(index)
            image.load()
        duration = round(float(image.info.get("duration", 0)))
        frames.append(Frame(_normalise(image, orientation, icc, last_use=False), duration))
    # One mode for the whole animation: encoders want it, and a frame that is opaque in an
    # animation whose other frames are not must still be RGBA.
    has_alpha = any(_has_transparency(frame.image) for frame in frames)
    mode = "RGBA" if has_alpha else "RGB"
    frames = [
        frame if frame.image.mode == mode else Frame(frame.image.convert(mode), frame.duration_ms)
        for frame in frames
    ]
    first = frames[0].image
    return Decoded(first, first.width / info.width, has_alpha, tuple(frames), loop)


def _normalise(
    image: Image.Image, orientation: int, icc: bytes | None, *, last_use: bool
) -> Image.Image:
    """A new image in sRGB, mode RGB or RGBA, oriented, with no metadata. `last_use` says
    that the opened file will not be read again (no further frame), so its pixels may be
    shared instead of copied."""
    converted = _to_srgb(image, icc)
    method = _TRANSPOSE.get(orientation)
    if method is not None:
        converted = converted.transpose(method)
    elif converted is image:
        # A plain RGB(A) source needs no conversion, but the opened file object carries the
        # EXIF (GPS included), XMP and ICC metadata and file attributes: hand out a plain
        # image instead. For a still, one that shares the decoded pixels (Pillow's `_new`):
        # copy() would add ~8 ms to a 9 ms decode of a 2560×1600 JPEG, all of it page faults
        # on fresh memory. Seeking an animation's next frame can paint over those pixels,
        # so frames are copied.
        converted = image._new(image.im) if last_use else image.copy()
    converted.info.clear()
    return converted


def _drop_opaque_alpha(image: Image.Image) -> Image.Image:
    if image.mode == "RGBA" and not _has_transparency(image):
        return image.convert("RGB")
    return image


def _has_transparency(image: Image.Image) -> bool:
    if image.mode != "RGBA":
        return False
    lowest, _ = image.getchannel("A").getextrema()
    return bool(lowest != 255)


# --------------------------------------------------------------------------------------------
# Colour


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB or RGBA in sRGB. Returns `image` itself only when it is already RGB/RGBA and needs no
    colour conversion."""
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        image, mode = _sixteen_bit_to_l(image), "L"
    elif mode == "CMYK":
        # CMYK cannot carry alpha. Pillow has already undone Adobe's inverted CMYK on reading.
        # Without a profile, Pillow's naive formula: there is no CMYK profile we may ship.
        rgb = _through_profile(image, icc, "CMYK", "RGB")
        return rgb if rgb is not None else image.convert("RGB")

    has_alpha = mode in _MODES_WITH_ALPHA or "transparency" in image.info
    target = "RGBA" if has_alpha else "RGB"
    if mode in ("L", "LA") and not (mode == "L" and has_alpha):
        # Grey with a grey profile: lcms converts the grey channel, the alpha rides along.
        grey = image.getchannel("L") if mode == "LA" else image
        rgb = _through_profile(grey, icc, "GRAY", "RGB")
        if rgb is not None:
            if mode == "LA":
                rgb.putalpha(image.getchannel("A"))
            return rgb
    if mode != target:
        # Palette (with tRNS), grey, grey+alpha, 1-bit, premultiplied, YCbCr, …: Pillow's own
        # conversion, which also turns a `transparency` colour or palette entry into alpha.
        image = image.convert(target)
    converted = _through_profile(image, icc, "RGB", target)
    return converted if converted is not None else image


def _sixteen_bit_to_l(image: Image.Image) -> Image.Image:
    """Scale 16-bit grey to 8 bits. Pillow's own `convert("L")` clips, so that everything
    above 255 (nearly the whole range) would turn white."""
    if image.mode != "I;16":
        image = image.convert("I")  # point() takes only I;16, I and F; "I" is exact for 16 bits
    # Linear, so Pillow applies it in C; +0.5 rounds to nearest.
    return image.point(lambda value: value / 257 + 0.5).convert("L")


def _through_profile(
    image: Image.Image, icc: bytes | None, space: str, out_mode: str
) -> Image.Image | None:
    """`image` converted to sRGB through the embedded profile, or None when there is nothing to
    do: no profile, a profile for another colour space, an sRGB profile, or one lcms rejects
    (a broken profile is ignored, as browsers ignore it)."""
    if icc is None:
        return None
    transform = _transform(icc, space, image.mode, out_mode)
    if transform is None:
        return None
    return ImageCms.applyTransform(image, transform)


_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@functools.lru_cache(maxsize=32)
def _transform(
    icc: bytes, space: str, in_mode: str, out_mode: str
) -> ImageCms.ImageCmsTransform | None:
    # Building a transform costs milliseconds; a site's photos share a handful of profiles.
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if profile.profile.xcolor_space.strip() != space:
            return None
        # An sRGB source needs no conversion, and converting 4 Mpx costs ~4× the JPEG decode.
        if space == "RGB" and (profile.profile.profile_description or "").startswith("sRGB"):
            return None
        return ImageCms.buildTransform(
            profile,
            _SRGB,
            in_mode,
            out_mode,
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
