"""Geometry and colour transforms on decoded images: pure Pillow, no I/O.

These run inside the worker processes, once per source (trim, rotate, crop) and once per output
size (resize, effects). Every function is deterministic: same pixels and arguments, same pixels
out, so output files can be named by a digest of their recipe.

Conventions that differ from Pillow and follow sharp (which Gatsby drives):

* `rotate` turns **clockwise** (Pillow's `Image.rotate` turns counter-clockwise).
* Gravity crops place the box the way sharp's `CalculateCrop` does (an odd pixel of slack goes
  to the right/bottom of the box for centred axes).
* `entropy` and `attention` are sharp's (libvips `smartcrop`) algorithms, run on a small copy.

Where no background colour is given, a canvas that must be filled (contain letterboxing,
non-right-angle rotation) is **transparent** for images that have alpha, and for `contain`
always: the encoder flattens transparency onto a colour only for JPEG. sharp fills with opaque
black instead; transparent bars let the page background show, which is what "contain" means.
"""

from __future__ import annotations

import math
from functools import cache, reduce
from typing import Final

from PIL import Image, ImageChops, ImageCms, ImageColor, ImageFilter, ImageMath

from staticimg.compiler.props import CropFocus, Duotone, Fit

__all__ = [
    "Box",
    "apply_effects",
    "crop_box",
    "fitted_size",
    "resize",
    "rgba",
    "rotate",
    "rotated_size",
    "trim",
]

Box = tuple[int, int, int, int]  # (left, top, right, bottom) in the given image's pixels

# Pillow's Lanczos resize first shrinks by an integer factor with a box filter whenever the
# image is at least `REDUCING_GAP` times larger than the target, then runs Lanczos on the rest.
# Measured on the corpus (bench/quality.py, docs/formats.md), photos reduced to 400 px wide:
# 3.0 is 2.5x faster than a full Lanczos pass at SSIM 0.999 against it (2.0: 4x, 0.998).
# Only the first step from a large source is that big; later steps of the resize chain are
# under 3x, where the gap changes nothing.
REDUCING_GAP: Final = 3.0

# Smart-crop strategies look at a copy no larger than this on its long side: the crop only
# needs to be placed to within a few pixels of the source, and it keeps the cost at a few ms.
ANALYSIS_SIZE: Final = 256

_ALPHA_MODES: Final = frozenset({"RGBA", "LA", "RGBa", "La", "PA"})


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info)


def _with_alpha(image: Image.Image) -> Image.Image:
    return image if image.mode in ("RGBA", "LA") else image.convert("RGBA")


def rgba(colour: str) -> tuple[int, int, int, int]:
    """A CSS colour as props.py accepts it (Pillow's syntax, or "transparent") as RGBA."""
    colour = colour.strip()
    if colour.lower() == "transparent":
        return 0, 0, 0, 0
    parsed = ImageColor.getrgb(colour)
    return (parsed[0], parsed[1], parsed[2], parsed[3] if len(parsed) == 4 else 255)


def _fill(image: Image.Image, background: str | None) -> tuple[Image.Image, tuple[int, ...]]:
    """The image in a mode that can hold the fill colour, and that colour in its mode.

    None means transparent when the image has alpha; a translucent colour (e.g. "transparent")
    gives the image an alpha channel so the colour can be honoured.
    """
    if background is None:
        if _has_alpha(image):
            image = _with_alpha(image)
            return image, (0,) * len(image.getbands())
        background = "black"  # sharp's default for an image without alpha
    red, green, blue, alpha = rgba(background)
    if alpha < 255 or _has_alpha(image):
        image = image.convert("RGBA")
        return image, (red, green, blue, alpha)
    if image.mode == "L" and red == green == blue:
        return image, (red,)
    return image.convert("RGB"), (red, green, blue)


# --------------------------------------------------------------------------------------------
# trim


_MAJORITY: Final = [255 if value >= 128 else 0 for value in range(256)]


