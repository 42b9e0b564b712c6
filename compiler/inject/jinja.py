"""Inject into Jinja templates: text edits inside each planned call's argument list.

Templates have no concrete syntax tree to rewrite, but `locate_calls` gives the exact offsets
of a call's parentheses and of every argument, through Jinja's own lexer (so custom
delimiters, line statements and extensions are read as they render). An earlier
`__image_data`/`__error` argument is replaced where it stands; otherwise the new argument
is inserted after the last one, laid out like the Python inject step lays it out. Nothing
outside those ranges changes, so diffs are one argument long.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jinja2 import Environment

from staticimg.compiler.diagnostics import Span
from staticimg.compiler.inject.outcome import InjectError, Outcome
from staticimg.compiler.props import INJECTED_PROPS
from staticimg.compiler.scan.jinja_source import (
    DEFAULT_CALLEES,
    ArgSite,
    ArgSyntax,
    CallSite,
    LocateError,
    locate_calls,
)

__all__ = ["Edit", "call_edits", "inject_template"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True, order=True)
class Edit:
    """Replace `source[start:end]` with `text`."""

    start: int
    end: int
    text: str


def inject_template(
    source: str,
    outcomes: Mapping[Span, Outcome],
    env: Environment,
    callees: frozenset[str] = DEFAULT_CALLEES,
    name: str | None = None,
) -> str:
    """Give each call whose callee is at a span in `outcomes` its outcome.

    Raises InjectError when the template cannot be rewritten safely; then it must not be
    written at all.
    """
    if any(_line_only(span) for span in outcomes):
        # The scanner could not align its calls with the token stream (an extension that
        # rewrites tokens, typically), so no call has an exact position to edit at.
        raise InjectError(
            "its calls cannot be located exactly (an extension changes how it is read), so "
            "it is not rewritten"
        )
    try:
        sites = locate_calls(source, env, callees, name=name)
    except LocateError as exc:
        raise InjectError(f"its calls cannot be located: {exc}") from exc
    by_span = {site.name.span: site for site in sites}
    edits: list[Edit] = []
    for span, outcome in outcomes.items():
        site = by_span.get(span)
        if site is None:
            raise InjectError(
                f"it changed since it was scanned (no call at {span.line}:{span.column} any "
                "more); run inject again"
            )
        edits.extend(call_edits(source, site, outcome))
    result = _apply(source, edits)
    if result != source:
        _check_parses(result, env, name)
    return result


def _line_only(span: Span) -> bool:
    return span.end_line == span.line and span.end_column == span.column


def _apply(source: str, edits: Sequence[Edit]) -> str:
    pieces: list[str] = []
    position = 0
    for edit in sorted(edits):
        if edit.start < position:  # pragma: no cover - calls never share an argument
            raise InjectError("two edits overlap; it was left unchanged")
        pieces += [source[position : edit.start], edit.text]
        position = edit.end
    pieces.append(source[position:])
    return "".join(pieces)


def _check_parses(source: str, env: Environment, name: str | None) -> None:
    """A last guard: a rewrite that Jinja would refuse is never written."""
    try:
        env.parse(source, name=name)
    except Exception as exc:  # pragma: no cover - a bug in this module
        raise InjectError(
            f"the rewritten template would not parse ({exc}); it was left unchanged. Please "
            "report this as a staticimg bug, with the call"
        ) from exc


def call_edits(source: str, site: CallSite, outcome: Outcome) -> list[Edit]:
    """The edits that give the call `outcome` as its injected argument."""
    args = site.args
    argument = outcome.argument()
    injected = [i for i, arg in enumerate(args) if _is_injected(arg)]
    if injected:
        # Replace the last one where it stands, and remove the others with their comma. One
        # that already says the same, however quoted, stays as written.
        keep = args[injected[-1]]
        edits = []
        if keep.keyword != outcome.keyword or _text(source, keep) != outcome.value:
            edits.append(Edit(keep.whole.start, keep.whole.end, argument))
        removed = injected[:-1]
        edits += _merge([_removal(args, i, removed) for i in removed])
        return edits
    return [_insertion(source, site, argument)]


_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", re.S)


def _text(source: str, arg: ArgSite) -> str | None:
    """The value of an argument that is one string literal, unescaped as Jinja's lexer does."""
    literal = source[arg.value.start : arg.value.end]
    if not _STRING.fullmatch(literal):
        return None
    try:
        return literal[1:-1].encode("ascii", "backslashreplace").decode("unicode-escape")
    except UnicodeDecodeError:
        return None


def _is_injected(arg: ArgSite) -> bool:
    return arg.syntax is ArgSyntax.KEYWORD and arg.keyword in INJECTED_PROPS


def _removal(args: Sequence[ArgSite], index: int, removed: Sequence[int]) -> Edit:
    if index > 0:  # from the end of the previous argument: `, __error="…"`
        return Edit(args[index - 1].whole.end, args[index].whole.end, "")
    # The first argument: up to the next argument that stays, so that one moves up.
    following = next(i for i in range(1, len(args)) if i not in removed)
    return Edit(args[0].whole.start, args[following].whole.start, "")


def _merge(edits: list[Edit]) -> list[Edit]:
    """Removals of neighbouring arguments can overlap; join them into one."""
    merged: list[Edit] = []
    for edit in sorted(edits):
        if merged and edit.start <= merged[-1].end:
            merged[-1] = Edit(merged[-1].start, max(merged[-1].end, edit.end), "")
        else:
            merged.append(edit)
    return merged


def _insertion(source: str, site: CallSite, argument: str) -> Edit:
    args = site.args
    if not args:
        return Edit(site.close_paren, site.close_paren, argument)
    last = args[-1]
    if last.syntax is ArgSyntax.DOUBLE_STAR:
        # Jinja accepts no keyword argument after `**kwargs`: the new one goes before it.
        previous_end = args[-2].whole.end if len(args) > 1 else site.open_paren + 1
        before = source[previous_end : last.whole.start]
        gap = before[before.find(",") + 1 :] if "," in before else before
        return Edit(last.whole.start, last.whole.start, f"{argument},{gap or ' '}")
    tail = source[last.whole.end : site.close_paren]
    comma = tail.find(",")
    if comma >= 0:
        after_comma = tail[comma + 1 :]
        at = last.whole.end + comma + 1
        newline = _LINE_BREAK.search(after_comma)
        if newline:  # one argument per line, trailing comma
            indent = _indentation(source, site, last)
            return Edit(at, at, f"{newline.group()}{indent}{argument},")
        return Edit(at, at, f" {argument},")  # `f(a, b,)`
    newline = _LINE_BREAK.search(tail)
    if newline:  # one argument per line, no trailing comma
        indent = _indentation(source, site, last)
        return Edit(last.whole.end, last.whole.end, f",{newline.group()}{indent}{argument}")
    return Edit(last.whole.end, last.whole.end, f", {argument}")


def _indentation(source: str, site: CallSite, last: ArgSite) -> str:
    """The indentation of the line the last argument starts on; when that is the line of the
    `(`, whitespace that lines up under the first argument instead."""
    line_start = _line_start(source, last.whole.start)
    if line_start > site.open_paren:
        line = source[line_start : last.whole.start]
        return line[: len(line) - len(line.lstrip(" \t"))]
    prefix = source[_line_start(source, site.open_paren) : site.args[0].whole.start]
    return "".join(char if char == "\t" else " " for char in prefix)


def _line_start(source: str, offset: int) -> int:
    return max(source.rfind("\n", 0, offset), source.rfind("\r", 0, offset)) + 1
