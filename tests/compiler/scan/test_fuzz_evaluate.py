"""Fuzzing the constant evaluator: its operators directly, and Python expressions end to end.

The contract: every input ends as a value or an `Impossible` (a coded diagnostic once it
reaches the props stage), never another exception, and never an allocation much larger than
a prop can be. Two levels:

* the shared operators of `compiler/scan/evaluate.py` (`binary`, `unary`, `subscript`,
  `format_value`) on random constants, printf and format-spec strings included, with the
  memory they allocate measured;
* Python files built from grammar pieces (literals, names, operators, calls, subscripts,
  f-strings, comprehensions, lambdas, walrus, star-args, nested brackets, random unicode)
  around a `StaticImage(...)` call, through `plan.scan_source` and `plan.plan_scan`, the path
  `staticimg extract` takes.

`test_python_fuzz.py` checks the scanner's values against CPython; this file looks for
crashes with a broader grammar. The minimised findings are regression cases at the end.
"""

from __future__ import annotations

import math
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staticimg.compiler.config import JinjaSettings
from staticimg.compiler.diagnostics import CODES
from staticimg.compiler.plan import plan_scan, scan_source
from staticimg.compiler.scan.calls import FileScan, Unresolved
from staticimg.compiler.scan.discover import SourceFile, SourceKind
from staticimg.compiler.scan.evaluate import (
    BINARY,
    MAX_STRING,
    UNARY,
    Impossible,
    binary,
    check_size,
    format_value,
    subscript,
    unary,
)

# CPython warns about odd literals in generated code ("\d"); the scanner's parse does too.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PYTHON_FILE = SourceFile(Path("/project/app/page.py"), "app/page.py", SourceKind.PYTHON)
# What one operation may allocate at its peak: a few copies of the largest prop value.
PEAK_BYTES = 16 * 4 * MAX_STRING


# --------------------------------------------------------------------------------------------
# Constants and format strings

_TEXT = st.text(
    st.characters(codec="utf-8"), max_size=12
)  # any unicode, emoji and combining marks included
_PRINTF = st.lists(
    st.sampled_from(
        [
            "%s", "%r", "%d", "%5d", "%-08.3f", "%x", "%c", "%%", "%", "%(a)s", "%((a))s",
            "%((a))99999999s", "%(a)*d", "%*d", "%.*f", "%99999s", "%.99999f", "%l5d", "%(",
            "%(a", "%((a)s", "%e", "%g", "%a", "%0100000d", "%.2147483648d", "%#o", "x", "é",
        ]
    ),
    max_size=6,
).map("".join)  # fmt: skip
_SPEC = st.lists(
    st.sampled_from(
        [
            "", ">", "<", "^", "=", "*", "0", "+", "-", " ", "#", ",", "_", "10", "99999",
            "100001", "9999999999", ".", ".3", ".99999", "s", "d", "f", "e", "%", "x", "n",
            "b", "c", "g", "z", "{", "}", "é",
        ]
    ),
    max_size=5,
).map("".join)  # fmt: skip
_INTS = st.one_of(
    st.integers(-1000, 1000),
    st.integers(-(2**80), 2**80),
    st.sampled_from([2**4095, -(2**4096) + 1, 10**1000, 2**63, -(2**63), 0, 1, -1, 9999, 10001]),
)
_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, 0.5, 1.5]),
)
_SCALARS = st.one_of(_INTS, _FLOATS, _TEXT, _PRINTF, st.booleans(), st.none())
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.one_of(_TEXT, _INTS), inner, max_size=4),
        st.builds(lambda x: [x] * 9999, inner),  # large, shared: a repeat's result
        st.builds(lambda x: "a" * 99_999 if x else "é" * 50_000, st.booleans()),
    ),
    max_leaves=8,
)
_KEYS = st.one_of(
    _VALUES,
    st.builds(
        slice,
        st.one_of(st.none(), _INTS, _TEXT),
        st.one_of(st.none(), _INTS, _FLOATS),
        st.one_of(st.none(), _INTS, st.just(0)),
    ),
)


