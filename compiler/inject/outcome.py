"""What `staticimg inject` writes into one call: `__image_data="<hash>"` or `__error="<text>"`.

The decision is a pure function of the planned call and the record `extract` stored for it
(`decide`); reading the record is separate (`Records`). The value is written as a string
literal that Python and Jinja both read back to exactly the same text (`string_literal`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import orjson

from staticimg.compiler.astro_props import AstroRequest
from staticimg.compiler.config import Config
from staticimg.compiler.data import data_file
from staticimg.compiler.diagnostics import Diagnostic, Span
from staticimg.compiler.plan import PlannedCall
from staticimg.compiler.props import ImageRequest

__all__ = [
    "ERROR",
    "IMAGE_DATA",
    "DamagedRecord",
    "InjectError",
    "Outcome",
    "Record",
    "Records",
    "Skipped",
    "decide",
    "diagnostic_line",
    "fstring_safe_literal",
    "string_literal",
]

IMAGE_DATA: Final = "__image_data"
ERROR: Final = "__error"

Keyword = Literal["__image_data", "__error"]


class InjectError(Exception):
    """A file cannot be rewritten safely (it changed since the scan, say): it is left alone."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A call left as it is, with why: the rest of its file is still rewritten."""

    span: Span
    reason: str


class DamagedRecord:
    """A data file that exists but is not a JSON object: something else wrote or cut it."""

    def __init__(self, path: Path) -> None:
        self.path = path


# What `extract` left for a props hash: the parsed JSON object, DamagedRecord, or None when
# there is no data file at all.
Record = Mapping[str, Any] | DamagedRecord | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The one argument a call gets: `keyword=value`, with `value` as plain text."""

    keyword: Keyword
    value: str  # the props hash for __image_data, the error text for __error

    @property
    def is_error(self) -> bool:
        return self.keyword == ERROR

    def argument(self, encoding: str = "utf-8") -> str:
        """The argument as source text, for a file saved in `encoding`."""
        return f"{self.keyword}={string_literal(self.value, encoding)}"


def decide(call: PlannedCall, record: Record) -> Outcome:
    """The outcome of one call, given the record stored under its props hash.

    A call that planned cleanly and has image data gets a reference to it. Every other call
    gets an error text, so the page shows why the image is missing instead of nothing: the
    planning errors, the image stage's error, or a request to run extract.
    """
    request = call.request
    if request is None:
        lines = [diagnostic_line(d) for d in call.errors]
        # plan_call returns no request only with an error; a generic line guards the contract.
        return Outcome(ERROR, "\n".join(lines) or f"{call.callee} could not be planned")
    if record is None:
        return Outcome(ERROR, f'No image data for "{request.src}": run `staticimg extract` first')
    if isinstance(record, DamagedRecord):
        return Outcome(
            ERROR,
            f'The image data for "{request.src}" ({record.path.name}) cannot be read: '
            "run `staticimg extract` again",
        )
    error = record.get("error")
    if error is not None:
        return Outcome(ERROR, _record_line(error, request))
    return Outcome(IMAGE_DATA, request.hash)


def diagnostic_line(diagnostic: Diagnostic) -> str:
    """`CODE file:line:col: message`, the form compilers use, on one line."""
    span = diagnostic.span
    location = diagnostic.file + (f":{span.line}:{span.column}" if span else "")
    return f"{diagnostic.code} {location}: {_one_line(diagnostic.message)}"


def _record_line(error: Any, request: ImageRequest | AstroRequest) -> str:
    """The line for an image-stage error record (`Diagnostic.to_json()`).

    The record was written when the call sat where the last extract saw it; the location is
    taken from the call as planned now instead (the image stage points at `src` when the
    error is about it, else at the callee), so that injecting, which may move calls down a
    line, does not make the next run's text differ. A foreign shape still gives a line.
    """
    if not isinstance(error, Mapping):
        return _one_line(str(error))
    span = request.src_span if error.get("prop") == "src" and request.src_span else request.span
    code = error.get("code") or "error"
    message = _one_line(str(error.get("message") or "the image failed"))
    return f"{code} {request.file}:{span.line}:{span.column}: {message}"


_LINE_BREAK = re.compile(r"\r\n|[\r\n]")


def _one_line(text: str) -> str:
    # One diagnostic per line: a message with its own line breaks would read as several.
    return _LINE_BREAK.sub(" ", text)


class Records:
    """Reads the record for each props hash once; `extra` (a build's records, still in
    memory) is consulted before the data folder."""

    def __init__(
        self,
        config: Config,
        extra: Mapping[str, Mapping[str, Any]] | None = None,
        reader: Callable[[Path], bytes] = Path.read_bytes,
    ) -> None:
        self._config = config
        self._extra = extra or {}
        self._read = reader
        self._seen: dict[str, Record] = {}

    def get(self, props_hash: str) -> Record:
        if props_hash in self._extra:
            return self._extra[props_hash]
        if props_hash not in self._seen:
            self._seen[props_hash] = self._load(data_file(self._config, props_hash))
        return self._seen[props_hash]

    def _load(self, path: Path) -> Record:
        try:
            raw = self._read(path)
        except FileNotFoundError:
            return None
        except OSError:
            return DamagedRecord(path)
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return DamagedRecord(path)
        return value if isinstance(value, dict) else DamagedRecord(path)


# --------------------------------------------------------------------------------------------
# String literals

# Escapes that Python and Jinja read the same way. Jinja unescapes a string token with
# `.encode("ascii", "backslashreplace").decode("unicode-escape")`, which knows exactly
# Python's escapes, so every escape written here means the same in both languages.
_SHORT_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def string_literal(text: str, encoding: str = "utf-8") -> str:
    """`text` as a double-quoted literal valid in Python and in Jinja, both of which read it
    back as `text` exactly.

    Backslashes, double quotes and line breaks are escaped; other control characters (which
    a source file should not hold raw) and characters the file's `encoding` cannot hold
    become `\\x`/`\\u`/`\\U` escapes. Everything else stays readable as it is.
    """
    out = ['"']
    for char in text:
        escaped = _SHORT_ESCAPES.get(char)
        if escaped is None and (_is_control(char) or not _encodable(char, encoding)):
            escaped = _code_point_escape(char)
        out.append(escaped or char)
    out.append('"')
    return "".join(out)


def fstring_safe_literal(
    text: str, single_quoted: str = "", triple_quoted: str = "", encoding: str = "utf-8"
) -> str | None:
    """A literal for inside an f-string replacement field, where Python before 3.12 allows no
    backslash and no quote that would end an enclosing f-string. `single_quoted` and
    `triple_quoted` are the quote characters of the enclosing f-strings. None when both
    quote characters are taken by single-quoted enclosing f-strings.

    The text cannot keep what it cannot escape there, so it is simplified, not escaped: line
    breaks become ` | `, control characters spaces, backslashes `/`, quote characters of the
    enclosing f-strings and the literal's own quote another quote character, and what
    `encoding` cannot hold `?`. Hashes are hex and never change.
    """
    quote = next((q for q in "\"'" if q not in single_quoted), None)
    if quote is None:
        return None
    blocked = set(single_quoted) | set(triple_quoted) | {quote}
    substitute = next(q for q in "'\"`" if q not in blocked)
    chars = []
    for char in _LINE_BREAK.sub(" | ", text).replace("\\", "/"):
        if char in blocked:
            char = substitute
        elif _is_control(char):
            char = " "
        elif not _encodable(char, encoding):
            char = "?"
        chars.append(char)
    return quote + "".join(chars) + quote


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000  # C0, C1, surrogates


def _encodable(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _code_point_escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
