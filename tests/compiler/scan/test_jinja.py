"""The Jinja scanner: calls found by Jinja's parser, exact positions, constant evaluation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import Environment, nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

from staticimg.compiler.diagnostics import Span
from staticimg.compiler.scan.calls import Arg, ArgKind, FileScan, FoundCall, Unresolved
from staticimg.compiler.scan.jinja import scan_template
from staticimg.compiler.scan.jinja_source import LocateError, locate_calls

FILE = "templates/page.html"


def scan(source: str, env: Environment | None = None, **kwargs: Any) -> FileScan:
    return scan_template(source, FILE, env or Environment(), **kwargs)


def only_call(source: str, env: Environment | None = None, **kwargs: Any) -> FoundCall:
    result = scan(source, env, **kwargs)
    assert result.diagnostics == ()
    assert len(result.calls) == 1, result.calls
    return result.calls[0]


def values(call: FoundCall) -> dict[str | None, Any]:
    return {arg.name: arg.value for arg in call.args}


def value_of(argument: str, prelude: str = "") -> Any:
    """The value of `bar=<argument>` in a one-call template."""
    (arg,) = only_call(f"{prelude}{{{{ StaticImage(bar={argument}) }}}}").args
    assert arg.name == "bar"
    return arg.value


def reason_of(argument: str, prelude: str = "") -> str:
    value = value_of(argument, prelude)
    assert isinstance(value, Unresolved), value
    return value.reason


def text_at(source: str, span: Span) -> str:
    """The source text a span covers (lines split the way Jinja splits them)."""
    lines = re.split(r"\r\n|\r|\n", source)
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    parts = [lines[span.line - 1][span.column - 1 :]]
    parts += lines[span.line : span.end_line - 1]
    parts.append(lines[span.end_line - 1][: span.end_column - 1])
    return "\n".join(parts)


# --- Gatsby's evaluation vectors (reference/gatsby.md §1.5), in Jinja form -------------------


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ('"hello"', "hello"),
        ("1", 1),
        ("[1,2,3]", [1, 2, 3]),
        ('{"hello":"World"}', {"hello": "World"}),
        ('"hello"', "hello"),  # `hello` template literal: a plain string in Jinja
        ('"hello " ~ "world"', "hello world"),  # `hello ${'world'}`
        ("1 + 2", 3),
    ],
)
def test_gatsby_literal_vectors(argument: str, expected: Any) -> None:
    assert value_of(argument) == expected


def test_gatsby_same_file_binding() -> None:
    assert value_of("myVar", "{% set myVar = 1 %}") == 1


def test_gatsby_same_file_binding_of_an_expression() -> None:
    assert value_of("myVar", "{% set myVar = 1 + 1 %}") == 2


def test_gatsby_spread_of_a_binding() -> None:
    source = '{% set attributes = {"bar": 4} %}{{ StaticImage(**attributes) }}'
    (arg,) = only_call(source).args
    assert arg == Arg(ArgKind.KEYWORD, "bar", -1, Span(1, 51, 1, 61), 4, from_spread=True)


def test_gatsby_invalid_name_is_unresolved() -> None:
    (arg,) = only_call("{{ StaticImage(bar=invalid) }}").args
    assert arg.name == "bar"
    assert arg.value == Unresolved(
        "`invalid` is not defined in this template: values from the render context are not "
        "known at build time",
        Span(1, 20, 1, 27),
        arg.value.hint,
    )
    assert "{% set %}" in arg.value.hint
    assert not arg.resolved


# --- More evaluation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("none", None),
        ("True", True),
        ("false", False),
        ("1.5", 1.5),
        ("(1, 2)", (1, 2)),
        ('"a" "b"', "ab"),
        ("1 ~ true ~ none ~ 1.0 ~ [1]", "1TrueNone1.0[1]"),  # `~` stringifies like Jinja
        ("7 - 2 * 3", 1),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("7 % 4", 3),
        ('"%s-%d" % ("w", 3)', "w-3"),
        ("2 ** 3 ** 2", 64),  # Jinja's `**` is left-associative
        ("-3", -3),
        ("+3", 3),
        ("not 0", True),
        ("0 and x", 0),  # short-circuit: the right side is never looked at
        ("1 or x", 1),
        ("1 and 2", 2),
        ("0 or 2", 2),
        ('"big" if 2 > 1 else "small"', "big"),
        ('"big" if 1 > 2 else "small"', "small"),
        ("1 < 2 < 3", True),
        ("1 < 3 < 2", False),
        ('"b" in ["a", "b"]', True),
        ('"c" not in "abc"', False),
        ("1 == 1.0", True),
        ('{"a": {"b": 5}}.a.b', 5),  # `d.key` falls back to item lookup
        ('{"a": [1, 2]}["a"][1]', 2),
        ("[1, 2, 3].1", 2),
        ("[1, 2, 3, 4][1:3]", [2, 3]),
        ("[1, 2, 3, 4][::-1]", [4, 3, 2, 1]),
        ('"hero.jpg"[:-4]', "hero"),
    ],
)
def test_constant_expressions(argument: str, expected: Any) -> None:
    value = value_of(argument)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("argument", "reason"),
    [
        ('"a" | upper', "`| upper` is a filter: filters are not evaluated at build time"),
        ("x is defined", "`is defined` is a test: tests are not evaluated at build time"),
        ("range(3)", "`range(...)` is a function call: calls are not evaluated at build time"),
        ("a.b()", "`a.b(...)` is a function call: calls are not evaluated at build time"),
        ("page.image", "`page.image` is an attribute of a runtime value"),
        ('page["image"].src', "`page['image'].src` is an attribute of a runtime value"),
        ("page[0]", "`page[0]` is an item of a runtime value"),
        ("1 / 0", "division by zero"),
        ('"a" + 1', "`+` cannot combine a str and an int: "),
        ('{"a": 1}.b', "a dict has no item 'b'"),
        ('{"items": 1}.items', "`.items` is a Python attribute of a dict, not a prop value"),
        ('"abc".upper', "`.upper` is a Python attribute of a str, not a prop value"),
        ("1 if 0", "the condition is false and there is no `else`: the value is undefined"),
        ("{[1]: 2}", "a list cannot be a dictionary key"),
        ('1 < "a"', "cannot compare an int and a str"),
        ('"x" * 1000000', "the repeated value would be too large to be a prop"),
        ("loop.index", "`loop.index` is an attribute of a runtime value"),
    ],
)
def test_unresolved_reasons(argument: str, reason: str) -> None:
    assert reason_of(argument).startswith(reason)


def test_a_large_shared_structure_is_not_stringified() -> None:
    # `[s] * 10` is cheap (ten references) but a million characters once stringified.
    prelude = "{% set s = 'x' * 100000 %}{% set l = [s] * 10 %}"
    assert reason_of("l ~ ''", prelude) == "the value is too large to be a prop"
    assert reason_of("l", prelude) == "the value is too large to be a prop"


def test_a_deeply_nested_expression_is_unresolved_not_a_crash() -> None:
    assert reason_of("+".join(["1"] * 3000)) == "the expression is nested too deeply to evaluate"


def test_values_from_one_binding_are_not_shared_between_calls() -> None:
    source = '{% set f = ["WEBP"] %}{{ StaticImage(formats=f) }}{{ StaticImage(formats=f) }}'
    first, second = scan(source).calls
    assert first.args[0].value == ["WEBP"]
    assert first.args[0].value is not second.args[0].value


# --- Names and `{% set %}` ------------------------------------------------------------------


def test_set_chains_are_followed() -> None:
    prelude = "{% set w = 300 %}{% set h = w * 16 // 9 %}{% set size = [w, h] %}"
    assert value_of("size", prelude) == [300, 533]


def test_tuple_set_unpacks_a_constant_sequence() -> None:
    prelude = '{% set a, (b, c) = 1, ["x", "y"] %}'
    assert value_of("[a, b, c]", prelude) == [1, "x", "y"]


def test_tuple_set_of_the_wrong_length_is_unresolved() -> None:
    reason = reason_of("a", "{% set a, b = [1, 2, 3] %}")
    assert reason == "`a` (set on line 1) is not constant: cannot unpack a list into 2 names"


def test_a_set_of_a_runtime_value_says_why() -> None:
    reason = reason_of("w", "{% set w = page.width %}")
    assert reason == (
        "`w` (set on line 1) is not constant: `page.width` is an attribute of a runtime value"
    )


def test_a_loop_variable_is_unresolved() -> None:
    call = only_call("{% for img in images %}\n{{ StaticImage(src=img) }}\n{% endfor %}")
    unresolved = call.args[0].value
    assert isinstance(unresolved, Unresolved)
    assert unresolved.reason == "`img` is a for-loop variable"
    assert unresolved.span == Span(2, 20, 2, 23)
    assert unresolved.hint is not None and "once per loop iteration" in unresolved.hint


def test_an_attribute_of_a_loop_variable() -> None:
    call = only_call("{% for img in images %}{{ StaticImage(src=img.src) }}{% endfor %}")
    unresolved = call.args[0].value
    assert isinstance(unresolved, Unresolved)
    assert unresolved.reason == "`img.src` is an attribute of a runtime value"
    assert unresolved.hint is not None
    assert unresolved.hint.startswith("`img` is a for-loop variable.")


def test_a_name_set_twice_is_unresolved() -> None:
    prelude = "{% set y = 1 %}\n{% set y = 2 %}\n"
    assert reason_of("y", prelude) == "`y` is bound 2 times (line 1, 2)"


def test_a_name_set_and_also_a_loop_variable_is_unresolved() -> None:
    prelude = "{% set y = 1 %}{% for y in ys %}{% endfor %}"
    assert reason_of("y", prelude) == "`y` is bound 2 times (line 1)"


def test_a_name_set_after_its_use_is_unresolved() -> None:
    source = "{{ StaticImage(width=w) }}\n{% set w = 300 %}"
    (arg,) = only_call(source).args
    assert isinstance(arg.value, Unresolved)
    assert arg.value.reason == "`w` is set on line 2, after it is used"


def test_a_set_must_precede_the_use_on_the_same_line_too() -> None:
    assert value_of("w", "{% set w = 3 %}") == 3
    source = "{{ StaticImage(bar=w) }}{% set w = 3 %}"
    assert only_call(source).args[0].value.reason == "`w` is set on line 1, after it is used"


def test_a_name_used_in_its_own_set_is_unresolved() -> None:
    source = "{% set img = StaticImage(width=img) %}"
    assert only_call(source).args[0].value.reason == "`img` is used in its own `{% set %}` (line 1)"


def test_a_set_chain_that_refers_to_a_later_set_is_unresolved() -> None:
    reason = reason_of("a", "{% set a = b %}{% set b = 1 %}")
    assert reason == "`a` (set on line 1) is not constant: `b` is set on line 1, after it is used"


@pytest.mark.parametrize(
    ("binder", "reason"),
    [
        ("{% macro m(x) %}{% endmacro %}", "`x` is a macro parameter"),
        ("{% macro x() %}{% endmacro %}", "`x` is a macro"),
        ("{% call(x) m() %}{% endcall %}", "`x` is a parameter of a `{% call %}` block"),
        ("{% with x = 1 %}{% endwith %}", "`x` is a `{% with %}` variable"),
        ('{% import "forms.html" as x %}', "`x` is an imported template"),
        ('{% from "forms.html" import y as x %}', "`x` is imported from another template"),
        ("{% set x %}300{% endset %}", "`x` is set by a `{% set %}...{% endset %}` block"),
        ("{% for a, x in pairs %}{% endfor %}", "`x` is a for-loop variable"),
    ],
)
def test_names_bound_other_ways_are_unresolved(binder: str, reason: str) -> None:
    assert reason_of("x", binder).startswith(reason)


def test_implicit_loop_names_say_what_they_are() -> None:
    source = "{% for i in xs %}{{ StaticImage(a=loop) }}{% endfor %}"
    assert only_call(source).args[0].value.reason == (
        "`loop` is the for-loop's helper variable, known only at render time"
    )


def test_top_level_set_is_visible_in_macros_blocks_and_branches() -> None:
    source = (
        "{% set w = 300 %}"
        "{% macro m() %}{{ StaticImage(a=w) }}{% endmacro %}"
        "{% block b %}{{ StaticImage(a=w) }}{% endblock %}"
        "{% if x %}{{ StaticImage(a=w) }}{% else %}{{ StaticImage(a=w) }}{% endif %}"
        "{% for i in xs %}{{ StaticImage(a=w) }}{% endfor %}"
    )
    assert [call.args[0].value for call in scan(source).calls] == [300] * 5


def test_a_set_inside_a_loop_is_visible_in_that_loop_only() -> None:
    source = (
        "{% for i in xs %}{% set w = 1 %}{{ StaticImage(a=w) }}{% endfor %}{{ StaticImage(a=w) }}"
    )
    inside, after = scan(source).calls
    assert inside.args[0].value == 1
    assert after.args[0].value.reason.startswith(
        "`w` is set on line 1 inside a block, loop, macro or branch that does not enclose"
    )


def test_a_set_inside_an_if_is_not_visible_after_it() -> None:
    source = "{% if x %}{% set w = 1 %}{% endif %}{{ StaticImage(a=w) }}"
    assert isinstance(only_call(source).args[0].value, Unresolved)


def test_a_set_in_an_if_branch_is_not_visible_in_the_else_branch() -> None:
    source = "{% if x %}{% set w = 1 %}{% else %}{{ StaticImage(a=w) }}{% endif %}"
    assert isinstance(only_call(source).args[0].value, Unresolved)


def test_a_top_level_set_inside_an_if_is_visible_in_a_block_within_it() -> None:
    # `{% if %}` opens no scope; a template-level variable lives in the context.
    source = "{% if x %}{% set w = 1 %}{% block b %}{{ StaticImage(a=w) }}{% endblock %}{% endif %}"
    assert only_call(source).args[0].value == 1


def test_a_nested_block_does_not_see_its_parents_variables_unless_scoped() -> None:
    source = (
        "{% block a %}{% set w = 1 %}"
        "{% block b %}{{ StaticImage(a=w) }}{% endblock %}"
        "{% block c scoped %}{{ StaticImage(a=w) }}{% endblock %}"
        "{% endblock %}"
    )
    unscoped, scoped = scan(source).calls
    assert isinstance(unscoped.args[0].value, Unresolved)
    assert scoped.args[0].value == 1


def test_rendering_agrees_with_the_scope_rules() -> None:
    # The rules above are Jinja's: render the same shapes and compare.
    env = Environment()
    render = env.from_string(
        "{% for i in [1] %}{% set w = 1 %}{% endfor %}[{{ w }}]"
        "{% block a %}{% set v = 2 %}{% block b %}[{{ v }}]{% endblock %}{% endblock %}"
        "{% if true %}{% set u = 3 %}{% endif %}{% block c %}[{{ u }}]{% endblock %}"
    ).render()
    assert render == "[][][3]"


# --- Where calls are found --------------------------------------------------------------------


def test_calls_everywhere_in_a_template() -> None:
    source = """\
{% extends "base.html" %}
{% set hero = StaticImage(src="a.jpg") %}
{% block content %}
  {% if show %}{{ StaticImage(src="b.jpg") }}{% endif %}
  {% for x in xs %}{{ StaticImage(src="c.jpg") }}{% endfor %}
  {% macro card() %}{{ StaticImage(src="d.jpg") }}{% endmacro %}
  {{ wrap(StaticImage(src="e.jpg")) | safe }}
  {{ x | default(StaticImage(src="f.jpg")) }}
  {% call card(StaticImage(src="g.jpg")) %}{% endcall %}
  {% with i = StaticImage(src="h.jpg") %}{% endwith %}
  {% filter upper %}{{ StaticImage(src="i.jpg") }}{% endfilter %}
  {{ StaticImage(src="j.jpg", alt=StaticImage(src="k.jpg")) }}
{% endblock %}
"""
    result = scan(source)
    assert result.diagnostics == ()
    srcs = [call.args[0].value for call in result.calls]
    assert srcs == [f"{letter}.jpg" for letter in "abcdefghijk"]
    assert [call.name_span.line for call in result.calls] == [2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 12]
    for call in result.calls:
        assert text_at(source, call.name_span) == "StaticImage"
        assert text_at(source, call.span).startswith("StaticImage(src=")
        assert text_at(source, call.span).endswith(")")
        assert call.file == FILE
        assert call.callee == "StaticImage"


def test_calls_whose_ast_order_differs_from_source_order_get_their_own_spans() -> None:
    # CondExpr is (test, expr1, expr2) but reads `expr1 if test else expr2`; a for loop's
    # filter comes before its body; a call block's arguments before its call.
    source = (
        '{{ StaticImage(src="a") if StaticImage(src="b") else StaticImage(src="c") }}'
        '{% for x in xs if StaticImage(src="d") %}{{ StaticImage(src="e") }}{% endfor %}'
        '{% call(p=StaticImage(src="f")) StaticImage(src="g") %}{% endcall %}'
    )
    for call in scan(source).calls:
        assert text_at(source, call.span) == f'StaticImage(src="{call.args[0].value}")'
    assert [call.args[0].value for call in scan(source).calls] == list("abcdefg")


def test_not_our_calls() -> None:
    source = (
        "{{ foo.StaticImage(src='a') }}"
        "{{ foo . StaticImage(src='a') }}"
        "{{ x | StaticImage(src='a') }}"
        "{{ x is StaticImage(1) }}"
        "{{ x is not StaticImage(1) }}"
        "{% raw %}{{ StaticImage(src='a') }}{% endraw %}"
        "{# {{ StaticImage(src='a') }} #}"
        "StaticImage(src='a')"
        "{{ 'StaticImage(src=1)' }}"
        "{{ staticimage(src='a') }}"
        "{% filter StaticImage(1) %}x{% endfilter %}"
        "{% set x | StaticImage(1) %}x{% endset %}"
    )
    assert scan(source) == FileScan(FILE, (), ())
    assert locate_calls(source, Environment()) == ()


def test_a_template_that_defines_its_own_staticimage_is_not_ours() -> None:
    source = "{% macro StaticImage(src) %}<img src={{ src }}>{% endmacro %}{{ StaticImage('a') }}"
    assert scan(source).calls == ()
    imported = '{% from "images.html" import StaticImage %}{{ StaticImage("a") }}'
    assert scan(imported).calls == ()


def test_the_callee_set_is_configurable() -> None:
    source = "{{ StaticImage(src='a') }}{{ Picture(src='b') }}{{ Hero(src='c') }}"
    result = scan(source, callees=frozenset({"Picture", "Hero"}))
    assert [(call.callee, call.args[0].value) for call in result.calls] == [
        ("Picture", "b"),
        ("Hero", "c"),
    ]
    assert scan(source, callees=frozenset()).calls == ()


def test_argument_kinds_and_order() -> None:
    source = '{{ StaticImage("a.jpg", 2, *rest, alt="x", **{"width": 3, "height": h}) }}'
    call = only_call(source)
    assert [(arg.kind, arg.name, arg.index, arg.from_spread) for arg in call.args] == [
        (ArgKind.POSITIONAL, None, 0, False),
        (ArgKind.POSITIONAL, None, 1, False),
        (ArgKind.KEYWORD, "alt", -1, False),
        (ArgKind.SPREAD, None, -1, False),
        (ArgKind.SPREAD, None, -1, False),
    ]
    star, spread = call.args[3], call.args[4]
    assert text_at(source, star.span) == "rest"
    assert star.value.reason.startswith("`*` arguments are not supported")
    assert text_at(source, spread.span) == '{"width": 3, "height": h}'
    assert spread.value.reason == (
        "`h` is not defined in this template: values from the render context are not known "
        "at build time"
    )


def test_a_constant_spread_becomes_keywords_in_order() -> None:
    source = '{{ StaticImage(alt="x", **{"width": 3, "layout": "fixed"}) }}'
    call = only_call(source)
    spread_span = Span(1, 27, 1, 58)
    assert call.args == (
        Arg(ArgKind.KEYWORD, "alt", -1, Span(1, 20, 1, 23), "x"),
        Arg(ArgKind.KEYWORD, "width", -1, spread_span, 3, from_spread=True),
        Arg(ArgKind.KEYWORD, "layout", -1, spread_span, "fixed", from_spread=True),
    )


@pytest.mark.parametrize(
    ("spread", "reason"),
    [
        ("[1, 2]", "`**` needs a mapping, and this is a list"),
        ("{1: 2}", "`**` needs a mapping with string keys"),
    ],
)
def test_a_spread_that_is_not_a_mapping_of_names(spread: str, reason: str) -> None:
    (arg,) = only_call(f"{{{{ StaticImage(**{spread}) }}}}").args
    assert arg.kind is ArgKind.SPREAD
    assert arg.value.reason == reason


# --- Exact positions --------------------------------------------------------------------------


def test_positions_on_one_line() -> None:
    source = '<p>{{ StaticImage(src="hero.jpg", width=300) }}</p>'
    call = only_call(source)
    assert call.name_span == Span(1, 7, 1, 18)
    assert call.span == Span(1, 7, 1, 45)
    src, width = call.args
    assert src.span == Span(1, 23, 1, 33)
    assert width.span == Span(1, 41, 1, 44)
    assert text_at(source, src.span) == '"hero.jpg"'


def test_positions_of_a_multi_line_call_with_tabs() -> None:
    source = '<div>\n\t{{ StaticImage(\n\t\tsrc = "hero.jpg",\n\t\tsizes=[\n\t\t\t1, 2],\n\t) }}\n'
    call = only_call(source)
    assert call.name_span == Span(2, 5, 2, 16)
    assert call.span == Span(2, 5, 6, 3)
    src, sizes = call.args
    assert src.span == Span(3, 9, 3, 19)
    assert sizes.span == Span(4, 9, 5, 9)
    assert text_at(source, sizes.span) == "[\n\t\t\t1, 2]"


def test_positions_with_whitespace_control() -> None:
    source = 'a   \n  {%- set x = 1 -%}  \n\n  {{- StaticImage(src = "a.jpg") -}}   \n'
    call = only_call(source)
    assert call.name_span == Span(4, 7, 4, 18)
    assert call.args[0].span == Span(4, 25, 4, 32)


@pytest.mark.parametrize(
    "env",
    [
        Environment(trim_blocks=True, lstrip_blocks=True),
        Environment(trim_blocks=True),
        Environment(lstrip_blocks=True),
    ],
    ids=["trim+lstrip", "trim", "lstrip"],
)
def test_positions_with_trim_and_lstrip_blocks(env: Environment) -> None:
    source = (
        "<ul>\n"
        "    {% for x in xs %}\n"
        "    {% if x %}\n"
        '        <li>{{ StaticImage(src="a.jpg", w=x) }}</li>\n'
        "    {% endif %}\n"
        "    {% endfor %}\n"
        "    {%+ set y = StaticImage(src='b.jpg') %}\n"
    )
    first, second = scan(source, env).calls
    assert first.name_span == Span(4, 16, 4, 27)
    assert first.args[0].span == Span(4, 32, 4, 39)
    assert first.args[1].span == Span(4, 43, 4, 44)
    assert second.name_span == Span(7, 17, 7, 28)
    assert second.args[0].span == Span(7, 33, 7, 40)


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_positions_with_any_line_ending(newline: str) -> None:
    source = newline.join(
        ["{% set w = 3 %}", "{{ StaticImage(", '  src="a.jpg",', "  width=w) }}", ""]
    )
    call = only_call(source)
    assert call.span == Span(2, 4, 4, 11)
    assert [arg.span for arg in call.args] == [Span(3, 7, 3, 14), Span(4, 9, 4, 10)]
    assert values(call) == {"src": "a.jpg", "width": 3}


def test_positions_with_custom_delimiters() -> None:
    env = Environment(
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="<#",
        comment_end_string="#>",
    )
    source = (
        "<# [[ StaticImage(src='no') ]] #>\n"
        "<% set w = 4 %>{{ StaticImage(src='literal') }}\n"
        "[[ StaticImage(src='a.jpg', width=w) ]]\n"
        "<% if 1 %>[[StaticImage(src=['x', 'y'])]]<% endif %>\n"
    )
    first, second = scan(source, env).calls
    assert first.name_span == Span(3, 4, 3, 15)
    assert values(first) == {"src": "a.jpg", "width": 4}
    assert [arg.span for arg in first.args] == [Span(3, 20, 3, 27), Span(3, 35, 3, 36)]
    assert second.span == Span(4, 13, 4, 40)
    assert text_at(source, second.args[0].span) == "['x', 'y']"


def test_positions_with_line_statements_and_line_comments() -> None:
    env = Environment(line_statement_prefix="#", line_comment_prefix="##")
    source = (
        "## StaticImage(src='comment')\n"
        "# set w = 5\n"
        "  # for x in xs\n"
        "<li>{{ StaticImage(src='a.jpg', width=w) }}</li>  ## trailing\n"
        "  # endfor\n"
        "# set hero = StaticImage(\n"
        "    src='b.jpg')\n"
    )
    first, second = scan(source, env).calls
    assert values(first) == {"src": "a.jpg", "width": 5}
    assert first.name_span == Span(4, 8, 4, 19)
    assert first.args[1].span == Span(4, 39, 4, 40)
    assert second.span == Span(6, 14, 7, 17)
    assert second.args[0].span == Span(7, 9, 7, 16)


def test_a_template_using_the_do_extension() -> None:
    env = Environment(extensions=["jinja2.ext.do"])
    source = "{% set xs = [] %}\n{% do xs.append(StaticImage(src='a.jpg')) %}"
    call = only_call(source, env)
    assert call.name_span == Span(2, 17, 2, 28)
    assert call.args[0].value == "a.jpg"


def test_a_template_using_the_i18n_extension() -> None:
    env = Environment(extensions=["jinja2.ext.i18n"])
    source = (
        "{% trans %}Hello {{ user }}{% endtrans %}\n"
        "{% trans img=StaticImage(src='a.jpg', alt=_('Harbour')) %}See {{ img }}{% endtrans %}\n"
    )
    call = only_call(source, env)
    assert call.name_span == Span(2, 14, 2, 25)
    src, alt = call.args
    assert src == Arg(ArgKind.KEYWORD, "src", -1, Span(2, 30, 2, 37), "a.jpg")
    assert alt.value.reason == "`_(...)` is a function call: calls are not evaluated at build time"


class _Preprocessor(Extension):
    """Rewrites the source before lexing: offsets no longer refer to the file."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return source.replace("IMG", "StaticImage")


