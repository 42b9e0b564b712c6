"""staticimg: build-time responsive images for Python and Jinja.

This package is what application code imports at render time. It depends on the standard
library, markupsafe and orjson only; the build-time compiler lives in `staticimg.compiler`
and is never imported from here (nor is Jinja: `staticimg.jinja` is imported on request).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from staticimg.data_store import configure
    from staticimg.gatsby_image import GatsbyImage
    from staticimg.hashing import props_hash
    from staticimg.head import staticimg_head
    from staticimg.hooks import get_image, get_src, get_src_set, with_art_direction
    from staticimg.image_data import get_image_data, get_low_resolution_image_url
    from staticimg.static_image import StaticImage

__all__ = [
    "GatsbyImage",
    "StaticImage",
    "configure",
    "get_image",
    "get_image_data",
    "get_low_resolution_image_url",
    "get_src",
    "get_src_set",
    "props_hash",
    "staticimg_head",
    "with_art_direction",
]
__version__ = "0.1.0"

# Loaded on first use: `staticimg.compiler` is a subpackage, so every command of the
# compiler runs this file first, and a warm build must not pay for the renderer.
_HOMES = {
    "GatsbyImage": "staticimg.gatsby_image",
    "StaticImage": "staticimg.static_image",
    "configure": "staticimg.data_store",
    "get_image": "staticimg.hooks",
    "get_image_data": "staticimg.image_data",
    "get_low_resolution_image_url": "staticimg.image_data",
    "get_src": "staticimg.hooks",
    "get_src_set": "staticimg.hooks",
    "props_hash": "staticimg.hashing",
    "staticimg_head": "staticimg.head",
    "with_art_direction": "staticimg.hooks",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'staticimg' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
