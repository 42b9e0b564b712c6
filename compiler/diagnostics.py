"""One type for every problem a user can cause, with stable codes.

Every code is documented in docs/errors.md (with a failing example and its fix) under the
anchor `si<number>`; a test checks that the registry and the page agree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

DOCS_PAGE = "docs/errors.md"


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Code:
    id: str
    name: str
    severity: Severity
    summary: str

    @property
    def docs(self) -> str:
        return f"{DOCS_PAGE}#{self.id.lower()}"


def _codes(*codes: Code) -> dict[str, Code]:
    return {code.id: code for code in codes}


E, W = Severity.ERROR, Severity.WARNING

CODES: dict[str, Code] = _codes(
    Code("SI001", "invalid-config", E, "`[tool.staticimg]` has an unknown key or a bad value"),
    Code("SI002", "unreadable-config", E, "pyproject.toml cannot be read or parsed"),
    Code("SI101", "prop-not-constant", E, "a build prop cannot be evaluated at build time"),
    Code("SI102", "spread-not-constant", E, "a `**` spread cannot be evaluated at build time"),
    Code("SI103", "positional-args", E, "too many positional arguments"),
    Code("SI110", "python-syntax-error", E, "a Python source file does not parse"),
    Code("SI111", "template-syntax-error", E, "a Jinja template does not parse"),
    Code("SI112", "unreadable-source", E, "a source file cannot be read or decoded"),
    Code("SI201", "missing-src", E, "`src` is missing"),
    Code("SI202", "missing-alt", E, "`alt` is missing"),
    Code("SI203", "unknown-prop", E, "a prop name is not known"),
    Code("SI204", "wrong-type", E, "a prop value has the wrong type"),
    Code("SI205", "invalid-value", E, "a prop value is outside what is allowed"),
    Code("SI206", "duplicate-prop", E, "the same prop is given twice"),
    Code("SI207", "widths-and-densities", E, "`widths` and `densities` are both given"),
    Code("SI208", "missing-dimensions", E, "a remote image has no `width` and `height`"),
    Code("SI209", "unsupported-conversion", E, "a vector image to raster, or raster to SVG"),
    Code("SI250", "size-ignored-full-width", W, "`width`/`height` are ignored for fullWidth"),
    Code("SI251", "aspect-ratio-ignored", W, "`aspect_ratio` is ignored with width and height"),
    Code("SI252", "jpg-and-png", W, "both jpg and png formats requested"),
    Code("SI253", "avif-only", W, "only AVIF requested: no fallback for older browsers"),
    Code("SI254", "traced-svg", W, "tracedSVG placeholders are no longer made"),
    Code("SI301", "image-not-found", E, "the `src` file does not exist"),
    Code("SI302", "image-outside-project", E, "the `src` path leaves the project"),
    Code("SI303", "unsupported-image", E, "the `src` file is not an image that can be read"),
    Code("SI304", "corrupt-image", E, "the `src` image is truncated or corrupt"),
    Code("SI305", "image-too-large", E, "the `src` image has more pixels than allowed"),
    Code("SI306", "remote-image-refused", E, "a remote `src` is not allowed to be fetched"),
    Code("SI307", "unreadable-image", E, "the `src` file cannot be read"),
    Code("SI308", "remote-fetch-failed", E, "a remote `src` could not be downloaded"),
    Code("SI309", "image-service-failed", E, "the configured image service refused or failed"),
    Code("SI350", "animation-dropped", W, "an animated source becomes a still image"),
    Code("SI351", "larger-than-source", W, "the requested size is larger than the source"),
    Code("SI352", "stale-remote", W, "a remote `src` was built from a stale cached copy"),
)


@dataclass(frozen=True, slots=True)
class Span:
    """A source range. Lines and columns are 1-based; `end_column` is one past the last
    character, so a one-character value at column 5 has end_column 6."""

    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def of_byte(cls, data: bytes, offset: int) -> Span:
        """The one-byte span at `offset` in undecodable data (columns count bytes)."""
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        return cls(line, column, line, column + 1)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    file: str  # project-relative, POSIX separators
    span: Span | None = None
    prop: str | None = None
    hint: str | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code}")

    @property
    def severity(self) -> Severity:
        return CODES[self.code].severity

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def docs(self) -> str:
        return CODES[self.code].docs

    def sort_key(self) -> tuple[str, int, int, str]:
        span = self.span
        return (self.file, span.line if span else 0, span.column if span else 0, self.code)

    def to_json(self) -> dict[str, Any]:
        span = self.span
        return {
            "kind": "diagnostic",
            "code": self.code,
            "severity": self.severity.value,
            "file": self.file,
            "line": span.line if span else None,
            "column": span.column if span else None,
            "end_line": span.end_line if span else None,
            "end_column": span.end_column if span else None,
            "prop": self.prop,
            "message": self.message,
            "hint": self.hint,
            "docs": self.docs,
        }