def test_a_preprocessing_extension_falls_back_to_line_only_spans() -> None:
    env = Environment(extensions=[_Preprocessor])
    source = "\n{{ IMG(src='a.jpg') }}"
    call = only_call(source, env)
    assert call.args[0].value == "a.jpg"
    assert call.span == call.name_span == Span(2, 1, 2, 1)
    assert call.args[0].span == Span(2, 1, 2, 1)
    with pytest.raises(LocateError):
        locate_calls(source, env)


# --- Syntax errors ----------------------------------------------------------------------------


def test_a_syntax_error_is_si111_at_its_line() -> None:
    source = "<p>\n{{ StaticImage(src='a.jpg') }}\n{{ StaticImage(src= }}\n"
    result = scan(source)
    assert result.calls == ()
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "SI111"
    assert diagnostic.file == FILE
    assert diagnostic.span == Span(3, 1, 3, 23)
    assert diagnostic.message == "unexpected '}', expected ')'"


def test_an_unclosed_block_is_reported_at_the_end() -> None:
    (diagnostic,) = scan("{% if x %}\n{{ StaticImage(src='a') }}\n").diagnostics
    assert diagnostic.code == "SI111"
    assert diagnostic.span is not None and diagnostic.span.line == 2
    assert "endif" in diagnostic.message


