"""Fuzzing the Jinja scanner with templates built from grammar pieces.

Templates mix text (any unicode, stray braces and percent signs), `{{ }}`, `{% %}` and `{# #}`
in every statement Jinja has (set, set blocks, if, for, macro, call, with, block, filter, raw,
import, include, do, trans), filters and tests, and `StaticImage(...)` calls with random
arguments, `*args` and `**kwargs`. Some are then damaged: a cut, a stray or unbalanced
delimiter. They go through `plan.scan_source` and `plan.plan_scan`, the path `staticimg
extract` takes, with the default settings and with the ones a project may configure (line
statements, trimmed blocks, extensions, other delimiters).

The contract: a template ends as calls whose arguments are constants or `Unresolved`, or as
coded diagnostics, and planning those calls never raises. The scanner's last-resort handlers
("could not be analysed", "could not be evaluated") never fire: reaching one is a bug.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staticimg.compiler.config import JinjaSettings
from staticimg.compiler.diagnostics import CODES
from staticimg.compiler.plan import plan_scan, scan_source
from staticimg.compiler.scan.calls import FileScan, Unresolved
from staticimg.compiler.scan.discover import SourceFile, SourceKind
from staticimg.compiler.scan.evaluate import MAX_STRING

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TEMPLATE = SourceFile(
    Path("/project/templates/page.html"), "templates/page.html", SourceKind.TEMPLATE
)

SETTINGS = [
    JinjaSettings(),
    JinjaSettings(trim_blocks=True, lstrip_blocks=True),
    JinjaSettings(line_statement_prefix="%%", line_comment_prefix="##"),
    JinjaSettings(extensions=("jinja2.ext.do", "jinja2.ext.i18n", "jinja2.ext.loopcontrols")),
    JinjaSettings(
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="${",
        variable_end_string="}",
        comment_start_string="<#",
        comment_end_string="#>",
    ),
]

# --------------------------------------------------------------------------------------------
# Expressions

_UNICODE = st.text(st.characters(codec="utf-8"), max_size=8)
_NAMES = st.sampled_from(
    ["a", "b", "w", "name", "src", "loop", "caller", "self", "varargs", "kwargs", "range",
     "StaticImage", "m", "x_é", "_", "none"]
)  # fmt: skip


def _quote(text: str) -> str:
    """A Jinja string literal holding `text` (Jinja reads Python's escapes)."""
    return repr(text)


_ATOMS = st.one_of(
    _NAMES,
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    _UNICODE.map(_quote),
    st.sampled_from(
        [
            "'a.jpg'", '"b.png"', "'../x.jpg'", "'/static/a.jpg'", "'http://x.invalid/a.jpg'",
            "none", "true", "false", "None", "True", "1_000", "0x1f", "0b11", "1e308", "1e400",
            "'%((a))99999999s'", "'%99999s'", "'é' * 99999", "[]", "{}", "()", "'fullWidth'",
            "'FIXED'", "'blurred'", "['auto', 'webp', 'avif']", "[100, 200]", "{'fit': 'cover'}",
            "{'grayscale': true, 'rotate': 90}", "16/9", "-1", "0", "1e-400", "'\\u00e9'",
        ]
    ),
)  # fmt: skip


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    operators = st.sampled_from(
        ["+", "-", "*", "/", "//", "%", "**", "~", "and", "or", "==", "!=", "<", "<=", ">",
         ">=", "in", "not in"]
    )  # fmt: skip
    filters = st.sampled_from(["upper", "default('x')", "join(',')", "int", "length", "e"])
    tests = st.sampled_from(["defined", "none", "divisibleby(3)", "string", "in [1]"])
    return st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner, operators, inner),
        st.builds(lambda op, a: f"({op}{a})", st.sampled_from(["-", "+", "not "]), inner),
        st.builds(lambda a, b, c: f"({a} if {b} else {c})", inner, inner, inner),
        st.builds(lambda a, b: f"({a} if {b})", inner, inner),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(inner, max_size=3).map(lambda xs: "(" + "".join(x + ", " for x in xs) + ")"),
        st.lists(st.tuples(inner, inner), max_size=3).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
        ),
        st.builds(lambda a, b: f"{a}[{b}]", inner, inner),
        st.builds(lambda a, b, c: f"{a}[{b}:{c}]", inner, inner, inner),
        st.builds(lambda a: f"{a}[::-1]", inner),
        st.builds(lambda a, n: f"({a}).{n}", inner, _NAMES),
        st.builds(lambda a, f: f"({a} | {f})", inner, filters),
        st.builds(lambda a, t: f"({a} is {t})", inner, tests),
        st.builds(lambda f, a: f"{f}({a})", _NAMES, inner),
        st.builds(lambda f, a, b: f"{f}(*{a}, **{b})", _NAMES, inner, inner),
        st.builds(lambda a: "(" * 3 + a + ")" * 3, inner),
    )


