"""Property tests of the Python scanner against CPython itself.

The generator writes whole files: a preamble of bindings (names bound once, twice, in loops, by
unpacking, as function parameters, forward references and cycles), then `StaticImage(...)`
calls at module level, in class bodies and in function bodies, whose arguments are random
expressions. Every expression carries what CPython computes for it (by `eval` of the same text
in a namespace that mirrors the file at that point), or "unknown" when the model cannot say.

The contract checked on every call: the scanner never raises; it finds each call written, at
the right place; every argument is either an `Unresolved` pointing inside that argument, or a
constant equal (same types, same floats) to CPython's value. An argument CPython cannot
evaluate (it raises) must be `Unresolved`. `plan_call` then never raises, only emits registered
codes, and any request it returns can be hashed. Arbitrary text, bytes and Python-like token
soup must give calls or SI110/SI112 diagnostics, never an exception.

At the end, the minimised counterexamples these properties found, as plain regression cases.
"""

from __future__ import annotations

import ast
import copy
import itertools
import re
import tracemalloc
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staticimg.compiler.diagnostics import CODES, Span
from staticimg.compiler.props import ImageRequest, plan_call
from staticimg.compiler.scan.calls import ArgKind, FileScan, FoundCall, Unresolved
from staticimg.compiler.scan.python import scan_python

# CPython warns about the odd literals generated (`1if`, "\d"); the scanner's parse does too.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")

HEADER = "from staticimg import StaticImage\n"
FILE = "x.py"

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --------------------------------------------------------------------------------------------
# What CPython computes

# Values larger than this are not built by the model (they are still written: the scanner sees
# them and must refuse them); it is ten times the scanner's own limits.
LIMIT = 1_000_000
MAX_BITS = 100_000

SAFE_BUILTINS: dict[str, Any] = {
    "float": float,
    "int": int,
    "str": str,
    "len": len,
    "abs": abs,
    "max": max,
    "min": min,
    "dict": dict,
    "list": list,
    "tuple": tuple,
    "sorted": sorted,
    "repr": repr,
    "range": range,
    "Exception": Exception,
}


@dataclass(frozen=True)
class Value:
    value: Any


@dataclass(frozen=True)
class Raises:
    error: str


Outcome = Value | Raises | None  # None: the model does not know


def weight(value: Any, budget: int = LIMIT) -> int:
    """Roughly what stringifying `value` costs, counting shared parts each time they occur."""
    total = 0
    stack = [value]
    while stack and total <= budget:
        item = stack.pop()
        total += 1
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, int):
            total += item.bit_length() // 3
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
    return total


def snapshot(outcome: Outcome) -> Outcome:
    """A copy that later mutation of the model's namespace (`x += [1]`) cannot change."""
    if isinstance(outcome, Value):
        try:
            return Value(copy.deepcopy(outcome.value))
        except Exception:
            return None
    return outcome