class _Crashing(Extension):
    tags = {"boom"}  # noqa: RUF012 (Jinja's own declaration style)

    def parse(self, parser: Parser) -> nodes.Node:
        raise ValueError("the extension broke")


def test_an_extension_that_raises_is_si111_not_a_crash() -> None:
    env = Environment(extensions=[_Crashing])
    (diagnostic,) = scan("ok\n{% boom %}", env).diagnostics
    assert diagnostic.code == "SI111"
    assert "the extension broke" in diagnostic.message


def test_absurd_nesting_is_si111_not_a_crash() -> None:
    source = "{{ StaticImage(a=" + "(" * 1000 + "1" + ")" * 1000 + ") }}"
    (diagnostic,) = scan(source).diagnostics
    assert diagnostic.code == "SI111"


# --- Never raises -----------------------------------------------------------------------------

_VALID_VALUES = st.sampled_from(
    [
        '"a.jpg"',
        "300",
        "w",
        "x.y",
        "[1, 2]",
        '{"k": 1}',
        "1 + 2",
        '"a" ~ w',
        "w | int",
        "x is defined",
        "f(1)",
        "1 if w else 2",
        "**{'a': 1}",
        "*xs",
        "9 ** 9 ** 9",
        "StaticImage(src='n')",
    ]
)
_BROKEN_VALUES = st.sampled_from(["(", "", '"unclosed', "]", "%}"])
_KEYS = st.sampled_from(["src", "alt", "width", "layout", "w", ""])


