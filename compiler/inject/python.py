"""Inject into Python sources: a libcst transformer that sets one keyword argument per call.

Only calls whose callee sits exactly where the scanner found a planned call are touched; in
them, earlier `__image_data`/`__error` arguments are replaced and the new one goes after the
remaining arguments, laid out like the arguments already there. libcst keeps every other
byte: comments, quotes, line breaks, the encoding and the newline style.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, ProviderT

from staticimg.compiler.diagnostics import Span
from staticimg.compiler.inject.outcome import (
    InjectError,
    Outcome,
    Skipped,
    fstring_safe_literal,
    string_literal,
)
from staticimg.compiler.props import INJECTED_PROPS
from staticimg.compiler.scan.python import _recursion_headroom, _span

__all__ = ["InjectArguments", "PythonInjection", "inject_python", "set_argument"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class PythonInjection:
    source: bytes  # the new file; the same object as the input when nothing changed
    skipped: tuple[Skipped, ...]  # calls left as they were, with why


def inject_python(source: bytes, outcomes: Mapping[Span, Outcome]) -> PythonInjection:
    """Give each call whose callee is at a span in `outcomes` its outcome.

    `source` is parsed as bytes so that libcst keeps its encoding. Raises InjectError when
    the file cannot be rewritten safely; then it must not be written at all.
    """
    try:
        module = cst.parse_module(source)
    except Exception as exc:  # it scanned, so it parsed: the file changed underneath us
        raise InjectError(f"cannot parse it any more ({exc}); run inject again") from exc
    transformer = InjectArguments(outcomes, module.encoding, _Lines(source, module.encoding))
    with _recursion_headroom():
        result = MetadataWrapper(module, unsafe_skip_copy=True).visit(transformer)
    missing = set(outcomes) - transformer.found
    if missing:
        first = min(missing, key=lambda s: (s.line, s.column))
        raise InjectError(
            f"it changed since it was scanned (no call at {first.line}:{first.column} any "
            "more); run inject again"
        )
    skipped = tuple(transformer.skipped)
    if not transformer.changed:
        return PythonInjection(source, skipped)
    output = result.bytes
    _check_compiles(output)
    return PythonInjection(output, skipped)


def _check_compiles(source: bytes) -> None:
    """A last guard: a rewrite that Python would refuse is never written."""
    try:
        ast.parse(source)
    except (SyntaxError, ValueError) as exc:  # pragma: no cover - a bug in this module
        raise InjectError(
            f"the rewritten file would not compile ({exc}); it was left unchanged. Please "
            "report this as a staticimg bug, with the call"
        ) from exc


class _Lines:
    """Source lines by number, split as libcst and the tokenizer count them."""

    def __init__(self, source: bytes, encoding: str) -> None:
        self._source, self._encoding = source, encoding
        self._lines: list[str] | None = None

    def __getitem__(self, line: int) -> str:
        if self._lines is None:
            self._lines = _LINE_BREAK.split(self._source.decode(self._encoding))
        return self._lines[line - 1]


class InjectArguments(cst.CSTTransformer):
    """Sets `__image_data=` or `__error=` on the calls whose callee spans are planned."""

    METADATA_DEPENDENCIES: ClassVar[Sequence[ProviderT]] = (PositionProvider,)

    def __init__(self, outcomes: Mapping[Span, Outcome], encoding: str, lines: _Lines) -> None:
        super().__init__()
        self._outcomes = outcomes
        self._encoding = encoding
        self._lines = lines
        self._fstring_quotes: list[str] = []  # enclosing f-strings, innermost last
        self.found: set[Span] = set()
        self.skipped: list[Skipped] = []
        self.changed = False

    def visit_FormattedString(self, node: cst.FormattedString) -> bool:
        self._fstring_quotes.append(node.quote)
        return True

    def leave_FormattedString(
        self, original_node: cst.FormattedString, updated_node: cst.FormattedString
    ) -> cst.FormattedString:
        self._fstring_quotes.pop()
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if not self._outcomes:
            return updated_node
        # The scanner reports the callee's span with 1-based columns; `_span` converts the
        # same way, so the two agree by construction.
        span = _span(self.get_metadata(PositionProvider, original_node.func))
        outcome = self._outcomes.get(span)
        if outcome is None:
            return updated_node
        self.found.add(span)
        literal = self._literal(outcome)
        if literal is None:
            self.skipped.append(
                Skipped(
                    span,
                    "this call is inside f-strings that use both quote characters, where "
                    "Python before 3.12 allows no string literal: move it out of the f-string",
                )
            )
            return updated_node
        argument = cst.Arg(
            keyword=cst.Name(outcome.keyword),
            equal=cst.AssignEqual(
                whitespace_before=cst.SimpleWhitespace(""),
                whitespace_after=cst.SimpleWhitespace(""),
            ),
            value=cst.SimpleString(literal),
        )
        result = set_argument(updated_node, argument, self._hanging(original_node))
        if not result.deep_equals(updated_node):
            self.changed = True
        return result

    def _literal(self, outcome: Outcome) -> str | None:
        if self._fstring_quotes:
            # Python < 3.12 forbids backslashes and the enclosing quotes inside a field.
            quotes = "".join(sorted({q[0] for q in self._fstring_quotes if len(q) == 1}))
            triple = "".join(sorted({q[0] for q in self._fstring_quotes if len(q) == 3}))
            return fstring_safe_literal(outcome.value, quotes, triple, self._encoding)
        return string_literal(outcome.value, self._encoding)

    def _hanging(self, call: cst.Call) -> str:
        """Whitespace that lines a new line up under the first argument, for calls whose
        arguments start on the line of the opening parenthesis."""
        if not call.args:
            return ""
        start = self.get_metadata(PositionProvider, call.args[0]).start
        prefix = self._lines[start.line][: start.column]
        return "".join(char if char == "\t" else " " for char in prefix)


def _is_injected(arg: cst.Arg) -> bool:
    return arg.keyword is not None and arg.keyword.value in INJECTED_PROPS


def set_argument(call: cst.Call, argument: cst.Arg, hanging: str = "") -> cst.Call:
    """`call` with its `__image_data`/`__error` arguments replaced by `argument`.

    An injected argument already last is replaced where it stands (keeping its layout);
    otherwise the old ones are removed and `argument` is appended after the others, on a new
    line with the last argument's indentation when the arguments are one per line, with a
    trailing comma when the last argument had one. `hanging` indents the new line when no
    argument starts a line of its own.
    """
    args = list(call.args)
    if args and _is_injected(args[-1]):
        last = args[-1]
        # A literal with the same keyword and text stays as written: a code formatter may
        # have requoted it (`'say "hi"'`), and inject must not undo that on every run.
        if not (_same_keyword(last, argument) and _same_text(last.value, argument.value)):
            last = last.with_changes(keyword=argument.keyword, value=argument.value)
        kept = [arg for arg in args[:-1] if not _is_injected(arg)]
        return call.with_changes(args=[*kept, last])
    kept = [arg for arg in args if not _is_injected(arg)]
    if not kept:
        return call.with_changes(args=[argument])
    if len(kept) == 1 and _bare_generator(kept[0]):
        # `f(x for x in y)` needs its own parentheses once a second argument follows.
        value = kept[0].value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        kept[0] = kept[0].with_changes(value=value)
    last = kept[-1]
    comma = last.comma
    if isinstance(comma, cst.Comma):
        after = comma.whitespace_after
        if isinstance(after, cst.ParenthesizedWhitespace):
            # One argument per line, trailing comma: a new line like the last one, with a comma.
            line = _line_like(kept, call, hanging, after)
            last = last.with_changes(comma=comma.with_changes(whitespace_after=line))
            appended = argument.with_changes(comma=cst.Comma(whitespace_after=_closing(after)))
        else:
            # `f(a, b,)`: after the comma, keeping the trailing comma.
            space = cst.SimpleWhitespace(" ")
            last = last.with_changes(comma=comma.with_changes(whitespace_after=space))
            appended = argument.with_changes(comma=cst.Comma(whitespace_after=after))
    else:
        after = last.whitespace_after_arg
        if isinstance(after, cst.ParenthesizedWhitespace):
            # One argument per line, no trailing comma: the comma goes before any comment.
            last = last.with_changes(
                comma=cst.Comma(whitespace_after=_line_like(kept, call, hanging, after)),
                whitespace_after_arg=cst.SimpleWhitespace(""),
            )
            appended = argument.with_changes(whitespace_after_arg=_closing(after))
        else:
            last = last.with_changes(
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                whitespace_after_arg=cst.SimpleWhitespace(""),
            )
            appended = argument.with_changes(whitespace_after_arg=after)
    return call.with_changes(args=[*kept[:-1], last, appended])


def _same_keyword(arg: cst.Arg, other: cst.Arg) -> bool:
    return (
        arg.keyword is not None
        and other.keyword is not None
        and (arg.keyword.value == other.keyword.value)
    )


def _same_text(value: cst.BaseExpression, other: cst.BaseExpression) -> bool:
    if not isinstance(value, cst.SimpleString | cst.ConcatenatedString):
        return False
    if not isinstance(other, cst.SimpleString | cst.ConcatenatedString):
        return False
    try:
        return value.evaluated_value == other.evaluated_value
    except Exception:  # an unusual literal libcst does not evaluate: write ours
        return False


def _bare_generator(arg: cst.Arg) -> bool:
    return isinstance(arg.value, cst.GeneratorExp) and not arg.value.lpar


def _line_like(
    kept: Sequence[cst.Arg],
    call: cst.Call,
    hanging: str,
    after: cst.ParenthesizedWhitespace,
) -> cst.ParenthesizedWhitespace:
    """`after` (the last argument's line end, comments and all), now leading to a new line
    indented like the line the last argument starts on."""
    indent, line = True, None
    for index in range(len(kept) - 1, -1, -1):
        before = _whitespace_before(kept, call, index)
        if isinstance(before, cst.ParenthesizedWhitespace):
            indent, line = before.indent, before.last_line
            break
    if line is None:  # every argument is on the line of the `(`
        indent, line = False, cst.SimpleWhitespace(hanging)
    return after.with_changes(indent=indent, last_line=line)


def _whitespace_before(
    kept: Sequence[cst.Arg], call: cst.Call, index: int
) -> cst.BaseParenthesizableWhitespace:
    if index == 0:
        return call.whitespace_before_args
    comma = kept[index - 1].comma
    return comma.whitespace_after if isinstance(comma, cst.Comma) else cst.SimpleWhitespace("")


def _closing(after: cst.ParenthesizedWhitespace) -> cst.ParenthesizedWhitespace:
    """The line break and indentation that led to `)`, to follow the new last argument."""
    return cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(newline=after.first_line.newline),
        empty_lines=[],
        indent=after.indent,
        last_line=after.last_line,
    )
