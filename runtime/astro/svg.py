"""SVG files: safe parsing, sizing, and the inline `Svg` component (Astro's SVG components).

`parse_svg` reads an SVG document with the standard library's expat parser and returns what
inlining needs: the root `<svg>` attributes, its children serialised as HTML-ready SVG
markup, and the size Astro's metadata reader (the vendored `image-size`) would report.

Safety comes first, because an SVG is a document that can run code:

* A DTD internal subset or any entity declaration is refused (billion laughs, external
  entities); external DTDs are never loaded. A bare `<!DOCTYPE svg PUBLIC …>` line, as
  many editors write it, is ignored, as Astro ignores it.
* Inlined markup keeps shapes, text, styles, gradients, `<use>`/`<defs>`, and drops what runs
  code or embeds documents: `<script>` (and SVG Tiny's `<handler>`/`<listener>`), every
  `on*` attribute, `javascript:`/`vbscript:` and non-image `data:` URLs, animations that
  would write such a URL, `<foreignObject>` with its contents, `<iframe>`/`<embed>`/`<object>`.
  Elements and attributes in editors' namespaces (Inkscape, Sodipodi, RDF metadata) are
  dropped too: they do nothing in a page.
* `check_svg`/`is_active_svg` report active content for the build, which serves SVG files
  unchanged as `<img>` sources: a file with scripts is refused there rather than published,
  since opening its URL directly would run them on the site's origin.

The serialiser is our own, so output never carries ElementTree's `ns0:` prefixes: element
names are written bare, `xlink:`/`xml:` attributes with the prefixes HTML's parser expects,
and every text and attribute value is escaped.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from xml.parsers import expat

from markupsafe import Markup, escape

from staticimg import data_store, html, notice
from staticimg.injected import pop_injected

__all__ = [
    "Svg",
    "SvgDocument",
    "check_svg",
    "configure",
    "is_active_svg",
    "parse_svg",
    "render_svg",
    "svg_record",
    "svg_size",
]

SVG_NS: Final = "http://www.w3.org/2000/svg"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
_KNOWN_PREFIXES: Final = {"xlink": XLINK_NS, "xml": XML_NS, "svg": SVG_NS}
_DROPPED_ROOT_ATTRIBUTES: Final = frozenset({"version"})  # xmlns and xmlns:* never get here

# Elements that run code or embed another document, in any namespace and any case (HTML's
# parser lower-cases tag names, so `<SCRIPT>` in a file is a script once inlined).
_ACTIVE_ELEMENTS: Final = frozenset(
    {
        "script",
        "handler",
        "listener",
        "iframe",
        "frame",
        "frameset",
        "embed",
        "object",
        "applet",
        "meta",
        "base",
        "portal",
    }
)
# Dropped from inline output without making a file "active": HTML content in SVG.
_DROPPED_ELEMENTS: Final = frozenset({"foreignobject"})
_ANIMATIONS: Final = frozenset({"animate", "set", "animatecolor", "animatemotion"})
_ANIMATION_VALUES: Final = ("to", "from", "by", "values")
# Attributes whose value is a URL a browser may navigate to, load or submit to.
_URL_ATTRIBUTES: Final = frozenset(
    {"href", "src", "action", "formaction", "data", "poster", "codebase", "background"}
)
_SAFE_DATA_MEDIA: Final = "image/"
_CODE_SCHEMES: Final = frozenset({"javascript", "vbscript", "livescript"})
_SCHEME: Final = re.compile(r"([a-z][a-z0-9+.\-]*):")
# What a browser strips from a URL before reading its scheme: C0 controls and space at the
# ends, tab and newlines anywhere (`java\nscript:` is `javascript:`).
_URL_STRIP: Final = "".join(chr(c) for c in range(0x21))
_URL_INNER_WHITESPACE: Final = re.compile(r"[\t\n\r]")

# Astro's units (vendored image-size), with one fix: a pica is 12pt = 16px. image-size
# writes 96/72/12 (1/9 px), which makes `width="6pc"` a 1px image; CSS and SVG say 16px.
_UNITS: Final = {
    "": 1.0,
    "px": 1.0,
    "in": 96.0,
    "cm": 96.0 / 2.54,
    "mm": 96.0 / 25.4,
    "pt": 96.0 / 72.0,
    "pc": 16.0,
    "em": 16.0,
    "ex": 8.0,
}
_LENGTH: Final = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z%]*)\s*\Z")
_VIEWBOX_SPLIT: Final = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class SvgDocument:
    """An SVG file made ready to inline.

    `attributes` are the root `<svg>` attributes minus `xmlns`, `xmlns:*` and `version`
    (sanitised: no `on*`, no script URLs); `inner` is the root's children as HTML-ready
    markup. `width`/`height` are in CSS pixels as Astro sizes SVGs: the `width`/`height`
    attributes with units (`%` ignored), else the viewBox; with one of them and a viewBox the
    other follows the viewBox's ratio, floored. None when the file does not say.
    """

    attributes: dict[str, str]
    inner: str
    width: float | None = None
    height: float | None = None


# --- parsing -------------------------------------------------------------------------------


class _Stop(Exception):
    """Raised from a handler when the root element has ended: the rest is not read."""


@dataclass(slots=True)
class _Frame:
    scope: dict[str, str]  # prefix ("" for the default namespace) → namespace URI
    name: str  # output name, "" when not written
    skipped: bool  # this element and its subtree are not written


class _Reader:
    """One pass over a document with expat: writes the sanitised inner markup and notes
    every piece of active content it finds (the build refuses a file with any)."""

    def __init__(self) -> None:
        self.parser = expat.ParserCreate()
        self.parser.ordered_attributes = True
        self.parser.buffer_text = True
        # Never read an external DTD or parameter entity: nothing outside the text is loaded.
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.EntityDeclHandler = self._entity
        self.parser.UnparsedEntityDeclHandler = self._unparsed_entity
        self.parser.SkippedEntityHandler = self._skipped_entity
        self.parser.ExternalEntityRefHandler = self._external_entity
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.stack: list[_Frame] = []
        self.out: list[str] = []
        self.open_tag = False  # the last start tag written still lacks its `>`
        self.root_attributes: dict[str, str] | None = None
        self.raw_root: dict[str, str] = {}
        self.findings: list[str] = []
        self.done = False

    def read(self, data: str | bytes) -> None:
        try:
            self.parser.Parse(data, True)
        except _Stop:
            pass
        except expat.ExpatError as exc:
            raise ValueError(
                f"not a well-formed SVG file ({expat.ErrorString(exc.code)} at line "
                f"{exc.lineno}, column {exc.offset + 1}): fix the XML, or re-export the file "
                "from your editor as plain SVG"
            ) from None
        if self.root_attributes is None:
            raise ValueError("no <svg> element found: is this an SVG file?")

    # -- refusals (DTDs are where XML's expansion and external-fetch attacks live)

    def _doctype(
        self, name: str, system_id: str | None, public_id: str | None, internal: int
    ) -> None:
        if internal:
            raise ValueError(
                "the SVG has a DOCTYPE with an internal subset ([...]): staticimg refuses "
                "DTD declarations, which can expand entities without bound (billion laughs) "
                "or read other files (external entities). Delete the DOCTYPE; SVG needs none"
            )

    def _entity(self, name: str, *_: object) -> None:
        raise ValueError(
            f"the SVG declares the entity {name!r}: staticimg refuses entity declarations "
            "(billion laughs, external entities). Write the text out and delete the DOCTYPE"
        )

    def _unparsed_entity(self, name: str, *_: object) -> None:
        self._entity(name)

    def _skipped_entity(self, name: str, is_parameter: int) -> None:
        raise ValueError(
            f"the SVG uses the entity &{name}; which only an external DTD defines, and "
            "staticimg never loads one: write the character itself (or &#NNNN;)"
        )

    def _external_entity(self, *_: object) -> int:
        raise ValueError(
            "the SVG refers to an external entity: staticimg never loads other files "
            "while reading an SVG. Delete the DOCTYPE and the entity references"
        )

    # -- elements

    def _start(self, name: str, flat: list[str]) -> None:
        parent = self.stack[-1] if self.stack else None
        scope = parent.scope if parent else {}
        attributes = list(zip(flat[::2], flat[1::2], strict=True))
        declared = [(n, v) for n, v in attributes if n == "xmlns" or n.startswith("xmlns:")]
        if declared:
            scope = dict(scope)
            for key, value in declared:
                scope["" if key == "xmlns" else key[6:]] = value
        namespace, local = _resolve(name, scope, element=True)
        lower = local.lower()
        svg_like = namespace in (SVG_NS, "")

        if lower in _ACTIVE_ELEMENTS:
            self.findings.append(f"a <{local}> element")
        active_animation = False
        if lower in _ANIMATIONS:
            active_animation = self._check_animation(local, attributes)

        if parent is None:
            if not (svg_like and lower == "svg"):
                raise ValueError(
                    f"the root element is <{name}>, not <svg>: only SVG documents can be used"
                )
            self.raw_root = {n: v for n, v in attributes if n != "xmlns" and ":" not in n}
            kept = self._attributes(attributes, scope, local)
            self.root_attributes = {
                key: value for key, value in kept if key not in _DROPPED_ROOT_ATTRIBUTES
            }
            self.stack.append(_Frame(scope, "svg", skipped=False))
            return

        skipped = (
            parent.skipped
            or not svg_like
            or lower in _ACTIVE_ELEMENTS
            or lower in _DROPPED_ELEMENTS
            or active_animation
        )
        kept = self._attributes(attributes, scope, local)  # checked even when not written
        if skipped:
            self.stack.append(_Frame(scope, "", skipped=True))
            return
        self._close_open_tag()
        self.out.append("<" + local)
        for key, value in kept:
            self.out.append(f' {key}="{escape(value)}"')
        self.open_tag = True
        self.stack.append(_Frame(scope, local, skipped=False))

    def _end(self, name: str) -> None:
        frame = self.stack.pop()
        if not self.stack:
            self._close_open_tag()
            raise _Stop
        if frame.skipped:
            return
        if self.open_tag:
            self.out.append("/>")  # self-closing is fine for SVG (foreign) elements in HTML
            self.open_tag = False
        else:
            self.out.append(f"</{frame.name}>")

    def _text(self, text: str) -> None:
        if not self.stack or self.stack[-1].skipped:
            return
        self._close_open_tag()
        # Inside <svg> HTML's parser decodes character references in every element,
        # <style> included, so escaping keeps CSS like `a > b` intact.
        self.out.append(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))

    def _close_open_tag(self) -> None:
        if self.open_tag:
            self.out.append(">")
            self.open_tag = False

    def _attributes(
        self, attributes: list[tuple[str, str]], scope: dict[str, str], element: str
    ) -> list[tuple[str, str]]:
        """The attributes to write, as (HTML name, value); notes active ones."""
        kept: list[tuple[str, str]] = []
        for key, value in attributes:
            if key == "xmlns" or key.startswith("xmlns:"):
                continue
            namespace, local = _resolve(key, scope, element=False)
            lower = local.lower()
            if lower.startswith("on"):
                self.findings.append(f"an event handler attribute {key}= on <{element}>")
                continue
            is_url = lower in _URL_ATTRIBUTES or (namespace == XML_NS and lower == "base")
            if is_url and _dangerous_url(value):
                self.findings.append(f"a {_scheme_label(value)} URL in {key}= on <{element}>")
                continue
            if namespace == "":
                kept.append((local, value))
            elif namespace == XLINK_NS:
                kept.append(("xlink:" + local, value))
            elif namespace == XML_NS and lower in ("space", "lang"):
                kept.append(("xml:" + local, value))
            # other namespaces (editors' metadata, xml:base) are not written
        return kept

    def _check_animation(self, element: str, attributes: list[tuple[str, str]]) -> bool:
        """Whether an animation would write a script URL into an attribute (`<animate
        attributeName="href" values="javascript:…">` on an `<a>`) or set an event handler."""
        values = dict(attributes)
        target = values.get("attributeName", "").strip().lower().rpartition(":")[2]
        if target.startswith("on"):
            self.findings.append(f"an <{element}> that sets the event handler {target}=")
            return True
        if target not in _URL_ATTRIBUTES:
            return False
        for key in _ANIMATION_VALUES:
            for part in values.get(key, "").split(";"):
                if _dangerous_url(part):
                    self.findings.append(
                        f"an <{element}> that sets {target}= to a {_scheme_label(part)} URL"
                    )
                    return True
        return False


def _resolve(name: str, scope: Mapping[str, str], *, element: bool) -> tuple[str, str]:
    """(namespace URI, local name) for a qualified name; "" is no namespace, which for an
    element means SVG (a file without `xmlns` is still SVG once inlined in HTML).

    An undeclared `xlink:` or `xml:` prefix is taken as the well-known namespace: files cut
    from HTML often omit `xmlns:xlink`, and browsers accept them inline."""
    prefix, colon, local = name.partition(":")
    if not colon:
        return (scope.get("", "") if element else ""), name
    namespace = scope.get(prefix) or _KNOWN_PREFIXES.get(prefix, "urn:staticimg:unbound")
    if prefix == "xml":
        namespace = XML_NS
    return namespace, local


def _url_text(value: str) -> str:
    return _URL_INNER_WHITESPACE.sub("", value.strip(_URL_STRIP)).lower()


def _dangerous_url(value: str) -> bool:
    text = _url_text(value)
    match = _SCHEME.match(text)
    if match is None:
        return False
    scheme = match.group(1)
    if scheme in _CODE_SCHEMES:
        return True
    if scheme == "data":
        return not text[5:].lstrip().startswith(_SAFE_DATA_MEDIA)
    return False


def _scheme_label(value: str) -> str:
    match = _SCHEME.match(_url_text(value))
    scheme = match.group(1) if match else "script"
    return f"{scheme}: (non-image)" if scheme == "data" else f"{scheme}:"


def _read(data: str | bytes) -> _Reader:
    reader = _Reader()
    reader.read(data)
    return reader


def parse_svg(text: str) -> SvgDocument:
    """Parse an SVG document into its root attributes, sanitised inner markup and size.

    Only the first root `<svg>` is read; anything after it is ignored. Raises ValueError for
    a document that is not well-formed XML, whose root is not `<svg>`, or that declares a
    DTD internal subset or entities.
    """
    return _document(text)


def _document(data: str | bytes) -> SvgDocument:
    # bytes: expat honours the file's own encoding declaration (UTF-16, Latin-1, …)
    reader = _read(data)
    assert reader.root_attributes is not None  # read() raises otherwise
    width, height = _size(reader.raw_root)
    return SvgDocument(reader.root_attributes, "".join(reader.out), width, height)


def check_svg(data: bytes) -> str | None:
    """Why an SVG file must not be published as it is, or None when it may.

    A reason is active content (scripts, event handlers, script URLs, embedded documents)
    or a file that cannot be read safely (not well-formed, a DTD with entities)."""
    try:
        reader = _read(data)
    except ValueError as exc:
        return str(exc)
    if reader.findings:
        found = "; ".join(dict.fromkeys(reader.findings))
        return (
            f"the SVG has active content ({found}): a browser opening the file runs it on "
            "your site. Remove it, or re-export the file without scripts or interactivity"
        )
    return None


def is_active_svg(data: bytes) -> bool:
    """Whether an SVG file holds scripts, event handlers, script URLs or embedded documents.

    Fails closed: a file that cannot be parsed safely counts as active (`check_svg` says
    why)."""
    return check_svg(data) is not None


def svg_size(data: bytes) -> tuple[int, int] | None:
    """The size Astro gives an SVG file, in whole pixels (lengths rounded half up), or None
    when the file cannot be read or does not say both."""
    try:
        reader = _read(data)
    except ValueError:
        return None
    width, height = _size(reader.raw_root)
    if width is None or height is None:
        return None
    return _round(width), _round(height)


def svg_record(document: SvgDocument) -> dict[str, Any]:
    """The build's data record for an inline SVG: what `Svg(__image_data=...)` renders."""
    record: dict[str, Any] = {
        "astro": "svg",
        "attributes": dict(document.attributes),
        "inner": document.inner,
    }
    if document.width is not None and document.height is not None:
        record["width"] = _json_number(document.width)
        record["height"] = _json_number(document.height)
    return record


