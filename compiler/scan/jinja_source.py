"""Exact source positions of calls in a Jinja template, found through Jinja's own lexer.

Jinja's AST carries only line numbers. `locate_calls` walks the token stream Jinja's parser
reads and returns one `CallSite` per call, with offsets into the original source text (callee,
parentheses, every argument): the scanner takes its spans from it, and the template inject
step reuses it to rewrite an argument list in place.
"""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from jinja2 import Environment

from staticimg.compiler.diagnostics import Span

__all__ = [
    "DEFAULT_CALLEES",
    "NEWLINE",
    "ArgSite",
    "ArgSyntax",
    "CallSite",
    "LocateError",
    "SourceRange",
    "locate_calls",
]

DEFAULT_CALLEES: frozenset[str] = frozenset({"StaticImage"})

# Jinja's lexer treats exactly these as line breaks and joins the lines with "\n".
NEWLINE = re.compile(r"(\r\n|\r|\n)")  # what Jinja counts as a line break


class LocateError(Exception):
    """The token stream cannot be aligned with the source text."""


@dataclass(frozen=True, slots=True)
class SourceRange:
    """A range of the original source text: `source[start:end]`, and the same as a Span."""

    start: int
    end: int
    span: Span


class ArgSyntax(enum.Enum):
    POSITIONAL = "positional"  # value
    KEYWORD = "keyword"  # name=value
    STAR = "star"  # *value
    DOUBLE_STAR = "double_star"  # **value


@dataclass(frozen=True, slots=True)
class ArgSite:
    syntax: ArgSyntax
    keyword: str | None  # the name before `=`, for KEYWORD
    whole: SourceRange  # the whole argument: `name = value`, `**value`, `value`
    value: SourceRange  # the value expression alone


@dataclass(frozen=True, slots=True)
class CallSite:
    """One `callee(...)` as written. Offsets index the original source (CRLF and all)."""

    callee: str
    name: SourceRange  # the callee name
    call: SourceRange  # from the callee name through the closing parenthesis
    open_paren: int  # offset of "("
    close_paren: int  # offset of ")"
    arguments: SourceRange  # between the parentheses, exclusive of both
    args: tuple[ArgSite, ...]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # Jinja's raw token type: "name", "operator", "string", "block_begin", ...
    text: str
    start: int  # offsets into the newline-normalised source
    end: int


class _Positions:
    """Maps offsets of the normalised source (what Jinja lexes) to lines, columns and offsets
    of the original. Normalising only replaces line breaks, so (line, column) is shared."""

    def __init__(self, original: str, normalised: str) -> None:
        self._normalised_starts = [0] + [m.end() for m in re.finditer("\n", normalised)]
        self._original_starts = [0] + [m.end() for m in NEWLINE.finditer(original)]

    def line_column(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._normalised_starts, offset)
        return line, offset - self._normalised_starts[line - 1] + 1

    def range(self, start: int, end: int) -> SourceRange:
        line, column = self.line_column(start)
        end_line, end_column = self.line_column(end)
        return SourceRange(
            self.original(start), self.original(end), Span(line, column, end_line, end_column)
        )

    def original(self, offset: int) -> int:
        line, column = self.line_column(offset)
        return self._original_starts[line - 1] + column - 1


def _normalise_newlines(source: str, env: Environment) -> str:
    """The text Jinja's lexer actually reads (mirrors `Lexer.tokeniter`)."""
    lines = NEWLINE.split(source)[::2]
    if not env.keep_trailing_newline and lines[-1] == "":
        del lines[-1]
    return "\n".join(lines)


# Tokens that never take part in an expression.
_NOT_EXPRESSION = frozenset(
    {
        "whitespace",
        "comment_begin",
        "comment",
        "comment_end",
        "linecomment_begin",
        "linecomment",
        "linecomment_end",
    }
)
_TAG_BEGIN = frozenset({"block_begin", "linestatement_begin"})
_OPENING = frozenset({"(", "[", "{"})
_CLOSING = frozenset({")", "]", "}"})


def locate_calls(
    source: str,
    env: Environment,
    callees: frozenset[str] = DEFAULT_CALLEES,
    name: str | None = None,
) -> tuple[CallSite, ...]:
    """Every syntactic `callee(...)` call in `source`, in source order.

    Attribute calls (`x.StaticImage()`), filters (`x | StaticImage()`), tests
    (`x is StaticImage()`), and macro or filter-block headers are not calls and are skipped,
    the same way Jinja's parser reads them. Raises LocateError if the source cannot be
    lexed or an extension preprocesses it (offsets would not refer to the file).
    """
    try:
        if env.preprocess(source, name) != source:
            raise LocateError("an extension preprocesses the source")
        normalised = _normalise_newlines(source, env)
        tokens = _significant(_aligned_tokens(source, normalised, env, name))
    except LocateError:
        raise
    except Exception as exc:  # TemplateSyntaxError, or anything an odd lexer does
        raise LocateError(str(exc)) from exc
    positions = _Positions(source, normalised)
    sites = []
    for at, token in enumerate(tokens):
        if token.kind == "name" and token.text in callees and _opens_call(tokens, at):
            sites.append(_call_site(tokens, at, positions))
    return tuple(sites)


