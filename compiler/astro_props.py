"""Plan Astro-style calls: `Image(...)`, `Picture(...)`, `get_image(...)`, `Svg(...)` and the
images of Markdown files, from their evaluated arguments to an `AstroRequest`.

Unlike `StaticImage`, these calls may be dynamic: Astro renders them at request time through
the `/_image` endpoint (or a CDN's URLs). So a call whose build props are all constants is
built ahead of time, and a call with any non-constant build prop is left for the runtime,
without an error. What is constant is validated here the way Astro validates it, as coded
diagnostics (docs/errors.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from staticimg.compiler.diagnostics import Diagnostic, Span
from staticimg.compiler.props import (
    _SKIP,
    CROP_FOCUS_NAMES,
    INJECTED_PROPS,
    MAX_DENSITY,
    MAX_DIMENSION,
    Validator,
    _At,
    _boolean,
    _choice,
    _colour,
    _is_number,
    _list_of,
    _number,
    _quoted,
    _Reject,
    _Report,
    _run,
    _show,
    _squash,
    _src,
    _string,
)
from staticimg.compiler.scan.calls import ArgKind, FoundCall, Unresolved
from staticimg.hashing import props_hash

__all__ = ["ASTRO_CALLEES", "AstroRequest", "plan_astro_call"]

# Callee name → what the build makes for it. Markdown images render through `Image`.
ASTRO_CALLEES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Image": "image",
        "get_image": "image",
        "astro_get_image": "image",  # the template global's name (`get_image` is Gatsby's)
        "Picture": "picture",
        "Svg": "svg",
        "Markdown": "image",
    }
)


@dataclass(frozen=True, slots=True)
class AstroRequest:
    """One static Astro call's build options, normalised (snake_case, JSON-ready)."""

    file: str  # project-relative, POSIX separators
    callee: str
    span: Span  # the callee as written
    src: str
    kind: str  # "image", "picture" or "svg"
    options: Mapping[str, Any]  # the build options given, `src` included
    src_span: Span | None = None

    def props_dict(self) -> dict[str, Any]:
        """What is hashed: the kind of result and the build options. A Markdown image and an
        `Image(src=...)` of the same file and src share one record, which is the same."""
        return {"astro": self.kind, **self.options}

    @property
    def hash(self) -> str:
        return props_hash(self.props_dict(), self.file)


# --------------------------------------------------------------------------------------------
# Values

LAYOUTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "constrained": "constrained",
        "fixed": "fixed",
        "full-width": "full-width",
        "fullwidth": "full-width",
        "full_width": "full-width",
        "none": "none",
    }
)
FITS: Final[Mapping[str, str]] = MappingProxyType(
    {f: f for f in ("fill", "contain", "cover", "none", "scale-down", "inside", "outside")}
)
# Astro's VALID_OUTPUT_FORMATS.
OUTPUT_FORMATS: Final[Mapping[str, str]] = MappingProxyType(
    {"avif": "avif", "png": "png", "webp": "webp", "jpeg": "jpeg", "jpg": "jpg", "svg": "svg"}
)
QUALITY_PRESETS: Final = ("low", "mid", "high", "max")


def _quality(value: Any, at: _At) -> int | str:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in QUALITY_PRESETS:
            return word
        if word.isdigit():
            value = int(word)  # Astro reads numeric strings as numbers
        else:
            raise _Reject(
                "SI205",
                f'`{at.name}` is "{value}": use a number from 1 to 100 or a preset, '
                f"{_quoted(QUALITY_PRESETS)}",
            )
    if not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
        raise _Reject(
            "SI204",
            f"`{at.name}` must be a whole number from 1 to 100 or a preset name, got "
            f"{_show(value)}",
        )
    if not 1 <= int(value) <= 100:
        raise _Reject("SI205", f"`{at.name}` must be from 1 to 100, got {int(value)}")
    return int(value)