@dataclass
class Space:
    """The names CPython sees at one point of the file: known values, names whose value the
    model does not know (parameters, imports, ...), and for class bodies the class locals."""

    globals: dict[str, Any]
    locals: dict[str, Any] | None = None
    unknown: set[str] = field(default_factory=set)

    def eval(self, code: str) -> Outcome:
        scope = dict(self.globals)
        scope["__builtins__"] = SAFE_BUILTINS
        local = dict(self.locals) if self.locals is not None else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                value = eval(code, scope, local)
            except SyntaxError:  # libcst reads some syntax this interpreter does not
                return None
            except NameError as exc:
                return None if exc.name is None or exc.name in self.unknown else Raises("NameError")
            except (MemoryError, RecursionError):
                return None
            except Exception as exc:
                return Raises(type(exc).__name__)
        if weight(value) > LIMIT:
            return None
        return Value(value)

    def run(self, code: str) -> bool:
        """Execute one statement as CPython would; False if it raised."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if self.locals is None:
                    self.globals["__builtins__"] = SAFE_BUILTINS
                    exec(code, self.globals)
                else:
                    exec(code, {**self.globals, "__builtins__": SAFE_BUILTINS}, self.locals)
            except Exception:
                return False
        return True

    def bound(self, names: Sequence[str]) -> None:
        target = self.globals if self.locals is None else self.locals
        for name in names:
            if name in target:
                self.unknown.discard(name)

    def forget(self, names: Sequence[str]) -> None:
        for name in names:
            self.unknown.add(name)
            self.globals.pop(name, None)
            if self.locals is not None:
                self.locals.pop(name, None)

    def lookup(self, name: str) -> tuple[bool, Any]:
        for scope in (self.locals or {}, self.globals):
            if name in scope:
                return True, scope[name]
        return False, None


# --------------------------------------------------------------------------------------------
# Guards: the model only asks CPython for values that are cheap to compute


def _bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) else 0


def _safe_binary(op: str, left: Any, right: Any) -> bool:
    seqs = str | bytes | list | tuple
    if op == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, seqs) and isinstance(count, int):
                return len(seq) * max(count, 0) <= LIMIT
        return _bits(left) + _bits(right) <= MAX_BITS
    if op == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0:
            return abs(left) <= 1 or left.bit_length() * right <= MAX_BITS
        return True
    if op == "<<":
        return not (isinstance(right, int) and right > MAX_BITS and left != 0)
    if op == "%" and isinstance(left, str | bytes):
        text = left.decode("latin-1") if isinstance(left, bytes) else left
        return "*" not in text and not re.search(r"\d{5}", text)
    return True


# --------------------------------------------------------------------------------------------
# Expressions


@dataclass(frozen=True)
class Expr:
    code: str
    outcome: Outcome
    lead: int = 0  # characters of `code` before the node's own span (its parentheses)
    trail: int = 0


@dataclass(frozen=True)
class Ctx:
    quotes: frozenset[str] = frozenset()  # quote characters not allowed here (f-string fields)
    in_fstring: bool = False  # no backslashes or `#` (Python 3.11 f-string fields)


def paren(code: str, outcome: Outcome) -> Expr:
    return Expr(f"({code})", outcome, 1, 1)


PROP_WORDS = (
    "a.jpg",
    "/static/b.png",
    "https://example.com/c.webp",
    "",
    " ",
    "constrained",
    "fullWidth",
    "FULL_WIDTH",
    "fixed",
    "fluid",
    "blurred",
    "dominantColor",
    "tracedSVG",
    "none",
    "auto",
    "jpg",
    "png",
    "webp",
    "avif",
    "#fff",
    "#f5f0e8",
    "rgb(1, 2, 3)",
    "transparent",
    "notacolour",
    "north",
    "attention",
    "right top",
    "cover",
    "contain",
    "100vw",
    "lazy",
)
PROP_NAMES = (
    "src",
    "alt",
    "width",
    "height",
    "layout",
    "aspect_ratio",
    "aspectRatio",
    "placeholder",
    "formats",
    "quality",
    "sizes",
    "breakpoints",
    "output_pixel_densities",
    "background_color",
    "backgroundColor",
    "transform_options",
    "blurred_options",
    "jpg_options",
    "png_options",
    "webp_options",
    "avif_options",
    "tracedSVGOptions",
    "class_",
    "style",
    "loading",
    "data_x",
    "aria_label",
    "widht",
    "bogus",
)
OPTION_KEYS = (
    "fit",
    "crop_focus",
    "cropFocus",
    "grayscale",
    "duotone",
    "rotate",
    "trim",
    "width",
    "to_format",
    "toFormat",
    "quality",
    "progressive",
    "compression_speed",
    "lossless",
    "effort",
    "speed",
    "highlight",
    "shadow",
    "opacity",
    "nope",
)
FLOAT_TEXTS = (
    "0.0",
    "1.5",
    "1e10",
    "1e400",
    "1e-400",
    ".5",
    "5.",
    "1_0.2_5",
    "3.14159",
    "2.5e-3",
    "1E5",
    "0e0",
    "1e308",
    "1.7976931348623157e308",
    "5e-324",
    "0.1",
    "1e16",
)
SPECS = (
    "",
    ">5",
    "<3",
    "^7",
    "05",
    ".2f",
    ",",
    "x",
    "b",
    "e",
    "%",
    "+",
    "=8",
    ".3",
    "#x",
    "_",
    "s",
    "d",
    "*^9",
    "010.3f",
    ".0%",
    "g",
    "c",
    "X",
    " ",
    "+.1e",
    ",.2f",
    "10",
    "<",
    "r",
)
PERCENT_FORMATS = (
    "%s",
    "%d",
    "%s-%s",
    "%r",
    "%(a)s",
    "%%",
    "%5.2f",
    "%x",
    "%c",
    "%-4s|",
    "%s%s%s",
    "%a",
    "%i",
    "%e",
    "%(a)s-%(b)d",
    "%s %%",
)
BINARY_OPS = ("+", "-", "*", "/", "//", "%", "**", "@", "<<", ">>", "|", "&", "^")
COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not")
CALLS = (
    "float('nan')",
    "float('inf')",
    "float('-inf')",
    "float({})",
    "len({})",
    "str({})",
    "int({})",
    "abs({})",
    "max({}, {})",
    "min({})",
    "dict(k={})",
    "list({})",
    "tuple({})",
    "sorted({})",
    "repr({})",
    "undefined_function({})",
)
NAME_TEMPLATES = (
    "{0}",
    "{0}",
    "{0}",
    "{0} + {1}",
    "f'{{{0}}}-{{{1}!r}}'",
    "[{0}, *{1}]",
    "({0}, {1})",
    "{{'k': {0}, **{1}}}",
    "{0}[0]",
    "{0} if {1} else {0}",
    "{0} * 2",
)
LEAVES = (
    "int", "str", "name", "float", "int", "str", "word", "bigint", "const", "bytes", "imag", "name",
)  # fmt: skip
COMPOSITES = (
    "binary", "fstring", "binary", "fstring", "list", "tuple", "dict", "unary", "compare",
    "boolop", "ifexp", "subscript", "slice", "percent", "repeat", "pow", "concat", "set", "call",
    "attribute", "lambda", "comprehension", "walrus", "paren", "await",
)  # fmt: skip
TYPES = ("int", "float", "str", "list", "tuple", "dict", "bool")
ITERABLES = ("(1, 2)", "'ab'", "range(3)", "[]", "()", "[0, 1.5, None]")
EXTRA_NAMES = ("len", "undefined_name", "StaticImage", "__name__", "True", "None")
# Characters for string bodies: plain, unicode, and ones that need escapes.
ALPHABET = st.one_of(
    st.sampled_from("abcXYZ019 _-.,:;!?/%{}[]()<>=+*&|^~@$"),
    st.sampled_from("éßøΩЖ中😀\u00a0\u200b\u2028"),
    st.sampled_from("\n\t\r\x00\x7f\\'\"#\x0c\x85"),
    st.characters(codec="utf-8"),
)
RAW_OK = "\x0b\x0c\x1c\x85\u2028\u2029\u00a0\u200b"  # not printable, fine raw in a literal
ESCAPES = ("\\x41", "\\101", "\\u00e9", "\\U0001F600", "\\N{EM DASH}", "\\0", "\\ud800", "\\a")


def _small_int(value: Any) -> bool:
    return isinstance(value, int) and 0 <= value < 40


class Gen:
    """Draws random expressions; each node's outcome is CPython's `eval` of its own text."""

    def __init__(
        self, draw: st.DrawFn, space: Space, names: Sequence[str], indent: str = ""
    ) -> None:
        self.draw = draw
        self.space = space
        self.names = list(names)
        self.indent = indent
        self.budget = 0
        self.fresh = itertools.count()
        self.assigned: dict[str, int] = {}  # how often each name has been a target so far

    def inner(self, space: Space, indent: str) -> Gen:
        gen = Gen(self.draw, space, self.names, indent)
        gen.assigned = self.assigned
        return gen

    def target(self) -> str:
        """A name to bind: mostly one not bound yet, so that many names are bound once."""
        fresh = [name for name in self.names if not self.assigned.get(name)]
        prefer_fresh: int = self.draw(st.integers(0, 5))
        name = fresh[0] if fresh and prefer_fresh else self.pick(self.names)
        self.assigned[name] = self.assigned.get(name, 0) + 1
        return name

    def name_expr(self, depth: int, ctx: Ctx) -> Expr:
        """Names of the preamble in a few simple shapes."""
        if not self.names:
            return self.expr(depth, ctx)
        template = self.pick(NAME_TEMPLATES)
        bound = [name for name in self.names if self.space.lookup(name)[0]]
        later = [name for name in self.names if not self.assigned.get(name)]  # bound after here?
        choice = self.draw(st.integers(0, 5))
        names = bound if bound and choice > 1 else later if later and choice else self.names
        code = template.format(*(self.pick(names) for _ in range(2)))
        outcome = self.space.eval(code)
        return paren(code[1:-1], outcome) if template[0] == "(" else Expr(code, outcome)

    # outcome of a composite node

    def outcome(
        self, code: str, children: Sequence[Expr], safe: Callable[[list[Any]], bool] | None = None
    ) -> Outcome:
        outcomes = [child.outcome for child in children]
        if any(outcome is None for outcome in outcomes):
            return None
        if not any(isinstance(outcome, Raises) for outcome in outcomes) and safe is not None:
            values = [outcome.value for outcome in outcomes if isinstance(outcome, Value)]
            if not safe(values):
                return None
        return self.space.eval(code)

    def node(
        self,
        code: str,
        children: Sequence[Expr],
        safe: Callable[[list[Any]], bool] | None = None,
        wrap: bool = True,
    ) -> Expr:
        outcome = self.outcome(f"({code})" if wrap else code, children, safe)
        return paren(code, outcome) if wrap else Expr(code, outcome)

    def pick(self, options: Sequence[str]) -> str:
        return self.draw(st.sampled_from(options))

    def quote(self, ctx: Ctx, triple: bool = True) -> str | None:
        options = [q for q in ("'", '"', "'''", '"""') if q[0] not in ctx.quotes]
        if not triple or ctx.in_fstring:
            options = [q for q in options if len(q) == 1] or options
        return self.draw(st.sampled_from(options)) if options else None

    # leaves

    def leaf(self, ctx: Ctx) -> Expr:
        kind = self.pick(LEAVES)
        if kind in ("str", "word", "bytes") and self.quote(ctx) is None:
            kind = "int"
        if kind == "int":
            return self.integer(
                self.draw(
                    st.integers(-3, 300) | st.sampled_from((0, 1, 2, 7, 10, 255, 2**63, 2**64))
                )
            )
        if kind == "bigint":
            number = self.draw(
                st.integers(2**60, 2**5000) | st.sampled_from((2**4096 - 1, 2**4096, 2**4095))
            )
            return self.integer(number)
        if kind == "float":
            text = self.draw(
                st.sampled_from(FLOAT_TEXTS)
                | st.floats(allow_nan=False, allow_infinity=False).map(repr)
            )
            if text.startswith("-"):
                return paren(text, self.space.eval(text))
            return Expr(text, self.space.eval(text))
        if kind == "imag":
            text = self.pick(("1j", "2.5J", "0j"))
            return Expr(text, self.space.eval(text))
        if kind == "const":
            text = self.pick(("True", "False", "None", "..."))
            return Expr(text, self.space.eval(text))
        if kind == "name":
            text = self.pick(self.names + list(EXTRA_NAMES)) if self.names else "undefined_name"
            return Expr(text, self.space.eval(text))
        if kind == "word":
            return self.string(ctx, self.pick(PROP_WORDS))
        if kind == "bytes":
            return self.bytes_literal(ctx)
        return self.string(ctx)

    def integer(self, number: int) -> Expr:
        magnitude = abs(number)
        form = self.pick(("dec", "dec", "hex", "oct", "bin", "under", "zeros"))
        if form == "hex":
            text = hex(magnitude)
        elif form == "oct":
            text = oct(magnitude)
        elif form == "bin" and magnitude < 2**200:
            text = bin(magnitude)
        elif form == "under":
            text = f"{magnitude:_}"
        elif form == "zeros" and magnitude == 0:
            text = "0_0"
        else:
            text = str(magnitude)
        if number < 0:
            return paren(f"-{text}", Value(number))
        return Expr(text, Value(magnitude))

    def string(self, ctx: Ctx, value: str | None = None) -> Expr:
        quote = self.quote(ctx)
        assert quote is not None
        raw = value is None and not ctx.in_fstring and self.draw(st.booleans())
        prefix = self.pick(("", "", "u", "U")) if not raw else self.pick(("r", "R"))
        if raw:
            body = self.raw_body(quote)
        else:
            if value is None:
                value = self.draw(st.text(ALPHABET, max_size=12))
            body = self.escaped(value, quote, ctx)
        code = f"{prefix}{quote}{body}{quote}"
        return Expr(code, self.space.eval(code))

    def escaped(self, value: str, quote: str, ctx: Ctx) -> str:
        """A string body for `value`, choosing among escapes, or dropping what cannot be written
        in an f-string field."""
        out: list[str] = []
        for char in value:
            needs_escape = char in ("\\", quote[0]) or not (char.isprintable() or char in RAW_OK)
            if len(quote) == 3 and char == "\n":
                needs_escape = False
            if ctx.in_fstring:
                if needs_escape or char in "#{}\n":
                    continue
                out.append(char)
            elif needs_escape or self.draw(st.integers(0, 9)) == 0:
                out.append(self.escape(char))
            else:
                out.append(char)
        if not ctx.in_fstring and self.draw(st.integers(0, 3)) == 0:
            out.append(self.pick(ESCAPES))
        body = "".join(out)
        if len(quote) == 3 and body.endswith(quote[0]):
            body += "x"
        return body

    def escape(self, char: str) -> str:
        simple = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\", "'": "\\'", '"': '\\"'}
        if char in simple and self.draw(st.booleans()):
            return simple[char]
        code = ord(char)
        forms = [f"\\U{code:08x}"]
        if code < 0x10000:
            forms.append(f"\\u{code:04x}")
        if code < 0x100:
            forms.append(f"\\x{code:02x}")
        if code < 0o400:
            forms.append(f"\\{code:o}")
        name = unicodedata.name(char, None)
        if name:
            forms.append(f"\\N{{{name}}}")
        return self.pick(forms)

    def raw_body(self, quote: str) -> str:
        tokens = ["a", "Z", "0", " ", "\\d", "\\n", "\\\\", "é", "{", "}", "%", "\\" + quote[0]]
        body = "".join(self.draw(st.lists(st.sampled_from(tokens), max_size=6)))
        return body + "x" if body.endswith(quote[0]) else body

    def bytes_literal(self, ctx: Ctx) -> Expr:
        quote = self.quote(ctx, triple=False)
        assert quote is not None
        prefix = self.pick(("b", "B", "rb", "Br"))
        body = self.draw(st.text(st.sampled_from("abc 01%s"), max_size=6))
        if "r" not in prefix.lower() and not ctx.in_fstring and self.draw(st.booleans()):
            body += self.pick(("\\xff", "\\x00", "\\n", "\\\\"))
        code = f"{prefix}{quote}{body}{quote}"
        return Expr(code, self.space.eval(code))

    # composites

    def expr(self, depth: int, ctx: Ctx = Ctx()) -> Expr:
        if self.draw(st.booleans()):
            return self.typed(depth, ctx)
        if depth <= 0 or self.budget <= 0 or self.draw(st.integers(0, 4)) == 0:
            return self.leaf(ctx)
        self.budget -= 1
        kind = self.pick(COMPOSITES)
        return getattr(self, f"_{kind}")(depth - 1, ctx)  # type: ignore[no-any-return]

    def _paren(self, depth: int, ctx: Ctx) -> Expr:
        inner = self.expr(depth, ctx)
        pad = self.pick(("", " "))
        return Expr(
            f"({pad}{inner.code}{pad})",
            inner.outcome,
            inner.lead + 1 + len(pad),
            inner.trail + 1 + len(pad),
        )

    def _unary(self, depth: int, ctx: Ctx) -> Expr:
        op = self.pick(("-", "+", "~", "not "))
        operand = self.expr(depth, ctx)
        return self.node(f"{op}{operand.code}", [operand])

    def _binary(self, depth: int, ctx: Ctx) -> Expr:
        op = self.pick(BINARY_OPS)
        left, right = self.expr(depth, ctx), self.expr(depth, ctx)
        code = f"{left.code} {op} {right.code}"
        return self.node(code, [left, right], lambda v: _safe_binary(op, v[0], v[1]))

    def _pow(self, depth: int, ctx: Ctx) -> Expr:
        base = self.expr(depth, ctx) if self.draw(st.booleans()) else self.leaf(ctx)
        exponent = self.integer(self.draw(st.integers(-3, 70) | st.sampled_from((4096, 8192))))
        if self.draw(st.booleans()):
            text = self.pick(("0.5", "-0.5", "2.5", "1e3"))
            exponent = Expr(text, self.space.eval(text))
        code = f"{base.code} ** {exponent.code}"
        return self.node(code, [base, exponent], lambda v: _safe_binary("**", v[0], v[1]))

    def _repeat(self, depth: int, ctx: Ctx) -> Expr:
        sequence = self.draw(st.sampled_from((self._list, self._tuple, self._word)))(depth, ctx)
        count = self.integer(
            self.draw(
                st.integers(-2, 5) | st.sampled_from((10_000, 10_001, 50_001, 100_001, 2**70))
            )
        )
        left, right = (sequence, count) if self.draw(st.booleans()) else (count, sequence)
        code = f"{left.code} * {right.code}"
        return self.node(code, [left, right], lambda v: _safe_binary("*", v[0], v[1]))

    def _word(self, depth: int, ctx: Ctx) -> Expr:
        if self.quote(ctx) is None:
            return self.leaf(ctx)
        return self.string(ctx, self.pick(("ab", "", "x" * 1000, "é")))

    def _percent(self, depth: int, ctx: Ctx) -> Expr:
        quote = self.quote(ctx, triple=False)
        if quote is None:
            return self._binary(depth, ctx)
        text = f"{quote}{self.pick(PERCENT_FORMATS)}{quote}"
        fmt = Expr(text, self.space.eval(text))
        arguments = self.draw(st.sampled_from((self._tuple, self._list, self._dict, self.expr)))
        right = arguments(depth, ctx)
        code = f"{fmt.code} % {right.code}"
        return self.node(code, [fmt, right], lambda v: _safe_binary("%", v[0], v[1]))

    def _compare(self, depth: int, ctx: Ctx) -> Expr:
        parts = [self.expr(depth, ctx)]
        code = parts[0].code
        for _ in range(self.draw(st.integers(1, 3))):
            parts.append(self.expr(depth, ctx))
            code += f" {self.pick(COMPARE_OPS)} {parts[-1].code}"
        return self.node(code, parts)

    def _boolop(self, depth: int, ctx: Ctx) -> Expr:
        left, right = self.expr(depth, ctx), self.expr(depth, ctx)
        return self.node(f"{left.code} {self.pick(('and', 'or'))} {right.code}", [left, right])

    def _ifexp(self, depth: int, ctx: Ctx) -> Expr:
        body, test, orelse = (self.expr(depth, ctx) for _ in range(3))
        return self.node(f"{body.code} if {test.code} else {orelse.code}", [body, test, orelse])

    def _elements(self, depth: int, ctx: Ctx, star: str) -> tuple[list[str], list[Expr]]:
        codes: list[str] = []
        children: list[Expr] = []
        for _ in range(self.draw(st.integers(0, 4))):
            child = self.expr(depth, ctx)
            children.append(child)
            codes.append(f"{star}{child.code}" if self.draw(st.integers(0, 4)) == 0 else child.code)
        return codes, children

    def _list(self, depth: int, ctx: Ctx) -> Expr:
        codes, children = self._elements(depth, ctx, "*")
        trailing: bool = self.draw(st.booleans())
        comma = "," if codes and trailing else ""
        return self.node(f"[{', '.join(codes)}{comma}]", children, wrap=False)

    def _tuple(self, depth: int, ctx: Ctx) -> Expr:
        codes, children = self._elements(depth, ctx, "*")
        comma = "," if len(codes) == 1 or (codes and self.draw(st.booleans())) else ""
        return self.node(f"{', '.join(codes)}{comma}", children)

    def _set(self, depth: int, ctx: Ctx) -> Expr:
        codes, children = self._elements(depth, ctx, "*")
        if not codes:
            child = self.leaf(ctx)
            codes, children = [child.code], [child]
        text = ", ".join(codes)
        return self.node(f"{{ {text} }}" if ctx.in_fstring else f"{{{text}}}", children, wrap=False)

    def _dict(self, depth: int, ctx: Ctx) -> Expr:
        codes: list[str] = []
        children: list[Expr] = []
        for _ in range(self.draw(st.integers(0, 4))):
            choice = self.draw(st.integers(0, 5))
            if choice == 0:
                spread = self.expr(depth, ctx)
                children.append(spread)
                codes.append(f"**{spread.code}")
                continue
            quote = self.quote(ctx, triple=False)
            if choice <= 2 and quote is not None:
                key = self.string(ctx, self.pick(PROP_NAMES + OPTION_KEYS))
            else:
                key = self.expr(depth, ctx)
            value = self.expr(depth, ctx)
            children += [key, value]
            codes.append(f"{key.code}: {value.code}")
        text = ", ".join(codes)
        return self.node(f"{{ {text} }}" if ctx.in_fstring else f"{{{text}}}", children, wrap=False)

    def _subscript_target(self, depth: int, ctx: Ctx) -> Expr:
        target = self.expr(depth, ctx)
        if target.code[:1].isdigit() or target.code[:1] == ".":
            return paren(target.code, target.outcome)
        return target

    def _subscript(self, depth: int, ctx: Ctx) -> Expr:
        target = self._subscript_target(depth, ctx)
        if self.draw(st.booleans()):
            index = self.integer(self.draw(st.integers(-5, 5) | st.sampled_from((2**70, -(2**70)))))
        else:
            index = self.expr(depth, ctx)
        star = "*" if self.draw(st.integers(0, 15)) == 0 else ""
        extra = ", 0" if self.draw(st.integers(0, 15)) == 0 else ""
        return self.node(f"{target.code}[{star}{index.code}{extra}]", [target, index], wrap=False)

    def _slice(self, depth: int, ctx: Ctx) -> Expr:
        target = self._subscript_target(depth, ctx)
        parts: list[Expr] = []
        texts: list[str] = []
        for _ in range(self.draw(st.integers(2, 3))):
            if self.draw(st.booleans()):
                texts.append("")
                continue
            part = self.integer(self.draw(st.integers(-6, 6) | st.sampled_from((2**70, 10**30))))
            if self.draw(st.integers(0, 5)) == 0:
                part = self.expr(depth, ctx)
            parts.append(part)
            texts.append(part.code)
        return self.node(f"{target.code}[{':'.join(texts)}]", [target, *parts], wrap=False)

    def _concat(self, depth: int, ctx: Ctx) -> Expr:
        if self.quote(ctx) is None:
            return self.leaf(ctx)
        pieces: list[Expr] = []
        in_bytes = self.draw(st.integers(0, 9)) == 0  # str and bytes do not mix
        for _ in range(self.draw(st.integers(2, 3))):
            if in_bytes:
                pieces.append(self.bytes_literal(ctx))
            elif self.draw(st.booleans()):
                pieces.append(self.string(ctx))
            else:
                pieces.append(self._fstring(depth, ctx))
        code = pieces[0].code
        for piece in pieces[1:]:
            separator = self.pick((" ", "", "  "))
            if not separator and piece.code[0] == code[-1]:  # two '' written together are ''''
                separator = " "
            code += separator + piece.code
        return self.node(code, pieces, wrap=False)

    def _call(self, depth: int, ctx: Ctx) -> Expr:
        template = self.pick(CALLS)
        if "'" in template and "'" in ctx.quotes:
            template = template.replace("'", '"')
        if '"' in template and '"' in ctx.quotes:
            return self.leaf(ctx)
        children = [self.expr(depth, ctx) for _ in range(template.count("{}"))]
        code = template.format(*(child.code for child in children))
        return self.node(code, children, wrap=False)

    def _attribute(self, depth: int, ctx: Ctx) -> Expr:
        target = self._subscript_target(depth, ctx)
        name = self.pick(("real", "upper", "nope", "imag", "__class__"))
        return self.node(f"{target.code}.{name}", [target], wrap=False)

    def _lambda(self, depth: int, ctx: Ctx) -> Expr:
        body = self.expr(depth, ctx)
        return self.node(f"lambda{self.pick(('', ' q'))}: {body.code}", [body])

    def _comprehension(self, depth: int, ctx: Ctx) -> Expr:
        iterable = self.pick(ITERABLES)
        if "'" in iterable and ("'" in ctx.quotes or '"' in ctx.quotes):
            iterable = "(1, 2)"
        element = self.expr(depth, ctx)
        body = self.pick(("q", element.code, f"(q, {element.code})"))
        shape = self.pick(("[{} for q in {}]", "{{{}: 0 for q in {}}}", "{{{} for q in {}}}"))
        code = shape.format(body, iterable)
        if ctx.in_fstring and code.startswith("{"):
            code = f" {code} "
            return Expr(code, self.outcome(code, [element]), 1, 1)
        if self.draw(st.integers(0, 3)) == 0:
            return self.node(f"{body} for q in {iterable}", [element])
        return self.node(code, [element], wrap=False)

    def _walrus(self, depth: int, ctx: Ctx) -> Expr:
        value = self.expr(depth, ctx)
        return self.node(f"w{next(self.fresh)} := {value.code}", [value])

    def _await(self, depth: int, ctx: Ctx) -> Expr:
        value = self.expr(depth, ctx)
        return self.node(f"await {value.code}", [value])

    # well-typed expressions: most of them have a value, so the comparison with CPython bites

    def typed(self, depth: int, ctx: Ctx, kind: str | None = None) -> Expr:
        kind = kind or self.pick(TYPES)
        if depth <= 0 or self.budget <= 0 or self.draw(st.integers(0, 3)) == 0:
            return self.typed_leaf(kind, ctx)
        self.budget -= 1
        depth -= 1
        form = self.draw(st.integers(0, 9))
        if form == 0:
            test = self.typed(depth, ctx, "bool")
            body, orelse = self.typed(depth, ctx, kind), self.typed(depth, ctx, kind)
            return self.node(f"{body.code} if {test.code} else {orelse.code}", [body, test, orelse])
        if form == 1 and kind in ("str", "list", "tuple"):
            return self.typed_index(depth, ctx, kind)
        make = getattr(self, f"typed_{kind}")
        return make(depth, ctx)  # type: ignore[no-any-return]

    def typed_leaf(self, kind: str, ctx: Ctx) -> Expr:
        bound = [
            name
            for name in self.names
            if type(self.space.lookup(name)[1]).__name__ == kind and self.space.lookup(name)[0]
        ]
        if bound and self.draw(st.integers(0, 3)) == 0:
            name = self.pick(bound)
            return Expr(name, self.space.eval(name))
        if kind == "int":
            return self.integer(self.draw(st.integers(-20, 20) | st.integers() | st.just(0)))
        if kind == "float":
            text = self.pick(FLOAT_TEXTS[:3] + FLOAT_TEXTS[4:]) if self.draw(st.booleans()) else ""
            text = text or repr(self.draw(st.floats(-1e6, 1e6, allow_nan=False)))
            return (
                paren(text, self.space.eval(text))
                if text[0] == "-"
                else Expr(text, self.space.eval(text))
            )
        if kind == "str":
            if self.quote(ctx) is None:
                return self.integer(self.draw(st.integers(0, 9)))
            return self.string(ctx, self.pick(PROP_WORDS) if self.draw(st.booleans()) else None)
        if kind == "bool":
            text = self.pick(("True", "False"))
            return Expr(text, Value(text == "True"))
        items = [
            self.typed_leaf(self.pick(TYPES[:3]), ctx) for _ in range(self.draw(st.integers(0, 3)))
        ]
        if kind == "dict":
            keys = [self.typed_leaf(self.pick(("str", "int")), ctx) for _ in items]
            text = ", ".join(f"{k.code}: {v.code}" for k, v in zip(keys, items, strict=True))
            code = f"{{ {text} }}" if ctx.in_fstring else f"{{{text}}}"
            return self.node(code, keys + items, wrap=False)
        text = ", ".join(item.code for item in items)
        if kind == "list":
            return self.node(f"[{text}]", items, wrap=False)
        return self.node(text + ("," if len(items) == 1 else ""), items)

    def typed_int(self, depth: int, ctx: Ctx) -> Expr:
        op = self.pick(("+", "-", "*", "//", "%", "**", "+", "-", "*", "-u", "b", "<<", "|", "~"))
        left = self.typed(depth, ctx, "int")
        if op in ("~", "-u"):
            return self.node(f"{op[0]}{left.code}", [left])
        if op == "b":
            flag = self.typed(depth, ctx, "bool")
            return self.node(f"{flag.code} + {left.code}", [flag, left])
        if op in ("**", "<<"):
            right = self.integer(self.draw(st.integers(-2, 80)))
        else:
            right = self.typed(depth, ctx, "int")
        code = f"{left.code} {op} {right.code}"
        return self.node(code, [left, right], lambda v: _safe_binary(op, v[0], v[1]))

    def typed_float(self, depth: int, ctx: Ctx) -> Expr:
        op = self.pick(("+", "-", "*", "/", "//", "%", "**", "-u"))
        left = self.typed(depth, ctx, self.pick(("float", "float", "int")))
        if op == "-u":
            return self.node(f"-{left.code}", [left])
        right = self.typed(depth, ctx, self.pick(("float", "int")))
        if op == "**":
            text = self.pick(("0.5", "2", "3", "-1", "1.5"))
            right = Expr(text, self.space.eval(text))
        code = f"{left.code} {op} {right.code}"
        return self.node(code, [left, right], lambda v: _safe_binary(op, v[0], v[1]))

    def typed_str(self, depth: int, ctx: Ctx) -> Expr:
        form = self.draw(st.integers(0, 5))
        if form <= 1:
            return self._fstring(depth, ctx)
        if form == 2:
            return self._percent(depth, ctx)
        if form == 3:
            left, right = self.typed(depth, ctx, "str"), self.typed(depth, ctx, "str")
            return self.node(f"{left.code} + {right.code}", [left, right])
        if form == 4:
            return self._concat(depth, ctx)
        text = self.typed(depth, ctx, "str")
        count = self.integer(self.draw(st.integers(-1, 4)))
        code = f"{text.code} * {count.code}"
        return self.node(code, [text, count], lambda v: _safe_binary("*", v[0], v[1]))

    def typed_sequence(self, depth: int, ctx: Ctx, kind: str) -> Expr:
        form = self.draw(st.integers(0, 3))
        if form == 0:
            left, right = self.typed(depth, ctx, kind), self.typed(depth, ctx, kind)
            return self.node(f"{left.code} + {right.code}", [left, right])
        if form == 1:
            items = self.typed(depth, ctx, kind)
            count = self.integer(self.draw(st.integers(-1, 3)))
            code = f"{items.code} * {count.code}"
            return self.node(code, [items, count], lambda v: _safe_binary("*", v[0], v[1]))
        children: list[Expr] = []
        codes: list[str] = []
        for _ in range(self.draw(st.integers(0, 4))):
            if self.draw(st.integers(0, 3)) == 0:
                child = self.typed(depth, ctx, self.pick(("list", "tuple", "str")))
                codes.append(f"*{child.code}")
            else:
                child = self.typed(depth, ctx)
                codes.append(child.code)
            children.append(child)
        text = ", ".join(codes)
        if kind == "list":
            return self.node(f"[{text}]", children, wrap=False)
        return self.node(text + ("," if len(codes) == 1 else ""), children)

    def typed_list(self, depth: int, ctx: Ctx) -> Expr:
        return self.typed_sequence(depth, ctx, "list")

    def typed_tuple(self, depth: int, ctx: Ctx) -> Expr:
        return self.typed_sequence(depth, ctx, "tuple")

    def typed_dict(self, depth: int, ctx: Ctx) -> Expr:
        children: list[Expr] = []
        codes: list[str] = []
        for _ in range(self.draw(st.integers(0, 4))):
            if self.draw(st.integers(0, 3)) == 0:
                spread = self.typed(depth, ctx, "dict")
                children.append(spread)
                codes.append(f"**{spread.code}")
                continue
            key = self.typed(depth, ctx, self.pick(("str", "str", "int", "bool", "float")))
            value = self.typed(depth, ctx)
            children += [key, value]
            codes.append(f"{key.code}: {value.code}")
        text = ", ".join(codes)
        return self.node(f"{{ {text} }}" if ctx.in_fstring else f"{{{text}}}", children, wrap=False)

    def typed_bool(self, depth: int, ctx: Ctx) -> Expr:
        form = self.draw(st.integers(0, 3))
        if form == 0:
            operand = self.typed(depth, ctx)
            return self.node(f"not {operand.code}", [operand])
        if form == 1:
            left, right = self.typed(depth, ctx, "bool"), self.typed(depth, ctx, "bool")
            return self.node(f"{left.code} {self.pick(('and', 'or'))} {right.code}", [left, right])
        kind = self.pick(TYPES)
        parts = [self.typed(depth, ctx, kind)]
        code = parts[0].code
        for _ in range(self.draw(st.integers(1, 2))):
            op = self.pick(COMPARE_OPS[:6]) if form == 2 else self.pick(("in", "not in"))
            other = kind if form == 2 else self.pick(("list", "tuple", "str", "dict"))
            parts.append(self.typed(depth, ctx, other))
            code += f" {op} {parts[-1].code}"
        return self.node(code, parts)

    def typed_index(self, depth: int, ctx: Ctx, kind: str) -> Expr:
        target = self.typed(depth, ctx, kind)
        if self.draw(st.booleans()):
            index = self.integer(self.draw(st.integers(-4, 4)))
            return self.node(f"{target.code}[{index.code}]", [target, index], wrap=False)
        bounds = [self.integer(self.draw(st.integers(-5, 5))) for _ in range(3)]
        text = ":".join(b.code if self.draw(st.booleans()) else "" for b in bounds)
        if text.endswith(":0") or text == "::":
            text = text[:-1]
        return self.node(f"{target.code}[{text}]", [target, *bounds], wrap=False)

    def _fstring(self, depth: int, ctx: Ctx) -> Expr:
        quote = self.quote(ctx)
        if quote is None:
            return self.leaf(ctx)
        prefix = self.pick(("f", "f", "F", "rf", "fr", "Rf", "fR", "FR"))
        raw = "r" in prefix.lower()
        inner = Ctx(ctx.quotes | {quote[0]}, in_fstring=True)
        pieces: list[str] = []
        children: list[Expr] = []
        for _ in range(self.draw(st.integers(0, 4))):
            if self.draw(st.integers(0, 2)) == 0:
                pieces.append(self.fstring_text(quote, raw, ctx))
                continue
            if raw and not ctx.in_fstring and self.draw(st.integers(0, 5)) == 0:
                pieces.append("\\")  # rf"\{x}": a backslash just before a field
            pieces.append(self.field(depth, inner, children))
        body = "".join(pieces)
        if len(quote) == 3 and body.endswith(quote[0]):
            body += "x"
        code = f"{prefix}{quote}{body}{quote}"
        return Expr(code, self.outcome(code, children))

    def fstring_text(self, quote: str, raw: bool, ctx: Ctx) -> str:
        tokens = ["a", "Z", " ", "{{", "}}", "é", "😀", "%s", ":", "!", "="]
        if len(quote) == 3:
            tokens += [quote[0], "\n"]
        if not ctx.in_fstring:
            tokens += ["\\\\"] + (
                ["\\d", "\\N"] if raw else ["\\n", "\\t", "\\x41", "\\N{EM DASH}"]
            )
        text = ""
        for token in self.draw(st.lists(st.sampled_from(tokens), min_size=1, max_size=5)):
            if token == quote[0] and text.endswith(quote[0]):
                continue
            text += token
        return text

    def field(self, depth: int, inner: Ctx, children: list[Expr]) -> str:
        value = self.expr(depth, inner)
        children.append(value)
        code = value.code
        if code.startswith("{") or code.endswith("}"):
            code = f" {code} "
        equals = ""
        if self.draw(st.integers(0, 4)) == 0:
            equals = self.pick(("=", " =", "= ", " = "))
        conversion = self.pick(("", "", "", "!r", "!s", "!a"))
        spec = ""
        if self.draw(st.booleans()):
            spec = ":" + self.spec(inner, children)
        return f"{{{code}{equals}{conversion}{spec}}}"

    def spec(self, inner: Ctx, children: list[Expr]) -> str:
        if self.draw(st.integers(0, 2)):
            return self.pick(SPECS)
        text = ""
        for piece in re.split(r"(\{\})", self.pick(("{}", "<{}", ">{}", ".{}f", "{}.{}", "{}{}"))):
            if piece != "{}":
                text += piece
                continue
            nested = self.nested_spec_field(inner)
            children.append(nested)
            text += "{" + nested.code + "}"
        return text

    def nested_spec_field(self, inner: Ctx) -> Expr:
        small = [name for name in self.names if _small_int(self.space.lookup(name)[1])]
        choice = self.draw(st.integers(0, 3))
        if choice == 0 and small:
            name = self.pick(small)
            return Expr(name, self.space.eval(name))
        quote = self.quote(inner, triple=False)
        if choice == 1 and quote is not None:
            code = f"{quote}{self.pick(('<', '>', '^', '=', '+', ''))}{quote}"
            return Expr(code, self.space.eval(code))
        return self.integer(self.draw(st.integers(0, 30)))


