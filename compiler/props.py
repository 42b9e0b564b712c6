"""Plan: turn one call's evaluated arguments into a normalised, validated `ImageRequest`.

The scanners hand over every argument of a `StaticImage(...)` call, evaluated where possible.
This stage decides what each one is:

* **build props** (`BUILD_PROPS`) shape the image files. They must be constants, are
  normalised here (Gatsby's spellings accepted) and are what the props hash covers;
* **rendering props** (`RENDERING_PROPS`, `HTML_ATTRIBUTES`, `data_*`/`aria_*` names) only
  reach the HTML, so they may be dynamic and are not looked at, except that a constant `alt`
  must be a string;
* anything else is an unknown prop, with the closest valid name as a hint.

Where Gatsby silently drops or mangles a value, we report it (diagnostics SI1xx/SI2xx). The
warnings are judged on the props as given: defaults are applied later, in the image stage.
A build prop given as `None` counts as not given, as a Python default argument would.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

from PIL import ImageColor

from staticimg.compiler.diagnostics import Diagnostic, Span
from staticimg.compiler.scan.calls import Arg, ArgKind, FoundCall, Unresolved
from staticimg.hashing import props_hash

__all__ = [
    "BUILD_PROPS",
    "BUILD_PROP_ALIASES",
    "HTML_ATTRIBUTES",
    "HTML_ATTRIBUTE_PREFIXES",
    "INJECTED_PROPS",
    "RENDERING_PROPS",
    "RENDERING_PROP_ALIASES",
    "AvifOptions",
    "BlurredOptions",
    "Duotone",
    "ImageRequest",
    "JpgOptions",
    "PngOptions",
    "TransformOptions",
    "WebpOptions",
    "plan_call",
]

Layout = Literal["constrained", "fixed", "fullWidth"]
Placeholder = Literal["dominantColor", "blurred", "blurhash", "none"]
Format = Literal["auto", "jpg", "png", "webp", "avif"]
EncodedFormat = Literal["jpg", "png", "webp", "avif"]
Fit = Literal["cover", "contain", "fill", "inside", "outside"]
CropFocus = Literal[
    "center",
    "north",
    "northeast",
    "east",
    "southeast",
    "south",
    "southwest",
    "west",
    "northwest",
    "entropy",
    "attention",
]

# --------------------------------------------------------------------------------------------
# The request


@dataclass(frozen=True, slots=True)
class Duotone:
    highlight: str
    shadow: str
    opacity: float | None = None


@dataclass(frozen=True, slots=True)
class TransformOptions:
    fit: Fit | None = None
    crop_focus: CropFocus | None = None
    grayscale: bool | None = None
    duotone: Duotone | Literal[False] | None = None
    rotate: float | None = None
    trim: bool | float | None = None


@dataclass(frozen=True, slots=True)
class BlurredOptions:
    width: int | None = None
    to_format: EncodedFormat | None = None


@dataclass(frozen=True, slots=True)
class JpgOptions:
    quality: int | None = None
    progressive: bool | None = None


@dataclass(frozen=True, slots=True)
class PngOptions:
    quality: int | None = None
    compression_speed: int | None = None


@dataclass(frozen=True, slots=True)
class WebpOptions:
    quality: int | None = None
    lossless: bool | None = None
    effort: int | None = None


@dataclass(frozen=True, slots=True)
class AvifOptions:
    quality: int | None = None
    lossless: bool | None = None
    speed: int | None = None


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """One call's build props, normalised. A field is None when the prop was not given."""

    file: str  # project-relative, POSIX separators
    callee: str
    span: Span  # the callee as written: where "call" records point
    src: str
    layout: Layout | None = None
    width: float | None = None
    height: float | None = None
    aspect_ratio: float | None = None
    placeholder: Placeholder | None = None
    formats: tuple[Format, ...] | None = None  # () means auto, as Gatsby reads an empty list
    quality: int | None = None
    sizes: str | None = None
    breakpoints: tuple[int, ...] | None = None
    output_pixel_densities: tuple[float, ...] | None = None
    background_color: str | None = None
    transform_options: TransformOptions | None = None
    blurred_options: BlurredOptions | None = None
    jpg_options: JpgOptions | None = None
    png_options: PngOptions | None = None
    webp_options: WebpOptions | None = None
    avif_options: AvifOptions | None = None
    # Where the `src` value is written: image-stage diagnostics point at it.
    src_span: Span | None = None

    def props_dict(self) -> dict[str, Any]:
        """The props the user gave, snake_case at every level, JSON-ready: what is hashed."""
        return _given(self, skip=_REQUEST_META)

    @property
    def hash(self) -> str:
        return props_hash(self.props_dict(), self.file)


