"""The built-in image services, and `load_service`, which picks the configured one.

* "pillow" (the default): images are made by staticimg, at build time as files, otherwise by
  the `/_image` endpoint. The runtime holds only its URL half, `PILLOW_URLS`; the transform
  lives in the compiler (Pillow is a build-time dependency).
* "passthrough": Astro's no-op service: every image is served as it is, only copied.
* "imgix", "cloudinary", "cdn": external services (CDNs). They only build URLs; the CDN
  resizes. Nothing is written for them, at build time or ever.
* "package.module:attribute": a service of your own, an object (or a class, instantiated once)
  with the hooks of `staticimg.astro.types.ImageService`; hooks it lacks are Astro's defaults.

External services read their settings from `service_config` (`[tool.staticimg.image]
service_config = {...}`) on every call, so one instance serves any configuration.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final
from urllib.parse import quote, urlencode

from staticimg.astro.service import (
    BaseLocalService,
    BaseService,
    infer_source_format,
    is_root_path,
    resolve_quality,
    sniff_format,
)
from staticimg.astro.types import (
    ImageError,
    ImageMetadata,
    ImageService,
    ImageSettings,
    Options,
    SrcSetValue,
)
from staticimg.remote_patterns import is_http_url, is_remote_allowed

__all__ = [
    "BUILTIN_SERVICES",
    "PILLOW_URLS",
    "CDNService",
    "CloudinaryService",
    "ExternalService",
    "ImgixService",
    "PassthroughService",
    "Position",
    "load_service",
    "parse_position",
    "reset_services",
]

PILLOW_URLS: Final = BaseLocalService()


class PassthroughService(BaseLocalService):
    """Astro's no-op service (§2.2): images are served as they are, never converted.

    Only `src` is hashed, so every size of one source is the same file; `format` is dropped
    (the file keeps its own extension) except for SVG sources, which stay SVG."""

    properties_to_hash: tuple[str, ...] = ("src",)

    def validate_options(self, options: Options, config: ImageSettings) -> Options:
        result = super().validate_options(options, config)
        src = result["src"]
        source_format = src.format if isinstance(src, ImageMetadata) else infer_source_format(src)
        if source_format == "svg":
            result["format"] = "svg"
        else:
            result.pop("format", None)
        return result

    def transform(
        self, data: bytes, transform: Options, config: ImageSettings
    ) -> tuple[bytes, str]:
        """The bytes unchanged, with the requested format or the one their header shows."""
        fmt = transform.get("format") or sniff_format(data)
        if not fmt:
            raise ImageError(
                "NoImageMetadata",
                f"Could not process image metadata for {transform.get('src')!r}: the bytes are "
                "not a JPEG, PNG, GIF, WebP, AVIF, TIFF or SVG image",
                "Check that the file is an image and not damaged (or an HTML error page).",
            )
        return data, str(fmt)


# --------------------------------------------------------------------------------------------
# Positions: Astro's `position` (sharp's) in a form each CDN can spell


@dataclass(frozen=True, slots=True)
class Position:
    """A parsed `position`: keywords (`vertical` top/bottom, `horizontal` left/right, both
    None for the centre), a focal point (`x`, `y` in 0..1), or a strategy (entropy or
    attention)."""

    vertical: str | None = None
    horizontal: str | None = None
    x: float | None = None
    y: float | None = None
    strategy: str | None = None


_COMPASS: Final = {
    "north": ("top", None), "south": ("bottom", None), "east": (None, "right"),
    "west": (None, "left"), "northeast": ("top", "right"), "northwest": ("top", "left"),
    "southeast": ("bottom", "right"), "southwest": ("bottom", "left"),
    "center": (None, None), "centre": (None, None),
}  # fmt: skip
_PERCENT: Final = re.compile(r"(\d+(?:\.\d+)?)%")


def parse_position(position: object) -> Position | None:
    """`"right top"`, `"top-left"`, `"center"`, sharp's `"northeast"`, `"25% 75%"` (x then y),
    `"entropy"` or `"attention"`; None when the value means nothing known."""
    if not isinstance(position, str) or not position.strip():
        return None
    words = re.split(r"[\s_-]+", position.strip().lower())
    if len(words) == 1 and words[0] in ("entropy", "attention"):
        return Position(strategy=words[0])
    if len(words) == 2 and all(_PERCENT.fullmatch(w) for w in words):
        x, y = (float(w[:-1]) / 100 for w in words)
        return Position(x=min(max(x, 0.0), 1.0), y=min(max(y, 0.0), 1.0))
    vertical = horizontal = None
    for word in words:
        if word in ("top", "bottom"):
            vertical = word
        elif word in ("left", "right"):
            horizontal = word
        elif word in _COMPASS:
            v, h = _COMPASS[word]
            vertical, horizontal = v or vertical, h or horizontal
        else:
            return None
    return Position(vertical, horizontal)


# --------------------------------------------------------------------------------------------
# External services


class ExternalService(BaseService):
    """Shared by the CDN services: which source string a CDN gets, and their settings."""

    local: bool = False
    name: ClassVar[str] = "external"

    def source(self, options: Options, config: ImageSettings) -> str | None:
        """The source as the CDN sees it: a local image's `src` (its URL path under the static
        root), a `/`-rooted path, or an allowed http(s) URL; None for anything the CDN cannot
        fetch (a disallowed URL or a `data:` URI), which `get_url` returns unchanged."""
        src = options.get("src")
        if isinstance(src, ImageMetadata):
            path = src.src
            return path if path.startswith(("/", "http://", "https://")) else "/" + path
        if not isinstance(src, str):
            return None
        if is_root_path(src):
            return src
        if src[:5].lower() == "data:":
            return None
        if is_remote_allowed(src, config.domains, config.remote_patterns):
            return src
        return None

    def origin(self, config: ImageSettings, default: Callable[[], str]) -> str:
        """Where the CDN's URLs start: `service_config.base_url` (a custom delivery domain)
        when given, else the service's own, from `default`."""
        base = config.service_config.get("base_url")
        if isinstance(base, str) and base.strip():
            return base.strip().rstrip("/")
        return default()

    def setting(self, config: ImageSettings, *keys: str) -> str:
        for key in keys:
            value = config.service_config.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        raise ImageError(
            "InvalidImageService",
            f"The {self.name} image service needs `{keys[0]}` in service_config",
            f"Add it to [tool.staticimg.image] in pyproject.toml: "
            f'service_config = {{ {keys[0]} = "…" }}, or call '
            f"staticimg.astro.configure(service_config={{'{keys[0]}': '…'}}).",
        )