# --------------------------------------------------------------------------------------------
# Statements: the bindings a name can have, applied to the model as CPython would run them

STATEMENTS = (
    ("assign", 1),
    ("assign", 1),
    ("assign", 1),
    ("assign", 1),
    ("assign", 1),
    ("assign", 1),
    ("assign", 1),
    ("assign", 1),
    ("assign", 1),
    ("annassign", 1),
    ("declare", 1),
    ("augassign", 1),
    ("chain", 2),
    ("unpack", 2),
    ("unpack", 2),
    ("for", 1),
    ("for_body", 1),
    ("for_alias", 2),
    ("walrus", 1),
    ("if_true", 1),
    ("except_as", 1),
    ("import", 1),
    ("def", 1),
    ("class", 1),
)
UNPACK_TARGETS = ("{0}, {1}", "[{0}, {1}]", "({0}, {1})", "{0}, *{1}", "{0}, ({1},)")
AUGMENTED = ("+=", "-=", "*=", "|=", "//=")
Template = Callable[[str], str]  # indentation of the block -> the statement's text


def draw_shape(gen: Gen) -> Item:
    kind, count = gen.draw(st.sampled_from(STATEMENTS))
    targets = [gen.target() for _ in range(count)]
    if kind == "for_body":
        targets.append("_")
    return kind, targets


