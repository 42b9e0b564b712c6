"""The global CSS of Astro's responsive images (reference: astro.md §3.6).

`responsive_styles_css(settings)` is Astro's `generateImageStylesCSS`, minified, inside
`@layer staticimg.images { … }` so any rule of the site's own (layered or not) wins. It is
what `data-astro-image`, `data-astro-image-fit` and `data-astro-image-pos` (written by
`get_image` for a layout) are for: responsive images scale down, keep their aspect ratio
(`height:auto`) and crop as `fit`/`position` say, with no inline styles, so a strict
Content-Security-Policy needs nothing extra. `staticimg_head()` includes it when
`responsive_styles = true`.
"""

from __future__ import annotations

import re
from itertools import permutations
from typing import Final

from staticimg.astro.types import ImageSettings

__all__ = ["LAYER", "responsive_styles_css", "responsive_styles_for_head"]

LAYER: Final = "staticimg.images"
_FITS: Final = ("fill", "contain", "cover", "scale-down")
_KEYWORDS: Final = ("top", "bottom", "left", "right", "center")
_OBJECT_FITS: Final = frozenset({"fill", "contain", "cover", "none", "scale-down"})
# A configured default position goes into the style sheet: keywords, lengths and
# percentages only, so nothing can close the rule or the <style> element.
_SAFE_POSITION: Final = re.compile(r"[a-z0-9.% -]+\Z")
_cache: dict[tuple[str | None, str | None], str] = {}


def responsive_styles_css(settings: ImageSettings) -> str:
    """The style sheet: layout rules, one rule per fit and per keyword position (5 single
    keywords and their 20 ordered pairs), and the configured default fit/position."""
    key = (settings.object_fit, settings.object_position)
    css = _cache.get(key)
    if css is None:
        css = _cache[key] = _build(*key)
    return css


def responsive_styles_for_head() -> str:
    """The style sheet when `responsive_styles` is on in the settings in force, else ""."""
    from staticimg.astro.settings import image_settings

    settings = image_settings()
    return responsive_styles_css(settings) if settings.responsive_styles else ""


def _build(object_fit: str | None, object_position: str | None) -> str:
    rules = [
        ":where([data-astro-image]){height:auto}",
        ":where([data-astro-image=full-width]){width:100%}",
        ":where([data-astro-image=constrained]){max-width:100%}",
    ]
    rules += [f"[data-astro-image-fit={fit}]{{object-fit:{fit}}}" for fit in _FITS]
    if object_fit and object_fit in _OBJECT_FITS:
        rules.append(
            f":where([data-astro-image]:not([data-astro-image-fit])){{object-fit:{object_fit}}}"
        )
    positions = [(word,) for word in _KEYWORDS] + list(permutations(_KEYWORDS, 2))
    rules += [
        f"[data-astro-image-pos={'-'.join(words)}]{{object-position:{' '.join(words)}}}"
        for words in positions
    ]
    if object_position:
        position = " ".join(object_position.lower().split())
        if _SAFE_POSITION.match(position):
            rules.append(
                ":where([data-astro-image]:not([data-astro-image-pos]))"
                f"{{object-position:{position}}}"
            )
    return f"@layer {LAYER}{{{''.join(rules)}}}"
