"""`staticimg.astro`: Astro's image API (`astro:assets`) for Python and Jinja.

```python
from staticimg.astro import Image, Picture, Svg, get_image

Image(src="../images/hero.jpg", alt="Harbour at dawn", width=800, layout="constrained")
```

`get_image`, `Image` and `Picture` behave as Astro's `getImage`, `<Image />` and
`<Picture />` (docs/astro.md); `staticimg build` resolves calls written with constant props
ahead of time, and the rest resolve at render time through the configured image service.

Importing this package is cheap: every name is loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from staticimg.astro.components import Image, Picture
    from staticimg.astro.layout import (
        DEFAULT_RESOLUTIONS,
        LIMITED_RESOLUTIONS,
        get_sizes_attribute,
        get_widths,
    )
    from staticimg.astro.resolve import (
        get_image,
        get_picture,
        resolve_image,
        resolve_picture,
    )
    from staticimg.astro.service import BaseLocalService, BaseService
    from staticimg.astro.services import (
        PILLOW_URLS,
        CDNService,
        CloudinaryService,
        ImgixService,
        PassthroughService,
        load_service,
    )
    from staticimg.astro.settings import configure, image_settings
    from staticimg.astro.styles import responsive_styles_css
    from staticimg.astro.svg import Svg
    from staticimg.astro.types import (
        GetImageResult,
        ImageError,
        ImageMetadata,
        ImageService,
        ImageSettings,
        LocalImageService,
        PictureResult,
        PictureSource,
        RemotePattern,
        SrcSetValue,
    )

__all__ = [
    "DEFAULT_RESOLUTIONS",
    "LIMITED_RESOLUTIONS",
    "PILLOW_URLS",
    "BaseLocalService",
    "BaseService",
    "CDNService",
    "CloudinaryService",
    "GetImageResult",
    "Image",
    "ImageError",
    "ImageMetadata",
    "ImageService",
    "ImageSettings",
    "ImgixService",
    "LocalImageService",
    "PassthroughService",
    "Picture",
    "PictureResult",
    "PictureSource",
    "RemotePattern",
    "SrcSetValue",
    "Svg",
    "configure",
    "get_image",
    "get_picture",
    "get_sizes_attribute",
    "get_widths",
    "image_settings",
    "load_service",
    "resolve_image",
    "resolve_picture",
    "responsive_styles_css",
]

_HOMES = {
    "Image": "staticimg.astro.components",
    "Picture": "staticimg.astro.components",
    "Svg": "staticimg.astro.svg",
    "get_image": "staticimg.astro.resolve",
    "get_picture": "staticimg.astro.resolve",
    "resolve_image": "staticimg.astro.resolve",
    "resolve_picture": "staticimg.astro.resolve",
    "DEFAULT_RESOLUTIONS": "staticimg.astro.layout",
    "LIMITED_RESOLUTIONS": "staticimg.astro.layout",
    "get_sizes_attribute": "staticimg.astro.layout",
    "get_widths": "staticimg.astro.layout",
    "BaseLocalService": "staticimg.astro.service",
    "BaseService": "staticimg.astro.service",
    "PILLOW_URLS": "staticimg.astro.services",
    "CDNService": "staticimg.astro.services",
    "CloudinaryService": "staticimg.astro.services",
    "ImgixService": "staticimg.astro.services",
    "PassthroughService": "staticimg.astro.services",
    "load_service": "staticimg.astro.services",
    "configure": "staticimg.astro.settings",
    "image_settings": "staticimg.astro.settings",
    "responsive_styles_css": "staticimg.astro.styles",
    "GetImageResult": "staticimg.astro.types",
    "ImageError": "staticimg.astro.types",
    "ImageMetadata": "staticimg.astro.types",
    "ImageService": "staticimg.astro.types",
    "ImageSettings": "staticimg.astro.types",
    "LocalImageService": "staticimg.astro.types",
    "PictureResult": "staticimg.astro.types",
    "PictureSource": "staticimg.astro.types",
    "RemotePattern": "staticimg.astro.types",
    "SrcSetValue": "staticimg.astro.types",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'staticimg.astro' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