def statement(gen: Gen, kind: str, targets: list[str]) -> str:
    """Render one statement at indentation `gen.indent`, apply it to `gen.space`, and return
    its text (wrapped in try/except when CPython would raise)."""
    space, depth = gen.space, 3
    t = targets
    exprs: list[Expr] = []
    run, unknown = True, False
    gen.budget = 5

    def value(make: Callable[[int, Ctx], Expr] | None = None) -> str:
        if make is None:
            make = gen.draw(st.sampled_from((gen.typed, gen.typed, gen.name_expr, gen.expr)))
        expr = make(depth, Ctx())
        exprs.append(expr)
        return expr.code

    template: Template
    if kind == "assign":
        code = value()
        template = lambda ind: f"{t[0]} = {code}"  # noqa: E731
    elif kind == "annassign":
        code = value()
        template = lambda ind: f"{t[0]}: int = {code}"  # noqa: E731
    elif kind == "declare":
        template = lambda ind: f"{t[0]}: int"  # noqa: E731
        return gen.indent + template(gen.indent)  # binds nothing
    elif kind == "augassign":
        op = gen.pick(AUGMENTED)
        code = value()
        template = lambda ind: f"{t[0]} {op} {code}"  # noqa: E731
        present, current = space.lookup(t[0])
        outcome = exprs[0].outcome
        unknown = t[0] in space.unknown or (
            present
            and isinstance(outcome, Value)
            and not _safe_binary(op[:-1], current, outcome.value)
        )
    elif kind == "chain":
        code = value()
        template = lambda ind: f"{t[0]} = {t[1]} = {code}"  # noqa: E731
    elif kind == "unpack":
        pattern = gen.pick(UNPACK_TARGETS).format(*t)
        code = value(gen.draw(st.sampled_from((gen._tuple, gen._list, gen.expr))))
        template = lambda ind: f"{pattern} = {code}"  # noqa: E731
    elif kind == "for":
        code = value(gen.draw(st.sampled_from((gen._tuple, gen._list, gen._word, gen.expr))))
        template = lambda ind: f"for {t[0]} in {code}:\n{ind}    pass"  # noqa: E731
    elif kind == "for_body":
        code = value()
        template = lambda ind: f"for _ in range(2):\n{ind}    {t[0]} = {code}"  # noqa: E731
    elif kind == "for_alias":
        template = lambda ind: f"for {t[0]} in range(3):\n{ind}    {t[1]} = {t[0]}"  # noqa: E731
    elif kind == "walrus":
        code = value()
        template = lambda ind: f"({t[0]} := {code})"  # noqa: E731
    elif kind == "if_true":
        code = value()
        template = lambda ind: f"if True:\n{ind}    {t[0]} = {code}"  # noqa: E731
    elif kind == "except_as":
        template = lambda ind: (  # noqa: E731
            f"try:\n{ind}    pass\n{ind}except Exception as {t[0]}:\n{ind}    pass"
        )
    elif kind == "import":
        line = gen.pick((f"import math as {t[0]}", f"from math import pi as {t[0]}"))
        template, run = (lambda ind: line), False
    elif kind == "def":
        template, run = (lambda ind: f"def {t[0]}(q=None):\n{ind}    return q"), False
    else:
        template, run = (lambda ind: f"class {t[0]}:\n{ind}    pass"), False

    if not run or unknown or any(expr.outcome is None for expr in exprs):
        space.forget(targets)
        return gen.indent + template(gen.indent)
    if space.run(template("")):
        space.bound(targets)
        return gen.indent + template(gen.indent)
    ind = gen.indent
    inner = template(ind + "    ")
    return f"{ind}try:\n{ind}    {inner}\n{ind}except Exception:\n{ind}    pass"


