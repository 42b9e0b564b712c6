"""Jinja inject: each rule as input → output, rendering with a stub, delimiters, idempotence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jinja2
import pytest

from staticimg.compiler.config import JinjaSettings
from staticimg.compiler.diagnostics import Span
from staticimg.compiler.inject.jinja import inject_template
from staticimg.compiler.inject.outcome import ERROR, IMAGE_DATA, InjectError, Outcome
from staticimg.compiler.scan.calls import FoundCall
from staticimg.compiler.scan.jinja import scan_template

DATA = Outcome(IMAGE_DATA, "h")
ENV = jinja2.Environment(autoescape=True)

Choose = Callable[[FoundCall], Outcome | None]


def inject(source: str, choose: Choose = lambda call: DATA, env: jinja2.Environment = ENV) -> str:
    """Scan like extract does, then inject the chosen outcome into each call found."""
    scan = scan_template(source, "templates/page.html", env)
    assert not scan.diagnostics, scan.diagnostics
    outcomes = {c.name_span: o for c in scan.calls if (o := choose(c)) is not None}
    return inject_template(source, outcomes, env, name="templates/page.html")


def render(source: str, env: jinja2.Environment = ENV, **context: Any) -> list[dict[str, Any]]:
    """The keyword arguments each StaticImage call receives."""
    seen: list[dict[str, Any]] = []

    def stub(*args: Any, **kwargs: Any) -> str:
        seen.append(kwargs)
        return ""

    env.from_string(source).render(StaticImage=stub, **context)
    return seen


CASES = {
    "single line": (
        '{{ StaticImage(src="a.jpg", alt="A") }}',
        '{{ StaticImage(src="a.jpg", alt="A", __image_data="h") }}',
    ),
    "single line, trailing comma": (
        "{{ StaticImage(src='a.jpg', alt='A',) }}",
        "{{ StaticImage(src='a.jpg', alt='A', __image_data=\"h\",) }}",
    ),
    "zero arguments": ("{{ StaticImage() }}", '{{ StaticImage(__image_data="h") }}'),
    "one per line, trailing comma": (
        '<p>\n  {{ StaticImage(\n      src="a.jpg",\n      alt="A",\n  ) }}\n</p>',
        '<p>\n  {{ StaticImage(\n      src="a.jpg",\n      alt="A",\n      __image_data="h",\n'
        "  ) }}\n</p>",
    ),
    "one per line, no trailing comma": (
        '{{ StaticImage(\n    src="a.jpg",\n    alt="A"\n) }}',
        '{{ StaticImage(\n    src="a.jpg",\n    alt="A",\n    __image_data="h"\n) }}',
    ),
    "hanging indent": (
        '{{ StaticImage(src="a.jpg",\n               alt="A",\n) }}',
        '{{ StaticImage(src="a.jpg",\n               alt="A",\n'
        '               __image_data="h",\n) }}',
    ),
    "spread last: the keyword goes before it, as Jinja requires": (
        '{{ StaticImage(src="a.jpg", alt="A", **extra) }}',
        '{{ StaticImage(src="a.jpg", alt="A", __image_data="h", **extra) }}',
    ),
    "spread alone, one per line": (
        "{{ StaticImage(\n    **extra,\n) }}",
        '{{ StaticImage(\n    __image_data="h",\n    **extra,\n) }}',
    ),
    "star arguments": (
        "{{ StaticImage(*args) }}",
        '{{ StaticImage(*args, __image_data="h") }}',
    ),
    "nested calls, in a block tag and a filter argument": (
        '{% set x = wrap(StaticImage("a.jpg", "A")) %}{{ y | f(StaticImage("b.jpg", "B")) }}',
        '{% set x = wrap(StaticImage("a.jpg", "A", __image_data="h")) %}'
        '{{ y | f(StaticImage("b.jpg", "B", __image_data="h")) }}',
    ),
    "in a macro and a loop": (
        '{% macro m() %}{{ StaticImage("a.jpg", "A") }}{% endmacro %}'
        '{% for i in [1] %}{{ StaticImage("b.jpg", "B") }}{% endfor %}',
        '{% macro m() %}{{ StaticImage("a.jpg", "A", __image_data="h") }}{% endmacro %}'
        '{% for i in [1] %}{{ StaticImage("b.jpg", "B", __image_data="h") }}{% endfor %}',
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_layout(name: str) -> None:
    before, after = CASES[name]
    result = inject(before)
    assert result == after
    assert inject(result) == result  # idempotent


REPLACE = {
    "replaced where it stands": (
        '{{ StaticImage(src="a.jpg", alt="A", __image_data = "old") }}',
        '{{ StaticImage(src="a.jpg", alt="A", __image_data="h") }}',
    ),
    "before a spread": (
        '{{ StaticImage(src="a.jpg", __error="x", **extra) }}',
        '{{ StaticImage(src="a.jpg", __image_data="h", **extra) }}',
    ),
    "the others removed with their comma": (
        '{{ StaticImage(__error="x", src="a.jpg", __image_data="y", alt="A", __error="z") }}',
        '{{ StaticImage(src="a.jpg", alt="A", __image_data="h") }}',
    ),
    "the first two removed": (
        '{{ StaticImage(__error="x", __error="y", src="a.jpg", __image_data="z") }}',
        '{{ StaticImage(src="a.jpg", __image_data="h") }}',
    ),
    "one per line": (
        '{{ StaticImage(\n    __error="x",\n    src="a.jpg",\n    __image_data="y",\n) }}',
        '{{ StaticImage(\n    src="a.jpg",\n    __image_data="h",\n) }}',
    ),
}


def test_a_requoted_value_with_the_same_text_is_left_as_it_is() -> None:
    error = Outcome(ERROR, 'say "hi"\n\u00e9')
    template = """{{ StaticImage("a.jpg", "A", __error='say "hi"\\n\\u00e9') }}"""
    assert inject(template, lambda call: error) == template
    template = """{{ StaticImage("a.jpg", "A", __error='say "hi"', **x) }}"""
    assert inject(template, lambda call: error) == (
        '{{ StaticImage("a.jpg", "A", __error="say \\"hi\\"\\n\u00e9", **x) }}'
    )


@pytest.mark.parametrize("name", REPLACE)
def test_replacing(name: str) -> None:
    before, after = REPLACE[name]
    assert inject(before) == after


def test_rendered_calls_receive_the_argument() -> None:
    error = Outcome(ERROR, 'SI203 t.html:1:40: no prop "widht"\nline }} two {% é \\ end')
    template = (
        '{% set w = 100 %}{{ StaticImage(src="a.jpg", alt="A", width=w) }}\n'
        '{{ StaticImage(src="b.jpg", alt=title, widht=3, **extra) }}\n'
    )
    result = inject(template, lambda call: DATA if call.name_span.line == 1 else error)
    assert render(result, title="T", extra={"loading": "lazy"}) == [
        {"src": "a.jpg", "alt": "A", "width": 100, "__image_data": "h"},
        {"src": "b.jpg", "alt": "T", "widht": 3, "loading": "lazy", "__error": error.value},
    ]


def test_only_planned_calls_and_only_their_arguments_change() -> None:
    template = '{{ StaticImage("a.jpg", "A") }} {{ other("x") }} {{ StaticImage("b.jpg", "B") }}'
    result = inject(template, lambda call: DATA if call.name_span.column > 10 else None)
    assert result == (
        '{{ StaticImage("a.jpg", "A") }} {{ other("x") }} '
        '{{ StaticImage("b.jpg", "B", __image_data="h") }}'
    )


def test_crlf_and_a_stale_value() -> None:
    template = '{{ StaticImage(\r\n    src="a.jpg",\r\n    alt="A"\r\n) }}\r\n'
    once = inject(template)
    assert (
        once
        == '{{ StaticImage(\r\n    src="a.jpg",\r\n    alt="A",\r\n    __image_data="h"\r\n) }}\r\n'
    )
    fresh = Outcome(IMAGE_DATA, "new")
    assert inject(once, lambda call: fresh) == once.replace('"h"', '"new"')


def test_custom_delimiters_and_line_statements() -> None:
    settings = JinjaSettings(
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="<%",
        block_end_string="%>",
        line_statement_prefix="#",
    )
    env = settings.environment()
    template = (
        '<% set w = 3 %>[[ StaticImage(src="a.jpg", alt="A]]", width=w) ]]\n'
        '# set x = StaticImage(\n    src="b.jpg", alt="B")\n[[ x ]]\n'
    )
    error = Outcome(ERROR, "no ]] here\nor there")
    result = inject(template, lambda call: error, env=env)
    assert result == (
        '<% set w = 3 %>[[ StaticImage(src="a.jpg", alt="A]]", width=w, '
        '__error="no ]] here\\nor there") ]]\n'
        '# set x = StaticImage(\n    src="b.jpg", alt="B", __error="no ]] here\\nor there")\n'
        "[[ x ]]\n"
    )
    assert [call["__error"] for call in render(result, env=env)] == [error.value] * 2


def test_a_changed_template_is_refused() -> None:
    with pytest.raises(InjectError, match="changed since it was scanned"):
        inject_template('{{ StaticImage("a.jpg", "A") }}', {Span(1, 5, 1, 16): DATA}, ENV)


def test_calls_without_exact_positions_are_refused() -> None:
    # The scanner falls back to line-only spans when it cannot align tokens and calls.
    with pytest.raises(InjectError, match="cannot be located exactly"):
        inject_template('{{ StaticImage("a.jpg", "A") }}', {Span(1, 1, 1, 1): DATA}, ENV)


def test_nothing_planned_changes_nothing() -> None:
    template = "{{ StaticImage('a.jpg', 'A') }}"
    assert inject_template(template, {}, ENV) == template


def test_wide_characters_whitespace_control_and_comments() -> None:
    template = (
        '<p>ü€🎉</p>{#- StaticImage("not", "a call") -#}\r\n'
        '{%- if x -%}{{- StaticImage("a.jpg", "A") -}}{%- endif %}'
    )
    assert inject(template) == template.replace('"A")', '"A", __image_data="h")')