def _source_path(source: str) -> str:
    """The source as a URL path: a remote URL percent-encoded whole (a CDN's web-proxy
    form); a path kept as it is, except that spaces and the like are encoded."""
    return "/" + quote(source, safe="") if is_http_url(source) else _path_text(source)


def _path_text(path: str) -> str:
    # Keep what is already percent-encoded; encode spaces and the like.
    return quote(path, safe="/%:@!$&'()*+,;=-._~")


def _format_name(fmt: object) -> str | None:
    if not fmt or fmt == "svg":
        return None  # neither CDN converts to SVG: an SVG is served as it is
    return "jpg" if fmt == "jpeg" else str(fmt)


def _hex_colour(background: str) -> str:
    return background[1:] if background.startswith("#") else background


class ImgixService(ExternalService):
    """imgix (https://docs.imgix.com/apis/rendering): `https://<domain>/<path>?w=&h=&fit=&crop=
    &fm=&q=&bg=`. `service_config`: `domain` ("example.imgix.net") or `base_url`, and
    `secure_token` to sign URLs (`s=`, required by Web Proxy sources, i.e. remote URLs, which
    go into the path percent-encoded).

    Astro's `fit` (sharp's semantics, no upscaling) → imgix `fit`:
    cover → `crop` (fill the box, crop the excess: the only mode that reads `crop`);
    fill → `scale` (stretch to the box); contain, inside, scale-down → `max` (fit inside the
    box, keep the aspect ratio, never upscale, as sharp's `inside` with `withoutEnlargement`);
    outside → `max` as well (imgix has no "cover without cropping"; the aspect ratio is kept).
    `position` → `crop`: keywords as `top,right` (centre: no parameter, imgix's default),
    `entropy` → `entropy`, `attention` → `edges`, `"25% 75%"` → `focalpoint` with `fp-x`/`fp-y`.
    `format` → `fm` (jpeg → jpg; svg → none: served as it is); `quality` → `q` (presets
    resolved: low 25, mid 50, high 80, max 100); `background` → `bg` (hex without `#`).
    """

    name: ClassVar[str] = "imgix"
    FIT: ClassVar[Mapping[str, str]] = {
        "cover": "crop",
        "fill": "scale",
        "contain": "max",
        "inside": "max",
        "scale-down": "max",
        "outside": "max",
    }

    def get_url(self, options: Options, config: ImageSettings) -> str:
        source = self.source(options, config)
        if source is None:
            return str(options.get("src"))
        origin = self.origin(config, lambda: "https://" + self.setting(config, "domain").strip("/"))
        path = _source_path(source)
        params: list[tuple[str, str]] = []
        for key, name in (("width", "w"), ("height", "h")):
            if options.get(key):
                params.append((name, str(int(options[key]))))
        fit = self.FIT.get(str(options.get("fit"))) if options.get("fit") else None
        if fit:
            params.append(("fit", fit))
        if fit == "crop":
            params += self._crop(parse_position(options.get("position")))
        fmt = _format_name(options.get("format"))
        if fmt:
            params.append(("fm", fmt))
        quality = resolve_quality(options.get("quality"))
        if quality is not None:
            params.append(("q", str(quality)))
        if options.get("background"):
            params.append(("bg", _hex_colour(str(options["background"]))))
        query = urlencode(params, safe=",")
        token = config.service_config.get("secure_token")
        if isinstance(token, str) and token:
            signed = token + path + (f"?{query}" if query else "")
            signature = hashlib.md5(signed.encode(), usedforsecurity=False).hexdigest()
            query = f"{query}&s={signature}" if query else f"s={signature}"
        return origin + path + (f"?{query}" if query else "")

    @staticmethod
    def _crop(position: Position | None) -> list[tuple[str, str]]:
        if position is None:
            return []
        if position.strategy:
            return [("crop", "entropy" if position.strategy == "entropy" else "edges")]
        if position.x is not None and position.y is not None:
            return [
                ("crop", "focalpoint"),
                ("fp-x", f"{position.x:g}"),
                ("fp-y", f"{position.y:g}"),
            ]
        words = [w for w in (position.vertical, position.horizontal) if w]
        return [("crop", ",".join(words))] if words else []