def _aligned_tokens(
    source: str, normalised: str, env: Environment, name: str | None
) -> Iterator[_Token]:
    """Jinja's raw tokens with their offsets.

    Between two consecutive tokens there can only be whitespace that `-`, trim_blocks or
    lstrip_blocks removed, so the next occurrence of a token's text is its position.
    """
    cursor = 0
    for _line, kind, text in env.lexer.tokeniter(source, name):
        start = normalised.find(text, cursor)
        if start < 0 or normalised[cursor:start].strip():
            raise LocateError(f"token {text!r} not found where expected")
        cursor = start + len(text)
        yield _Token(kind, text, start, cursor)


def _significant(tokens: Iterator[_Token]) -> list[_Token]:
    return [token for token in tokens if token.kind not in _NOT_EXPRESSION]


def _is(token: _Token | None, kind: str, text: str | None = None) -> bool:
    return token is not None and token.kind == kind and (text is None or token.text == text)


def _opens_call(tokens: Sequence[_Token], at: int) -> bool:
    """Is the name at `at` the callee of a call expression (not an attribute, filter, ...)?"""

    def before(n: int) -> _Token | None:
        return tokens[at - n] if at - n >= 0 else None

    if at + 1 >= len(tokens) or not _is(tokens[at + 1], "operator", "("):
        return False
    previous = before(1)
    if _is(previous, "operator", ".") or _is(previous, "operator", "|"):
        return False  # `page.StaticImage(...)`, `x | StaticImage(...)`
    if _is(previous, "name", "is") or (
        _is(previous, "name", "not") and _is(before(2), "name", "is")
    ):
        return False  # `x is StaticImage(...)`: a test
    header = before(2)
    # `{% macro StaticImage(...) %}` defines a macro; `{% filter StaticImage(...) %}` applies one.
    return not (
        (_is(previous, "name", "macro") or _is(previous, "name", "filter"))
        and header is not None
        and header.kind in _TAG_BEGIN
    )


def _call_site(tokens: Sequence[_Token], at: int, positions: _Positions) -> CallSite:
    callee = tokens[at]
    open_paren = tokens[at + 1]
    groups, close_paren = _split_arguments(tokens, at + 1)
    args = tuple(_arg_site(group, positions) for group in groups if group)
    return CallSite(
        callee=callee.text,
        name=positions.range(callee.start, callee.end),
        call=positions.range(callee.start, close_paren.end),
        open_paren=positions.original(open_paren.start),
        close_paren=positions.original(close_paren.start),
        arguments=positions.range(open_paren.end, close_paren.start),
        args=args,
    )


def _split_arguments(tokens: Sequence[_Token], open_at: int) -> tuple[list[list[_Token]], _Token]:
    """The argument tokens between `(` at `open_at` and its `)`, split at top-level commas."""
    groups: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens[open_at + 1 :]:
        if token.kind == "operator" and token.text in _OPENING:
            depth += 1
        elif token.kind == "operator" and token.text in _CLOSING:
            if depth == 0:
                return groups, token
            depth -= 1
        elif depth == 0 and _is(token, "operator", ","):
            groups.append([])
            continue
        groups[-1].append(token)
    raise LocateError("unbalanced parentheses")


def _arg_site(group: Sequence[_Token], positions: _Positions) -> ArgSite:
    first = group[0]
    syntax, keyword, value = ArgSyntax.POSITIONAL, None, group
    if _is(first, "operator", "**"):
        syntax, value = ArgSyntax.DOUBLE_STAR, group[1:]
    elif _is(first, "operator", "*"):
        syntax, value = ArgSyntax.STAR, group[1:]
    elif first.kind == "name" and len(group) > 1 and _is(group[1], "operator", "="):
        syntax, keyword, value = ArgSyntax.KEYWORD, first.text, group[2:]
    if not value:
        raise LocateError("an argument without a value")
    return ArgSite(
        syntax=syntax,
        keyword=keyword,
        whole=positions.range(first.start, group[-1].end),
        value=positions.range(value[0].start, value[-1].end),
    )