_EXPRESSIONS = st.recursive(_ATOMS, _extend, max_leaves=8)
_PROPS = st.sampled_from(
    ["src", "alt", "width", "height", "layout", "formats", "placeholder", "quality",
     "aspect_ratio", "breakpoints", "transform_options", "background_color", "sizes",
     "class_name", "srcc", "__image_data", "__error", "aspectRatio", "if"]
)  # fmt: skip


@st.composite
def static_image(draw: st.DrawFn) -> str:
    args = [f"{key}={draw(_EXPRESSIONS)}" for key in draw(st.lists(_PROPS, max_size=5))]
    if draw(st.booleans()):
        args.insert(0, draw(_EXPRESSIONS))
    if draw(st.integers(0, 4)) == 0:
        args.append(f"*{draw(_EXPRESSIONS)}")
    if draw(st.integers(0, 3)) == 0:
        args.append(f"**{draw(_EXPRESSIONS)}")
    gap = draw(st.sampled_from(["", " ", "\n", "\r\n", "\t"]))
    return f"StaticImage({gap}{(',' + gap).join(args)}{gap})"


_GOOD_VALUES: dict[str, st.SearchStrategy[str]] = {
    "width": st.integers(-5, 5000).map(str),
    "height": st.integers(1, 5000).map(lambda n: f"{n} // 2"),
    "layout": st.sampled_from(["'constrained'", "'fixed'", "'fullWidth'", "'FULL_WIDTH'", "'x'"]),
    "formats": st.lists(
        st.sampled_from(["'auto'", "'webp'", "'avif'", "'png'", "'jpg'", "'gif'"]), max_size=3
    ).map(lambda xs: "[" + ", ".join(xs) + "]"),
    "placeholder": st.sampled_from(["'blurred'", "'dominantColor'", "'tracedSVG'", "'none'"]),
    "quality": st.integers(-1, 101).map(str),
    "aspect_ratio": st.sampled_from(["16/9", "1.5", "0", "-1", "1e400 / 1e300"]),
    "breakpoints": st.lists(st.integers(-1, 4000).map(str), max_size=4).map(
        lambda xs: "[" + ", ".join(xs) + "]"
    ),
    "transform_options": st.sampled_from(
        [
            "{'fit': 'cover', 'crop_focus': 'attention'}",
            "{'grayscale': true}",
            "{'rotate': 45}",
            "{'duotone': {'highlight': '#fff', 'shadow': '#000'}}",
            "{'trim': 3}",
            "{'fit': 1}",
        ]
    ),
    "background_color": st.sampled_from(["'#fff'", "'transparent'", "none"]),
    "sizes": st.sampled_from(["'100vw'", "''"]),
}


@st.composite
def planned_static_image(draw: st.DrawFn) -> str:
    """A call with a constant `src` and `alt` and well-typed props, so planning goes deep."""
    keys = draw(st.lists(st.sampled_from(sorted(_GOOD_VALUES)), max_size=5, unique=True))
    args = ["src='photo.jpg'", "alt=''"] + [f"{k}={draw(_GOOD_VALUES[k])}" for k in keys]
    return f"StaticImage({', '.join(args)})"


# --------------------------------------------------------------------------------------------
# Templates