# --------------------------------------------------------------------------------------------
# Calls and files


@dataclass(frozen=True)
class WrittenArg:
    kind: str  # "pos", "kw", "star" or "dstar"
    name: str | None
    code: str
    expected: Outcome
    start: int  # offsets of the value's own span in the file (parentheses excluded)
    end: int


@dataclass(frozen=True)
class WrittenCall:
    start: int
    name_end: int
    end: int
    args: tuple[WrittenArg, ...]

    def moved(self, base: int) -> WrittenCall:
        args = tuple(
            WrittenArg(a.kind, a.name, a.code, a.expected, a.start + base, a.end + base)
            for a in self.args
        )
        return WrittenCall(self.start + base, self.name_end + base, self.end + base, args)


@dataclass(frozen=True)
class Chunk:
    text: str
    calls: tuple[WrittenCall, ...] = ()


@dataclass(frozen=True)
class Program:
    source: str
    calls: tuple[WrittenCall, ...]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis prints a failing example as its source, one line per line."""
        printer.text("Program(source='''\\\n" + self.source + "''')")


def assemble(chunks: Sequence[Chunk]) -> Program:
    source = HEADER
    calls: list[WrittenCall] = []
    for chunk in chunks:
        calls += [call.moved(len(source)) for call in chunk.calls]
        source += chunk.text
    return Program(source, tuple(calls))


def call_site(gen: Gen, depth: int, in_function: bool = False) -> Chunk:
    ind = gen.indent
    wrappers = ("", "", "_ = ", "print(", "[") + (("return ",) if in_function else ())
    wrapper = gen.pick(wrappers)
    text = ind + wrapper
    start = len(text)
    text += "StaticImage"
    name_end = len(text)
    text += "("
    newline = "\n" + ind + "    "
    positional = gen.draw(st.lists(st.sampled_from(("pos", "pos", "star")), max_size=2))
    keyword = gen.draw(st.lists(st.sampled_from(("kw", "kw", "kw", "dstar")), max_size=3))
    args: list[WrittenArg] = []
    for index, kind in enumerate(positional + keyword):
        gen.budget = 6
        text += gen.pick((", ", ",", "," + newline)) if index else gen.pick(("", newline))
        name = None
        if kind == "kw":
            name = gen.pick(PROP_NAMES)
            text += name + gen.pick(("=", " = "))
        elif kind in ("star", "dstar"):
            text += "*" if kind == "star" else "**"
        makers: tuple[Callable[[int, Ctx], Expr], ...] = (gen.expr, gen.expr, gen.name_expr)
        if kind == "star":
            makers = (gen._list, gen._tuple, gen.expr, gen.name_expr)
        elif kind == "dstar":
            makers = (gen._dict, gen._dict, gen.expr, gen.name_expr)
        elif gen.draw(st.integers(0, 3)) == 0:
            makers = (lambda d, c: gen.string(c, gen.pick(PROP_WORDS)),)
        expr = gen.draw(st.sampled_from(makers))(depth, Ctx())
        begin = len(text)
        text += expr.code
        args.append(
            WrittenArg(
                kind,
                name,
                expr.code,
                snapshot(expr.outcome),
                begin + expr.lead,
                len(text) - expr.trail,
            )
        )
    trailing: bool = gen.draw(st.booleans())
    if args and trailing:
        text += ","
    if gen.draw(st.integers(0, 3)) == 0:
        text += "\n" + ind
    text += ")"
    end = len(text)
    text += {"print(": ")", "[": "]"}.get(wrapper, "") + "\n"
    return Chunk(text, (WrittenCall(start, name_end, end, tuple(args)),))


Item = tuple[str, list[str]]  # ("call", []) or a statement's kind and target names


def block(gen: Gen, items: Sequence[Item], in_function: bool = False) -> Chunk:
    """The statements and calls of one block, at `gen.indent`, in order."""
    text = ""
    calls: list[WrittenCall] = []
    for kind, targets in items:
        if kind == "call":
            chunk = call_site(gen, gen.draw(st.integers(1, 4)), in_function)
            calls += [call.moved(len(text)) for call in chunk.calls]
            text += chunk.text
        else:
            text += statement(gen, kind, targets) + "\n"
    return Chunk(text, tuple(calls))


def draw_items(gen: Gen, max_size: int) -> list[Item]:
    items: list[Item] = []
    for _ in range(gen.draw(st.integers(0, max_size))):
        items.append(("call", []) if gen.draw(st.integers(0, 2)) == 0 else draw_shape(gen))
    return items


@st.composite
def programs(draw: st.DrawFn, bindings: bool = True) -> Program:
    pool = [f"v{i}" for i in range(draw(st.integers(2, 7)))] if bindings else []
    space = Space({"__builtins__": SAFE_BUILTINS})
    gen = Gen(draw, space, pool)
    chunks: list[Chunk] = []
    classes = itertools.count()
    for _ in range(draw(st.integers(0, 3)) if bindings else 0):  # the preamble
        kind, targets = draw_shape(gen)
        chunks.append(Chunk(statement(gen, kind, targets) + "\n"))
    for _ in range(draw(st.integers(1, 3 if bindings else 2))):
        choice = draw(st.integers(0, 5)) if bindings else 0
        if choice <= 1:
            chunks.append(call_site(gen, draw(st.integers(1, 4))))
        elif choice <= 4:
            kind, targets = draw_shape(gen)
            chunks.append(Chunk(statement(gen, kind, targets) + "\n"))
        else:
            chunks.append(class_block(gen, next(classes)))
    if bindings:
        for number in range(draw(st.integers(0, 2))):
            position = draw(st.integers(0, len(chunks)))
            chunks.insert(position, function_block(gen, number))
    return assemble(chunks)


def class_block(gen: Gen, number: int) -> Chunk:
    """A class body: it runs where it stands, with the module's names as they are there."""
    module = gen.space
    space = Space(dict(module.globals), {}, set(module.unknown))
    inner = gen.inner(space, "    ")
    body = block(inner, draw_items(inner, 2))
    head = f"class K{number}:\n"
    chunk = Chunk(head + body.text + "    pass\n", tuple(c.moved(len(head)) for c in body.calls))
    module.forget([f"K{number}"])
    return chunk


