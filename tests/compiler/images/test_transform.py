"""Geometry and colour transforms (compiler/images/transform.py), on synthetic images whose
right answer is known by construction."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from staticimg.compiler.images.transform import (
    apply_effects,
    crop_box,
    fitted_size,
    resize,
    rotate,
    rotated_size,
    trim,
)
from staticimg.compiler.props import CropFocus, Duotone

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def noise(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """Deterministic RGB noise: the busiest texture there is."""
    data = random.Random(seed).randbytes(size[0] * size[1] * 3)
    return Image.frombytes("RGB", size, data)


def half_busy(size: tuple[int, int], busy: str) -> Image.Image:
    """Flat grey, with noise in the `busy` half ("left", "right", "top" or "bottom")."""
    width, height = size
    image = Image.new("RGB", size, (128, 128, 128))
    boxes = {
        "left": (0, 0, width // 2, height),
        "right": (width // 2, 0, width, height),
        "top": (0, 0, width, height // 2),
        "bottom": (0, height // 2, width, height),
    }
    box = boxes[busy]
    image.paste(noise((box[2] - box[0], box[3] - box[1])), box[:2])
    return image


# --------------------------------------------------------------------------------------------
# crop_box: gravities


@pytest.mark.parametrize(
    ("size", "focus", "expected"),
    [
        # 100×50 at 1:1 → a 50×50 box, 50 px of horizontal slack
        ((100, 50), "center", (25, 0, 75, 50)),
        ((100, 50), "north", (25, 0, 75, 50)),
        ((100, 50), "east", (50, 0, 100, 50)),
        ((100, 50), "northeast", (50, 0, 100, 50)),
        ((100, 50), "southeast", (50, 0, 100, 50)),
        ((100, 50), "west", (0, 0, 50, 50)),
        ((100, 50), "southwest", (0, 0, 50, 50)),
        # 50×100 at 1:1 → vertical slack
        ((50, 100), "north", (0, 0, 50, 50)),
        ((50, 100), "northwest", (0, 0, 50, 50)),
        ((50, 100), "south", (0, 50, 50, 100)),
        ((50, 100), "southwest", (0, 50, 50, 100)),
        ((50, 100), "east", (0, 25, 50, 75)),
        # odd slack: sharp centres with (slack + 1) / 2
        ((101, 50), "center", (26, 0, 76, 50)),
    ],
)
def test_gravity_puts_the_box_at_its_side_or_corner(
    size: tuple[int, int], focus: CropFocus, expected: tuple[int, int, int, int]
) -> None:
    assert crop_box(Image.new("RGB", size), 1.0, focus) == expected


def test_box_is_the_largest_of_the_aspect_ratio() -> None:
    image = Image.new("RGB", (300, 200))
    assert crop_box(image, 16 / 9, "center") == (0, 16, 300, 185)  # 300 / (16/9) = 168.75
    assert crop_box(image, 3.0, "north") == (0, 0, 300, 100)
    assert crop_box(image, 1.5, "attention") == (0, 0, 300, 200)  # nothing to choose


# --------------------------------------------------------------------------------------------
# crop_box: strategies


@pytest.mark.parametrize("focus", ["entropy", "attention"])
@pytest.mark.parametrize(
    ("busy", "expected"),
    [
        ("right", (200, 0, 400, 200)),
        ("left", (0, 0, 200, 200)),
    ],
)
def test_strategies_keep_the_busy_half(
    focus: CropFocus, busy: str, expected: tuple[int, int, int, int]
) -> None:
    assert crop_box(half_busy((400, 200), busy), 1.0, focus) == expected


@pytest.mark.parametrize("focus", ["entropy", "attention"])
def test_strategies_work_vertically(focus: CropFocus) -> None:
    # The busy half (y ≥ 150) is taller than the 120 px box: any box inside it will do.
    left, top, right, bottom = crop_box(half_busy((120, 300), "bottom"), 1.0, focus)
    assert (left, right, bottom - top) == (0, 120, 120)
    assert top >= 150


@pytest.mark.parametrize("focus", ["entropy", "attention"])
def test_strategies_scale_the_box_back_from_the_small_copy(focus: CropFocus) -> None:
    # 2560×1600 is analysed at 256×160; the box must still land on the source's busy half.
    image = half_busy((2560, 1600), "right")
    assert crop_box(image, 1.0, focus) == (960, 0, 2560, 1600)


def test_attention_prefers_a_skin_tone_over_an_equally_bright_grey() -> None:
    # Two discs of the same lightness and edge contrast on a dark ground; only the left one is
    # a skin tone (L* 74, a* 12, b* 21), so only attention's skin term tells them apart.
    image = Image.new("RGB", (600, 200), (40, 40, 48))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 50, 140, 150), fill=(224, 172, 140))  # skin
    draw.ellipse((460, 50, 560, 150), fill=(180, 180, 180))  # grey
    left, _, right, _ = crop_box(image, 1.0, "attention")
    assert left <= 40 and right >= 140
    mirrored = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    left, _, right, _ = crop_box(mirrored, 1.0, "attention")
    assert left <= 460 and right >= 560


def test_strategies_are_deterministic() -> None:
    image = noise((320, 200), seed=5)
    for focus in ("entropy", "attention"):
        boxes = {crop_box(image.copy(), 0.75, focus) for _ in range(3)}
        assert len(boxes) == 1


# --------------------------------------------------------------------------------------------
# trim


def framed(border: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """A 40×30 red block at (20, 10) on a 100×60 border colour."""
    image = Image.new("RGB", (100, 60), border)
    image.paste(Image.new("RGB", (40, 30), RED), (20, 10))
    return image


def test_trim_removes_a_uniform_border() -> None:
    trimmed = trim(framed())
    assert trimmed.size == (40, 30)
    assert trimmed.getcolors() == [(1200, RED)]


def test_trim_tolerates_differences_within_the_threshold() -> None:
    image = framed()
    image.paste(Image.new("RGB", (100, 5), (250, 250, 250)), (0, 55))  # 5 levels off
    assert trim(image, threshold=10).size == (40, 30)
    assert trim(image, threshold=2).size == (100, 50)  # the full-width strip now counts


def test_trim_ignores_a_speck_of_noise() -> None:
    image = framed()
    image.putpixel((95, 55), (0, 0, 0))
    assert trim(image).size == (40, 30)


def test_trim_keeps_an_all_flat_image() -> None:
    flat = Image.new("RGB", (30, 20), (10, 200, 30))
    assert trim(flat).size == (30, 20)


def test_trim_uses_alpha() -> None:
    image = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    image.paste(Image.new("RGBA", (10, 20), (0, 0, 0, 255)), (5, 5))
    # invisible: colour under zero alpha is not content
    image.paste(Image.new("RGBA", (5, 5), (255, 255, 255, 0)), (40, 40))
    assert trim(image).size == (10, 20)


# --------------------------------------------------------------------------------------------
# rotate


def marked(mode: str = "RGB") -> Image.Image:
    """40×20 black with a red marker at the top-left corner."""
    image = Image.new(mode, (40, 20), "black")
    image.putpixel((0, 0), RED if mode == "RGB" else (*RED, 255))
    return image


@pytest.mark.parametrize(
    ("degrees", "size", "marker"),
    [
        (90, (20, 40), (19, 0)),  # clockwise: top-left goes to top-right
        (-270, (20, 40), (19, 0)),
        (180, (40, 20), (39, 19)),
        (270, (20, 40), (0, 39)),
        (-90, (20, 40), (0, 39)),
        (360, (40, 20), (0, 0)),
    ],
)
def test_right_angles_turn_clockwise_exactly(
    degrees: float, size: tuple[int, int], marker: tuple[int, int]
) -> None:
    turned = rotate(marked(), degrees, None)
    assert turned.size == size == rotated_size(40, 20, degrees)
    assert turned.getpixel(marker) == RED
    assert sorted(turned.getcolors() or []) == [(1, RED), (799, (0, 0, 0))]  # no resampling


def test_45_degrees_expands_the_canvas() -> None:
    square = Image.new("RGB", (100, 100), "white")
    turned = rotate(square, 45, None)
    assert turned.size == rotated_size(100, 100, 45) == (142, 142)
    assert turned.getpixel((0, 0)) == (0, 0, 0)  # sharp's black fill for an RGB image
    assert turned.getpixel((71, 71)) == (255, 255, 255)


def test_rotation_fill_colour() -> None:
    square = Image.new("RGB", (60, 60), "white")
    assert rotate(square, 30, "#00ff00").getpixel((0, 0)) == (0, 255, 0)
    clear = rotate(square.convert("RGBA"), 30, None)
    assert clear.mode == "RGBA" and clear.getpixel((0, 0)) == (0, 0, 0, 0)
    translucent = rotate(square, 30, "transparent")
    assert translucent.mode == "RGBA" and translucent.getpixel((0, 0))[3] == 0  # type: ignore[index]


def test_any_angle_turns_clockwise() -> None:
    # A marker in the top-right corner of a wide image moves down when turned clockwise by
    # 30° (counter-clockwise it would move up).
    image = Image.new("L", (200, 50), 0)
    image.paste(255, (180, 0, 200, 10))
    turned = rotate(image, 30, None)
    top_half = turned.crop((0, 0, turned.width, turned.height // 2))
    bottom_half = turned.crop((0, turned.height // 2, turned.width, turned.height))
    assert max(bottom_half.tobytes()) == 255 and max(top_half.tobytes()) < 128


@given(
    width=st.integers(1, 60),
    height=st.integers(1, 60),
    degrees=st.floats(-360, 360, allow_nan=False),
)
def test_rotated_size_is_the_size_rotate_produces(width: int, height: int, degrees: float) -> None:
    turned = rotate(Image.new("L", (width, height)), degrees, None)
    assert turned.size == rotated_size(width, height, degrees)


# --------------------------------------------------------------------------------------------
# resize


def halves(size: tuple[int, int] = (100, 50)) -> Image.Image:
    """Red left half, blue right half."""
    image = Image.new("RGB", size, BLUE)
    image.paste(Image.new("RGB", (size[0] // 2, size[1]), RED), (0, 0))
    return image


def test_contain_letterboxes_with_the_background() -> None:
    boxed = resize(halves(), 100, 100, fit="contain", background="#00ff00")
    assert boxed.size == (100, 100)
    assert boxed.getpixel((50, 5)) == (0, 255, 0)  # bar above
    assert boxed.getpixel((50, 95)) == (0, 255, 0)  # bar below
    assert boxed.getpixel((10, 50)) == RED and boxed.getpixel((90, 50)) == BLUE


def test_contain_without_a_background_is_transparent() -> None:
    boxed = resize(halves(), 100, 100, fit="contain", background=None)
    assert boxed.mode == "RGBA"
    assert boxed.getpixel((50, 5)) == (0, 0, 0, 0)
    assert boxed.getpixel((10, 50)) == (*RED, 255)


def test_fill_stretches() -> None:
    stretched = resize(halves(), 30, 90, fit="fill", background=None)
    assert stretched.size == (30, 90)
    assert stretched.getpixel((2, 45)) == RED and stretched.getpixel((27, 45)) == BLUE


def test_cover_gives_exactly_the_size() -> None:
    assert resize(noise((333, 222)), 150, 100, fit="cover", background=None).size == (150, 100)


@pytest.mark.parametrize(
    ("box", "fit", "expected"),
    [
        # Gatsby's fit vectors for a 2810×1360 source (gatsby.md §8.3)
        ((20, 20), "inside", (20, 10)),
        ((20, 20), "outside", (41, 20)),
        ((200, 200), "inside", (200, 97)),
        ((200, 200), "outside", (413, 200)),
        ((200, 200), "cover", (200, 200)),
        ((200, 200), "fill", (200, 200)),
        ((200, 200), "contain", (200, 200)),
    ],
)
def test_fitted_size_matches_gatsby(
    box: tuple[int, int], fit: str, expected: tuple[int, int]
) -> None:
    assert fitted_size(2810, 1360, *box, fit) == expected  # type: ignore[arg-type]


def test_inside_and_outside_keep_the_aspect_ratio() -> None:
    image = Image.new("RGB", (281, 136))
    assert resize(image, 20, 20, fit="inside", background=None).size == (20, 10)
    assert resize(image, 20, 20, fit="outside", background=None).size == (41, 20)


def test_resize_premultiplies_alpha() -> None:
    # Transparent pixels' colour (green here) must not bleed into the opaque red half.
    image = Image.new("RGBA", (64, 8), (0, 255, 0, 0))
    image.paste(Image.new("RGBA", (32, 8), (*RED, 255)), (0, 0))
    small = resize(image, 16, 2, fit="fill", background=None)
    red, green, _, alpha = small.getpixel((7, 1))  # type: ignore[misc]
    assert alpha > 0 and green == 0 and red == 255


def test_palette_images_are_not_resized_by_nearest_neighbour() -> None:
    image = halves((64, 8)).quantize(2)
    small = resize(image, 4, 1, fit="fill", background=None)
    assert small.mode == "RGB"
    assert len(small.getcolors() or []) > 2  # the edge is blended, not picked


# --------------------------------------------------------------------------------------------
# effects


def test_grayscale_has_equal_channels() -> None:
    grey = apply_effects(noise((32, 32)), grayscale=True, duotone=None).convert("RGB")
    pixels = grey.get_flattened_data()
    assert all(red == green == blue for red, green, blue in pixels)  # type: ignore[misc]
    assert len(set(pixels)) > 10  # still an image, not a flat fill


def test_effects_keep_alpha() -> None:
    image = noise((16, 16)).convert("RGBA")
    image.putalpha(Image.linear_gradient("L").resize((16, 16)))
    for grayscale, duotone in ((True, None), (False, Duotone("#ff0000", "#0000ff"))):
        result = apply_effects(image, grayscale=grayscale, duotone=duotone)
        assert result.getchannel("A").tobytes() == image.getchannel("A").tobytes()


def test_no_effect_returns_the_image() -> None:
    image = noise((8, 8))
    assert apply_effects(image, grayscale=False, duotone=None) is image


def greys() -> Image.Image:
    """Black, mid grey and white pixels."""
    image = Image.new("RGB", (3, 1))
    for x, level in enumerate((0, 128, 255)):
        image.putpixel((x, 0), (level, level, level))
    return image


def test_duotone_maps_black_to_shadow_and_white_to_highlight() -> None:
    shadow, highlight = (25, 37, 80), (240, 14, 46)
    toned = apply_effects(greys(), grayscale=False, duotone=Duotone("#f00e2e", "#192550")).convert(
        "RGB"
    )
    assert toned.getpixel((0, 0)) == shadow
    assert toned.getpixel((2, 0)) == highlight
    expected_mid = tuple(
        round(h * 128 / 255 + s * (1 - 128 / 255)) for h, s in zip(highlight, shadow, strict=True)
    )
    assert toned.getpixel((1, 0)) == expected_mid


def test_duotone_maps_by_rec709_luma() -> None:
    # Pure green is bright in Rec.709 (0.7152), pure blue dark (0.0722).
    image = Image.new("RGB", (2, 1))
    image.putpixel((0, 0), (0, 255, 0))
    image.putpixel((1, 0), (0, 0, 255))
    toned = apply_effects(image, grayscale=False, duotone=Duotone("#ffffff", "#000000"))
    assert toned.getpixel((0, 0)) == (182, 182, 182)  # round(0.7152 · 255)
    assert toned.getpixel((1, 0)) == (18, 18, 18)  # round(0.0722 · 255)


def test_duotone_opacity_blends_over_the_original() -> None:
    white = Image.new("RGB", (1, 1), "white")
    half = apply_effects(white, grayscale=False, duotone=Duotone("#ff0000", "#000000", 50))
    red, green, blue = half.getpixel((0, 0))  # type: ignore[misc]
    # alpha round(0.5 · 255) = 128: white · (127/255) + red · (128/255)
    assert red == 255 and abs(green - 127) <= 1 and abs(blue - 127) <= 1
    full = apply_effects(white, grayscale=False, duotone=Duotone("#ff0000", "#000000", 100))
    assert full.getpixel((0, 0)) == RED
    none = apply_effects(white, grayscale=False, duotone=Duotone("#ff0000", "#000000", 0))
    assert none.getpixel((0, 0)) == (255, 255, 255)