def _body(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(children, max_size=3).map("".join)


_TEXTS = st.one_of(
    _UNICODE,
    st.sampled_from(["<p>", "\n", "\r\n", "  ", "{", "}", "%", "#", "{ {", "} }", "-", "{{'}}'"]),
)


def _statements(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    body = _body(inner)
    e = _EXPRESSIONS
    return st.one_of(
        st.builds("{{{{ {} }}}}".format, e),
        st.builds("{{{{- {} -}}}}".format, e),
        st.builds("{{{{ {} }}}}".format, static_image()),
        st.builds("{{{{ {} | safe }}}}".format, static_image()),
        st.builds("{{{{ {} }}}}".format, planned_static_image()),
        st.builds("{{{{ {} }}}}".format, planned_static_image()),
        st.builds("{{% set {} = {} %}}".format, _NAMES, e),
        st.builds("{{% set {}, b = {} %}}".format, _NAMES, e),
        st.builds("{{% set {} = {} %}}".format, _NAMES, static_image()),
        st.builds("{{% set {} %}}{}{{% endset %}}".format, _NAMES, body),
        st.builds(
            "{{% if {} %}}{}{{% elif {} %}}{}{{% else %}}{}{{% endif %}}".format,
            e,
            body,
            e,
            body,
            body,
        ),
        st.builds(
            "{{% for {} in {} %}}{}{{% else %}}{}{{% endfor %}}".format, _NAMES, e, body, body
        ),
        st.builds("{{% for a, b in {} if {} recursive %}}{}{{% endfor %}}".format, e, e, body),
        st.builds("{{% macro {}(a, b={}) %}}{}{{% endmacro %}}".format, _NAMES, e, body),
        st.builds("{{% call {}({}) %}}{}{{% endcall %}}".format, _NAMES, e, body),
        st.builds("{{% call(x) {}() %}}{}{{% endcall %}}".format, _NAMES, body),
        st.builds("{{% with {} = {} %}}{}{{% endwith %}}".format, _NAMES, e, body),
        st.builds(
            "{{% block b{} %}}{}{{% endblock %}}".format, st.sampled_from(["", " scoped"]), body
        ),
        st.builds("{{% filter upper %}}{}{{% endfilter %}}".format, body),
        st.builds("{{# {} #}}".format, body),
        st.builds("{{% raw %}}{}{{% endraw %}}".format, body),
        st.builds("{{% import {} as {} %}}".format, e, _NAMES),
        st.builds("{{% from {} import {} as x %}}".format, e, _NAMES),
        st.builds("{{% include {} ignore missing %}}".format, e),
        st.builds("{{% do {} %}}".format, e),
        st.builds("{{% trans %}}{}{{% endtrans %}}".format, _UNICODE),
        st.builds("\n%% set {} = {}\n".format, _NAMES, e),  # a line statement
        st.builds("\n%% if {}\n{}\n%% endif\n".format, e, body),
        st.builds("${{ {} }}".format, static_image()),  # other delimiters
        st.builds("<% set {} = {} %>".format, _NAMES, e),
        _TEXTS,
    )


_TEMPLATES = st.recursive(_TEXTS, _statements, max_leaves=10).map(lambda t: t)
_FRAGMENTS = st.sampled_from(
    ["{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "(", ")", "[", "]", "'", '"', ",", "=",
     "{% endif %}", "{% endfor %}", "{% else %}", "StaticImage(", "**", "|", "\x00", "\ufeff"]
)  # fmt: skip


@st.composite
def templates(draw: st.DrawFn) -> str:
    """A well-formed template half the time; otherwise cut or given stray delimiters."""
    text = "".join(draw(st.lists(_TEMPLATES, min_size=1, max_size=4)))
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        at = draw(st.integers(0, len(text)))
        insert = draw(st.booleans())
        text = text[:at] + draw(_FRAGMENTS) + text[at:] if insert else text[:at]
    return text


# --------------------------------------------------------------------------------------------
# The properties

CATCH_ALL = ("could not be analysed", "could not be evaluated")


def check_scan(scan: FileScan) -> None:
    assert isinstance(scan, FileScan)
    for diagnostic in scan.diagnostics:
        assert diagnostic.code in CODES
        assert diagnostic.span is None or diagnostic.span.line >= 1
        assert not any(text in diagnostic.message for text in CATCH_ALL), diagnostic
    for call in scan.calls:
        for arg in call.args:
            if isinstance(arg.value, Unresolved):
                assert arg.value.reason
                assert not any(text in arg.value.reason for text in CATCH_ALL), arg.value
            else:
                _check_constant(arg.value)
    for planned in plan_scan(scan):
        for diagnostic in planned.diagnostics:
            assert diagnostic.code in CODES
        if planned.request is not None:
            assert not planned.errors
            assert planned.request.hash


def _check_constant(value: Any) -> None:
    pending = [value]
    while pending:
        item = pending.pop()
        assert item is None or isinstance(item, str | int | float | list | tuple | dict), item
        if isinstance(item, str):
            assert len(item) <= MAX_STRING
        elif isinstance(item, list | tuple):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())


@FUZZ
@given(templates(), st.sampled_from(SETTINGS))
def test_templates_end_as_calls_or_coded_diagnostics(source: str, jinja: JinjaSettings) -> None:
    check_scan(scan_source(jinja, TEMPLATE, source.encode()))


@FUZZ
@given(templates(), st.binary(max_size=6), st.integers(0, 10_000))
def test_undecodable_templates_end_as_diagnostics(source: str, junk: bytes, at: int) -> None:
    data = source.encode()
    at %= len(data) + 1
    check_scan(scan_source(SETTINGS[0], TEMPLATE, data[:at] + junk + data[at:]))


# --------------------------------------------------------------------------------------------
# Findings, minimised: each once reached a last-resort handler or allocated without bound


def test_a_long_concatenation_is_refused_as_it_grows() -> None:
    # `~` stringified every operand before checking the total: str() of a list makes a new
    # 100 kB string each time, so 200 operands held 20 MB before the check.
    operands = " ~ ".join(["l"] * 200)
    source = f"{{% set l = ['a' * 99990] %}}{{{{ StaticImage(src={operands}) }}}}"
    tracemalloc.start()
    try:
        scan = scan_source(SETTINGS[0], TEMPLATE, source.encode())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    check_scan(scan)
    [call] = scan.calls
    assert isinstance(call.args[0].value, Unresolved)
    assert "too large" in call.args[0].value.reason
    assert peak < 5_000_000