def function_block(gen: Gen, number: int) -> Chunk:
    """A function whose body is evaluated as if it were called once the module has run."""
    draw, module = gen.draw, gen.space
    names = gen.names
    params = draw(st.lists(st.sampled_from(names), unique=True, max_size=3)) if names else []
    declared = [n for n in draw(st.lists(st.sampled_from(names), max_size=2)) if n not in params]
    items = draw_items(gen, 3)
    local = set(params) | {t for kind, ts in items if kind != "call" for t in ts} | {"_"}
    local -= set(declared)
    visible: dict[str, Any] = {}
    unknown = (module.unknown - local) | set(params)
    for name, value in module.globals.items():
        if name in local:
            continue
        try:
            visible[name] = value if name == "__builtins__" else copy.deepcopy(value)
        except Exception:
            unknown.add(name)
    space = Space(visible, None, unknown)
    inner = gen.inner(space, "    ")
    rendered = []
    for index, param in enumerate(params):
        style = draw(st.integers(0, 3))
        if style == 1 and index == len(params) - 1:
            rendered.append(f"*{param}")
        elif style == 2 and index == len(params) - 1:
            rendered.append(f"**{param}")
        else:
            rendered.append(param)
    head = f"def fn{number}({', '.join(rendered)}):\n"
    if declared:
        head += f"    global {', '.join(dict.fromkeys(declared))}\n"
    body = block(inner, items, in_function=True)
    module.forget([f"fn{number}"])
    text = head + body.text + "    pass\n"
    return Chunk(text, tuple(c.moved(len(head)) for c in body.calls))