def _bounded(value: Any) -> None:
    """A value the evaluator hands on is within the prop limits."""
    assert check_size(value) is value
    if isinstance(value, str):
        assert len(value) <= MAX_STRING
    if isinstance(value, float):
        assert math.isfinite(value)


def _run_measured(operation: Any, *args: Any) -> None:
    """`operation(*args)` returns a bounded value or raises Impossible, and its peak
    allocation stays near the size of a prop."""
    tracemalloc.start()
    try:
        try:
            result = operation(*args)
        except Impossible as exc:
            assert exc.reason
            result = None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if result is not None:
        _bounded(result)
    assert peak <= PEAK_BYTES, f"{operation.__name__} allocated {peak:,} bytes"


@FUZZ
@given(st.sampled_from(sorted(BINARY)), _VALUES, _VALUES)
def test_binary_operators_give_a_value_or_impossible(op: str, left: Any, right: Any) -> None:
    _run_measured(binary, op, left, right)


@FUZZ
@given(_PRINTF, _VALUES)
def test_printf_formatting_gives_a_value_or_impossible(template: str, right: Any) -> None:
    _run_measured(binary, "%", template, right)


@FUZZ
@given(st.sampled_from(sorted(UNARY)), _VALUES)
def test_unary_operators_give_a_value_or_impossible(op: str, operand: Any) -> None:
    _run_measured(unary, op, operand)


@FUZZ
@given(_VALUES, _KEYS)
def test_subscripts_give_a_value_or_impossible(container: Any, key: Any) -> None:
    _run_measured(subscript, container, key)


@FUZZ
@given(_VALUES, st.sampled_from([None, "r", "s", "a"]), _SPEC)
def test_format_fields_give_a_value_or_impossible(value: Any, conversion: Any, spec: str) -> None:
    _run_measured(format_value, value, conversion, spec)


# --------------------------------------------------------------------------------------------
# Python expressions from grammar pieces

_NAMES = st.sampled_from(
    ["a", "b", "w", "src", "StaticImage", "len", "str", "int", "x_é", "_", "π", "print", "si"]
)
_STRING_LITERALS = st.one_of(
    _TEXT.map(repr),
    _PRINTF.map(repr),
    st.sampled_from(
        [
            "'a.jpg'", '"b.png"', "'''long\nstring'''", "r'\\d'", "b'x'", "u'é'", "'\\N{EM DASH}'",
            "'a' 'b'", "'%((a))99999999s' % {'(a)': 1}", "'x' * 99999", "'é' * 10**6",
            "'%s' * 9999 % (('a',) * 9999)", "'%99999s' * 9999 % (('',) * 9999)",
        ]
    ),
)  # fmt: skip
_NUMBERS = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(
        ["0x1F", "0o17", "0b101", "1_000", "1e400", "1j", "10**4096", "9**9**9", "2**-1"]
    ),
)  # fmt: skip
_ATOMS = st.one_of(
    _NAMES,
    _NUMBERS,
    _STRING_LITERALS,
    st.sampled_from(["None", "True", "False", "...", "()", "[]", "{}"]),
)