_REQUEST_META: Final = frozenset({"file", "callee", "span", "src_span"})


def _given(options: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(options):
        value = getattr(options, f.name)
        if f.name not in skip and value is not None:
            out[f.name] = _json(value)
    return out


def _json(value: Any) -> Any:
    if is_dataclass(value):
        return _given(value)
    if isinstance(value, tuple):
        return [_json(item) for item in value]
    return value


# --------------------------------------------------------------------------------------------
# Prop names

# Gatsby's camelCase spellings of build props, accepted as aliases of our snake_case names.
BUILD_PROP_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "aspectRatio": "aspect_ratio",
        "outputPixelDensities": "output_pixel_densities",
        "backgroundColor": "background_color",
        "transformOptions": "transform_options",
        "blurredOptions": "blurred_options",
        "jpgOptions": "jpg_options",
        "pngOptions": "png_options",
        "webpOptions": "webp_options",
        "avifOptions": "avif_options",
        "tracedSVGOptions": "traced_svg_options",
    }
)

# Build props that are accepted but do nothing (Gatsby removed traced SVGs): SI254.
IGNORED_BUILD_PROPS: Final = frozenset({"traced_svg_options"})

# Props that reach only the HTML. They are not evaluated, so they may be dynamic.
RENDERING_PROPS: Final = frozenset(
    {
        "alt",
        "class_name",
        "style",
        "img_style",
        "img_class_name",
        "loading",
        "object_fit",
        "object_position",
        "as_",
        "fade",  # ours: turn the placeholder fade-in off
    }
)

RENDERING_PROP_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "className": "class_name",
        "class_": "class_name",
        "class": "class_name",
        "imgStyle": "img_style",
        "imgClassName": "img_class_name",
        "objectFit": "object_fit",
        "objectPosition": "object_position",
        "as": "as_",
    }
)

# Other attributes forwarded to the <img>: the HTML global attributes and <img>'s own, minus
# those the image itself sets (src, srcset, sizes, width, height, alt, loading). Matched
# case-insensitively, so React's spellings (tabIndex, crossOrigin, fetchPriority) work too.
# Event handlers (onclick, …) are left out: the runtime owns the image's load behaviour.
HTML_ATTRIBUTES: Final = frozenset(
    {
        # global attributes
        "accesskey",
        "autocapitalize",
        "autocorrect",
        "autofocus",
        "contenteditable",
        "dir",
        "draggable",
        "enterkeyhint",
        "exportparts",
        "hidden",
        "id",
        "inert",
        "inputmode",
        "is",
        "itemid",
        "itemprop",
        "itemref",
        "itemscope",
        "itemtype",
        "lang",
        "nonce",
        "part",
        "popover",
        "role",
        "slot",
        "spellcheck",
        "tabindex",
        "title",
        "translate",
        "writingsuggestions",
        # <img> attributes
        "attributionsrc",
        "crossorigin",
        "decoding",
        "elementtiming",
        "fetchpriority",
        "ismap",
        "referrerpolicy",
        "usemap",
    }
)

# Any name with one of these prefixes is a data-/aria- attribute for the <img>.
HTML_ATTRIBUTE_PREFIXES: Final = ("data_", "aria_", "data-", "aria-")

# Added by `staticimg inject`; a second `extract` over injected sources must not trip on them.
INJECTED_PROPS: Final = frozenset({"__image_data", "__error"})

# --------------------------------------------------------------------------------------------
# Value tables

LAYOUTS: Final[Mapping[str, Layout]] = MappingProxyType(
    {"constrained": "constrained", "fixed": "fixed", "fullwidth": "fullWidth"}
)

# Keys are squashed (lower-cased, non-alphanumerics removed). Traced SVG is gone from Gatsby,
# which draws a dominant colour instead; so do we, with SI254.
PLACEHOLDERS: Final[Mapping[str, Placeholder]] = MappingProxyType(
    {
        "dominantcolor": "dominantColor",
        "blurred": "blurred",
        "blurhash": "blurhash",
        "none": "none",
        "tracedsvg": "dominantColor",
    }
)

