"""Dominant colour, BlurHash and data URIs."""

from __future__ import annotations

import base64
import warnings
from pathlib import Path

import blurhash  # type: ignore[import-untyped]
import pytest
from PIL import Image, ImageStat

from staticimg.compiler.images.decode import decode
from staticimg.compiler.images.placeholder import (
    blur_hash,
    blurhash_components,
    data_uri,
    dominant_color,
)

BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def halves(left: tuple[int, ...], right: tuple[int, ...], mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, (40, 20), left)
    image.paste(right, (20, 0, 40, 20))
    return image


# --------------------------------------------------------------------------------------------
# Dominant colour


@pytest.mark.parametrize(
    ("colour", "expected"),
    [
        ((200, 30, 30), "#c81818"),
        ((0, 0, 0), "#080808"),
        ((255, 255, 255), "#f8f8f8"),
        ((15, 16, 31), "#081818"),  # bin edges: 15 is bin 0, 16 and 31 are bin 1
        ((100, 150, 250), "#6898f8"),
    ],
)
def test_a_solid_image_gives_its_bin_centre(colour: tuple[int, int, int], expected: str) -> None:
    assert dominant_color(Image.new("RGB", (30, 20), colour)) == expected


def test_the_fullest_bin_wins() -> None:
    image = Image.new("RGB", (40, 40), (20, 40, 200))
    image.paste((250, 250, 0), (0, 0, 19, 40))  # 19 of 40 columns: not quite half
    assert dominant_color(image) == "#1828c8"


def test_the_transparent_black_png_is_not_080808(images_dir: Path) -> None:
    decoded = decode(
        images_dir / "transparent-black.png", min_width=64, min_height=64, max_pixels=10**8
    )
    # Gatsby's way (alpha dropped, hidden pixels counted) gives #080808 (gatsby#30811)...
    assert dominant_color(decoded.image.convert("RGB")) == "#080808"
    # ...ours counts only what is visible: the red square.
    assert dominant_color(decoded.image) == "#c81818"


def test_a_fully_transparent_image_has_no_dominant_colour() -> None:
    assert dominant_color(Image.new("RGBA", (50, 50), (255, 0, 0, 0))) is None


def test_pixels_count_from_half_opacity() -> None:
    faint = halves((0, 0, 200, 127), (200, 0, 0, 255), "RGBA")
    faint.paste((0, 0, 200, 127), (20, 0, 40, 5))  # blue, if it counted, would be the majority
    assert dominant_color(faint) == "#c80808"
    half = halves((0, 0, 200, 128), (200, 0, 0, 255), "RGBA")
    half.paste((0, 0, 200, 128), (20, 0, 40, 5))
    assert dominant_color(half) == "#0808c8"


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        # Equal counts: lowest green bin first, then red, then blue (libvips' scan order).
        ((200, 0, 0), (0, 200, 0), "#c80808"),
        ((0, 200, 0), (200, 0, 0), "#c80808"),
        ((200, 0, 0), (0, 0, 200), "#0808c8"),
        ((0, 0, 200), (200, 0, 0), "#0808c8"),
        ((0, 0, 200), (0, 0, 100), "#080868"),
    ],
)
def test_ties_are_broken_by_bin_not_by_position(
    left: tuple[int, int, int], right: tuple[int, int, int], expected: str
) -> None:
    assert dominant_color(halves(left, right)) == expected


def test_other_modes_are_accepted() -> None:
    assert dominant_color(Image.new("L", (10, 10), 100)) == "#686868"
    palette = Image.new("P", (10, 10), 1)
    palette.putpalette([0, 0, 0, 200, 30, 30])
    assert dominant_color(palette) == "#c81818"
    assert dominant_color(Image.new("LA", (10, 10), (100, 0))) is None


def test_a_large_image_is_measured_on_a_200_pixel_thumbnail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, int]] = []
    original = Image.Image.getcolors

    def spy(self: Image.Image, maxcolors: int = 256) -> object:
        seen.append(self.size)
        return original(self, maxcolors)

    monkeypatch.setattr(Image.Image, "getcolors", spy)
    assert dominant_color(Image.new("RGB", (2560, 1600), (30, 60, 90))) == "#183858"
    assert seen == [(200, 125)]


