"""Constant evaluation shared by the Python and Jinja scanners.

In the shape of Jinja's `nodes.Node.as_const()`: an evaluator returns a value or raises
`Impossible` saying why there is none. This module holds the parts both languages share: the
operators, with limits so that a hostile `"x" * 10**12` or `9**9**9` becomes a diagnostic
instead of eating the build's memory.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from typing import Any

# Build props are small: a path, a few numbers, short lists. These bounds are generous for
# them and stop a constant expression from allocating without limit.
MAX_STRING = 100_000
MAX_ITEMS = 10_000
MAX_INT_BITS = 4_096


class Impossible(Exception):
    """The expression has no value at build time.

    `node` is the offending sub-expression (a libcst node, or None where the caller knows
    better), so the diagnostic can point at exactly what is not constant.
    """

    def __init__(self, reason: str, node: object | None = None, hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.node = node
        self.hint = hint


def check_size(value: Any) -> Any:
    """Reject values too large to be props; returns the value for chaining."""
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise Impossible(
            f"the string would be {len(value):,} characters long (limit {MAX_STRING:,})"
        )
    if isinstance(value, list | tuple | dict) and len(value) > MAX_ITEMS:
        raise Impossible(f"the collection would have {len(value):,} items (limit {MAX_ITEMS:,})")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise Impossible("the number is too large to be a prop")
    if isinstance(value, float) and not math.isfinite(value):
        raise Impossible(f"the result is {value}, not a finite number")
    if isinstance(value, complex):
        raise Impossible("the result is a complex number, not a valid prop value")
    return value


def check_weight(value: Any) -> None:
    """Reject values whose full size (nested items, string lengths) exceeds what a prop can
    be. `check_size` looks at one level; shared sub-values (`[s] * 1000` with a long `s`)
    can still be huge once copied, stringified or serialised."""
    budget = MAX_STRING
    pending = [value]
    while pending:
        item = pending.pop()
        budget -= 1
        if isinstance(item, str):
            budget -= len(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            budget -= min(item.bit_length(), MAX_INT_BITS) // 3
        elif isinstance(item, list | tuple):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        if budget < 0:
            raise Impossible("the value is too large to be a prop")


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


def _guard_repeat(left: Any, right: Any) -> None:
    for seq, count in ((left, right), (right, left)):
        repeats = isinstance(seq, str | list | tuple) and isinstance(count, int)
        if repeats and _length(seq) * max(count, 0) > MAX_STRING:
            raise Impossible("the repeated value would be too large to be a prop")


def _guard_pow(base: Any, exponent: Any) -> None:
    integers = isinstance(base, int) and isinstance(exponent, int) and exponent > 0
    if integers and max(abs(base), 1).bit_length() * exponent > MAX_INT_BITS:
        raise Impossible("the power is too large to be a prop")


# Numbers in a format spec (`{x:>1000000}`, `{x:.9999999f}`) are widths and precisions.
_SPEC_NUMBER = re.compile(r"\d+")
_DIGITS = frozenset("0123456789")


def _check_widths(numbers: list[str]) -> None:
    """Widths and precisions (and `*`) of one format: each, and all together, must be small
    enough for the result to be a prop, since each pads its field to that length."""
    total = 0
    for number in numbers:
        if number == "*":
            raise Impossible("`*` widths in %-formatting are not evaluated")
        if number and (len(number) > 6 or int(number) > MAX_STRING):
            raise Impossible(f"a width or precision of {number} is too large for a prop")
        total += int(number) if number else 0
        if total > MAX_STRING:
            raise Impossible("the widths and precisions together are too large for a prop")


def _printf_numbers(text: str) -> list[str]:
    """The width and precision of every conversion of a printf-style format, read the way
    CPython reads them: a mapping key may hold balanced parentheses (`%((a))9s`), flags come
    next, and `%%` is a literal percent sign."""
    numbers: list[str] = []
    end = len(text)
    position = text.find("%")
    while position >= 0:
        i = position + 1
        if i < end and text[i] == "(":
            depth, i = 1, i + 1
            while i < end and depth:
                depth += {"(": 1, ")": -1}.get(text[i], 0)
                i += 1
        while i < end and text[i] in "-+ #0":
            i += 1
        for part in range(2):  # the width, then the precision after a `.`
            if part and not (i < end and text[i] == "."):
                break
            i += part
            start = i
            if i < end and text[i] == "*":
                i += 1
            while i < end and text[i] in _DIGITS:
                i += 1
            numbers.append(text[start:i])
        position = text.find("%", i + 1)  # past the conversion character
    return numbers


def _percent(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        check_weight(right)  # `"%s" % value` stringifies value
        _check_widths(_printf_numbers(left))
    return operator.mod(left, right)


BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": _percent,
    "**": operator.pow,
}

UNARY: dict[str, Callable[[Any], Any]] = {
    "-": operator.neg,
    "+": operator.pos,
    "not": operator.not_,
    "~": operator.invert,
}


def binary(op: str, left: Any, right: Any) -> Any:
    """Apply a binary operator to two constants, as Python would, within the size limits."""
    if op == "*":
        _guard_repeat(left, right)
    elif op == "**":
        _guard_pow(left, right)
    elif op == "+" and _length(left) + _length(right) > MAX_STRING:
        raise Impossible("the concatenation would be too large to be a prop")
    try:
        result = BINARY[op](left, right)
    except ZeroDivisionError:
        raise Impossible("division by zero") from None
    except (TypeError, ValueError, OverflowError, KeyError, IndexError) as exc:
        raise Impossible(
            f"`{op}` cannot combine {kind_of(left)} and {kind_of(right)}: {exc}"
        ) from None
    return check_size(result)


def unary(op: str, operand: Any) -> Any:
    try:
        return check_size(UNARY[op](operand))
    except (TypeError, ValueError, OverflowError) as exc:
        raise Impossible(f"`{op}` cannot apply to {kind_of(operand)}: {exc}") from None


def subscript(container: Any, key: Any) -> Any:
    """`container[key]` for constant containers; slices arrive as `slice` objects."""
    if not isinstance(container, str | list | tuple | dict):
        raise Impossible(f"cannot subscript {kind_of(container)}")
    try:
        return container[key]
    except (KeyError, IndexError) as exc:
        raise Impossible(f"{kind_of(container)} has no item {exc}") from None
    except (TypeError, ValueError) as exc:
        raise Impossible(
            f"cannot subscript {kind_of(container)} with {kind_of(key)}: {exc}"
        ) from None


def format_value(value: Any, conversion: str | None, spec: str) -> str:
    """One f-string replacement field: `{value!conversion:spec}`."""
    # Before any conversion: repr(), str() or format() of a large shared structure
    # (`[long_string] * 9999`) must not run away.
    check_weight(value)
    if conversion == "r":
        value = repr(value)
    elif conversion == "a":
        value = ascii(value)
    elif conversion == "s":
        value = str(value)
    _check_widths(_SPEC_NUMBER.findall(spec))
    try:
        return check_size(format(value, spec))  # type: ignore[no-any-return]
    except (TypeError, ValueError, OverflowError) as exc:
        raise Impossible(f"cannot format {kind_of(value)} with {spec!r}: {exc}") from None


def kind_of(value: Any, none: str = "None") -> str:
    """ "a str", "an int", ... for messages; `none` is how the language spells None."""
    if value is None:
        return none
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