def _fstring(inner: str, spec: str, conversion: str) -> str:
    # Triple double quotes: the fields may hold '-quoted strings (3.11 forbids reusing the
    # f-string's own quote inside it).
    return f'f"""{{{inner}{conversion}:{spec}}}{{{inner}}}é"""'


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary_op = st.sampled_from(
        ["+", "-", "*", "/", "//", "%", "**", "@", "<<", ">>", "&", "|", "^", "and", "or",
         "==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not"]
    )  # fmt: skip
    return st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner, binary_op, inner),
        st.builds(lambda op, a: f"({op}{a})", st.sampled_from(["-", "+", "~", "not "]), inner),
        st.builds(lambda a, b, c: f"({a} if {b} else {c})", inner, inner, inner),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(inner, max_size=3).map(lambda xs: "(" + "".join(x + ", " for x in xs) + ")"),
        st.lists(st.tuples(inner, inner), max_size=3).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
        ),
        st.builds(lambda a: "{" + a + "}", inner),  # a set
        st.builds(lambda a, b: f"{a}[{b}]", inner, inner),
        st.builds(lambda a, b, c: f"{a}[{b}:{c}]", inner, inner, inner),
        st.builds(lambda a, b: f"{a}[{b}::-1]", inner, inner),
        st.builds(lambda a, n: f"({a}).{n}", inner, _NAMES),
        st.builds(lambda f, a: f"{f}({a})", _NAMES, inner),
        st.builds(lambda f, a, b: f"{f}(*{a}, **{b})", _NAMES, inner, inner),
        st.builds(lambda a: f"[*{a}]", inner),
        st.builds(lambda a: f"{{**{a}}}", inner),
        st.builds(lambda a, b: f"[{a} for _ in {b}]", inner, inner),
        st.builds(lambda a, b: f"{{{a}: 1 for x in {b}}}", inner, inner),
        st.builds(lambda a: f"(y for y in {a})", inner),
        st.builds(lambda a: f"(lambda q=1: {a})", inner),
        st.builds(lambda a: f"(lambda: {a})()", inner),
        st.builds(lambda a: f"(z := {a})", inner),
        st.builds(_fstring, inner, _SPEC, st.sampled_from(["", "!r", "!s", "!a"])),
        st.builds(lambda a, b: f'f"""{{{a}:{{{b}}}}}"""', inner, inner),
        st.builds(lambda a: f'f"""{{{a}=}}"""', inner),
        st.builds(lambda a: "(" * 3 + a + ")" * 3, inner),
    )


_EXPRESSIONS = st.recursive(_ATOMS, _extend, max_leaves=12)
_PROPS = st.sampled_from(
    ["src", "alt", "width", "height", "layout", "formats", "placeholder", "quality",
     "aspect_ratio", "breakpoints", "transform_options", "jpg_options", "background_color",
     "sizes", "class_name", "srcc", "__image_data"]
)  # fmt: skip


@st.composite
def python_files(draw: st.DrawFn) -> str:
    names = ["a", "b", "w", "x_é", "π"]
    bindings = [
        f"{name} = {draw(_EXPRESSIONS)}"
        for name in draw(st.lists(st.sampled_from(names), max_size=3))
    ]
    args = [f"{key}={draw(_EXPRESSIONS)}" for key in draw(st.lists(_PROPS, max_size=5))]
    if draw(st.booleans()):
        args.insert(0, draw(_EXPRESSIONS))  # a positional argument
    if draw(st.booleans()):
        args.append(f"*{draw(_EXPRESSIONS)}")
    if draw(st.booleans()):
        args.append(f"**{draw(_EXPRESSIONS)}")
    call = f"StaticImage({', '.join(args)})"
    where = draw(st.sampled_from(["{}", "def f(p=1):\n    return {}", "class C:\n    x = {}"]))
    head = "from staticimg import StaticImage\nimport staticimg as si\n"
    return head + "\n".join(bindings) + "\n" + where.format(call) + "\n"


# Messages of the scanners' last-resort handlers: an internal exception, i.e. a bug.
CATCH_ALL = ("could not be evaluated:", "could not be analysed", "nested too deeply")


def check_scan(scan: FileScan) -> None:
    """A scan ends as calls and coded diagnostics; planning them never raises either."""
    assert isinstance(scan, FileScan)
    for diagnostic in scan.diagnostics:
        assert diagnostic.code in CODES
        assert not any(text in diagnostic.message for text in CATCH_ALL[:2]), diagnostic
    for call in scan.calls:
        for arg in call.args:
            if isinstance(arg.value, Unresolved):
                assert arg.value.reason
                assert not any(text in arg.value.reason for text in CATCH_ALL[:1]), arg.value
            else:
                _bounded_tree(arg.value)
    for planned in plan_scan(scan):
        for diagnostic in planned.diagnostics:
            assert diagnostic.code in CODES
        if planned.request is not None:
            assert not planned.errors
            assert planned.request.hash