# --- sizing --------------------------------------------------------------------------------


def _length(value: str | None) -> float | None:
    if value is None:
        return None
    match = _LENGTH.match(value)
    if match is None:
        return None
    factor = _UNITS.get(match.group(2).lower())
    if factor is None:  # `%`, or a unit without an absolute size (vw, …)
        return None
    return float(match.group(1)) * factor


def _viewbox(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    parts = [part for part in _VIEWBOX_SPLIT.split(value.strip()) if part]
    if len(parts) != 4:
        return None
    try:
        width, height = float(parts[2]), float(parts[3])
    except ValueError:
        return None
    if not (width > 0 and height > 0 and math.isfinite(width) and math.isfinite(height)):
        return None
    return width, height


def _size(root: Mapping[str, str]) -> tuple[float | None, float | None]:
    width = _length(root.get("width"))
    height = _length(root.get("height"))
    if width and height:
        return width, height
    # As Astro: a zero length counts as unset, so the viewBox decides when there is one.
    viewbox = _viewbox(root.get("viewBox"))
    if viewbox is not None:
        ratio = viewbox[0] / viewbox[1]
        if width:
            return width, float(math.floor(width / ratio))
        if height:
            return float(math.floor(height * ratio)), height
        return viewbox
    return width, height  # `width="0" height="0"` is a size (Astro accepts it)


def _round(value: float) -> int:
    return math.floor(value + 0.5)  # JavaScript's Math.round, not banker's rounding


def _json_number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


# --- the component -------------------------------------------------------------------------

# SVG attributes spelled in camelCase (the HTML standard's "adjust SVG attributes" table):
# `view_box` or `viewBox` → `viewBox`. Other snake_case or camelCase names are hyphenated.
_CAMEL_ATTRIBUTES: Final = [
    "attributeName",
    "attributeType",
    "baseFrequency",
    "baseProfile",
    "calcMode",
    "clipPathUnits",
    "diffuseConstant",
    "edgeMode",
    "filterUnits",
    "glyphRef",
    "gradientTransform",
    "gradientUnits",
    "kernelMatrix",
    "kernelUnitLength",
    "keyPoints",
    "keySplines",
    "keyTimes",
    "lengthAdjust",
    "limitingConeAngle",
    "markerHeight",
    "markerUnits",
    "markerWidth",
    "maskContentUnits",
    "maskUnits",
    "numOctaves",
    "pathLength",
    "patternContentUnits",
    "patternTransform",
    "patternUnits",
    "pointsAtX",
    "pointsAtY",
    "pointsAtZ",
    "preserveAlpha",
    "preserveAspectRatio",
    "primitiveUnits",
    "refX",
    "refY",
    "repeatCount",
    "repeatDur",
    "requiredExtensions",
    "requiredFeatures",
    "specularConstant",
    "specularExponent",
    "spreadMethod",
    "startOffset",
    "stdDeviation",
    "stitchTiles",
    "surfaceScale",
    "systemLanguage",
    "tableValues",
    "targetX",
    "targetY",
    "textLength",
    "viewBox",
    "viewTarget",
    "xChannelSelector",
    "yChannelSelector",
    "zoomAndPan",
]
_CAMEL_HUMP: Final = re.compile(r"(?<=[a-z0-9])([A-Z])")
_BY_SNAKE: Final = {_CAMEL_HUMP.sub(r"_\1", name).lower(): name for name in _CAMEL_ATTRIBUTES}
_SPECIAL_NAMES: Final = {
    "class": "class",
    "class_": "class",
    "class_name": "class",
    "className": "class",
    "xlink_href": "xlink:href",
    "xml_space": "xml:space",
    "xml_lang": "xml:lang",
}
# Attributes where `False` is a value to write ("false"), not "leave the attribute out".
_FALSE_WRITTEN: Final = frozenset(
    {"focusable", "preserveAlpha", "externalResourcesRequired", "autoReverse", "draggable"}
)
_PROP_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]*\Z")
_names: dict[str, str] = {}


