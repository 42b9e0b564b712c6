"""The locator: exact offsets of calls in template source, from Jinja's own lexer."""

from __future__ import annotations

import pytest
from jinja2 import Environment

from staticimg.compiler.diagnostics import Span
from staticimg.compiler.scan.jinja_source import ArgSyntax, LocateError, locate_calls


def test_a_macro_named_like_the_callee_is_not_a_call_site() -> None:
    source = "{% macro StaticImage(src) %}{% endmacro %}{{ StaticImage('a') }}"
    (site,) = locate_calls(source, Environment())
    assert site.name.span == Span(1, 46, 1, 57)


def test_locator_offsets_index_the_original_source() -> None:
    source = '<p>\r\n{{ StaticImage(src="a.jpg",\r\n   **extra, ) }}\r\n'
    (site,) = locate_calls(source, Environment())
    assert source[site.name.start : site.name.end] == "StaticImage"
    assert source[site.call.start : site.call.end] == ('StaticImage(src="a.jpg",\r\n   **extra, )')
    assert source[site.open_paren] == "("
    assert source[site.close_paren] == ")"
    assert (site.arguments.start, site.arguments.end) == (site.open_paren + 1, site.close_paren)
    assert source[site.arguments.start : site.arguments.end] == 'src="a.jpg",\r\n   **extra, '
    assert site.arguments.span == Span(2, 16, 3, 13)
    src, extra = site.args
    assert (src.syntax, src.keyword) == (ArgSyntax.KEYWORD, "src")
    assert source[src.whole.start : src.whole.end] == 'src="a.jpg"'
    assert source[src.value.start : src.value.end] == '"a.jpg"'
    assert (extra.syntax, extra.keyword) == (ArgSyntax.DOUBLE_STAR, None)
    assert source[extra.whole.start : extra.whole.end] == "**extra"
    assert extra.value.span == Span(3, 6, 3, 11)


def test_locator_on_an_empty_argument_list() -> None:
    (site,) = locate_calls("{{ StaticImage( ) }}", Environment())
    assert site.args == ()
    assert (site.open_paren, site.close_paren) == (14, 16)
    assert site.arguments.span == Span(1, 16, 1, 17)


def test_locator_rejects_unlexable_source() -> None:
    with pytest.raises(LocateError):
        locate_calls("{{ StaticImage(] }}", Environment())