# --------------------------------------------------------------------------------------------
# Checks


def is_constant(value: Any, seen: set[int] | None = None) -> bool:
    """A value the scanner may hand over: str, int, float, bool, None, lists, tuples, dicts."""
    seen = set() if seen is None else seen
    if value is None or isinstance(value, str | int | float):
        return True
    if id(value) in seen:
        return True
    seen.add(id(value))
    if isinstance(value, list | tuple):
        return all(is_constant(item, seen) for item in value)
    if isinstance(value, dict):
        return all(is_constant(k, seen) and is_constant(v, seen) for k, v in value.items())
    return False


def same(expected: Any, actual: Any) -> bool:
    """Equal, with the same types all the way down, and floats equal by repr (-0.0, nan)."""
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, float):
        return repr(expected) == repr(actual)
    if isinstance(expected, list | tuple):
        return len(expected) == len(actual) and all(map(same, expected, actual))
    if isinstance(expected, dict):
        return len(expected) == len(actual) and all(
            same(k1, k2) and same(v1, v2)
            for (k1, v1), (k2, v2) in zip(expected.items(), actual.items(), strict=True)
        )
    return bool(expected == actual)


class Lines:
    """Offsets in the source text to 1-based (line, column) as the scanner counts them."""

    def __init__(self, source: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.count = len(self.starts)

    def position(self, offset: int) -> tuple[int, int]:
        line = max(i for i, start in enumerate(self.starts) if start <= offset)
        return line + 1, offset - self.starts[line] + 1

    def span(self, start: int, end: int) -> Span:
        return Span(*self.position(start), *self.position(end))


def inside(inner: Span, outer: Span) -> bool:
    return (outer.line, outer.column) <= (inner.line, inner.column) and (
        inner.end_line,
        inner.end_column,
    ) <= (outer.end_line, outer.end_column)


def check_unresolved(value: Unresolved, within: Span, lines: int) -> None:
    assert isinstance(value.reason, str) and value.reason.strip(), value
    span = value.span
    assert 1 <= span.line <= span.end_line <= lines, (span, lines)
    assert span.column >= 1 and span.end_column >= 1, span
    assert inside(span, within), f"{value} is not inside the argument at {within}"


def check_resolved(code: str, expected: Outcome, actual: Any) -> None:
    assert is_constant(actual), f"`{code}` resolved to a {type(actual).__name__}: {actual!r}"
    if isinstance(expected, Raises):
        raise AssertionError(
            f"`{code}` resolved to {actual!r}, but CPython raises {expected.error}"
        )
    if isinstance(expected, Value):
        assert same(expected.value, actual), (
            f"`{code}`: CPython gives {expected.value!r}, the scanner {actual!r}"
        )


def check_plan(call: FoundCall) -> None:
    request, diagnostics = plan_call(call)
    for diagnostic in diagnostics:
        assert diagnostic.code in CODES, diagnostic
        assert diagnostic.file == call.file
    if request is None:
        assert any(diagnostic.is_error for diagnostic in diagnostics)
    else:
        assert isinstance(request, ImageRequest)
        assert not any(diagnostic.is_error for diagnostic in diagnostics)
        assert len(request.hash) == 20  # the request can be keyed and reported


def check_program(program: Program) -> None:
    scan = scan_python(program.source.encode(), FILE)
    if not _cpython_compiles(program.source):
        # The grammar can write what this CPython refuses (quotes reused inside an f-string
        # field before 3.12): the scanner must then say so, as a syntax error.
        assert [d.code for d in scan.diagnostics] == ["SI110"]
        return
    assert scan.diagnostics == ()
    assert len(scan.calls) == len(program.calls)
    lines = Lines(program.source)
    for written, found in zip(program.calls, scan.calls, strict=True):
        assert found.callee == "StaticImage"
        assert found.span == lines.span(written.start, written.end)
        assert found.name_span == lines.span(written.start, written.name_end)
        check_arguments(written, found, lines)
        check_plan(found)


def check_arguments(written: WrittenCall, found: FoundCall, lines: Lines) -> None:
    """Each argument written maps to the scanner's arguments at its span, in order: one for a
    positional or keyword argument, and for `*`/`**` either one SPREAD or its expansion."""
    spans = [lines.span(arg.start, arg.end) for arg in written.args]
    for arg in found.args:
        assert arg.span in spans, f"{arg} is not at any argument written ({spans})"
    order = [spans.index(arg.span) for arg in found.args]
    assert order == sorted(order), "the arguments are out of order"
    kinds = {"pos": ArgKind.POSITIONAL, "kw": ArgKind.KEYWORD}
    kinds |= {"star": ArgKind.POSITIONAL, "dstar": ArgKind.KEYWORD}
    position = 0
    for want, span in zip(written.args, spans, strict=True):
        group = [arg for arg in found.args if arg.span == span]
        spread = [arg for arg in group if arg.kind is ArgKind.SPREAD]
        plain = want.kind in ("pos", "kw")
        if plain or spread:
            assert len(group) == 1, (want, group)
        for arg in group:
            if not spread:
                assert arg.kind is kinds[want.kind], (want, arg)
                assert arg.from_spread is not plain, (want, arg)
            if want.kind == "kw":
                assert arg.name == want.name, (want, arg)
            if arg.kind is ArgKind.POSITIONAL:
                assert arg.index == position, (want, arg)
                position += 1
            else:
                assert arg.index == -1, (want, arg)
            if isinstance(arg.value, Unresolved):
                check_unresolved(arg.value, span, lines.count)
            elif plain:
                check_resolved(want.code, want.expected, arg.value)
        if not plain and not spread:
            check_spread(want, [(arg.name, arg.value) for arg in group])


def check_spread(arg: WrittenArg, items: list[tuple[str | None, Any]]) -> None:
    """A `*` or `**` argument the scanner expanded (possibly to nothing)."""
    expected = arg.expected
    if isinstance(expected, Raises):
        raise AssertionError(f"`{arg.code}` was expanded, but CPython raises {expected.error}")
    if not isinstance(expected, Value):
        return
    value = expected.value
    if arg.kind == "star":
        assert isinstance(value, list | tuple), f"`*{arg.code}` of a {type(value).__name__}"
        assert len(items) == len(value), (value, items)
        for item, (_, actual) in zip(value, items, strict=True):
            check_resolved(arg.code, Value(item), actual)
    else:
        assert isinstance(value, dict) and all(isinstance(k, str) for k in value), value
        assert [name for name, _ in items] == list(value), (value, items)
        for item, (_, actual) in zip(value.values(), items, strict=True):
            check_resolved(arg.code, Value(item), actual)


def check_any_scan(scan: FileScan, line_count: int) -> None:
    """What holds for any input: coded diagnostics, or calls with well-formed arguments."""
    for diagnostic in scan.diagnostics:
        assert diagnostic.code in ("SI110", "SI112"), diagnostic
    assert not (scan.calls and scan.diagnostics)
    for call in scan.calls:
        for arg in call.args:
            if isinstance(arg.value, Unresolved):
                check_unresolved(arg.value, call.span, line_count)
            else:
                assert is_constant(arg.value), arg
        check_plan(call)


# --------------------------------------------------------------------------------------------
# The properties


@FUZZ
@given(programs(bindings=False))
def test_constant_expressions_agree_with_python(program: Program) -> None:
    check_program(program)


@FUZZ
@given(programs())
def test_files_with_bindings_agree_with_python(program: Program) -> None:
    check_program(program)


def _cpython_compiles(source: str) -> bool:
    """Whether CPython's parser accepts the source, as the scanner asks it (`ast.parse`: the
    compiler's own later checks, such as a repeated keyword argument, are not syntax)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(source, FILE)
        except (SyntaxError, ValueError):
            return False
    return True


def _line_count(data: bytes) -> int:
    return len(re.split(rb"\r\n|\r|\n", data))


@FUZZ
@given(st.text(), st.booleans())
def test_arbitrary_text_never_raises(text: str, prefixed: bool) -> None:
    data = ((HEADER + "StaticImage(") if prefixed else "").encode() + text.encode()
    check_any_scan(scan_python(data, FILE), _line_count(data))


@FUZZ
@given(st.binary())
def test_arbitrary_bytes_never_raises(data: bytes) -> None:
    data = (HEADER + "StaticImage(").encode() + data
    check_any_scan(scan_python(data, FILE), _line_count(data))


SOUP = (
    "StaticImage(", "StaticImage", "(", ")", "[", "]", "{", "}", ",", ":", "=", "*", "**",
    " ", "\n", "    ", "\\\n", "#", "1", "0x1f", "1e400", "10**9", "'a'", '"b"', "'''c\n'''",
    "f'", 'f"', "rf'", "b'", "'", '"', "{x}", "{x!r:>{5}}", "{1=}", "\\", "\\N{EM DASH}",
    "\\N{nope}", "\\x4", "\\u12", "é", "😀", "\x00", "\r", "\t", "\x0c", "x", "src", "alt",
    "lambda", "if", "else", "for", "in", "not", "and", "or", "is", ":=", "await", "yield",
    "def f():", "class C:", "return", "global", "@", "->", ";", ".", "...", "%", "-", "~",
    "'\\x4'", "b'é'",
    "'\\N{nope}'", "f'{x:{1}}'", "'%(a)s' % {}", "{(1, [2]): 3}", "f'{1=}'", "rf'\\{1}'",
)  # fmt: skip


HEADS = (
    HEADER,
    HEADER,
    "",
    "\ufeff" + HEADER,
    "# -*- coding: latin-1 -*-\n" + HEADER,
    "# coding: undefined\n" + HEADER,
    "# coding: punycode\n" + HEADER,
)


@FUZZ
@given(st.sampled_from(HEADS), st.lists(st.sampled_from(SOUP), max_size=30))
def test_python_like_token_soup_never_raises(head: str, tokens: list[str]) -> None:
    data = (head + "StaticImage(" + "".join(tokens) + ")\n").encode()
    check_any_scan(scan_python(data, FILE), _line_count(data))


# --------------------------------------------------------------------------------------------
# Minimised findings of the properties above, as plain regression cases. Each is valid Python
# (CPython compiles it) whose argument `a` CPython evaluates to `expected` or fails on.


def _nested(depth: int) -> Any:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


FINDINGS = [
    pytest.param('StaticImage(a=f"{1+1=}")', Value("1+1=2"), id="fstring-self-documenting"),
    pytest.param('StaticImage(a="%s" % [1])', Value("[1]"), id="percent-list-is-one-value"),
    pytest.param('StaticImage(a="%s%s" % [1, 2])', Raises("TypeError"), id="percent-list"),
    pytest.param('StaticImage(a="%(a)s" % {})', Raises("KeyError"), id="percent-missing-key"),
    pytest.param("StaticImage(a={(1, [2]): 3})", Raises("TypeError"), id="unhashable-dict-key"),
    pytest.param('StaticImage(a=rf"\\{1}")', Value("\\1"), id="raw-fstring-backslash-field"),
    pytest.param('StaticImage(a=f"""a"{1}""")', Value('a"1'), id="triple-fstring-quote-field"),
    pytest.param("a, b = 1, 2, 3\nStaticImage(a=a)", Raises("ValueError"), id="unpack-too-many"),
    pytest.param(
        "class K:\n    StaticImage(a=v)\nv = 1", Raises("NameError"), id="class-body-before-binding"
    ),
    pytest.param("StaticImage(a=(-8) ** 0.5)", Value((-8) ** 0.5), id="complex-result"),
    pytest.param('StaticImage(a=f"{1:{2**62}}")', Raises("MemoryError"), id="format-width"),
    pytest.param('StaticImage(a="%*d" % (2**62, 1))', Raises("MemoryError"), id="percent-width"),
    pytest.param("StaticImage(a=" + "+".join(["1"] * 400) + ")", Value(400), id="long-sum"),
    pytest.param("StaticImage(a=" + "[" * 150 + "]" * 150 + ")", Value(_nested(150)), id="nesting"),
    pytest.param(
        "def f():\n    global v\n    v = []\nStaticImage(a=v)",
        Raises("NameError"),
        id="global-bound-in-a-function-never-called",
    ),
]


