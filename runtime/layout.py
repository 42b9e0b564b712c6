"""The layout math: which widths to make, and how big the image is on the page.

Pure arithmetic, shared by the compiler's image stage and the runtime's URL-builder helpers,
so a CDN image and a built image of the same props get the same widths. It ports Gatsby's
`calculateImageSizes` (gatsby-plugin-sharp `utils.js`, gatsby-plugin-image `image-utils.ts`)
together with the defaults sharp's `generateImageData` applies before calling it, and fixes
the quirks listed in docs/layout.md ("Differences from Gatsby").
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

Layout = Literal["constrained", "fixed", "fullWidth"]
Fit = Literal["cover", "contain", "fill", "inside", "outside"]

LAYOUTS: Final[tuple[Layout, ...]] = ("constrained", "fixed", "fullWidth")
FITS: Final[tuple[Fit, ...]] = ("cover", "contain", "fill", "inside", "outside")

DEFAULT_PIXEL_DENSITIES: Final[tuple[float, ...]] = (0.25, 0.5, 1.0, 2.0)
DEFAULT_BREAKPOINTS: Final[tuple[int, ...]] = (750, 1080, 1366, 1920)

# Keys are lower-cased with every non-alphanumeric removed, which covers all of Gatsby's
# spellings (`FULL_WIDTH`, `full-width`, `fullWidth`) and lodash camelCase's output.
_LAYOUT_KEYS: Final[dict[str, Layout]] = {layout.lower(): layout for layout in LAYOUTS}
_NOT_ALPHANUMERIC: Final = re.compile(r"[^0-9a-z]")


def js_round(value: float) -> int:
    """JavaScript's `Math.round`: halves go up (`2.5 → 3`, `-2.5 → -2`).

    Python's `round` sends halves to the even neighbour (`562.5 → 562`), and Gatsby's test
    vectors (a 750 px wide 4:3 image is 563 px high) depend on the difference. Written as
    floor plus the exact fractional part, so `0.49999999999999994` rounds to 0 as in JS.
    """
    whole = math.floor(value)
    return whole + 1 if value - whole >= 0.5 else whole


def output_height(width: int, aspect_ratio: float) -> int:
    """The pixel height of an output `width` pixels wide: never 0, even for a 1000×10 strip."""
    return max(1, js_round(width / aspect_ratio))


def normalize_layout(value: str) -> Layout:
    """`constrained`, `fixed` or `fullWidth`, from any case or separator Gatsby accepts."""
    layout = _LAYOUT_KEYS.get(_NOT_ALPHANUMERIC.sub("", value.lower()))
    if layout is None:
        raise ValueError(f"unknown layout {value!r}: use constrained, fixed or fullWidth")
    return layout


def sizes_attribute(width: int, layout: Layout) -> str:
    """The `sizes` attribute Gatsby writes for each layout (`getSizes`)."""
    if layout == "fixed":
        return f"{width}px"
    if layout == "fullWidth":
        return "100vw"
    return f"(min-width: {width}px) {width}px, 100vw"


@dataclass(frozen=True, slots=True)
class ImageSizes:
    """The widths to produce for one image and the size it is shown at."""

    layout: Layout
    sizes: tuple[int, ...]  # output widths: ascending, unique, ≥ 1, deliverable by the source
    presentation_width: int  # CSS width of the image (fixed, constrained)
    presentation_height: int
    unscaled_width: int  # the 1x output; equal to presentation_width (see docs/layout.md)
    aspect_ratio: float  # width / height of every output
    requested_width: float  # the box asked for, after defaults and fit, before clamping
    requested_height: float
    clamped: bool  # the requested box was larger than the source and was shrunk
    ignored_dimensions: bool  # fullWidth was given a width or height, which it ignores
    aspect_ratio_ignored: bool  # aspect_ratio came with both width and height

    @property
    def fallback_width(self) -> int:
        """Width of the `src` of the fallback `<img>`: the 1x output, fullWidth's largest."""
        return self.sizes[-1] if self.layout == "fullWidth" else self.unscaled_width

    @property
    def outputs(self) -> tuple[tuple[int, int], ...]:
        """(width, height) of every output, ascending."""
        return tuple((width, output_height(width, self.aspect_ratio)) for width in self.sizes)


def check_dimensions(*, width: float | None, height: float | None) -> None:
    """Raise Gatsby's error for a requested width or height below 1 (or not a number)."""
    problems = [
        f"{name}: {_js_number(value)}"
        for name, value in (("width", width), ("height", height))
        if value is not None and not (math.isfinite(value) and value >= 1)
    ]
    if problems:
        raise ValueError(
            "Specified dimensions for images must be positive numbers (> 0). "
            f"Problem dimensions you have are {', '.join(problems)}"
        )