def _attribute_name(key: str) -> str:
    """The SVG attribute a keyword argument sets."""
    name = _names.get(key)
    if name is not None:
        return name
    if not _PROP_NAME.match(key):
        raise TypeError(
            f"{key!r} is not an attribute name Svg will write: use letters, digits and '_' "
            "(aria_hidden becomes aria-hidden, view_box becomes viewBox)"
        )
    name = _SPECIAL_NAMES.get(key)
    if name is None:
        if key in _CAMEL_ATTRIBUTES:
            name = key
        else:
            snake = _CAMEL_HUMP.sub(r"_\1", key).lower()
            name = _BY_SNAKE.get(snake) or snake.replace("_", "-")
    if len(_names) > 1024:
        _names.clear()
    _names[key] = name
    return name


def _attribute_text(name: str, value: object) -> str | None:
    """The value to write, or None to leave the attribute out (`Markup` stays `Markup`, so
    its entities are not escaped twice)."""
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        lowered = name.lower()
        if lowered.startswith(("aria-", "data-")) or name in _FALSE_WRITTEN:
            return "false"
        return None
    text: str
    if name == "style" and isinstance(value, Mapping):
        text = html.style_text(value)
    elif isinstance(value, int | float):
        text = html.number(value)
    elif isinstance(value, list | tuple):
        text = " ".join(str(part) for part in value)  # class lists, viewBox numbers
    elif isinstance(value, str):
        text = value  # Markup included
    else:
        text = str(value)
    return text if text != "" else None