def _bounded_tree(value: Any) -> None:
    pending = [value]
    while pending:
        item = pending.pop()
        assert item is None or isinstance(item, str | int | float | list | tuple | dict), item
        _bounded(item)
        if isinstance(item, list | tuple):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())


@FUZZ
@given(python_files())
def test_python_expressions_end_as_values_or_diagnostics(source: str) -> None:
    check_scan(scan_source(JinjaSettings(), PYTHON_FILE, source.encode()))


@FUZZ
@given(python_files(), st.binary(max_size=8), st.integers(0, 10_000))
def test_damaged_python_files_end_as_diagnostics(source: str, junk: bytes, at: int) -> None:
    data = source.encode()
    at %= len(data) + 1
    check_scan(scan_source(JinjaSettings(), PYTHON_FILE, data[:at] + junk + data[at:]))


# --------------------------------------------------------------------------------------------
# Findings, minimised: each once allocated without bound or raised


@pytest.mark.parametrize(
    ("template", "right"),
    [
        # A mapping key with balanced parentheses hid the width from the check (100 MB).
        ("%((a))99999999s", {"(a)": 1}),
        # Each width is allowed, all of them together are a gigabyte.
        ("%99999s" * 9999, ("",) * 9999),
        ("%(a)99999s%(a)99999s", {"a": ""}),
    ],
)
def test_printf_widths_are_bounded_however_they_are_written(template: str, right: Any) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(Impossible, match="too large"):
            binary("%", template, right)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # refused before formatting, not after


@pytest.mark.parametrize(
    ("template", "right"),
    [
        ("%((a))3s|%%|%(b)-3d|", {"(a)": 1, "b": 2}),
        ("%-4d|%5.1f|%%5d", (7, 2.25)),
        ("100%%", ()),
        ("%(a)s", {"a": "%99999s"}),  # a width in the value, not the format, is just text
    ],
)
def test_printf_still_agrees_with_cpython(template: str, right: Any) -> None:
    assert binary("%", template, right) == template % right


@pytest.mark.parametrize(
    "source",
    [
        # Many fields of one long value: each within the limit, the f-string 100 MB.
        "s = 'a' * 99999\nx = StaticImage(src=f'" + "{s}" * 1_000 + "', alt='')\n",
        # The same through a format spec built from fields.
        "s = '9' * 99999\nx = StaticImage(src=f'{1:{s}{s}{s}}', alt='')\n",
    ],
)
def test_long_f_strings_are_refused_before_they_are_built(source: str) -> None:
    data = ("from staticimg import StaticImage\n" + source).encode()
    tracemalloc.start()
    try:
        scan = scan_source(JinjaSettings(), PYTHON_FILE, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    check_scan(scan)
    [call] = scan.calls
    src = next(arg for arg in call.args if arg.name == "src")
    assert isinstance(src.value, Unresolved) and "too long" in src.value.reason
    assert peak < 64 * 1024 * 1024


def test_a_conversion_of_a_large_shared_value_is_refused_before_it_runs() -> None:
    # `[long] * 9999` shares one string: cheap to build, half a gigabyte once repr()'d.
    shared = ["é" * 50_000] * 9_999
    for conversion in ("r", "s", "a", None):
        with pytest.raises(Impossible, match="too large"):
            format_value(shared, conversion, "")
    source = "x = ['é' * 50000] * 9999\nimage = StaticImage(src=f'{x!r}', alt='')\n"
    data = ("from staticimg import StaticImage\n" + source).encode()
    [call] = scan_source(JinjaSettings(), PYTHON_FILE, data).calls
    src = next(arg for arg in call.args if arg.name == "src")
    assert isinstance(src.value, Unresolved) and "too large" in src.value.reason