def trim(image: Image.Image, threshold: float = 10) -> Image.Image:
    """sharp's trim: remove edges that match the top-left pixel within `threshold` (0–255).

    A pixel is background when no band (alpha included) differs from the top-left pixel's by
    more than `threshold`. Colours are compared premultiplied by alpha, so the junk colour
    editors leave in fully transparent pixels does not count as content. An image that is all
    background is returned unchanged, never trimmed to nothing.
    """
    if _has_alpha(image):
        bands = image.convert("RGBa")
    else:
        bands = image if image.mode in ("L", "RGB") else image.convert("RGB")
    corner = bands.getpixel((0, 0))
    assert corner is not None
    reference = Image.new(bands.mode, bands.size, corner)
    difference = ImageChops.difference(bands, reference)
    worst = reduce(ImageChops.lighter, difference.split())  # per-pixel max over the bands
    cut = math.floor(threshold)
    mask = worst.point([0 if value <= cut else 255 for value in range(256)])
    # libvips median-filters the mask so that a speck of noise (a JPEG ringing pixel, dust)
    # does not stop the trim; for a 0/255 mask a 3×3 median is a majority vote, which a box
    # blur and a threshold at half-way compute much faster than Pillow's MedianFilter.
    mask = mask.filter(ImageFilter.BoxBlur(1)).point(_MAJORITY)
    box = mask.getbbox()
    if box is None or box == (0, 0, *image.size):
        return image
    return image.crop(box)


# --------------------------------------------------------------------------------------------
# rotate


def _normalised(degrees: float) -> float:
    turned = degrees % 360
    return 0.0 if math.isclose(turned, 360) else turned


def rotated_size(width: int, height: int, degrees: float) -> tuple[int, int]:
    """The size `rotate` produces, computed without pixels (the planner needs it for layout).

    Right angles keep or swap the sides; other angles give the bounding box of the turned
    rectangle, rounded up (a hair of float error is forgiven so 45° of a square is exact).
    """
    turned = _normalised(degrees)
    if turned % 90 == 0:
        return (height, width) if turned % 180 else (width, height)
    radians = math.radians(turned)
    cos, sin = abs(math.cos(radians)), abs(math.sin(radians))
    return (
        max(1, math.ceil(width * cos + height * sin - 1e-9)),
        max(1, math.ceil(width * sin + height * cos - 1e-9)),
    )