def _merge(file_attributes: Mapping[str, str], props: Mapping[str, Any]) -> str:
    attributes: dict[str, object] = dict(file_attributes)
    for key, value in props.items():
        name = _attribute_name(key)
        if name.lower().startswith("on"):
            raise ValueError(
                f"Svg does not take event handlers ({key}=): inline SVG is rendered without "
                "scripts. Attach the listener from your page's script instead"
            )
        attributes[name] = value  # props override the file's attributes, in its place
    parts: list[str] = []
    for name, value in attributes.items():
        text = _attribute_text(name, value)
        if text is None:
            continue
        if (name.lower() in _URL_ATTRIBUTES or name == "xlink:href") and _dangerous_url(str(text)):
            raise ValueError(
                f"Svg refuses {name}={str(text)!r}: script and non-image data: URLs are not "
                "written into inline SVG"
            )
        parts.append(f' {name}="{html.attribute_value(text)}"')
    return "".join(parts)


def render_svg(document: SvgDocument | Mapping[str, Any], props: Mapping[str, Any]) -> Markup:
    """`<svg {file attributes, overridden by props}>{inner}</svg>` for a parsed file or a
    build record."""
    if isinstance(document, SvgDocument):
        attributes, inner = document.attributes, document.inner
    else:
        attributes, inner = document.get("attributes") or {}, document.get("inner") or ""
        if not isinstance(attributes, Mapping) or not isinstance(inner, str):
            raise TypeError("an SVG record needs an `attributes` mapping and an `inner` string")
    return Markup(f"<svg{_merge(attributes, props)}>{inner}</svg>")