class CloudinaryService(ExternalService):
    """Cloudinary (https://cloudinary.com/documentation/transformation_reference):
    `https://res.cloudinary.com/<cloud_name>/image/upload/<transformations>/<public id>`, and
    `image/fetch/` with the URL for remote images. `service_config`: `cloud_name`, optionally
    `base_url` (a custom delivery domain, replacing `https://res.cloudinary.com/<cloud>`).

    Transformations, comma-separated, in this order: `w_`, `h_`, `c_`, `g_`, `f_`, `q_`, `b_`.
    Astro's `fit` → crop mode: cover → `c_fill` (exact box, cropped; gravity applies);
    fill → `c_scale` (stretched); contain, inside, scale-down, outside → `c_limit` (inside the
    box, aspect kept, never upscaled; there is no "cover without crop").
    `position` → `g_` (with `c_fill` only): top → north, bottom right → south_east, centre →
    center, entropy/attention → `auto`. `format` → `f_` (jpeg → jpg, svg → none); `quality`
    → `q_`; `background` → `b_rgb:<hex>` for `#hex`, else `b_<colour name>`.
    """

    name: ClassVar[str] = "cloudinary"
    FIT: ClassVar[Mapping[str, str]] = {
        "cover": "fill",
        "fill": "scale",
        "contain": "limit",
        "inside": "limit",
        "scale-down": "limit",
        "outside": "limit",
    }

    def get_url(self, options: Options, config: ImageSettings) -> str:
        source = self.source(options, config)
        if source is None:
            return str(options.get("src"))
        origin = self.origin(
            config,
            lambda: (
                f"https://res.cloudinary.com/{quote(self.setting(config, 'cloud_name'), safe='')}"
            ),
        )
        parts: list[str] = []
        for key, prefix in (("width", "w_"), ("height", "h_")):
            if options.get(key):
                parts.append(f"{prefix}{int(options[key])}")
        crop = self.FIT.get(str(options.get("fit"))) if options.get("fit") else None
        if crop:
            parts.append(f"c_{crop}")
        if crop == "fill":
            gravity = self._gravity(parse_position(options.get("position")))
            if gravity:
                parts.append(f"g_{gravity}")
        fmt = _format_name(options.get("format"))
        if fmt:
            parts.append(f"f_{fmt}")
        quality = resolve_quality(options.get("quality"))
        if quality is not None:
            parts.append(f"q_{quality}")
        if options.get("background"):
            background = str(options["background"])
            colour = (
                f"rgb:{background[1:]}"
                if background.startswith("#")
                else quote(background, safe="")
            )
            parts.append(f"b_{colour}")
        transformations = ",".join(parts)
        if is_http_url(source):
            kind, target = "fetch", quote(source, safe=":/")
        else:
            kind, target = "upload", _path_text(source.lstrip("/"))
        middle = f"/{transformations}" if transformations else ""
        return f"{origin}/image/{kind}{middle}/{target}"

    @staticmethod
    def _gravity(position: Position | None) -> str | None:
        if position is None or position.x is not None:
            return None
        if position.strategy:
            return "auto"
        vertical = {"top": "north", "bottom": "south"}.get(position.vertical or "")
        horizontal = {"left": "west", "right": "east"}.get(position.horizontal or "")
        words = [w for w in (vertical, horizontal) if w]
        return "_".join(words) if words else "center"