@pytest.mark.parametrize(("code", "expected"), FINDINGS)
def test_minimised_findings(code: str, expected: Outcome) -> None:
    source = HEADER + code + "\n"
    compile(source, FILE, "exec")  # valid Python
    scan = scan_python(source.encode(), FILE)
    (call,) = scan.calls
    (arg,) = [arg for arg in call.args if arg.name == "a"]
    if isinstance(arg.value, Unresolved):
        check_unresolved(arg.value, call.span, source.count("\n"))
    else:
        check_resolved(code, expected, arg.value)
    check_plan(call)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"StaticImage(a='\\x4')", id="truncated-escape"),
        pytest.param(b"StaticImage(a='\\N{nope}')", id="unknown-character-name"),
        pytest.param("StaticImage(a=b'é')".encode(), id="non-ascii-bytes"),
        pytest.param(b"StaticImage(a=" + b"1" * 4301 + b")", id="int-over-4300-digits"),
        pytest.param(b"# coding: undefined\n", id="undefined-codec"),
        pytest.param(b"# coding: punycode\nx = 1\n", id="punycode-codec"),
        pytest.param(b"StaticImage(a='a' b'b')", id="str-and-bytes"),
    ],
)
def test_minimised_invalid_sources(data: bytes) -> None:
    """Sources CPython rejects but libcst parses: a diagnostic, never an exception."""
    data = HEADER.encode() + data if data.startswith(b"Static") else data
    scan = scan_python(data, FILE)
    check_any_scan(scan, _line_count(data))
    if data.startswith(b"from"):
        assert [d.code for d in scan.diagnostics] in ([], ["SI110"]), scan.diagnostics


@pytest.mark.parametrize(
    "code",
    [
        pytest.param('StaticImage("a.jpg", "", width=2**64)', id="int-over-64-bits"),
        pytest.param('StaticImage("a.jpg", "", width=1e300)', id="integral-float-over-64-bits"),
        pytest.param('StaticImage("a.jpg", "", breakpoints=[10**30])', id="breakpoint"),
        pytest.param('StaticImage("a\\ud800.jpg", "")', id="lone-surrogate"),
        pytest.param('StaticImage("a.jpg", "", width=2**1024)', id="int-over-float-range"),
        pytest.param('StaticImage("a.jpg", "", transform_options={"trim": 2**1024})', id="trim"),
    ],
)
def test_minimised_plans_never_raise_and_can_be_hashed(code: str) -> None:
    (call,) = scan_python((HEADER + code).encode(), FILE).calls
    check_plan(call)


def test_a_large_shared_structure_is_not_stringified() -> None:
    # `[l] * 100` is a hundred references to one list, but 100 MB once stringified; with
    # `* 10_000` (still within the item limit) it would be 10 GB.
    source = 's = "x" * 100_000\nl = [s] * 10\nm = [l] * 100\nStaticImage(a=f"{m}")\n'
    tracemalloc.start()
    try:
        scan = scan_python((HEADER + source).encode(), FILE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(scan.calls[0].args[0].value, Unresolved)
    assert peak < 20_000_000, f"scanning took {peak:,} bytes"
