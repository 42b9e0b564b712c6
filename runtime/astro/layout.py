"""Astro's responsive-layout math (`astro/src/assets/layout.ts`; reference: astro.md §3.2–3.4).

Pure functions: which widths a responsive image gets, and its `sizes` attribute. The numbers
and formulas are Astro's exactly, so a site moved from Astro gets the same files and the same
HTML; where Astro's behaviour is a known complaint (the naive `sizes`, #12823) it is kept
here and improved by the callers (`get_image` copies `sizes` to every `<source>`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

__all__ = [
    "DEFAULT_RESOLUTIONS",
    "LAYOUTS",
    "LIMITED_RESOLUTIONS",
    "get_sizes_attribute",
    "get_widths",
    "parse_layout",
]

# For external services (a CDN makes each width on request, so more of them cost nothing).
DEFAULT_RESOLUTIONS: Final[tuple[int, ...]] = (
    640, 750, 828, 960, 1080, 1280, 1668, 1920, 2048, 2560, 3200, 3840, 4480, 5120, 6016,
)  # fmt: skip
# For local services: every width is a file the build writes, so fewer of them.
LIMITED_RESOLUTIONS: Final[tuple[int, ...]] = (640, 750, 828, 1080, 1280, 1668, 2048, 2560)

LAYOUTS: Final = ("constrained", "fixed", "full-width", "none")
_LAYOUT_KEYS: Final = {layout.replace("-", ""): layout for layout in LAYOUTS}
_SEPARATORS: Final = re.compile(r"[-_\s]")


def parse_layout(value: object) -> str | None:
    """Astro's layout name from any spelling a user may write ("fullWidth", "full_width",
    "FULL-WIDTH" → "full-width"); None when `value` is not a layout."""
    if not isinstance(value, str):
        return None
    return _LAYOUT_KEYS.get(_SEPARATORS.sub("", value).lower())


def get_widths(
    *,
    width: int | None,
    layout: str,
    breakpoints: Sequence[int] = DEFAULT_RESOLUTIONS,
    original_width: int | None = None,
) -> list[int]:
    """The widths to generate for a responsive image: Astro's `getWidths`, not deduplicated
    (`get_src_set` removes repeats, e.g. width 640 with 640 among the breakpoints).

    * full-width: every breakpoint no wider than the original (`width` is ignored);
    * fixed: the width and twice it (1x, 2x), capped at the original; only the original when
      the width is larger than it;
    * constrained: the width, twice it and every breakpoint, up to twice the width (capped
      at the original), sorted;
    * none or no width: nothing.
    """
    layout = parse_layout(layout) or layout

    def fits(candidate: int) -> bool:
        return not original_width or candidate <= original_width

    if layout == "full-width":
        return [breakpoint for breakpoint in breakpoints if fits(breakpoint)]
    if not width:
        return []
    double = width * 2
    max_size = min(double, original_width) if original_width else double
    if layout == "fixed":
        if original_width and width > original_width:
            return [original_width]
        return [width, max_size]
    if layout == "constrained":
        return sorted(w for w in (width, double, *breakpoints) if w <= max_size)
    return []


def get_sizes_attribute(*, width: int | None, layout: str | None) -> str | None:
    """Astro's `getSizesAttribute`: the `sizes` a layout implies, None without a width or a
    layout (and for "none").

    It assumes the image shows at its own width or the viewport's (#12823): give `sizes`
    yourself when the image sits in a narrower column."""
    if not width or not layout:
        return None
    layout = parse_layout(layout) or layout
    if layout == "constrained":
        return f"(min-width: {width}px) {width}px, 100vw"
    if layout == "fixed":
        return f"{width}px"
    if layout == "full-width":
        return "100vw"
    return None
