"""Static Astro-style calls, resolved ahead of time: from an `AstroRequest` and its source to
the files to write and the record the runtime renders.

The runtime's own `resolve_image`/`resolve_picture` (Astro's getImage) decide the srcset and
the attributes, exactly as on a dynamic render; the build only changes where each transform's
URL comes from (`emit`): a content-addressed file in `output_dir` instead of an `/_image`
query. For the Pillow service those files are made by the same workers as `StaticImage`'s
(decode once per source, resize down a chain); SVG and GIF fallbacks and the passthrough
service copy the source; a user's own local service transforms each file itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from staticimg.astro.record import image_record, picture_record
from staticimg.astro.resolve import resolve_image, resolve_picture
from staticimg.astro.services import PassthroughService
from staticimg.astro.svg import is_active_svg, parse_svg, svg_record, svg_size
from staticimg.astro.types import (
    ImageError,
    ImageMetadata,
    ImageService,
    ImageSettings,
    Options,
    is_local_service,
)
from staticimg.compiler.astro_props import AstroRequest
from staticimg.compiler.atomic import write_bytes
from staticimg.compiler.config import Config
from staticimg.compiler.diagnostics import Diagnostic
from staticimg.compiler.images.decode import SourceInfo
from staticimg.compiler.images.encode import EncoderSettings
from staticimg.compiler.images.recipe import (
    NAME_DIGEST_CHARS,
    Geometry,
    Output,
    _digest_base,
    _output,
    _stem,
    decode_reduction,
)
from staticimg.compiler.images.sources import SourceFile
from staticimg.compiler.services.pillow import (
    PillowService,
    TransformPlan,
    plan_encoder_settings,
    plan_transform,
)

__all__ = ["AstroRecipe", "Refused", "SvgSource", "make_astro_recipe", "plan", "svg_source",
           "write_files"]  # fmt: skip

# Formats a transform keeps by copying its source: vector images are never rasterised, and a
# GIF fallback (Picture's rule for GIF sources) keeps its animation.
_COPIED: Final = frozenset({"svg", "gif"})


@dataclass(frozen=True, slots=True)
class SvgSource:
    """What the build knows of an SVG source without rasterising it."""

    width: int
    height: int
    text: str
    active: bool  # scripts, event handlers or javascript: links


class Refused(Exception):
    """A call the image stage cannot build, as a diagnostic's parts."""

    def __init__(self, code: str, message: str, hint: str | None, *, at_source: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.at_source = at_source


# Astro's error names → our codes (docs/errors.md).
_CODES: Final[Mapping[str, str]] = {
    "ExpectedImage": "SI201",
    "ImageMissingAlt": "SI202",
    "IncompatibleDescriptorOptions": "SI207",
    "MissingImageDimension": "SI208",
    "UnsupportedImageConversion": "SI209",
    "UnsupportedImageFormat": "SI209",
    "NoImageMetadata": "SI303",
    "CouldNotTransformImage": "SI304",
    "ImageTooLarge": "SI305",
}
_SVG_START: Final = re.compile(rb"\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<svg[\s>]", re.DOTALL)
# An SVG this large is not an icon or an illustration worth inlining or sizing by parsing.
MAX_SVG_BYTES: Final = 10_000_000


def svg_source(source: SourceFile) -> SvgSource | None:
    """The source as an SVG, or None when it is not one (raster images are probed instead)."""
    if not source.path.name.lower().endswith(".svg"):
        with source.path.open("rb") as file:
            if not _SVG_START.match(file.read(4096)):
                return None
    if source.size > MAX_SVG_BYTES:
        raise Refused("SI305", f"{source.relative} is an SVG of {source.size:,} bytes, more than "
                      f"{MAX_SVG_BYTES:,}", "Simplify the drawing or export a raster image.",
                      at_source=True)  # fmt: skip
    data = source.path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("SI303", f"{source.relative} is not a UTF-8 SVG file", None,
                      at_source=True) from None  # fmt: skip
    size = svg_size(data) or (0, 0)
    return SvgSource(size[0], size[1], text, is_active_svg(data))


def plan(
    request: AstroRequest,
    source: SourceFile,
    info: SourceInfo | SvgSource | None,
    config: Config,
    service: ImageService,
) -> AstroRecipe:
    """The recipe of one static call; raises Refused for anything the user must fix."""
    if request.kind == "svg":
        if not isinstance(info, SvgSource):
            raise Refused("SI303", f"{source.relative} is not an SVG file",
                          "Svg(...) inlines SVG files; use Image(...) for other images.",
                          at_source=True)  # fmt: skip
        try:
            document = parse_svg(info.text)
        except ValueError as exc:
            raise Refused("SI303", f"{source.relative}: {exc}", None, at_source=True) from None
        return AstroRecipe(request, source, None, dict(svg_record(document)))
    if isinstance(info, SvgSource):
        if info.active:
            raise Refused(
                "SI303",
                f"{source.relative} is an SVG with scripts, event handlers or javascript: "
                "links, which staticimg does not publish",
                "Remove the scripts and on* attributes from the file (or inline it with "
                "Svg(...), which strips them).",
                at_source=True,
            )
        if not (info.width and info.height):
            raise Refused("SI303", f"{source.relative} has no width and height and no viewBox, "
                          "so its size is unknown", 'Add a viewBox="0 0 W H" to its <svg>.',
                          at_source=True)  # fmt: skip
    assert info is not None
    try:
        return make_astro_recipe(request, source, info, settings=config.image, service=service,
                                 url_prefix=config.url_prefix)  # fmt: skip
    except ImageError as error:
        code = _CODES.get(error.name, "SI309")
        message = error.message if code != "SI309" else f"the image service: {error.message}"
        raise Refused(code, message, error.hint, at_source=code in ("SI209", "SI303")) from None


def write_files(
    recipe: AstroRecipe, existing: set[str], config: Config, service: ImageService
) -> list[tuple[str, int]]:
    """Write the copies and a user service's files that are missing; (name, bytes) each."""
    todo = [name for name in recipe.copies if name not in existing]
    transforms = [(n, t) for n, t in recipe.service_outputs if n not in existing]
    if not todo and not transforms:
        return []
    data = recipe.source.path.read_bytes()
    written = []
    for name in todo:
        write_bytes(config.output_path / name, data)
        written.append((name, len(data)))
    transform_hook = getattr(service, "transform", None)
    for name, transform in transforms:
        try:
            out, _format = transform_hook(data, transform, config.image)  # type: ignore[misc]
        except ImageError as error:
            raise Refused(_CODES.get(error.name, "SI309"), error.message, error.hint,
                          at_source=False) from None  # fmt: skip
        except Exception as exc:  # a user's service: report it, never crash the build
            raise Refused("SI309", f"the image service failed: {type(exc).__name__}: {exc}",
                          "Fix the service named by `service` in [tool.staticimg.image].",
                          at_source=False) from None  # fmt: skip
        write_bytes(config.output_path / name, out)
        written.append((name, len(out)))
    return written


@dataclass(frozen=True, slots=True)
class AstroRecipe:
    request: AstroRequest
    source: SourceFile
    info: SourceInfo | None  # None for an SVG source
    record: dict[str, Any]  # what the runtime renders (staticimg.astro.record)
    # Outputs the workers encode, by geometry: sharp never enlarges, so transforms of one
    # call whose boxes exceed the source are cropped differently from the others.
    groups: tuple[tuple[Geometry, tuple[Output, ...]], ...] = ()
    copies: tuple[str, ...] = ()  # names whose bytes are the source's
    # A user's local service: (name, transform) pairs it writes itself.
    service_outputs: tuple[tuple[str, Options], ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    reduction: int = 1
    all_frames: bool = False
    # What a `StaticImage` recipe has and an Astro one does not: no placeholder, and no
    # single fallback file to compare with the source for "bytes saved".
    placeholder_spec: None = None
    fallback: None = None

    @property
    def outputs(self) -> tuple[Output, ...]:
        return tuple(output for _, outputs in self.groups for output in outputs)

    @property
    def names(self) -> tuple[str, ...]:
        return (
            *(o.name for o in self.outputs),
            *self.copies,
            *(name for name, _ in self.service_outputs),
        )


def make_astro_recipe(
    request: AstroRequest,
    source: SourceFile,
    info: SourceInfo | SvgSource,
    *,
    settings: ImageSettings,
    service: ImageService,
    url_prefix: str,
) -> AstroRecipe:
    """The recipe of an `Image`, `Picture` or `get_image` call. Raises ImageError (Astro's
    validation, or the service's own) for the caller to report."""
    builder = _Builder(request, source, info, service, settings, url_prefix.rstrip("/"))
    source_format = "svg" if isinstance(info, SvgSource) else info.format
    local = is_local_service(service)
    # An external service (a CDN) fetches the original from this origin: publish it. A local
    # service's URLs come from `emit`, which publishes the original only where it is used.
    original = builder.original_url(publish=not local)
    metadata = ImageMetadata(original, info.width, info.height, source_format)
    options: Options = {key: value for key, value in request.options.items() if key != "infer_size"}
    options["src"] = metadata
    emit = builder.emit if local else None
    record: dict[str, Any]
    if request.kind == "picture":
        record = picture_record(resolve_picture(options, settings=settings, service=service,
                                                emit=emit))  # fmt: skip
    else:
        record = image_record(resolve_image(options, settings=settings, service=service,
                                            emit=emit))  # fmt: skip
    return builder.recipe(record)


@dataclass
class _Builder:
    """Turns each transform the resolver emits into a file name, remembering what to make."""

    request: AstroRequest
    source: SourceFile
    info: SourceInfo | SvgSource
    service: ImageService
    settings: ImageSettings
    prefix: str
    _sizes: dict[str, tuple[int, int, str, EncoderSettings, Geometry]] = field(default_factory=dict)
    _tokens: dict[tuple[int, int, str, bytes, Geometry], str] = field(default_factory=dict)
    _copies: dict[str, None] = field(default_factory=dict)
    _service_outputs: dict[str, Options] = field(default_factory=dict)

    @property
    def _extension(self) -> str:
        name = self.source.path.name
        return name.rsplit(".", 1)[-1].lower() if "." in name else "img"

    def original_url(self, *, publish: bool = True) -> str:
        """The source's own bytes under a content-addressed name: what a passthrough or an
        external service (a CDN fetching from this origin) points at. `publish` adds it to
        the files to write."""
        name = f"{_stem(self.source.relative)}-{self.source.digest[:NAME_DIGEST_CHARS]}"
        name = f"{name}.{self._extension}"
        if publish:
            self._copies[name] = None
        return f"{self.prefix}/{name}"

    def emit(self, transform: Options) -> str:
        fmt = str(transform.get("format") or "").lower()
        source_format = "svg" if isinstance(self.info, SvgSource) else self.info.format
        if isinstance(self.service, PassthroughService) or fmt in _COPIED or not fmt:
            if fmt == "svg" and source_format != "svg":
                raise ImageError(
                    "UnsupportedImageConversion",
                    "converting a raster image to SVG is not supported",
                    'Remove format="svg" (or leave "svg" out of `formats`).',
                )
            if source_format == "svg" and fmt not in ("", "svg"):
                raise _rasterise_refused()
            return self.original_url()
        if isinstance(self.info, SvgSource):
            raise _rasterise_refused()
        if isinstance(self.service, PillowService):
            return self._pillow(transform)
        return self._by_service(transform, fmt)

    def _pillow(self, transform: Options) -> str:
        assert isinstance(self.info, SourceInfo)
        plan = plan_transform(transform, (self.info.width, self.info.height))
        settings = plan_encoder_settings(plan, self.settings.service_config)
        geometry = self._geometry_of(plan)
        spec = (plan.width, plan.height, plan.format, orjson.dumps(settings.key()), geometry)
        token = self._tokens.get(spec)
        if token is None:
            # Letters, digits and underscores: no URL encoding can change it.
            token = self._tokens[spec] = f"__staticimg_pending_{len(self._tokens):04d}__"
            self._sizes[token] = (plan.width, plan.height, plan.format, settings, geometry)
        return token  # replaced by the real URL once every size is known (see `recipe`)

    def _geometry_of(self, plan: TransformPlan) -> Geometry:
        """How a transform's pixels are made: a `cover` that changes the aspect ratio crops
        (around the position's focus); anything else is resized to the plan's exact size."""
        assert isinstance(self.info, SourceInfo)
        if plan.crop is not None:
            return Geometry(None, 0.0, "cover", plan.crop.focus, plan.aspect_ratio,
                            plan.background, False, None)  # fmt: skip
        aspect = self.info.width / self.info.height
        return Geometry(None, 0.0, "fill", "center", aspect, plan.background, False, None)

    def _by_service(self, transform: Options, fmt: str) -> str:
        hashed = {
            prop: _jsonable(transform.get(prop))
            for prop in getattr(self.service, "properties_to_hash", ("src",))
        }
        identity = {
            "service": f"{type(self.service).__module__}.{type(self.service).__qualname__}",
            "source": self.source.digest,
            "transform": hashed,
        }
        digest = hashlib.blake2b(orjson.dumps(identity, option=orjson.OPT_SORT_KEYS))
        short = digest.hexdigest()[:NAME_DIGEST_CHARS]
        name = f"{_stem(self.source.relative)}-{short}.{fmt or self._extension}"
        self._service_outputs[name] = transform
        return f"{self.prefix}/{name}"

    def recipe(self, record: dict[str, Any]) -> AstroRecipe:
        groups: list[tuple[Geometry, tuple[Output, ...]]] = []
        reduction, all_frames = 1, False
        urls: dict[str, str] = {}
        if self._sizes:
            assert isinstance(self.info, SourceInfo)
            info = self.info
            specs = self._sizes.values()
            all_frames = info.frames > 1 and any(spec[2] == "webp" for spec in specs)
            by_geometry: dict[Geometry, dict[str, tuple[int, int, str, EncoderSettings]]] = {}
            for token, (width, height, fmt, settings, geometry) in sorted(self._sizes.items()):
                by_geometry.setdefault(geometry, {})[token] = (width, height, fmt, settings)
            # One decode serves the whole call: the smallest reduction any geometry needs.
            reduction = min(
                decode_reduction(
                    info, geometry, [(w, h) for w, h, _, _ in sizes.values()], placeholder=False
                )
                for geometry, sizes in by_geometry.items()
            )
            stem = _stem(self.source.relative)
            for geometry, sizes in by_geometry.items():
                chain = sorted({(w, h) for w, h, _, _ in sizes.values()}, reverse=True)
                decoding = {"reduction": reduction, "all_frames": all_frames,
                            "chain": [list(size) for size in chain]}  # fmt: skip
                base = _digest_base(self.source, geometry, decoding)
                made = []
                for token, (width, height, fmt, settings) in sizes.items():
                    animated = info.frames > 1 and fmt == "webp"
                    output = _output(base, stem, width, height, settings, animated)
                    made.append(output)
                    urls[token] = f"{self.prefix}/{output.name}"
                groups.append((geometry, tuple(made)))
        return AstroRecipe(
            request=self.request,
            source=self.source,
            info=self.info if isinstance(self.info, SourceInfo) else None,
            record=_replace_keys(record, urls) if urls else record,
            groups=tuple(groups),
            copies=tuple(self._copies),
            service_outputs=tuple(self._service_outputs.items()),
            reduction=reduction,
            all_frames=all_frames,
        )


def _rasterise_refused() -> ImageError:
    return ImageError(
        "UnsupportedImageConversion",
        "SVG images are passed through as they are, never rasterised",
        'Leave `format` unset (or "svg"), or with Picture give formats=["svg"]; to ship a '
        "raster version, export one from your drawing program.",
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, ImageMetadata):
        return value.src
    return value


def _replace_keys(value: Any, urls: Mapping[str, str]) -> Any:
    """Swap the placeholder keys `_pillow` returned for the final URLs (names digest every
    size of the call, which are known only once the resolver is done)."""
    if isinstance(value, str):
        for key, url in urls.items():
            if key in value:
                value = value.replace(key, url)
        return value
    if isinstance(value, dict):
        return {k: _replace_keys(v, urls) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace_keys(v, urls) for v in value]
    return value
