"""Image services that transform images (they need Pillow, so they live in the compiler).

The runtime knows every service's URL half (`staticimg.astro.services`); the build and the
`/_image` endpoint need the service that makes the pixels: for "pillow" that is
`PillowService`, for every other name (passthrough, a CDN, the user's own) the runtime's.
"""

from __future__ import annotations

from staticimg.astro.services import load_service
from staticimg.astro.types import ImageService, ImageSettings

__all__ = ["load_build_service"]


def load_build_service(settings: ImageSettings, *, max_pixels: int | None = None) -> ImageService:
    """The service `settings.service` names, able to transform when it is a local one.

    `max_pixels` is the Pillow service's decompression-bomb limit (the build's
    `max_image_pixels`); `service_config.limitInputPixels` overrides it. Raises
    ImageError("InvalidImageService") as `load_service` does."""
    if settings.service == "pillow":
        from staticimg.compiler.services.pillow import DEFAULT_MAX_PIXELS, PillowService

        return PillowService(max_pixels=max_pixels or DEFAULT_MAX_PIXELS)
    return load_service(settings)
