"""Placeholders computed from pixels: the dominant colour, a BlurHash, and data URIs.

Both colour summaries run on small thumbnails (never on the full image), so that they cost a
small, fixed fraction of a build however large the source is.

This module runs inside worker processes: it imports Pillow and blurhash-python only.
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from typing import Final, cast

import blurhash  # type: ignore[import-untyped]
from PIL import Image

__all__ = [
    "BLURHASH_BOX",
    "DOMINANT_COLOR_BOX",
    "blur_hash",
    "blurhash_components",
    "blurhash_image",
    "data_uri",
    "dominant_color",
]

# Gatsby (sharp) measures the dominant colour on a thumbnail that fits 200×200.
DOMINANT_COLOR_BOX: Final = 200
# BlurHash keeps at most 9×9 cosine components and we use 4 along the long side: 32 pixels
# sample them with room to spare, and the encoder's cost grows with the pixel count.
BLURHASH_BOX: Final = 32
BLURHASH_LONG_SIDE_COMPONENTS: Final = 4

# A pixel at least half opaque counts towards the dominant colour. Fainter ones (soft
# shadows, anti-aliased edges, and above all the fully transparent "nothing" that editors
# store as black) would otherwise outvote what the reader actually sees.
_VISIBLE_FROM_ALPHA: Final = 128

# point() tables: a colour channel → its 16-level bin (sharp's histogram), alpha → 0 or 1.
_BIN: Final = [value >> 4 for value in range(256)]
_VISIBLE: Final = [int(value >= _VISIBLE_FROM_ALPHA) for value in range(256)]

_WHITE: Final = (255, 255, 255)


def dominant_color(image: Image.Image) -> str | None:
    """The centre of the fullest of 16×16×16 colour bins, as "#rrggbb", on a thumbnail that
    fits 200×200 (Gatsby's, that is sharp's, algorithm: every channel is one of 8, 24, …, 248).

    Unlike Gatsby, pixels less than half opaque do not count, so a transparent PNG is not
    "#080808" (gatsby#30811); None when no pixel is visible. Ties go to the bin that comes
    first in libvips' scan of sharp's histogram (green bin, then red, then blue: lowest
    first), which we believe is sharp's choice; ties are rare once there are 40 000 pixels."""
    small = _fit(_rgb_or_rgba(image), DOMINANT_COLOR_BOX)
    if small.mode == "RGBA":
        quantised = small.point(_BIN * 3 + _VISIBLE)
        colours = _colours(quantised, 2 * 16**3)
        counts = [(count, bins[:3]) for count, bins in colours if bins[3]]
    else:
        counts = _colours(small.point(_BIN * 3), 16**3)
    if not counts:
        return None
    _, (red, green, blue) = min(counts, key=lambda item: (-item[0], item[1][1], *item[1][::2]))
    return f"#{red * 16 + 8:02x}{green * 16 + 8:02x}{blue * 16 + 8:02x}"


def blurhash_components(width: int, height: int) -> tuple[int, int]:
    """(x, y) BlurHash components: 4 along the long side, and the short side in proportion
    (rounded half up, at least 1), so that the cosines are square-ish on the image: 4×3 for
    4:3, 4×4 for a square, 4×2 for 16:9, 3×4 for a 3:4 portrait."""
    long_side = BLURHASH_LONG_SIDE_COMPONENTS
    short = min(width, height) / max(width, height, 1)
    short_side = max(1, min(long_side, math.floor(long_side * short + 0.5)))
    return (long_side, short_side) if width >= height else (short_side, long_side)


def blur_hash(image: Image.Image) -> str:
    """A BlurHash of `image`, computed on a thumbnail that fits 32×32, with the components
    of `blurhash_components`. Transparent pixels are composited on white first: a BlurHash
    has no alpha, and white is the usual page behind a transparent image (black, what the
    hidden pixels usually hold, would turn a logo's placeholder into a dark smudge)."""
    x_components, y_components = blurhash_components(image.width, image.height)
    small = _fit(_rgb_or_rgba(image), BLURHASH_BOX)
    if small.mode == "RGBA":
        flat = Image.new("RGB", small.size, _WHITE)
        flat.paste(small, mask=small.getchannel("A"))
    else:
        # blurhash.encode closes the image it is given: never hand it the caller's.
        flat = small.copy() if small is image else small
    with warnings.catch_warnings():
        # blurhash-python 1.2 reads pixels with Image.getdata, deprecated since Pillow 12.1.
        warnings.simplefilter("ignore", DeprecationWarning)
        return str(blurhash.encode(flat, x_components, y_components))


def blurhash_image(hash_: str, width: int, height: int) -> bytes:
    """The BlurHash painted at width×height as a lossy WebP: about a hundred bytes, which a
    page shows as the placeholder with no decoder script (the browser's upscaling smooths it).
    """
    painted = blurhash.decode(hash_, width, height)
    out = io.BytesIO()
    # method=6 and a fixed quality keep the bytes the same run after run.
    painted.save(out, "WEBP", quality=70, method=6)
    return out.getvalue()


def data_uri(data: bytes, mime: str) -> str:
    """'data:<mime>;base64,<...>'"""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


# --------------------------------------------------------------------------------------------


def _rgb_or_rgba(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def _fit(image: Image.Image, box: int) -> Image.Image:
    """A thumbnail that fits box×box, never enlarged (sharp's `fit: inside` with
    `withoutEnlargement`). `reducing_gap` makes Pillow shrink by an integer factor with
    reduce() first, so the filter only sees a few times the target size; RGBA is
    resized premultiplied, so hidden pixels do not bleed into visible ones."""
    width, height = image.size
    if width <= box and height <= box:
        return image
    ratio = min(box / width, box / height)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


def _colours(image: Image.Image, most: int) -> list[tuple[int, tuple[int, ...]]]:
    colours = image.getcolors(maxcolors=most)
    # Every band is quantised, so there are never more colours than bins.
    assert colours is not None
    return cast("list[tuple[int, tuple[int, ...]]]", colours)