class CDNService(ExternalService):
    """A generic query-string CDN: `base_url` + path + `?` + the mapped parameters.

    `service_config`: `base_url` ("https://cdn.example.com"), and `params` mapping option
    names to the CDN's parameter names (defaults: width→w, height→h, format→fm, quality→q,
    fit→fit, position→pos; add e.g. `background = "bg"`; map a name to "" to leave it out).
    Values are Astro's, as they are (`fit=cover`, `pos=right top` encoded); quality presets
    are resolved to numbers. A remote source goes into the path percent-encoded, or into a
    parameter when `src_param` names one ("url")."""

    name: ClassVar[str] = "cdn"
    DEFAULT_PARAMS: ClassVar[Mapping[str, str]] = {
        "width": "w",
        "height": "h",
        "format": "fm",
        "quality": "q",
        "fit": "fit",
        "position": "pos",
    }

    def get_url(self, options: Options, config: ImageSettings) -> str:
        source = self.source(options, config)
        if source is None:
            return str(options.get("src"))
        base = self.setting(config, "base_url").rstrip("/")
        mapping = dict(self.DEFAULT_PARAMS)
        custom = config.service_config.get("params")
        if isinstance(custom, Mapping):
            mapping.update({str(k): str(v) for k, v in custom.items()})
        params: list[tuple[str, str]] = []
        src_param = config.service_config.get("src_param")
        if isinstance(src_param, str) and src_param:
            path = ""
            params.append((src_param, source))
        else:
            path = _source_path(source)
        for key, name in mapping.items():
            if not name or key in ("src",):
                continue
            value = options.get(key)
            if key == "quality":
                value = resolve_quality(value)
            if value is None or value == "" or value is False:
                continue
            params.append((name, str(int(value)) if key in ("width", "height") else str(value)))
        query = urlencode(params)
        return base + path + (f"?{query}" if query else "")