def Svg(src: str | None = None, /, **props: Any) -> Markup:
    """An SVG file inlined as `<svg>`: `Svg("/icons/logo.svg", width=64, fill="currentColor")`.

    `src` may also be given as a keyword. Props become attributes on the `<svg>`, replacing
    the file's own (`class_`/`class_name` → `class`, `aria_hidden` → `aria-hidden`,
    `view_box` → `viewBox`, a `style` mapping → CSS text); None leaves an attribute out.
    `on*` props are refused. After `staticimg build` the call carries `__image_data` and
    renders from the build's record; a call the build could not resolve reads the file at
    render time, which needs a `/`-rooted src under the static root.
    """
    if src is None:
        src = props.pop("src", None)
    image_data, error = pop_injected(props)
    if image_data is not None:
        record: Any = image_data
        if isinstance(image_data, str):
            record = data_store.load(image_data)
            if record is None:
                return notice.missing_data(src, image_data)
        if not isinstance(record, Mapping):
            raise TypeError(
                f"__image_data must be a reference string or an SVG record, not "
                f"{type(record).__name__}: run `staticimg build` again to rewrite the call"
            )
        if "error" in record:
            return notice.build_error(record["error"])
        if record.get("astro") != "svg":
            return notice.problem(
                f'The image data for "{src}" is not an SVG record: run `staticimg build` '
                "again to rewrite the call"
            )
        if error is not None:
            notice.log_once(error if isinstance(error, str) else notice.describe(error))
        return render_svg(record, props)
    if error is not None:
        return notice.build_error(error)
    if not isinstance(src, str) or not src:
        raise TypeError('Svg needs a src: Svg("/icons/logo.svg")')
    return render_svg(_load_static(src), props)