FORMATS: Final[Mapping[str, Format]] = MappingProxyType(
    {"auto": "auto", "jpg": "jpg", "jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}
)

ENCODED_FORMATS: Final[Mapping[str, EncodedFormat]] = MappingProxyType(
    {"jpg": "jpg", "jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}
)

FITS: Final[Mapping[str, Fit]] = MappingProxyType(
    {
        "cover": "cover",
        "contain": "contain",
        "fill": "fill",
        "inside": "inside",
        "outside": "outside",
    }
)

# Keys are squashed. Gatsby's ImageCropFocus names, plus sharp's position words.
CROP_FOCUS_NAMES: Final[Mapping[str, CropFocus]] = MappingProxyType(
    {
        "center": "center",
        "centre": "center",
        "north": "north",
        "northeast": "northeast",
        "east": "east",
        "southeast": "southeast",
        "south": "south",
        "southwest": "southwest",
        "west": "west",
        "northwest": "northwest",
        "entropy": "entropy",
        "attention": "attention",
        "top": "north",
        "righttop": "northeast",
        "topright": "northeast",
        "right": "east",
        "rightbottom": "southeast",
        "bottomright": "southeast",
        "bottom": "south",
        "leftbottom": "southwest",
        "bottomleft": "southwest",
        "left": "west",
        "lefttop": "northwest",
        "topleft": "northwest",
        # CSS object-position pairs with "center" (Astro's `position`)
        "centercenter": "center",
        "centertop": "north",
        "topcenter": "north",
        "centerbottom": "south",
        "bottomcenter": "south",
        "leftcenter": "west",
        "centerleft": "west",
        "rightcenter": "east",
        "centerright": "east",
    }
)

# sharp's constants (`sharp.gravity.*`, `sharp.strategy.*`), which Gatsby passes straight on.
CROP_FOCUS_NUMBERS: Final[Mapping[int, CropFocus]] = MappingProxyType(
    {
        0: "center",
        1: "north",
        2: "east",
        4: "south",
        8: "west",
        5: "northeast",
        6: "southeast",
        12: "southwest",
        9: "northwest",
        16: "entropy",
        17: "attention",
    }
)

# --------------------------------------------------------------------------------------------
# Validation machinery

SI101_HINT: Final = (
    "Build props must be constants known when `staticimg extract` runs: literals, arithmetic, "
    "f-strings of constants, or names bound once in this file. Pass dynamic values through a "
    "rendering prop or compute the image in advance."
)

SI102_HINT: Final = (
    "A `**` spread may carry build props, so its keys and values must be known when "
    "`staticimg extract` runs: use a dict literal or a dict bound once in this file, and pass "
    "dynamic rendering props as ordinary keyword arguments."
)


class _Reject(Exception):
    """A value its prop's check does not accept."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


@dataclass(slots=True)
class _Report:
    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(
        self, code: str, message: str, span: Span | None, prop: str | None, hint: str | None = None
    ) -> None:
        self.diagnostics.append(Diagnostic(code, message, self.file, span, prop, hint))


@dataclass(frozen=True, slots=True)
class _At:
    """Where a value sits: its dotted prop name, what messages call it, the arg's span."""

    prop: str
    name: str
    span: Span
    report: _Report

    def key(self, key: str) -> _At:
        return _At(f"{self.prop}.{key}", f"{self.name}.{key}", self.span, self.report)

    def item(self, index: int) -> _At:
        return _At(self.prop, f"{self.name}[{index}]", self.span, self.report)

    def add(self, code: str, message: str, hint: str | None = None) -> None:
        self.report.add(code, message, self.span, self.prop, hint)


Validator = Callable[[Any, _At], Any]

# What a validator returns when it reported its own errors (nested options): store nothing.
_SKIP: Final = object()


def _run(check: Validator, value: Any, at: _At) -> Any:
    try:
        return check(value, at)
    except _Reject as reject:
        at.add(reject.code, reject.message, reject.hint)
        return _SKIP


def _show(value: Any) -> str:
    if value is None:
        return "None"
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    kind = type(value).__name__
    return f"{text} ({'an' if kind[0] in 'aeiou' else 'a'} {kind})"


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _quoted(names: Any) -> str:
    items = [f'"{name}"' for name in names]
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else items[0]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(number: float) -> bool:
    # Ints are always finite, and math.isfinite would overflow converting a huge one.
    return isinstance(number, int) or math.isfinite(number)


def _tidy(number: float) -> float:
    return int(number) if isinstance(number, float) and number.is_integer() else number


# The largest width or height any output format stores (JPEG's 16-bit fields); sizes, ratios
# and densities beyond these are mistakes, and would not even fit the hash's JSON numbers.
MAX_DIMENSION: Final = 65_535
MAX_DENSITY: Final = 16


# --------------------------------------------------------------------------------------------
# Validators: one per kind of value. Each takes (value, at), returns the normalised value or
# raises _Reject naming the prop and what it accepts.


def _string(value: Any, at: _At) -> str:
    if not isinstance(value, str):
        raise _Reject("SI204", f"`{at.name}` must be a string, got {_show(value)}")
    _require_unicode(value, at)
    return value


def _require_unicode(value: str, at: _At) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800"
        raise _Reject("SI205", f"`{at.name}` is not valid Unicode text: {value!r}") from None


def _src(value: Any, at: _At) -> str:
    if not isinstance(value, str):
        raise _Reject(
            "SI204",
            f"`{at.name}` must be a string, got {_show(value)}",
            "Give a path relative to this file, a `/`-rooted path in the static root, "
            "or an http(s) URL.",
        )
    _require_unicode(value, at)
    if not value.strip():
        raise _Reject(
            "SI205",
            f"`{at.name}` is empty: give a path relative to this file, a `/`-rooted path in "
            "the static root, or an http(s) URL",
        )
    scheme = _URL_SCHEME.match(value)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        raise _Reject(
            "SI205",
            f"`{at.name}` uses the {scheme.group(1)}: scheme; only http(s) URLs and paths "
            "are built",
            "Download the image into the project and give its path, or use an https:// URL.",
        )
    return value


# A URL scheme is two or more characters, so a Windows drive letter (`C:`) is not one.
_URL_SCHEME: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")


def _boolean(value: Any, at: _At) -> bool:
    if not isinstance(value, bool):
        raise _Reject("SI204", f"`{at.name}` must be True or False, got {_show(value)}")
    return value


def _bounds(low: float | None, high: float | None, low_open: bool) -> str:
    if low is not None and high is not None:
        return f" > {low} and ≤ {high}" if low_open else f" from {low} to {high}"
    if low is not None:
        return f" {'>' if low_open else '≥'} {low}"
    return ""


def _number(
    low: float | None = None, high: float | None = None, *, low_open: bool = False
) -> Validator:
    wanted = f"a finite number{_bounds(low, high, low_open)}"

    def check(value: Any, at: _At) -> float:
        if not _is_number(value):
            raise _Reject("SI204", f"`{at.name}` must be {wanted}, got {_show(value)}")
        too_low = low is not None and (value <= low if low_open else value < low)
        if not _finite(value) or too_low or (high is not None and value > high):
            raise _Reject("SI205", f"`{at.name}` must be {wanted}, got {value}")
        return _tidy(value)

    return check


def _integer(low: int, high: int | None = None) -> Validator:
    wanted = f"a whole number{_bounds(low, high, low_open=False)}"

    def check(value: Any, at: _At) -> int:
        if not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
            raise _Reject("SI204", f"`{at.name}` must be {wanted}, got {_show(value)}")
        number = int(value)
        if number < low or (high is not None and number > high):
            raise _Reject("SI205", f"`{at.name}` must be {wanted}, got {number}")
        return number

    return check


def _list_of(item: Validator, what: str) -> Validator:
    def check(value: Any, at: _At) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            raise _Reject("SI204", f"`{at.name}` must be a list of {what}, got {_show(value)}")
        return tuple(item(entry, at.item(index)) for index, entry in enumerate(value))

    return check


def _choice(table: Mapping[str, str], shown: tuple[str, ...]) -> Validator:
    """A case-insensitive word from `table` (keys lower-case)."""

    def check(value: Any, at: _At) -> str:
        if not isinstance(value, str):
            raise _Reject(
                "SI204", f"`{at.name}` must be one of {_quoted(shown)}, got {_show(value)}"
            )
        try:
            return table[value.strip().lower()]
        except KeyError:
            raise _Reject("SI205", f'`{at.name}` is "{value}": use {_quoted(shown)}') from None

    return check


def _layout(value: Any, at: _At) -> Layout:
    allowed = _quoted(LAYOUTS.values())
    if not isinstance(value, str):
        raise _Reject("SI204", f"`{at.name}` must be one of {allowed}, got {_show(value)}")
    key = _squash(value)
    if key == "fluid":
        raise _Reject(
            "SI205",
            f'`{at.name}` is "{value}", Gatsby 2\'s name, which Gatsby 3+ no longer accepts: '
            f"use {allowed}",
            'Use "fullWidth" for an image that always fills its container, or "constrained" '
            "for one that shrinks with its container but never grows past its width.",
        )
    if key not in LAYOUTS:
        raise _Reject("SI205", f'`{at.name}` is "{value}": use {allowed} (any case or spelling)')
    return LAYOUTS[key]


def _placeholder(value: Any, at: _At) -> Placeholder:
    allowed = _quoted(("dominantColor", "blurred", "blurhash", "none"))
    if not isinstance(value, str):
        raise _Reject("SI204", f"`{at.name}` must be one of {allowed}, got {_show(value)}")
    key = _squash(value)
    if key not in PLACEHOLDERS:
        raise _Reject("SI205", f'`{at.name}` is "{value}": use {allowed}')
    if key == "tracedsvg":
        at.add(
            "SI254",
            f'`{at.name}` "{value}" is no longer made (Gatsby removed traced SVGs): a dominant '
            "colour placeholder is used instead",
            'Write placeholder="dominantColor" to keep this look, or "blurred" for a small '
            "blurred preview.",
        )
    return PLACEHOLDERS[key]


def _formats(value: Any, at: _At) -> tuple[Format, ...]:
    allowed = _quoted(("auto", "jpg", "png", "webp", "avif"))
    if not isinstance(value, list | tuple):
        raise _Reject("SI204", f"`{at.name}` must be a list of {allowed}, got {_show(value)}")
    out: list[Format] = []
    for index, entry in enumerate(value):
        # Gatsby drops non-strings silently; we say so.
        if not isinstance(entry, str):
            raise _Reject(
                "SI204", f"`{at.name}[{index}]` must be a format name, got {_show(entry)}"
            )
        key = entry.strip().lower()
        if not key:
            continue  # Gatsby reads "" as auto
        if key not in FORMATS:
            raise _Reject("SI205", f'`{at.name}[{index}]` is "{entry}": use {allowed}')
        if FORMATS[key] not in out:
            out.append(FORMATS[key])
    return tuple(out)


def _colour(*, transparent: bool) -> Validator:
    def check(value: Any, at: _At) -> str:
        if not isinstance(value, str):
            raise _Reject("SI204", f"`{at.name}` must be a CSS colour string, got {_show(value)}")
        if transparent and value.strip().lower() == "transparent":
            return value
        try:
            ImageColor.getrgb(value.strip())
        except ValueError:
            also = ' or "transparent"' if transparent else ""
            raise _Reject(
                "SI205",
                f'`{at.name}` is "{value}", which is not a colour: use a hex colour such as '
                f'"#f5f0e8", rgb(…)/hsl(…), or a CSS colour name{also}',
            ) from None
        return value

    return check


def _crop_focus(value: Any, at: _At) -> CropFocus:
    allowed = _quoted(dict.fromkeys(CROP_FOCUS_NAMES.values()))
    if (
        _is_number(value)
        and _finite(value)
        and value == int(value)
        and int(value) in CROP_FOCUS_NUMBERS
    ):
        return CROP_FOCUS_NUMBERS[int(value)]
    if isinstance(value, str) and _squash(value) in CROP_FOCUS_NAMES:
        return CROP_FOCUS_NAMES[_squash(value)]
    if not isinstance(value, str) and not _is_number(value):
        raise _Reject("SI204", f"`{at.name}` must be one of {allowed}, got {_show(value)}")
    raise _Reject(
        "SI205",
        f"`{at.name}` is {_quoted([value]) if isinstance(value, str) else value}: use {allowed}",
        'sharp\'s position words ("top", "right top", "left bottom", …) and its numeric '
        "gravity/strategy constants are accepted too.",
    )


def _trim(value: Any, at: _At) -> bool | float:
    if isinstance(value, bool):
        return value
    if not _is_number(value):
        raise _Reject(
            "SI204", f"`{at.name}` must be True, False or a threshold ≥ 0, got {_show(value)}"
        )
    if not _finite(value) or not 0 <= value <= 255:
        raise _Reject(
            "SI205", f"`{at.name}` must be True, False or a threshold from 0 to 255, got {value}"
        )
    return _tidy(value)


def _options(
    cls: type[Any],
    checks: Mapping[str, Validator],
    aliases: Mapping[str, str] | None = None,
    required: tuple[str, ...] = (),
    example: str = "",
) -> Validator:
    """A dict of named options, each with its own check; builds `cls` from the valid ones."""
    aliases = aliases or {}
    names = ", ".join(checks)

    def check(value: Any, at: _At) -> Any:
        if not isinstance(value, Mapping):
            raise _Reject(
                "SI204", f"`{at.name}` must be a dict with keys {names}, got {_show(value)}"
            )
        values: dict[str, Any] = {}
        seen: dict[str, str] = {}
        ok = True
        for written, item in value.items():
            key = aliases.get(written, written) if isinstance(written, str) else str(written)
            if key not in checks:
                at.key(str(written)).add(
                    "SI203",
                    f'`{at.name}` has no option "{written}": its options are {names}',
                    _suggest(str(written), [*checks, *aliases], aliases),
                )
                ok = False
            elif key in seen:
                at.key(key).add(
                    "SI206",
                    f'`{at.name}.{key}` is given twice (as "{seen[key]}" and "{written}"): '
                    "keep one",
                )
                ok = False
            else:
                seen[key] = str(written)
                result = None if item is None else _run(checks[key], item, at.key(key))
                ok = ok and result is not _SKIP
                if result is not None and result is not _SKIP:
                    values[key] = result
        if not ok:
            return _SKIP
        missing = [key for key in required if key not in values]
        if missing:
            # Gatsby only warns here and then draws a broken gradient; we refuse.
            raise _Reject(
                "SI205",
                f"`{at.name}` needs both {' and '.join(required)}; "
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing",
                f"Give {' and '.join(required)}{example}, or leave `{at.name}` out.",
            )
        return cls(**values)

    return check


_QUALITY: Final = _integer(1, 100)

_DUOTONE_OPTIONS: Final = _options(
    Duotone,
    {
        "highlight": _colour(transparent=False),
        "shadow": _colour(transparent=False),
        "opacity": _number(0, 100),
    },
    required=("highlight", "shadow"),
    example=', e.g. {"highlight": "#f00e2e", "shadow": "#192550"}',
)


def _duotone(value: Any, at: _At) -> Duotone | Literal[False]:
    if value is False:
        return False
    if not isinstance(value, Mapping):
        raise _Reject(
            "SI204",
            f"`{at.name}` must be False or a dict with highlight, shadow and optional opacity, "
            f"got {_show(value)}",
        )
    result: Duotone | Literal[False] = _DUOTONE_OPTIONS(value, at)
    return result


_BUILD_CHECKS: Final[Mapping[str, Validator]] = MappingProxyType(
    {
        "src": _src,
        "layout": _layout,
        "width": _number(1, MAX_DIMENSION),
        "height": _number(1, MAX_DIMENSION),
        "aspect_ratio": _number(0, MAX_DIMENSION, low_open=True),
        "placeholder": _placeholder,
        "formats": _formats,
        "quality": _QUALITY,
        "sizes": _string,
        "breakpoints": _list_of(_integer(1, MAX_DIMENSION), "whole numbers ≥ 1"),
        "output_pixel_densities": _list_of(_number(0, MAX_DENSITY, low_open=True), "numbers > 0"),
        "background_color": _colour(transparent=True),
        "transform_options": _options(
            TransformOptions,
            {
                "fit": _choice(FITS, tuple(FITS)),
                "crop_focus": _crop_focus,
                "grayscale": _boolean,
                "duotone": _duotone,
                "rotate": _number(-360, 360),
                "trim": _trim,
            },
            aliases={"cropFocus": "crop_focus"},
        ),
        "blurred_options": _options(
            BlurredOptions,
            {
                "width": _integer(1, MAX_DIMENSION),
                "to_format": _choice(ENCODED_FORMATS, ("jpg", "png", "webp", "avif")),
            },
            aliases={"toFormat": "to_format"},
        ),
        "jpg_options": _options(JpgOptions, {"quality": _QUALITY, "progressive": _boolean}),
        "png_options": _options(
            PngOptions,
            {"quality": _QUALITY, "compression_speed": _integer(1, 10)},
            aliases={"compressionSpeed": "compression_speed"},
        ),
        "webp_options": _options(
            WebpOptions, {"quality": _QUALITY, "lossless": _boolean, "effort": _integer(0, 6)}
        ),
        "avif_options": _options(
            AvifOptions, {"quality": _QUALITY, "lossless": _boolean, "speed": _integer(0, 10)}
        ),
    }
)

# Every build prop: evaluated, validated and (except the ignored ones) hashed.
BUILD_PROPS: Final = frozenset(_BUILD_CHECKS) | IGNORED_BUILD_PROPS

# --------------------------------------------------------------------------------------------
# Planning a call

_Kind = Literal["build", "rendering", "injected"]

_POSITIONAL: Final = ("src", "alt")


def _classify(name: str) -> tuple[_Kind, str] | None:
    """The kind of a prop and its canonical name (for spotting one prop given twice)."""
    if name in BUILD_PROPS or name in BUILD_PROP_ALIASES:
        return "build", BUILD_PROP_ALIASES.get(name, name)
    if name in RENDERING_PROPS or name in RENDERING_PROP_ALIASES:
        return "rendering", RENDERING_PROP_ALIASES.get(name, name)
    if name.lower() in HTML_ATTRIBUTES:
        return "rendering", name.lower()
    if name.startswith(HTML_ATTRIBUTE_PREFIXES) and len(name) > 5:
        return "rendering", name[:4] + "-" + name[5:].replace("_", "-")
    if name in INJECTED_PROPS:
        return "injected", name
    return None


def _suggest(name: str, candidates: list[str], aliases: Mapping[str, str]) -> str | None:
    match = difflib.get_close_matches(name, candidates, n=1)
    return f'did you mean "{aliases.get(match[0], match[0])}"?' if match else None


_ALL_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {**BUILD_PROP_ALIASES, **RENDERING_PROP_ALIASES}
)
_KNOWN_NAMES: Final = sorted(BUILD_PROPS | RENDERING_PROPS | set(_ALL_ALIASES) | HTML_ATTRIBUTES)

_UNKNOWN_HINT: Final = (
    "StaticImage takes the build props "
    + ", ".join(sorted(BUILD_PROPS - IGNORED_BUILD_PROPS))
    + "; the rendering props "
    + ", ".join(sorted(RENDERING_PROPS))
    + "; standard <img> attributes; and data_*/aria_* attributes."
)


def _written(arg: Arg) -> str:
    if arg.kind is ArgKind.POSITIONAL:
        return f"positional argument {arg.index + 1}"
    return f"`{arg.name}` from a `**` spread" if arg.from_spread else f"`{arg.name}`"


def plan_call(call: FoundCall) -> tuple[ImageRequest | None, list[Diagnostic]]:
    """Normalise and validate one call's props.

    Returns the request (None if any error was found) and the diagnostics, warnings included.
    """
    report = _Report(call.file)
    seen: dict[str, Arg] = {}
    build: dict[str, Any] = {}
    spans: dict[str, Span] = {}

    for arg in call.args:
        if arg.kind is ArgKind.SPREAD:
            unresolved = arg.value if isinstance(arg.value, Unresolved) else None
            report.add(
                "SI102",
                "this `**` spread cannot be evaluated at build time"
                + (f": {unresolved.reason}" if unresolved else ""),
                unresolved.span if unresolved else arg.span,
                None,
                (unresolved.hint if unresolved else None) or SI102_HINT,
            )
            continue
        if arg.kind is ArgKind.POSITIONAL:
            if arg.index >= len(_POSITIONAL):
                report.add(
                    "SI103",
                    f"{call.callee} takes at most 2 positional arguments (src, alt); "
                    f"argument {arg.index + 1} is one too many",
                    arg.span,
                    None,
                    "Pass the other props by keyword, e.g. width=800.",
                )
                continue
            name = _POSITIONAL[arg.index]
        else:
            name = arg.name or ""

        kind = _classify(name)
        if kind is None:
            report.add(
                "SI203",
                f'{call.callee} has no prop "{name}"',
                arg.span,
                name,
                _suggest(name, _KNOWN_NAMES, _ALL_ALIASES) or _UNKNOWN_HINT,
            )
            continue
        group, prop = kind
        if prop in seen:
            report.add(
                "SI206",
                f"`{prop}` is given twice, as {_written(seen[prop])} and as {_written(arg)}: "
                "keep one",
                arg.span,
                prop,
            )
            continue
        seen[prop] = arg

        at = _At(prop, prop, arg.span, report)
        if group == "rendering":
            if prop == "alt" and arg.resolved and not isinstance(arg.value, str):
                at.add(
                    "SI204",
                    f"`alt` must be a string, got {_show(arg.value)}",
                    'Describe the image for people who cannot see it, or pass alt="" if it '
                    "is purely decorative.",
                )
        elif group == "build":
            if prop in IGNORED_BUILD_PROPS:
                at.add(
                    "SI254",
                    f"`{prop}` has no effect: traced SVG placeholders are no longer made",
                    'Remove it; use placeholder="blurred" or "dominantColor".',
                )
            elif isinstance(arg.value, Unresolved):
                report.add(
                    "SI101",
                    f"build prop `{prop}` cannot be evaluated at build time: {arg.value.reason}",
                    arg.value.span,
                    prop,
                    arg.value.hint or SI101_HINT,
                )
            elif arg.value is not None or prop == "src":
                value = _run(_BUILD_CHECKS[prop], arg.value, at)
                if value is not _SKIP:
                    build[prop] = value
                    spans[prop] = arg.span

    for prop, code in (("src", "SI201"), ("alt", "SI202")):
        if prop not in seen:
            report.add(code, f"{call.callee} needs `{prop}`", call.name_span, prop, _MISSING[prop])

    _warn_ignored(build, spans, report)

    if any(d.is_error for d in report.diagnostics):
        return None, report.diagnostics
    request = ImageRequest(
        file=call.file, callee=call.callee, span=call.name_span, src_span=spans["src"], **build
    )
    return request, report.diagnostics


_MISSING: Final[Mapping[str, str]] = MappingProxyType(
    {
        "src": 'Add src="…": a path relative to this file, a `/`-rooted path in the static '
        "root, or an http(s) URL.",
        "alt": 'Add alt="…" describing the image for people who cannot see it, or alt="" '
        "if it is purely decorative.",
    }
)


def _warn_ignored(build: Mapping[str, Any], spans: Mapping[str, Span], report: _Report) -> None:
    """Warnings about props that Gatsby would ignore, judged on the props as given."""
    if build.get("layout") == "fullWidth":
        for prop in ("width", "height"):
            if prop in build:
                report.add(
                    "SI250",
                    f'`{prop}` is ignored with layout="fullWidth", which always fills its '
                    "container",
                    spans[prop],
                    prop,
                    'Remove it, use layout="constrained" to cap the size, or set breakpoints '
                    "to choose the generated widths.",
                )
    elif {"aspect_ratio", "width", "height"} <= build.keys():
        report.add(
            "SI251",
            "`aspect_ratio` is ignored when both `width` and `height` are given",
            spans["aspect_ratio"],
            "aspect_ratio",
            "Remove `aspect_ratio`, or keep it and give only one of width and height.",
        )
    formats = build.get("formats", ())
    if "jpg" in formats and "png" in formats:
        report.add(
            "SI252",
            '`formats` has both "jpg" and "png", but only one can be the fallback: the '
            'source\'s own format is used instead, as with "auto"',
            spans["formats"],
            "formats",
            'Keep one of "jpg" and "png", or write "auto".',
        )
    if set(formats) == {"avif"}:
        report.add(
            "SI253",
            '`formats` has only "avif": browsers without AVIF support get no image',
            spans["formats"],
            "formats",
            'Add a fallback, e.g. formats=["auto", "avif"] or ["jpg", "webp", "avif"].',
        )