# --------------------------------------------------------------------------------------------
# Loading

BUILTIN_SERVICES: Final[Mapping[str, Any]] = {
    "pillow": PILLOW_URLS,
    "passthrough": PassthroughService,
    "imgix": ImgixService,
    "cloudinary": CloudinaryService,
    "cdn": CDNService,
}
_HOOKS: Final = ("get_src_set", "get_html_attributes", "validate_options")
_loaded: dict[str, ImageService] = {}


def load_service(settings: ImageSettings) -> ImageService:
    """The service `settings.service` names: a built-in ("pillow", "passthrough", "imgix",
    "cloudinary", "cdn") or "package.module:attribute" (an object, or a class instantiated
    once). Cached per name. Raises ImageError("InvalidImageService") for one that cannot be
    loaded or has no `get_url`."""
    name = settings.service
    service = _loaded.get(name)
    if service is None:
        service = _load(name)
        _loaded[name] = service
    return service


def reset_services() -> None:
    """Forget the loaded services (tests, or a process that reloads its configuration)."""
    _loaded.clear()


def _load(name: str) -> ImageService:
    builtin = BUILTIN_SERVICES.get(name)
    if builtin is not None:
        return builtin() if isinstance(builtin, type) else builtin  # type: ignore[no-any-return]
    module_name, colon, attribute = name.partition(":")
    hint = (
        'Set service in [tool.staticimg.image] to "pillow", "passthrough", "imgix", '
        '"cloudinary", "cdn", or the import path of your service: "package.module:name", '
        "an object or class with get_url(options, config) (see docs/astro.md)."
    )
    if not colon or not module_name or not attribute.isidentifier():
        raise ImageError("InvalidImageService", f"Unknown image service {name!r}", hint)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImageError(
            "InvalidImageService", f"Could not import the image service {name!r}: {exc}", hint
        ) from exc
    try:
        value = getattr(module, attribute)
    except AttributeError:
        raise ImageError(
            "InvalidImageService", f"{module_name} has no attribute {attribute!r}", hint
        ) from None
    if isinstance(value, type):
        try:
            value = value()
        except Exception as exc:
            raise ImageError(
                "InvalidImageService",
                f"Could not create the image service {name!r}: {type(exc).__name__}: {exc}",
                "A service class must be constructible without arguments; it reads its "
                "settings from `config.service_config` in each hook.",
            ) from exc
    if not callable(getattr(value, "get_url", None)):
        raise ImageError(
            "InvalidImageService", f"The image service {name!r} has no get_url hook", hint
        )
    if all(callable(getattr(value, hook, None)) for hook in _HOOKS) and hasattr(
        value, "properties_to_hash"
    ):
        return value  # type: ignore[no-any-return]
    return _WithDefaults(value)


class _WithDefaults(BaseService):
    """A user's service that defines only some hooks: Astro's defaults fill in the rest."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.local = bool(getattr(service, "local", False))
        self.properties_to_hash = tuple(
            getattr(service, "properties_to_hash", None) or BaseService.properties_to_hash
        )
        for hook in ("transform", "parse_url"):
            if callable(getattr(service, hook, None)):
                setattr(self, hook, getattr(service, hook))

    def get_url(self, options: Options, config: ImageSettings) -> str:
        return str(self.service.get_url(options, config))

    def validate_options(self, options: Options, config: ImageSettings) -> Options:
        hook = getattr(self.service, "validate_options", None)
        if callable(hook):
            return dict(hook(options, config))
        return super().validate_options(options, config)

    def get_html_attributes(self, options: Options, config: ImageSettings) -> dict[str, Any]:
        hook = getattr(self.service, "get_html_attributes", None)
        if callable(hook):
            return dict(hook(options, config))
        return super().get_html_attributes(options, config)

    def get_src_set(self, options: Options, config: ImageSettings) -> list[SrcSetValue]:
        hook = getattr(self.service, "get_src_set", None)
        if callable(hook):
            return list(hook(options, config))
        return super().get_src_set(options, config)