# --------------------------------------------------------------------------------------------
# BlurHash


@pytest.mark.parametrize(
    ("size", "components"),
    [
        ((400, 300), (4, 3)),
        ((300, 400), (3, 4)),
        ((500, 500), (4, 4)),
        ((1920, 1080), (4, 2)),
        ((1000, 10), (4, 1)),
        ((1, 1), (4, 4)),
        ((800, 500), (4, 3)),  # 2.5 rounds up
    ],
)
def test_components_follow_the_aspect_ratio(
    size: tuple[int, int], components: tuple[int, int]
) -> None:
    assert blurhash_components(*size) == components


def size_flag(hash_: str) -> tuple[int, int]:
    """(x, y) components, from the first character of a BlurHash."""
    flag = BASE83.index(hash_[0])
    return flag % 9 + 1, flag // 9 + 1


def average_colour(hash_: str) -> tuple[int, int, int]:
    """The DC term of a BlurHash: characters 2–5, base 83, 0xRRGGBB."""
    value = 0
    for char in hash_[2:6]:
        value = value * 83 + BASE83.index(char)
    return value >> 16, (value >> 8) & 255, value & 255


def test_blur_hash_is_a_valid_blurhash_of_the_image(images_dir: Path) -> None:
    photo = decode(images_dir / "photo.jpg", min_width=400, min_height=300, max_pixels=10**8)
    hash_ = blur_hash(photo.image)
    assert blurhash.is_valid_blurhash(hash_)
    assert size_flag(hash_) == (4, 3)
    assert len(hash_) == 4 + 2 * 4 * 3

    # The DC term is the average colour, as sRGB 8-bit: exactly the solid colour.
    solid = blur_hash(Image.new("RGB", (60, 40), (200, 40, 40)))
    assert blurhash.is_valid_blurhash(solid)
    assert average_colour(solid) == (200, 40, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        decoded = blurhash.decode(solid, 32, 24)
    mean = ImageStat.Stat(decoded).mean
    assert all(abs(a - b) <= 8 for a, b in zip(mean, (200, 40, 40), strict=True))


def test_blur_hash_is_computed_on_a_small_thumbnail(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[tuple[int, int], str, int, int]] = []

    def spy(image: Image.Image, x_components: int, y_components: int) -> str:
        calls.append((image.size, image.mode, x_components, y_components))
        return "LEHV6nWB2yk8pyo0adR*.7kCMdnj"

    monkeypatch.setattr(blurhash, "encode", spy)  # the module placeholder.py calls through
    blur_hash(Image.new("RGB", (2560, 1600), (10, 20, 30)))
    assert calls == [((32, 20), "RGB", 4, 3)]  # 1.6:1, 4 × 2.5 rounds up


def test_blur_hash_does_not_close_the_callers_image() -> None:
    # blurhash.encode closes the image it is given.
    small = Image.new("RGB", (8, 6), (1, 2, 3))
    blur_hash(small)
    assert small.getpixel((0, 0)) == (1, 2, 3)


def test_transparent_pixels_are_composited_on_white() -> None:
    clear = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    assert blur_hash(clear) == blur_hash(Image.new("RGB", (40, 30), (255, 255, 255)))
    veiled = Image.new("RGBA", (40, 30), (0, 0, 0, 128))
    assert blur_hash(veiled) == blur_hash(Image.new("RGB", (40, 30), (127, 127, 127)))


def test_blur_hash_leaks_no_deprecation_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        blur_hash(Image.new("RGB", (40, 30), (1, 2, 3)))


# --------------------------------------------------------------------------------------------
# Data URIs


def test_data_uri() -> None:
    data = b"\x89PNG\r\n\x1a\n\x00\xff"
    uri = data_uri(data, "image/png")
    assert uri == "data:image/png;base64,iVBORw0KGgoA/w=="
    prefix, payload = uri.split(",", 1)
    assert prefix == "data:image/png;base64"
    assert base64.b64decode(payload) == data
