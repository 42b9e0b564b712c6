"""The values Astro's image API passes around, in Python form: the contract between the
runtime (`get_image`, `Image`, `Picture`, the URL-building services), the build
(`staticimg.compiler`, which resolves static calls ahead of time) and the `/_image` endpoint.

Options are plain dicts with snake_case keys, as Astro's are plain objects: a user-written
service reads and returns them without learning our classes. The keys the image itself uses
are `TRANSFORM_KEYS`; every other key is an HTML attribute that passes through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, runtime_checkable

# One definition for the compiler, the endpoint and the runtime (`remote_patterns` in the
# configuration, with Astro's wildcards); re-exported here as part of the contract.
from staticimg.remote_patterns import RemotePattern

__all__ = [
    "TRANSFORM_KEYS",
    "GetImageResult",
    "ImageError",
    "ImageMetadata",
    "ImageService",
    "ImageSettings",
    "LocalImageService",
    "Options",
    "PictureResult",
    "PictureSource",
    "RemotePattern",
    "SrcSetValue",
    "is_local_service",
]

# Astro's ImageTransform plus the responsive props getImage reads; everything else is an
# HTML attribute. `src` is an `ImageMetadata` (a local image whose size is known) or a string
# (a remote URL, a `/`-rooted path under the static root, or a data: URI).
TRANSFORM_KEYS: Final = frozenset(
    {
        "src",
        "width",
        "height",
        "widths",
        "densities",
        "format",
        "quality",
        "fit",
        "position",
        "background",
        "layout",
        "priority",
        "infer_size",
    }
)

Options = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ImageMetadata:
    """A local image known before rendering: Astro's `ImageMetadata` (an imported image).

    `src` is what the service sees as the source: the project-relative path at build time,
    the original's URL for the endpoint. `width`/`height` are after EXIF orientation."""

    src: str
    width: int
    height: int
    format: str  # "jpg", "png", "webp", "avif", "gif", "tiff", "svg"


@dataclass(frozen=True, slots=True)
class ImageSettings:
    """`[tool.staticimg.image]`: Astro's `image.*` config, plus the allowlist every hook needs
    (Astro passes the whole `image` config to each hook as `imageConfig`)."""

    # A built-in service name ("pillow", "passthrough", "imgix", "cloudinary", "cdn") or
    # the import path of a user's service object ("package.module:attribute").
    service: str = "pillow"
    service_config: Mapping[str, Any] = field(default_factory=dict)
    endpoint: str = "/_image"  # the route the `/_image` app is mounted at
    layout: str = "none"  # "constrained" | "fixed" | "full-width" | "none"
    object_fit: str | None = None
    object_position: str | None = None
    breakpoints: tuple[int, ...] = ()  # () → Astro's LIMITED (local) or DEFAULT (external) list
    responsive_styles: bool = False
    domains: tuple[str, ...] = ()
    remote_patterns: tuple[RemotePattern, ...] = ()


class ImageError(ValueError):
    """A validation error as Astro raises it. `name` is Astro's error name
    (`MissingImageDimension`, …), which the build maps to a stable SI code."""

    def __init__(self, name: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class SrcSetValue:
    """One srcset candidate: its transform, its descriptor (`"640w"`, `"2x"`, or None for the
    1x entry Picture puts first) and extra attributes (`type`)."""

    transform: Options
    descriptor: str | None
    attributes: Mapping[str, str] = field(default_factory=dict)
    url: str = ""  # set by get_image from the service's get_url (or the build's file name)


@dataclass(frozen=True, slots=True)
class GetImageResult:
    """Astro's `GetImageResult`."""

    raw_options: Options
    options: Options  # after validate_options
    src: str
    src_set: tuple[SrcSetValue, ...]
    attributes: Mapping[str, Any]  # HTML attributes for the <img>, alt etc. included

    @property
    def src_set_attribute(self) -> str:
        """`srcset` as written in HTML: "url descriptor, url descriptor"."""
        return ", ".join(f"{v.url} {v.descriptor}" if v.descriptor else v.url for v in self.src_set)


@dataclass(frozen=True, slots=True)
class PictureSource:
    type: str  # MIME type, e.g. "image/webp"
    srcset: str
    sizes: str | None = None


@dataclass(frozen=True, slots=True)
class PictureResult:
    sources: tuple[PictureSource, ...]  # in the order of `formats`
    fallback: GetImageResult  # the <img>
    picture_attributes: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class ImageService(Protocol):
    """The hooks every service has (Astro's shared hooks). `BaseService` implements Astro's
    defaults for all but `get_url`; subclass it and override what differs."""

    properties_to_hash: tuple[str, ...]

    def get_url(self, options: Options, config: ImageSettings) -> str: ...

    def get_src_set(self, options: Options, config: ImageSettings) -> list[SrcSetValue]: ...

    def get_html_attributes(self, options: Options, config: ImageSettings) -> dict[str, Any]: ...

    def validate_options(self, options: Options, config: ImageSettings) -> Options: ...


@runtime_checkable
class LocalImageService(ImageService, Protocol):
    """A service that transforms images itself: at build time it writes files, in
    development and server rendering the `/_image` endpoint calls it."""

    def parse_url(self, url: str, config: ImageSettings) -> Options | None: ...

    def transform(
        self, data: bytes, transform: Options, config: ImageSettings
    ) -> tuple[bytes, str]: ...


def is_local_service(service: object) -> bool:
    """Astro's `isLocalService`: a service is local when it has a `transform` hook (or is
    the URL half of one, which the runtime uses without importing the transform)."""
    return callable(getattr(service, "transform", None)) or bool(getattr(service, "local", False))