def calculate_image_sizes(
    *,
    source_width: int,
    source_height: int,
    layout: Layout,
    width: float | None = None,
    height: float | None = None,
    aspect_ratio: float | None = None,
    fit: Fit = "cover",
    output_pixel_densities: Sequence[float] | None = None,
    breakpoints: Sequence[int] | None = None,
) -> ImageSizes:
    """Gatsby's `calculateImageSizes`, with sharp's `generateImageData` defaults applied first.

    `source_width`/`source_height` are the oriented source's pixels. With neither `width` nor
    `height` the image is as wide as its source; fullWidth ignores both (and flags it) and
    uses `breakpoints`, default `DEFAULT_BREAKPOINTS`; `aspect_ratio` with one of them
    computes the other. Raises ValueError for dimensions below 1.
    """
    check_dimensions(width=width, height=height)
    if source_width < 1 or source_height < 1:
        raise ValueError(f"source dimensions must be ≥ 1, got {source_width}×{source_height}")
    if aspect_ratio is not None and not (math.isfinite(aspect_ratio) and aspect_ratio > 0):
        raise ValueError(f"aspect_ratio must be a positive number, got {aspect_ratio}")
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}: use constrained, fixed or fullWidth")
    if fit not in FITS:
        raise ValueError(f"unknown fit {fit!r}: use {', '.join(FITS)}")

    # sharp's generateImageData, steps 6 to 8 (reference/gatsby.md §4.1).
    ignored_dimensions = layout == "fullWidth" and (width is not None or height is not None)
    if layout == "fullWidth":
        width = height = None
    if width is None and height is None:
        width = source_width
    aspect_ratio_ignored = False
    if aspect_ratio is not None:
        if width is not None and height is not None:
            aspect_ratio_ignored = True
        elif width is not None:
            height = width / aspect_ratio
        elif height is not None:
            width = height * aspect_ratio

    # calculateImageSizes: the requested box and its aspect ratio (§4.3).
    ratio = source_width / source_height
    if width is not None and height is not None:
        width, height, ratio = _fit_box(source_width, source_height, width, height, fit)
    if width is None:
        assert height is not None  # one of the two is always set by now
        # fixed rounds the derived width, constrained and fullWidth keep it exact until later
        width = js_round(height * ratio) if layout == "fixed" else height * ratio
    requested_width = width
    requested_height = height if height is not None else width / ratio

    # Never more pixels than the source has, in either direction, at the output's aspect
    # ratio: Gatsby clamps width and height separately and so can upscale a crop.
    max_width = _largest_width(source_width, source_height, ratio)
    wanted = max(1, js_round(requested_width))
    unscaled = min(wanted, max_width)
    clamped = layout != "fullWidth" and wanted > max_width

    densities = _densities(output_pixel_densities)
    steps = _breakpoints(breakpoints)
    if layout == "fullWidth" and not steps:
        steps = DEFAULT_BREAKPOINTS
    if layout == "fixed":
        candidates = [js_round(d * unscaled) for d in densities if d >= 1]
    elif steps:
        candidates = [step for step in steps if step <= max_width]
        # a breakpoint the source cannot fill is replaced by the largest width it can
        if len(candidates) < len(steps):
            candidates.append(max_width)
    else:
        candidates = [js_round(d * unscaled) for d in densities]
    if layout == "constrained":
        candidates.append(unscaled)
    sizes = tuple(sorted({size for size in candidates if 1 <= size <= max_width}))

    return ImageSizes(
        layout=layout,
        sizes=sizes,
        presentation_width=unscaled,
        presentation_height=output_height(unscaled, ratio),
        unscaled_width=unscaled,
        aspect_ratio=ratio,
        requested_width=requested_width,
        requested_height=requested_height,
        clamped=clamped,
        ignored_dimensions=ignored_dimensions,
        aspect_ratio_ignored=aspect_ratio_ignored,
    )


def _fit_box(
    source_width: int, source_height: int, width: float, height: float, fit: Fit
) -> tuple[float, float, float]:
    """Gatsby's `getDimensionsAndAspectRatio` for a box with both sides given."""
    ratio = source_width / source_height
    # Each side fitted to the other at the source's ratio, at least 1 px (Gatsby's rounding
    # can give a 0 px side, and then an aspect ratio of 0).
    fitted_width = max(1, js_round(height * ratio))
    fitted_height = max(1, js_round(width / ratio))
    if fit == "inside":
        width, height = min(width, fitted_width), min(height, fitted_height)
    elif fit == "outside":
        width, height = max(width, fitted_width), max(height, fitted_height)
    # cover, contain and fill produce exactly the box asked for
    return width, height, width / height


def _largest_width(source_width: int, source_height: int, ratio: float) -> int:
    """The widest output at `ratio` whose width and height both fit inside the source."""
    # The epsilon keeps `source_height * (source_width / source_height)` from flooring to
    # one pixel less than the source width.
    width = min(source_width, math.floor(source_height * ratio + 1e-9))
    while width > 1 and output_height(width, ratio) > source_height:
        width -= 1  # rounding of the height pushed it one pixel over; at most a step or two
    return max(1, width)


def _densities(values: Sequence[float] | None) -> tuple[float, ...]:
    """Sorted numerically, deduplicated, with 1 always present (Gatsby's sharp copy sorts
    them as strings, so `[1, 2, 10]` came out as `[1, 10, 2]`)."""
    chosen = DEFAULT_PIXEL_DENSITIES if values is None else tuple(values)
    for density in chosen:
        if not (math.isfinite(density) and density > 0):
            raise ValueError(f"output pixel densities must be positive numbers, got {density}")
    return tuple(sorted({1.0, *(float(d) for d in chosen)}))


def _breakpoints(values: Sequence[int] | None) -> tuple[int, ...]:
    if not values:
        return ()
    for step in values:
        if not (math.isfinite(step) and step >= 1):
            raise ValueError(f"breakpoints must be numbers ≥ 1, got {step}")
    return tuple(sorted({js_round(step) for step in values}))


def _js_number(value: float) -> str:
    """A number as JavaScript prints it: `0`, not `0.0`."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