def _dimension(value: Any, at: _At) -> int:
    """Astro's `<Image>` parses string widths with parseInt; sizes are rounded."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*(px)?\s*", value):
        value = int(value.strip().removesuffix("px"))
    number = _number(1, MAX_DIMENSION)(value, at)
    return int(number + 0.5)  # JavaScript's Math.round for positive numbers


def _density(value: Any, at: _At) -> float:
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?x\s*", value):
        value = float(value.strip()[:-1])
    number: float = _number(0, MAX_DENSITY, low_open=True)(value, at)
    return number


def _position(value: Any, at: _At) -> str:
    """CSS object-position keywords (one or two, either order, hyphens as in Astro's
    `data-astro-image-pos`), sharp's gravities and its strategies: what a crop can be placed
    by. Percentages and lengths cannot place a crop (sharp refuses them too)."""
    text = _string(value, at).strip()
    if _squash(text) in CROP_FOCUS_NAMES:
        return text
    raise _Reject(
        "SI205",
        f'`{at.name}` is "{text}": use CSS object-position keywords ("center", "top", '
        '"right top", …), a gravity ("north", "southeast", …), "entropy" or "attention"',
        "A crop is placed by keywords; percentages and lengths cannot place it.",
    )


_CHECKS: Final[Mapping[str, Validator]] = MappingProxyType(
    {
        "src": _src,
        "width": _dimension,
        "height": _dimension,
        "widths": _list_of(_dimension, "widths in pixels"),
        "densities": _list_of(_density, "pixel densities such as 1.5 or 2"),
        "layout": _choice(LAYOUTS, ("constrained", "fixed", "full-width", "none")),
        "fit": _choice(FITS, tuple(FITS)),
        "position": _position,
        "quality": _quality,
        "format": _choice(OUTPUT_FORMATS, tuple(OUTPUT_FORMATS)),
        "background": _colour(transparent=False),
        "infer_size": _boolean,
        # Picture only
        "formats": _list_of(
            _choice(OUTPUT_FORMATS, tuple(OUTPUT_FORMATS)), "formats such as avif or webp"
        ),
        "fallback_format": _choice(OUTPUT_FORMATS, tuple(OUTPUT_FORMATS)),
    }
)
ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "inferSize": "infer_size",
        "fallbackFormat": "fallback_format",
        "objectFit": "fit",
        "objectPosition": "position",
    }
)
PICTURE_ONLY: Final = frozenset({"formats", "fallback_format", "picture_attributes"})
# Build props of each kind of call; every other argument is an HTML attribute, which may be
# dynamic, as in Astro.
_BUILD_PROPS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "image": frozenset(_CHECKS) - PICTURE_ONLY,
        "picture": frozenset(_CHECKS),
        "svg": frozenset({"src"}),
    }
)
_NEEDS_ALT: Final = frozenset({"Image", "Picture"})
# The components take (src, alt) by position, like StaticImage; the others take only src.
_POSITIONAL: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {"Image": ("src", "alt"), "Picture": ("src", "alt")}
)

SI101_HINT: Final = (
    "Astro-style calls may be dynamic: this one is rendered on demand through the `/_image` "
    "endpoint instead of being built ahead."
)


def plan_astro_call(call: FoundCall) -> tuple[AstroRequest | None, list[Diagnostic]]:
    """Normalise and validate one static call's build options.

    Returns (None, []) for a dynamic call (a build prop or `**` spread that is not a
    constant): the runtime renders it on demand. Returns (None, errors) for a static call
    with an error.
    """
    kind = ASTRO_CALLEES[call.callee]
    build_props = _BUILD_PROPS[kind]
    report = _Report(call.file)
    seen: dict[str, Any] = {}
    options: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    for arg in call.args:
        if arg.kind is ArgKind.SPREAD:
            return None, []  # may carry build props: a dynamic call
        if arg.kind is ArgKind.POSITIONAL:
            positional = _POSITIONAL.get(call.callee, ("src",))
            if arg.index >= len(positional):
                report.add(
                    "SI103",
                    f"{call.callee} takes at most {len(positional)} positional argument"
                    f"{'s' if len(positional) > 1 else ''} ({', '.join(positional)}); "
                    f"argument {arg.index + 1} is one too many",
                    arg.span,
                    None,
                    "Pass the other props by keyword, e.g. width=800.",
                )
                continue
            name = positional[arg.index]
        else:
            name = ALIASES.get(arg.name or "", arg.name or "")
        if name in INJECTED_PROPS:
            continue
        if name in seen:
            report.add("SI206", f"`{name}` is given twice: keep one", arg.span, name)
            continue
        seen[name] = arg
        if name in PICTURE_ONLY and kind != "picture":
            report.add(
                "SI203",
                f"{call.callee} has no prop `{name}`: only Picture makes several formats",
                arg.span,
                name,
                "Use Picture(..., formats=[...]) for a <picture> with one <source> per format.",
            )
            continue
        if name == "alt" and arg.resolved and arg.value is not None:
            if not isinstance(arg.value, str):
                report.add("SI204", f"`alt` must be a string, got {_show(arg.value)}", arg.span,
                           "alt")  # fmt: skip
            continue
        if name not in build_props:
            continue  # an HTML attribute, rendered as given
        if isinstance(arg.value, Unresolved):
            return None, []  # a dynamic call: rendered on demand
        if arg.value is None and name != "src":
            continue
        value = _run(_CHECKS[name], arg.value, _At(name, name, arg.span, report))
        if value is not _SKIP:
            options[name] = list(value) if isinstance(value, tuple) else value
            spans[name] = arg.span

    if "src" not in seen:
        report.add("SI201", f"{call.callee} needs `src`", call.name_span, "src",
                   'Add src="…": a path relative to this file, a `/`-rooted path in the '
                   "static root, or an http(s) URL.")  # fmt: skip
    if call.callee in _NEEDS_ALT and (
        "alt" not in seen or (seen["alt"].resolved and seen["alt"].value is None)
    ):
        report.add(
            "SI202",
            f"{call.callee} needs `alt`",
            call.name_span,
            "alt",
            'Add alt="…" describing the image for people who cannot see it, or alt="" if it '
            "is purely decorative.",
        )
    # Markdown images have no size props: like Astro, the build infers a remote one's size.
    _check_combinations(options, spans, report, infer_size=call.callee == "Markdown")
    if any(d.is_error for d in report.diagnostics):
        return None, report.diagnostics
    src_span = spans.get("src")
    request = AstroRequest(
        call.file, call.callee, call.name_span, options["src"], kind, options, src_span
    )
    return request, report.diagnostics


def _check_combinations(
    options: dict[str, Any], spans: Mapping[str, Span], report: _Report, *, infer_size: bool
) -> None:
    if "widths" in options and "densities" in options:
        report.add(
            "SI207",
            "only one of `widths` and `densities` can be given: a srcset cannot mix "
            "width (w) and density (x) descriptors",
            spans["densities"],
            "densities",
            "Keep `widths` for an image whose size changes with the layout, or `densities` "
            "for a fixed-size image.",
        )
    src = options.get("src")
    if (
        isinstance(src, str)
        and re.match(r"https?://", src, re.IGNORECASE)
        and not (infer_size or options.get("infer_size"))
        and ("width" not in options or "height" not in options)
    ):
        missing = [p for p in ("width", "height") if p not in options]
        report.add(
            "SI208",
            f"missing {' and '.join(missing)} for the remote image {src}: a remote image "
            "needs both, so the page keeps its layout while it loads",
            spans["src"],
            "src",
            "Give width= and height=, or infer_size=True to read them from the downloaded "
            "image at build time.",
        )
