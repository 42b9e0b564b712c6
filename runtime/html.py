"""HTML text helpers for the renderer: attribute values, attribute names, inline styles, srcset.

Everything here returns text that is safe to place between double quotes in an attribute.
The renderer calls these for every value it did not compute itself, and the results that
depend only on the image data are cached (per string), so the hot path does no regex work
and never escapes the same URL twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from markupsafe import escape

# Caches keyed by input string. Bounded: a long-running server that renders ever-new values
# (user-supplied styles, say) must not grow without limit; clearing is cheaper than an LRU.
_CACHE_LIMIT: Final = 4096

# An attribute name we are willing to write: ASCII letter first, then letters, digits and
# `-`, `_`, `.`, `:`. Anything else (spaces, quotes, `=`, `>`, `/`) could end the tag.
_ATTRIBUTE_NAME: Final = re.compile(r"[a-z][a-z0-9_.:-]*\Z")
# Custom elements need a hyphen; plain tags are letters and digits. Lower case only.
_TAG_NAME: Final = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*\Z")
_CAMEL_HUMP: Final = re.compile(r"(?<=[a-z0-9])([A-Z])")
# A srcset descriptor: width (`480w`), density (`2x`, `1.5x`) or the rare height (`300h`).
_DESCRIPTOR: Final = re.compile(r"\d+(?:\.\d+)?[wxh]\Z")
_HTML_WHITESPACE: Final = " \t\n\r\f"
_GATSBY_SEPARATOR: Final = re.compile(r",[ \t\r\f]*\n")
_SPACED_SEPARATOR: Final = re.compile(r",[ \t\n\r\f]+")

_names: dict[str, str] = {}
_css_names: dict[str, str] = {}
_srcsets: dict[str, str] = {}
_escaped: dict[str, str] = {}
_candidates: dict[str, tuple[tuple[str, str], ...]] = {}


def attribute_value(value: object) -> str:
    """`value` as text for a double-quoted attribute.

    A value with `__html__` (markupsafe `Markup`, Jinja's safe strings) is already HTML: its
    entities stay as they are, and only `"` is escaped, which is all it takes to keep it
    inside the quotes. Everything else is escaped in full.
    """
    html = getattr(value, "__html__", None)
    if html is not None:
        return str(html()).replace('"', "&#34;")
    return str(escape(str(value)))


def escaped(value: str) -> str:
    """`attribute_value` for strings that come from image data: cached, they repeat a lot."""
    result = _escaped.get(value)
    if result is None:
        if len(_escaped) >= _CACHE_LIMIT:
            _escaped.clear()
        result = _escaped[value] = attribute_value(value)
    return result


def attribute_name(key: str) -> str:
    """The HTML name of a Python keyword argument meant for the `<img>`.

    `data_testid` → `data-testid` and `aria_label` → `aria-label` (Python names cannot hold
    hyphens); every other name is lower-cased, so React's `tabIndex` or `fetchPriority`
    work. Raises TypeError for a name that could break out of the tag.
    """
    name = _names.get(key)
    if name is None:
        name = key.lower()
        if name.startswith(("data_", "aria_")):
            name = name.replace("_", "-")
        if not _ATTRIBUTE_NAME.match(name):
            raise TypeError(
                f"{key!r} is not an attribute name staticimg will write: use ASCII letters, "
                "digits, '-', '_', '.' and ':', starting with a letter (data_foo becomes "
                "data-foo)"
            )
        if len(_names) >= _CACHE_LIMIT:
            _names.clear()
        _names[key] = name
    return name


def tag_name(value: str) -> str:
    """A wrapper element name (`as_`), checked: it is written into the HTML unescaped."""
    if not isinstance(value, str) or not _TAG_NAME.match(value):
        raise TypeError(
            f"as_={value!r} is not an element name: use a lower-case tag such as 'div', "
            "'span', 'figure' or a custom element like 'my-image'"
        )
    return value


def css_name(key: str) -> str:
    """A CSS property name from any spelling: `backgroundColor`, `background_color` and
    `background-color` are the same property. Custom properties (`--x`) are kept as given."""
    name = _css_names.get(key)
    if name is None:
        if key.startswith("--"):
            name = key
        else:
            name = _CAMEL_HUMP.sub(r"-\1", key).replace("_", "-").lower()
            # React's vendor prefixes: WebkitTransition → -webkit-transition
            if key[:1].isupper():
                name = "-" + name
        if len(_css_names) >= _CACHE_LIMIT:
            _css_names.clear()
        _css_names[key] = name
    return name


def style_text(style: str | Mapping[str, object] | None) -> str:
    """Inline CSS declarations, unescaped, without a trailing `;` ("" for none).

    A mapping gives one `name:value` per entry whose value is not None or False. Numbers are
    written as they are (no `px` is added: give units, `"10px"`), as in a style attribute.
    """
    if not style:
        return ""
    if isinstance(style, str):
        return style.strip().rstrip(";").strip()
    if not isinstance(style, Mapping):
        raise TypeError(f"style must be a CSS string or a mapping, not {type(style).__name__}")
    return ";".join(
        f"{css_name(key)}:{value}"
        for key, value in style.items()
        if value is not None and value is not False
    )


def join_styles(*declarations: str) -> str:
    """Join declaration lists with `;`, skipping empty ones."""
    return ";".join(part for part in declarations if part)


def srcset(value: str) -> str:
    """A srcset as attribute text: candidates joined by `,`, URLs without raw whitespace or
    commas (percent-encoded), escaped. Cached per input string.

    Image data keeps Gatsby's `"<url> <w>w,\\n<url> <w>w"` form; there `,\\n` separates the
    candidates and the last word of each is its descriptor, so even a URL with a space or a
    comma is recovered whole. A srcset without newlines is split as a browser would split it.
    """
    result = _srcsets.get(value)
    if result is None:
        candidates = srcset_candidates(value)
        text = ",".join(
            _srcset_url(url) + (" " + descriptor if descriptor else "")
            for url, descriptor in candidates
        )
        if len(_srcsets) >= _CACHE_LIMIT:
            _srcsets.clear()
        result = _srcsets[value] = attribute_value(text)
    return result


def srcset_candidates(value: str) -> tuple[tuple[str, str], ...]:
    """(url, descriptor) pairs of a srcset; the descriptor is "" when there is none. Cached."""
    result = _candidates.get(value)
    if result is None:
        if len(_candidates) >= _CACHE_LIMIT:
            _candidates.clear()
        result = _candidates[value] = tuple(_parse_srcset(value))
    return result


def _parse_srcset(value: str) -> list[tuple[str, str]]:
    candidates: list[tuple[str, str]] = []
    # Image data joins candidates with `,\n`: split there first, so a URL that holds a
    # comma or a space still stays in one piece.
    for chunk in _GATSBY_SEPARATOR.split(value) if "\n" in value else (value,):
        parsed = _split_html(chunk)
        if all(not descriptor or _DESCRIPTOR.match(descriptor) for _, descriptor in parsed):
            candidates += parsed
        else:
            # A browser would drop these: most likely a URL with a space in it, which reads
            # right when the last word of each `, `-separated entry is the descriptor.
            candidates += _split_words(_SPACED_SEPARATOR, chunk)
    return candidates


def _split_words(separator: re.Pattern[str], value: str) -> list[tuple[str, str]]:
    candidates: list[tuple[str, str]] = []
    for entry in separator.split(value):
        entry = entry.strip(_HTML_WHITESPACE + ",")
        if not entry:
            continue
        url, _, last = entry.rpartition(" ")
        if url and _DESCRIPTOR.match(last):
            candidates.append((url.strip(_HTML_WHITESPACE), last))
        else:
            candidates.append((entry, ""))
    return candidates


def _split_html(value: str) -> list[tuple[str, str]]:
    """The HTML standard's srcset parsing, minus the descriptor grammar we never emit."""
    candidates: list[tuple[str, str]] = []
    position, end = 0, len(value)
    while True:
        while position < end and (value[position] in _HTML_WHITESPACE or value[position] == ","):
            position += 1
        if position >= end:
            return candidates
        start = position
        while position < end and value[position] not in _HTML_WHITESPACE:
            position += 1
        url = value[start:position]
        descriptor = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            comma = value.find(",", position)
            stop = end if comma < 0 else comma
            descriptor = " ".join(value[position:stop].split())
            position = stop + 1
        candidates.append((url, descriptor))


def _srcset_url(url: str) -> str:
    """Percent-encode what would split a srcset candidate: whitespace and commas.

    The first comma of a `data:` URL separates its header from its payload and must stay;
    any later one is payload, which a data URL percent-decodes anyway.
    """
    if url.startswith("data:"):
        head, comma, payload = url.partition(",")
        return _encode_url_breaks(head) + comma + _encode_url_breaks(payload)
    return _encode_url_breaks(url)


def _encode_url_breaks(text: str) -> str:
    if "," not in text and not any(space in text for space in _HTML_WHITESPACE):
        return text
    return (
        text.replace(",", "%2C")
        .replace(" ", "%20")
        .replace("\t", "%09")
        .replace("\n", "%0A")
        .replace("\r", "%0D")
        .replace("\f", "%0C")
    )


def number(value: float) -> str:
    """A number as JavaScript prints it: `480`, not `480.0`; `418.56` as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)