def _calls(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    @st.composite
    def call(draw: st.DrawFn) -> str:
        args = draw(st.lists(st.tuples(_KEYS, values), max_size=4))
        rendered = ", ".join(f"{key}={value}" if key else value for key, value in args)
        gap = draw(st.sampled_from(["", " ", "\n", "\t", "\r\n"]))
        callee = draw(st.sampled_from(["StaticImage", "StaticImage", "foo.StaticImage", "Other"]))
        return f"{callee}({gap}{rendered}{gap})"

    return call()


_WRAPPERS = st.sampled_from(
    [
        "{{{{ {} }}}}",
        "{{{{- {} -}}}}",
        "{{% set w = {} %}}",
        "{{% if {} %}}x{{% endif %}}",
        "{{% for x in xs %}}{{{{ {} }}}}{{% endfor %}}",
        "{{% macro m(x) %}}{{{{ {} }}}}{{% endmacro %}}",
        "{{% block b %}}{{{{ {} }}}}{{% endblock %}}",
        "{{{{ x | default({}) }}}}",
        "{{% raw %}}{{{{ {} }}}}{{% endraw %}}",
        "{{# {} #}}",
        "{}",
    ]
)
_TEXT = st.sampled_from(["{% set w = 3 %}", "{% set w = 4 %}", "\n", "\r\n", "  ", "<p>"])
_WELL_FORMED = st.one_of(st.builds(str.format, _WRAPPERS, _calls(_VALID_VALUES)), _TEXT)
_ANYTHING = st.one_of(
    st.builds(str.format, _WRAPPERS, _calls(st.one_of(_VALID_VALUES, _BROKEN_VALUES))),
    _TEXT,
    st.sampled_from(["{%", "}}", "{% endif %}", "{{ StaticImage(", ")"]),
)
# Half the templates are well formed (so the evaluator and locator get exercised), half may
# be broken anywhere (so the error paths do).
_TEMPLATES = st.one_of(st.lists(_WELL_FORMED, max_size=8), st.lists(_ANYTHING, max_size=8)).map(
    "".join
)
_ENVIRONMENTS = [
    Environment(),
    Environment(trim_blocks=True, lstrip_blocks=True),
    Environment(keep_trailing_newline=True, line_statement_prefix="%", line_comment_prefix="##"),
    Environment(extensions=["jinja2.ext.do", "jinja2.ext.i18n"]),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEMPLATES, st.sampled_from(_ENVIRONMENTS))
def test_never_raises(source: str, env: Environment) -> None:
    result = scan_template(source, FILE, env)
    assert not (result.calls and result.diagnostics)
    for diagnostic in result.diagnostics:
        assert diagnostic.code == "SI111"
    for call in result.calls:
        # None of these environments preprocesses, so every call is located exactly.
        assert text_at(source, call.name_span) == call.callee
        assert text_at(source, call.span).endswith(")")
        for arg in call.args:
            assert arg.span.line >= 1 and arg.span.column >= 1
            if isinstance(arg.value, Unresolved):
                assert arg.value.reason


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        (
            "{% macro f(name) %}{{ StaticImage(src=name) }}{% endmacro %}"
            "{% for name in xs %}{% endfor %}",
            "`name` is a macro parameter",
        ),
        (
            '{% set name = "a.jpg" %}{% for name in xs %}{{ StaticImage(src=name) }}{% endfor %}',
            "`name` is a for-loop variable",
        ),
        (
            '{% set name = "a.jpg" %}{% with name = 1 %}{{ StaticImage(src=name) }}{% endwith %}',
            "`name` is a `{% with %}` variable",
        ),
    ],
)
def test_the_innermost_scope_names_the_reason(template: str, reason: str) -> None:
    (arg,) = only_call(template).args
    assert isinstance(arg.value, Unresolved)
    assert arg.value.reason == reason
