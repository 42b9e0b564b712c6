"""What inject writes into a call, and string literals that Python and Jinja read the same."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import jinja2
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from staticimg.compiler.config import Config
from staticimg.compiler.data import data_file, error_data
from staticimg.compiler.diagnostics import Diagnostic, Span
from staticimg.compiler.inject.outcome import (
    ERROR,
    IMAGE_DATA,
    DamagedRecord,
    Outcome,
    Records,
    decide,
    diagnostic_line,
    fstring_safe_literal,
    string_literal,
)
from staticimg.compiler.plan import PlannedCall
from staticimg.compiler.props import ImageRequest

CALLEE = Span(3, 7, 3, 18)
REQUEST = ImageRequest(file="app/pages.py", callee="StaticImage", span=CALLEE, src="hero.jpg")
IMAGE = {"layout": "constrained", "width": 800, "height": 600, "images": {"sources": []}}


def planned(request: ImageRequest | None, *diagnostics: Diagnostic) -> PlannedCall:
    return PlannedCall("app/pages.py", "StaticImage", CALLEE, request, diagnostics)


def test_image_data_is_a_reference_to_the_props_hash() -> None:
    assert decide(planned(REQUEST), IMAGE) == Outcome(IMAGE_DATA, REQUEST.hash)
    assert Outcome(IMAGE_DATA, "abc").argument() == '__image_data="abc"'


def test_warnings_do_not_stop_image_data() -> None:
    warning = Diagnostic("SI253", "only AVIF", "app/pages.py", Span(4, 1, 4, 2))
    assert decide(planned(REQUEST, warning), IMAGE).keyword == IMAGE_DATA


def test_planning_errors_one_line_each_warnings_left_out() -> None:
    errors = (
        Diagnostic(
            "SI101", "build prop `width` cannot be\nevaluated", "app/pages.py", Span(4, 15, 4, 20)
        ),
        Diagnostic("SI253", "only AVIF", "app/pages.py", Span(5, 1, 5, 2)),
        Diagnostic("SI202", "StaticImage needs `alt`", "app/pages.py", None),
    )
    outcome = decide(planned(None, *errors), None)
    assert outcome == Outcome(
        ERROR,
        "SI101 app/pages.py:4:15: build prop `width` cannot be evaluated\n"
        "SI202 app/pages.py: StaticImage needs `alt`",
    )
    assert outcome.is_error


def test_image_stage_error_record_at_the_call_as_it_is_now() -> None:
    # Written when the call was a line higher: the location comes from the current plan,
    # at `src` for errors about it (as the image stage points them), else at the callee.
    request = replace(REQUEST, src_span=Span(3, 23, 3, 33))
    missing = Diagnostic(
        "SI301", 'the image "hero.jpg"\ndoes not exist', "app/pages.py", Span(2, 23, 2, 33), "src"
    )
    outcome = decide(planned(request), error_data(missing))
    assert outcome == Outcome(ERROR, 'SI301 app/pages.py:3:23: the image "hero.jpg" does not exist')
    invalid = Diagnostic("SI205", "the crop is empty", "app/pages.py", Span(2, 7, 2, 18))
    outcome = decide(planned(request), error_data(invalid))
    assert outcome == Outcome(ERROR, "SI205 app/pages.py:3:7: the crop is empty")
    assert decide(planned(request), {"error": "odd"}) == Outcome(ERROR, "odd")


def test_missing_and_damaged_data() -> None:
    assert decide(planned(REQUEST), None) == Outcome(
        ERROR, 'No image data for "hero.jpg": run `staticimg extract` first'
    )
    damaged = decide(planned(REQUEST), DamagedRecord(Path("x/abc.json")))
    assert damaged.is_error and "abc.json" in damaged.value and "staticimg extract" in damaged.value


def test_records_read_the_data_folder_once_and_prefer_memory(tmp_path: Path) -> None:
    config = Config(root=tmp_path)
    data_file(config, "a" * 20).parent.mkdir(parents=True)
    data_file(config, "a" * 20).write_bytes(orjson.dumps(IMAGE))
    data_file(config, "b" * 20).write_bytes(b"{not json")
    data_file(config, "c" * 20).write_bytes(b"[1, 2]")
    reads: list[Path] = []

    def reader(path: Path) -> bytes:
        reads.append(path)
        return path.read_bytes()

    records = Records(config, {"d" * 20: {"error": {}}}, reader=reader)
    assert records.get("a" * 20) == IMAGE
    assert records.get("a" * 20) == IMAGE
    assert isinstance(records.get("b" * 20), DamagedRecord)
    assert isinstance(records.get("c" * 20), DamagedRecord)
    assert records.get("e" * 20) is None
    assert records.get("d" * 20) == {"error": {}}
    assert [p.stem for p in reads] == ["a" * 20, "b" * 20, "c" * 20, "e" * 20]


def test_diagnostic_line() -> None:
    diagnostic = Diagnostic(
        "SI203", 'StaticImage has no prop "widht"', "t.html", Span(2, 40, 2, 45)
    )
    assert diagnostic_line(diagnostic) == 'SI203 t.html:2:40: StaticImage has no prop "widht"'


# --------------------------------------------------------------------------------------------
# String literals

ENV = jinja2.Environment()
TRICKY = [
    "",
    "plain",
    'say "hi"',
    "back\\slash\\",
    "\\n is not a newline",
    "two\nlines\r\nand\rmore",
    "tab\there",
    "it's",
    "{{ not a tag }} {% nor this %} {# nor this #}",
    "naïve café ✓ 🎉",
    "\x00\x07\x1b\x7f\x85\u2028",
    '\\"',
    "\\",
]


@pytest.mark.parametrize("text", TRICKY)
def test_literal_round_trips_in_python_and_jinja(text: str) -> None:
    literal = string_literal(text)
    assert literal.startswith('"') and literal.endswith('"')
    assert "\n" not in literal and "\r" not in literal
    assert ast.literal_eval(literal) == text
    assert ENV.compile_expression(literal)() == text
    # Inside a call in a template, as inject writes it.
    rendered = ENV.from_string("{{ f(__error=" + literal + ") }}").render(f=lambda **kw: repr(kw))
    assert rendered == repr({"__error": text})


@given(st.text())
def test_any_text_round_trips(text: str) -> None:
    literal = string_literal(text)
    assert ast.literal_eval(literal) == text
    assert ENV.compile_expression(literal)() == text


def test_literal_escapes_what_the_file_encoding_cannot_hold() -> None:
    literal = string_literal("é → ✓", "latin-1")
    assert literal == '"é \\u2192 \\u2713"'
    assert ast.literal_eval(literal) == "é → ✓"
    literal.encode("latin-1")
    assert string_literal("🎉", "ascii") == '"\\U0001f389"'


def test_fstring_literal_has_no_backslash_and_no_enclosing_quote() -> None:
    text = 'SI203 a.py:1:2: no prop "widht"\nC:\\path'
    assert fstring_safe_literal(text, '"') == "'SI203 a.py:1:2: no prop `widht` | C:/path'"
    assert fstring_safe_literal(text, "'") == '"SI203 a.py:1:2: no prop `widht` | C:/path"'
    assert fstring_safe_literal("abc", "", '"') == '"abc"'
    assert fstring_safe_literal("abc", "\"'") is None
    assert fstring_safe_literal("→", "", "", "latin-1") == '"?"'