# --- dynamic calls: files under the static root ---------------------------------------------

_DEFAULT_STATIC_ROOT: Final = "static"


@dataclass(slots=True)
class _Files:
    configured_root: Path | None = None
    root: Path | None = None
    cache: dict[Path, tuple[int, int, SvgDocument]] | None = None


_files = _Files()
_files_lock = threading.Lock()


def configure(*, static_root: str | os.PathLike[str] | None = None) -> None:
    """Set the folder `/`-rooted Svg sources are read from at render time (the default is the
    project's `[tool.staticimg] static_root`, "static", beside the nearest pyproject.toml)."""
    with _files_lock:
        _files.configured_root = Path(static_root) if static_root is not None else None
        _files.root = None
        _files.cache = None


def _static_root() -> Path:
    root = _files.root
    if root is None:
        root = _files.configured_root or _project_static_root(Path.cwd())
        root = _files.root = root.resolve()
    return root


def _project_static_root(start: Path) -> Path:
    pyproject = data_store.find_pyproject(start)
    if pyproject is None:
        return start / _DEFAULT_STATIC_ROOT
    table = data_store.staticimg_table(pyproject)  # lenient: the build reports a broken file
    value = table.get("static_root", table.get("static-root"))
    folder = value if isinstance(value, str) and value else _DEFAULT_STATIC_ROOT
    return pyproject.parent / folder


