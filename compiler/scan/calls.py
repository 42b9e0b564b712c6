"""What the scanners hand to the props stage: calls with their arguments, evaluated or not.

Scanners know nothing about which props exist. They evaluate every argument they can and
record why the others have no build-time value; `props.py` decides which of those matter
(build props must be constant, rendering props may be dynamic).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from staticimg.compiler.diagnostics import Diagnostic, Span


class ArgKind(enum.Enum):
    POSITIONAL = "positional"
    KEYWORD = "keyword"
    SPREAD = "spread"  # `**mapping` that could not be evaluated (evaluated spreads become KEYWORDs)


@dataclass(frozen=True, slots=True)
class Unresolved:
    """Why an expression has no build-time value, pointing at the part that is not constant."""

    reason: str
    span: Span
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class Arg:
    kind: ArgKind
    name: str | None  # keyword name as written; None for positional and spread
    index: int  # position among positional arguments; -1 otherwise
    span: Span  # the value expression (for a spread-expanded keyword: the spread expression)
    value: Any  # the constant value, or an Unresolved
    from_spread: bool = False

    @property
    def resolved(self) -> bool:
        return not isinstance(self.value, Unresolved)


@dataclass(frozen=True, slots=True)
class FoundCall:
    file: str  # project-relative, POSIX separators
    callee: str  # the public name the call resolves to, e.g. "StaticImage"
    span: Span  # the whole call expression
    name_span: Span  # the callee as written (where "call" records point)
    args: tuple[Arg, ...]


@dataclass(frozen=True, slots=True)
class FileScan:
    file: str
    calls: tuple[FoundCall, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)