_RIGHT_ANGLES: Final = {
    90: Image.Transpose.ROTATE_270,  # Pillow's names count counter-clockwise
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


def rotate(image: Image.Image, degrees: float, background: str | None) -> Image.Image:
    """Turn the image clockwise, like sharp.

    Multiples of 90° are exact transposes. Other angles expand the canvas to `rotated_size`;
    the corners are filled with `background`, or, when it is None, transparent if the image
    has alpha and black (sharp's default) if it has not.
    """
    turned = _normalised(degrees)
    if turned == 0:
        return image
    if turned % 90 == 0:
        return image.transpose(_RIGHT_ANGLES[int(turned)])
    canvas, fill = _fill(image, background)
    width, height = canvas.size
    out_width, out_height = rotated_size(width, height, turned)
    radians = math.radians(turned)
    cos, sin = math.cos(radians), math.sin(radians)
    # Pillow's affine transform maps each output pixel centre back into the input. Turning the
    # content clockwise (y points down) by θ, the inverse about the two centres is:
    #   x_in =  cos·(x - W/2) + sin·(y - H/2) + w/2
    #   y_in = -sin·(x - W/2) + cos·(y - H/2) + h/2
    # Building it here, rather than calling Image.rotate(expand=True), keeps `rotated_size`
    # the single definition of the output size.
    matrix = (
        cos,
        sin,
        width / 2 - cos * out_width / 2 - sin * out_height / 2,
        -sin,
        cos,
        height / 2 + sin * out_width / 2 - cos * out_height / 2,
    )
    return canvas.transform(
        (out_width, out_height),
        Image.Transform.AFFINE,
        matrix,
        resample=Image.Resampling.BICUBIC,
        fillcolor=fill if len(fill) > 1 else fill[0],
    )


# --------------------------------------------------------------------------------------------
# crop_box


def _largest_box_size(width: int, height: int, aspect_ratio: float) -> tuple[int, int]:
    if width / height > aspect_ratio:
        return min(width, max(1, round(height * aspect_ratio))), height
    return width, min(height, max(1, round(width / aspect_ratio)))


# Where each gravity puts the box, per axis: 0 = start, 1 = centre, 2 = end.
_GRAVITY: Final[dict[str, tuple[int, int]]] = {
    "center": (1, 1),
    "north": (1, 0),
    "northeast": (2, 0),
    "east": (2, 1),
    "southeast": (2, 2),
    "south": (1, 2),
    "southwest": (0, 2),
    "west": (0, 1),
    "northwest": (0, 0),
}


def _place(slack: int, where: int) -> int:
    # sharp's CalculateCrop centres with (slack + 1) / 2 in integer arithmetic.
    return (0, (slack + 1) // 2, slack)[where]


def crop_box(image: Image.Image, aspect_ratio: float, focus: CropFocus) -> Box:
    """For fit=cover: the largest box of `aspect_ratio` (w/h) inside the image.

    A gravity (center, north, northeast, …) pins the box to that side or corner, like sharp.
    `entropy` keeps the busiest part by sharp's greedy slicing (drop whichever edge slice has
    the lower Shannon entropy, in 8 steps); `attention` centres the box on the strongest mix of
    luminance edges, skin tones and saturated colour (libvips smartcrop). Both run on a copy at
    most `ANALYSIS_SIZE` pixels long and scale the box back. Deterministic.
    """
    width, height = image.size
    box_width, box_height = _largest_box_size(width, height, aspect_ratio)
    slack_x, slack_y = width - box_width, height - box_height
    if focus in _GRAVITY:
        where_x, where_y = _GRAVITY[focus]
        left, top = _place(slack_x, where_x), _place(slack_y, where_y)
    elif slack_x == slack_y == 0:
        left = top = 0
    else:
        small = _analysis_copy(image)
        scale_x, scale_y = small.width / width, small.height / height
        target = (
            min(small.width, max(1, round(box_width * scale_x))),
            min(small.height, max(1, round(box_height * scale_y))),
        )
        if focus == "entropy":
            small_left, small_top = _entropy_position(small, *target)
            centre_x = (small_left + target[0] / 2) / scale_x
            centre_y = (small_top + target[1] / 2) / scale_y
        else:
            centre_x, centre_y = _attention_centre(small, *target)
            centre_x, centre_y = centre_x / scale_x, centre_y / scale_y
        left = min(slack_x, max(0, round(centre_x - box_width / 2)))
        top = min(slack_y, max(0, round(centre_y - box_height / 2)))
    return left, top, left + box_width, top + box_height


def _analysis_copy(image: Image.Image) -> Image.Image:
    """A small RGB copy for the smart-crop strategies (box filter: fast, and averages noise).

    Shrunk before any mode conversion, so a big grey or RGBA source is never copied whole.
    """
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    scale = ANALYSIS_SIZE / max(image.size)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BOX, reducing_gap=2.0)
    return image if image.mode == "RGB" else image.convert("RGB")


def _entropy_position(image: Image.Image, width: int, height: int) -> tuple[int, int]:
    """libvips' entropy smartcrop: repeatedly drop the less busy edge slice."""
    luma = image.convert("L")
    left, top = 0, 0
    current_width, current_height = image.size
    step = max(math.ceil((current_width - width) / 8), math.ceil((current_height - height) / 8))
    while current_width > width or current_height > height:
        slice_width = min(current_width - width, step)
        slice_height = min(current_height - height, step)
        if slice_width > 0:
            right = left + current_width
            left_score = luma.crop((left, top, left + slice_width, top + current_height)).entropy()
            right_score = luma.crop(
                (right - slice_width, top, right, top + current_height)
            ).entropy()
            current_width -= slice_width
            if left_score < right_score:
                left += slice_width
        if slice_height > 0:
            bottom = top + current_height
            top_score = luma.crop((left, top, left + current_width, top + slice_height)).entropy()
            bottom_score = luma.crop(
                (left, bottom - slice_height, left + current_width, bottom)
            ).entropy()
            current_height -= slice_height
            if top_score < bottom_score:
                top += slice_height
    return left, top


@cache
def _lab_transform() -> ImageCms.ImageCmsTransform:
    return ImageCms.buildTransform(
        ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB"
    )


# Pillow's 8-bit LAB: L* 0–100 is stored as 0–255, a* and b* with an offset of 128.
_L_SCALE: Final = 255 / 100
_SOBEL_X: Final = (-1, 0, 1, -2, 0, 2, -1, 0, 1)
_SOBEL_Y: Final = (-1, -2, -1, 0, 0, 0, 1, 2, 1)


def _band_mask(low: int, high: int) -> list[int]:
    return [255 if low <= value <= high else 0 for value in range(256)]


# libvips' skin test (trained on humanae): 3 ≤ a* ≤ 22, 4 ≤ b* ≤ 31 and L* ≥ 15.
_SKIN_A: Final = _band_mask(128 + 3, 128 + 22)
_SKIN_B: Final = _band_mask(128 + 4, 128 + 31)
_LIT: Final = _band_mask(math.ceil(15 * _L_SCALE), 255)
_SATURATED_CHROMA: Final = 60  # LCh chroma above which libvips counts a colour as saturated
_GRID: Final = 32  # libvips shrinks the interest map to 32×32 before blurring


def _attention_centre(image: Image.Image, width: int, height: int) -> tuple[float, float]:
    """libvips' attention smartcrop: the blurred peak of edges + skin + saturation.

    Returns the centre of the chosen box in `image`'s pixels.
    """
    lab = ImageCms.applyTransform(image, _lab_transform())
    assert lab is not None  # None only for in-place transforms
    lightness, a_star, b_star = lab.split()

    # Sobel on L*: |Gx| + |Gy| in L* units (the kernel scale undoes the 0–255 storage).
    # Pillow clamps a convolution to 0–255, so each sign is taken separately.
    def edge(kernel: tuple[int, ...]) -> Image.Image:
        positive = lightness.filter(ImageFilter.Kernel((3, 3), kernel, scale=_L_SCALE))
        negative = [-weight for weight in kernel]
        return ImageChops.add(
            positive, lightness.filter(ImageFilter.Kernel((3, 3), negative, scale=_L_SCALE))
        )

    skin = ImageChops.darker(
        ImageChops.darker(a_star.point(_SKIN_A), b_star.point(_SKIN_B)), lightness.point(_LIT)
    )
    limit = _SATURATED_CHROMA**2
    interest = ImageMath.lambda_eval(
        lambda v: (
            v["gx"]
            + v["gy"]
            + v["skin"]
            + ((v["a"] - 128) * (v["a"] - 128) + (v["b"] - 128) * (v["b"] - 128) > limit) * 255
        ),
        gx=edge(_SOBEL_X),
        gy=edge(_SOBEL_Y),
        skin=skin,
        a=a_star,
        b=b_star,
    )
    grid = (min(_GRID, image.width), min(_GRID, image.height))
    shrunk = interest.resize(grid, Image.Resampling.BOX)
    peak = shrunk.getextrema()[1]
    assert isinstance(peak, int | float)
    # Stretch to the full 8-bit range before blurring: Pillow blurs only 8-bit images, and
    # this keeps the most precision for finding the maximum.
    heat = ImageMath.lambda_eval(lambda v: v["map"] * 255 / max(peak, 1), map=shrunk).convert("L")
    cell_width, cell_height = image.width / grid[0], image.height / grid[1]
    sigma = math.hypot(width / cell_width, height / cell_height) / 6
    blurred = heat.filter(ImageFilter.GaussianBlur(sigma)).tobytes()
    index = blurred.index(max(blurred))  # the first maximum in reading order
    column, row = index % grid[0], index // grid[0]
    return (column + 0.5) * cell_width, (row + 0.5) * cell_height


# --------------------------------------------------------------------------------------------
# resize


def fitted_size(
    width: int, height: int, box_width: int, box_height: int, fit: Fit
) -> tuple[int, int]:
    """The size an image of width×height becomes when fitted to box_width×box_height.

    `cover`, `fill` and `contain` always give the box (contain letterboxes inside it);
    `inside` and `outside` keep the image's aspect ratio, scaled to fit within or to cover the
    box, each side rounded (Gatsby's `getDimensionsAndAspectRatio` gives the same numbers).
    """
    if fit not in ("inside", "outside"):
        return box_width, box_height
    pick = min if fit == "inside" else max
    scale = pick(box_width / width, box_height / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _lanczos(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image
    if image.mode in ("1", "P", "PA"):
        # Pillow would silently fall back to nearest-neighbour for these modes.
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)


def resize(
    image: Image.Image, width: int, height: int, *, fit: Fit, background: str | None
) -> Image.Image:
    """Resize to width×height (see `fitted_size` for `inside`/`outside`).

    `cover` expects an image already cropped to the box's aspect ratio (`crop_box`) and `fill`
    stretches; both give exactly width×height. `contain` scales the image to fit and centres
    it on a width×height canvas of `background`, transparent when None. Lanczos, with Pillow's
    `reducing_gap` shortcut for big reductions; alpha is premultiplied by Pillow while
    resampling, so edges do not pick up the colour of transparent pixels.
    """
    if fit != "contain":
        return _lanczos(image, fitted_size(image.width, image.height, width, height, fit))
    inner = _lanczos(image, fitted_size(image.width, image.height, width, height, "inside"))
    if inner.size == (width, height):
        return inner
    inner, fill = _fill(inner, "transparent" if background is None else background)
    canvas = Image.new(inner.mode, (width, height), fill if len(fill) > 1 else fill[0])
    # sharp centres with an odd pixel of slack on the right/bottom side, as for crops.
    offset = ((width - inner.width + 1) // 2, (height - inner.height + 1) // 2)
    canvas.paste(inner, offset)
    return canvas


# --------------------------------------------------------------------------------------------
# effects


def _luma_rec709(rgb: Image.Image) -> Image.Image:
    # Pillow's matrix conversion rounds to the nearest level, as Gatsby's duotone does.
    return rgb.convert("L", matrix=(0.2126, 0.7152, 0.0722, 0))


def _rgb(colour: str) -> tuple[int, int, int]:
    red, green, blue, _ = rgba(colour)
    return red, green, blue


def _duotone(image: Image.Image, duotone: Duotone) -> Image.Image:
    """Gatsby's duotone on an RGB or L image; returns RGB."""
    luma = image if image.mode == "L" else _luma_rec709(image)
    shadow, highlight = _rgb(duotone.shadow), _rgb(duotone.highlight)
    gradient = [
        [round(high * i / 255 + low * (1 - i / 255)) for i in range(256)]
        for high, low in zip(highlight, shadow, strict=True)
    ]
    toned = Image.merge("RGB", [luma.point(channel) for channel in gradient])
    if duotone.opacity is None or duotone.opacity >= 100:
        return toned
    # Gatsby gives the duotone layer alpha round(opacity/100·255) and composites it over the
    # original: a constant-alpha blend.
    alpha = round(duotone.opacity / 100 * 255) / 255
    return Image.blend(image.convert("RGB"), toned, alpha)


def apply_effects(image: Image.Image, *, grayscale: bool, duotone: Duotone | None) -> Image.Image:
    """Grayscale, then duotone (gatsby.md §4.4), in sharp's order. Alpha is kept as it was.

    Grayscale gives a one-band image (L, or LA with alpha: R=G=B once decoded, and smaller
    files); duotone gives RGB (or RGBA).
    """
    if not grayscale and duotone is None:
        return image
    alpha = None
    if _has_alpha(image):
        with_alpha = _with_alpha(image)
        alpha = with_alpha.getchannel("A")
        image = with_alpha
    colour = image.convert("L") if grayscale or image.mode in ("L", "LA") else image.convert("RGB")
    if duotone is not None:
        colour = _duotone(colour, duotone)
    if alpha is None:
        return colour
    colour.putalpha(alpha)
    return colour