def _load_static(src: str) -> SvgDocument:
    if not src.startswith("/") or src.startswith("//"):
        raise ValueError(
            f"Svg({src!r}) cannot be read at render time: only a /-rooted path under the "
            "static root can. Write the call with a constant src (a string literal) so "
            "`staticimg build` resolves it, or pass a path like '/icons/logo.svg'"
        )
    root = _static_root()
    relative = src.split("?", 1)[0].split("#", 1)[0].lstrip("/")
    try:
        path = (root / relative).resolve(strict=True)
    except (OSError, RuntimeError):
        raise FileNotFoundError(f"Svg({src!r}): no such file under {root}") from None
    # Resolved first, so `..` and symlinks that lead out of the static root are both caught.
    if not path.is_relative_to(root) or not path.is_file():
        raise ValueError(
            f"Svg({src!r}) resolves outside the static root {root} (through '..' or a "
            "symlink): only files inside it are read"
        )
    stat = path.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    with _files_lock:
        cache = _files.cache
        if cache is None:
            cache = _files.cache = {}
        hit = cache.get(path)
    if hit is not None and hit[:2] == key:
        return hit[2]
    document = _document(path.read_bytes())
    with _files_lock:
        if len(cache) >= 512:
            cache.clear()
        cache[path] = (*key, document)
    return document
