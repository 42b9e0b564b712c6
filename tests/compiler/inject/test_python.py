"""Python inject: each rule as input → output, then idempotence, encodings and execution."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

import staticimg
from staticimg.compiler.diagnostics import Span
from staticimg.compiler.inject.outcome import ERROR, IMAGE_DATA, InjectError, Outcome
from staticimg.compiler.inject.python import inject_python
from staticimg.compiler.scan.calls import FoundCall
from staticimg.compiler.scan.python import scan_python

HEADER = "from staticimg import StaticImage\n"
DATA = Outcome(IMAGE_DATA, "h")

Choose = Callable[[FoundCall], Outcome | None]


def inject_bytes(source: bytes, choose: Choose = lambda call: DATA) -> bytes:
    """Scan like extract does, then inject the chosen outcome into each call found."""
    scan = scan_python(source, "app/page.py")
    assert not scan.diagnostics, scan.diagnostics
    outcomes = {c.name_span: o for c in scan.calls if (o := choose(c)) is not None}
    return inject_python(source, outcomes).source


def inject(source: str, choose: Choose = lambda call: DATA) -> str:
    result = inject_bytes((HEADER + textwrap.dedent(source)).encode(), choose).decode()
    assert result.startswith(HEADER)
    ast.parse(result)
    return result[len(HEADER) :]


CASES = {
    "single line": (
        'StaticImage(src="a.jpg", alt="A")\n',
        'StaticImage(src="a.jpg", alt="A", __image_data="h")\n',
    ),
    "single line, space before the parenthesis": (
        'StaticImage( "a.jpg", "A" )\n',
        'StaticImage( "a.jpg", "A", __image_data="h" )\n',
    ),
    "single line, trailing comma": (
        "StaticImage(src='a.jpg', alt='A',)\n",
        "StaticImage(src='a.jpg', alt='A', __image_data=\"h\",)\n",
    ),
    "zero arguments": ("StaticImage()\n", 'StaticImage(__image_data="h")\n'),
    "one per line, trailing comma": (
        """\
        x = StaticImage(
            src="a.jpg",
            alt="A",
        )
        """,
        """\
        x = StaticImage(
            src="a.jpg",
            alt="A",
            __image_data="h",
        )
        """,
    ),
    "one per line, no trailing comma": (
        """\
        x = StaticImage(
            src="a.jpg",
            alt="A"
        )
        """,
        """\
        x = StaticImage(
            src="a.jpg",
            alt="A",
            __image_data="h"
        )
        """,
    ),
    "comment after the last argument stays on its line": (
        """\
        x = StaticImage(
            src="a.jpg",
            alt="A"  # the alt text
        )
        y = StaticImage(
            src="a.jpg",
            alt="A",  # the alt text
            # a comment on its own line
        )
        """,
        """\
        x = StaticImage(
            src="a.jpg",
            alt="A",  # the alt text
            __image_data="h"
        )
        y = StaticImage(
            src="a.jpg",
            alt="A",  # the alt text
            # a comment on its own line
            __image_data="h",
        )
        """,
    ),
    "two arguments on the last line": (
        """\
        x = StaticImage(
            src="a.jpg", alt="A",
        )
        """,
        """\
        x = StaticImage(
            src="a.jpg", alt="A",
            __image_data="h",
        )
        """,
    ),
    "hanging indent lines up under the first argument": (
        """\
        x = StaticImage(src="a.jpg",
                        alt="A",
        )
        y = StaticImage(src="a.jpg", alt="A",
        )
        """,
        """\
        x = StaticImage(src="a.jpg",
                        alt="A",
                        __image_data="h",
        )
        y = StaticImage(src="a.jpg", alt="A",
                        __image_data="h",
        )
        """,
    ),
    "closing parenthesis on the last line": (
        """\
        x = StaticImage(src="a.jpg",
                        alt="A")
        """,
        """\
        x = StaticImage(src="a.jpg",
                        alt="A", __image_data="h")
        """,
    ),
    "spread last": (
        'StaticImage(src="a.jpg", alt="A", **EXTRA)\n',
        'StaticImage(src="a.jpg", alt="A", **EXTRA, __image_data="h")\n',
    ),
    "tabs and a nested block": (
        'def f():\n\tif x:\n\t\treturn StaticImage(\n\t\t\tsrc="a.jpg",\n\t\t\talt="A",\n\t\t)\n',
        'def f():\n\tif x:\n\t\treturn StaticImage(\n\t\t\tsrc="a.jpg",\n\t\t\talt="A",\n'
        '\t\t\t__image_data="h",\n\t\t)\n',
    ),
    "nested in another call": (
        'render(StaticImage("a.jpg", "A"), wrap(StaticImage("b.jpg", "B")))\n',
        'render(StaticImage("a.jpg", "A", __image_data="h"), '
        'wrap(StaticImage("b.jpg", "B", __image_data="h")))\n',
    ),
    "in a lambda": (
        'hero = lambda: StaticImage("a.jpg", "A")\n',
        'hero = lambda: StaticImage("a.jpg", "A", __image_data="h")\n',
    ),
    "in an f-string": (
        """html = f"<div>{StaticImage('a.jpg', 'A')}</div>"\n""",
        """html = f"<div>{StaticImage('a.jpg', 'A', __image_data='h')}</div>"\n""",
    ),
    "in a comprehension and a decorator": (
        """\
        thumbs = [StaticImage("a.jpg", "A") for _ in range(2)]
        @cache(StaticImage("b.jpg", "B"))
        def page(): ...
        """,
        """\
        thumbs = [StaticImage("a.jpg", "A", __image_data="h") for _ in range(2)]
        @cache(StaticImage("b.jpg", "B", __image_data="h"))
        def page(): ...
        """,
    ),
    "in a class body": (
        'class Page:\n    hero = StaticImage("a.jpg", "A")\n',
        'class Page:\n    hero = StaticImage("a.jpg", "A", __image_data="h")\n',
    ),
    "a bare generator gets its parentheses": (
        "StaticImage(x for x in y)\n",
        'StaticImage((x for x in y), __image_data="h")\n',
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_layout(name: str) -> None:
    before, after = CASES[name]
    assert inject(before) == textwrap.dedent(after)


REPLACE = {
    "the injected argument last is replaced where it stands": (
        'StaticImage("a.jpg", "A", __image_data = "old")\n',
        'StaticImage("a.jpg", "A", __image_data = "h")\n',
    ),
    "an error becomes image data": (
        """\
        x = StaticImage(
            "a.jpg",
            "A",
            __error="SI301 app/page.py:2:5: missing",  # injected
        )
        """,
        """\
        x = StaticImage(
            "a.jpg",
            "A",
            __image_data="h",  # injected
        )
        """,
    ),
    "not last: removed, and appended after the others": (
        'StaticImage("a.jpg", __image_data="old", alt="A")\n',
        'StaticImage("a.jpg", alt="A", __image_data="h")\n',
    ),
    "both at once, one per line": (
        """\
        x = StaticImage(
            __error="x",
            src="a.jpg",
            __image_data="old",
            alt="A"
        )
        """,
        """\
        x = StaticImage(
            src="a.jpg",
            alt="A",
            __image_data="h"
        )
        """,
    ),
    "several, the last kept in place": (
        'StaticImage("a.jpg", "A", __error="x", __image_data="y", __error="z")\n',
        'StaticImage("a.jpg", "A", __image_data="h")\n',
    ),
}


def test_a_requoted_value_with_the_same_text_is_left_as_it_is() -> None:
    """After a code formatter prefers `'…"…'` to escapes, inject must not switch it back."""
    error = Outcome(ERROR, 'SI203 app/page.py:2:30: no prop "widht"')
    formatted = (
        """x = StaticImage("a.jpg", widht=3, __error='SI203 app/page.py:2:30: no prop "widht"')\n"""
    )
    assert inject(formatted, lambda call: error) == formatted
    other = Outcome(ERROR, "SI101 something else")
    assert inject(formatted, lambda call: other).endswith('__error="SI101 something else")\n')
    assert inject(formatted, lambda call: Outcome(IMAGE_DATA, error.value)).endswith(
        """__image_data="SI203 app/page.py:2:30: no prop \\"widht\\"")\n"""
    )


@pytest.mark.parametrize("name", REPLACE)
def test_replacing(name: str) -> None:
    before, after = REPLACE[name]
    assert inject(before) == textwrap.dedent(after)


def test_error_text_is_escaped() -> None:
    error = Outcome(ERROR, 'SI203 app/page.py:1:30: no prop "widht"\nSI202 app/page.py:1:1: `alt`')
    result = inject('StaticImage("a.jpg", widht=3)\n', lambda call: error)
    assert result == (
        'StaticImage("a.jpg", widht=3, __error="SI203 app/page.py:1:30: no prop \\"widht\\"'
        '\\nSI202 app/page.py:1:1: `alt`")\n'
    )
    call = ast.parse(result).body[0].value  # type: ignore[attr-defined]
    assert ast.literal_eval(call.keywords[-1].value) == error.value


def test_error_text_inside_an_fstring_compiles_on_python_3_11() -> None:
    error = Outcome(ERROR, 'SI203 a.py:1:2: no prop "w"\nC:\\x')
    result = inject("""html = f"{StaticImage('a.jpg', w=1)}"\n""", lambda call: error)
    field = "__error='SI203 a.py:1:2: no prop `w` | C:/x'"
    assert result == f"""html = f"{{StaticImage('a.jpg', w=1, {field})}}"\n"""


def test_fstrings_with_both_quotes_skip_the_call() -> None:
    source = (HEADER + """x = f"{f'{StaticImage(1, 2)}'}"\ny = StaticImage(1, 2)\n""").encode()
    scan = scan_python(source, "app/page.py")
    result = inject_python(source, {c.name_span: DATA for c in scan.calls})
    assert result.source.decode().endswith(
        """x = f"{f'{StaticImage(1, 2)}'}"\ny = StaticImage(1, 2, __image_data="h")\n"""
    )
    assert [s.span for s in result.skipped] == [scan.calls[0].name_span]
    assert "f-string" in result.skipped[0].reason


def test_only_planned_calls_are_touched() -> None:
    result = inject(
        'a = StaticImage("a.jpg", "A")\nb = StaticImage("b.jpg", "B")\nc = other("c")\n',
        lambda call: DATA if call.name_span.line == 3 else None,
    )
    assert result == (
        'a = StaticImage("a.jpg", "A")\nb = StaticImage("b.jpg", "B", __image_data="h")\n'
        'c = other("c")\n'
    )


def test_columns_match_the_scanner() -> None:
    """The scanner's spans are 1-based; an off-by-one would touch nothing, or the wrong call."""
    source = (HEADER + 'x = [StaticImage("a", ""), StaticImage("b", "")]\n').encode()
    _first, second = scan_python(source, "app/page.py").calls
    assert (second.name_span.line, second.name_span.column) == (2, 28)
    result = inject_python(source, {second.name_span: DATA})
    assert result.source.endswith(
        b'x = [StaticImage("a", ""), StaticImage("b", "", __image_data="h")]\n'
    )
    with pytest.raises(InjectError, match="changed since it was scanned"):
        inject_python(source, {Span(2, 27, 2, 38): DATA})


def test_idempotent_and_a_changed_prop_replaces_the_stale_value() -> None:
    source = (
        HEADER
        + textwrap.dedent(
            """\
            hero = StaticImage(
                src="a.jpg",
                alt="A",
                width=400,
            )
            thumb = StaticImage("b.jpg", "B", width=100)
            """
        )
    ).encode()

    def by_hash(call: FoundCall) -> Outcome:
        from staticimg.compiler.props import plan_call

        request, _ = plan_call(call)
        assert request is not None
        return Outcome(IMAGE_DATA, request.hash)

    once = inject_bytes(source, by_hash)
    assert inject_bytes(once, by_hash) == once
    hashes = [k.value.value for k in _keywords(once)]  # type: ignore[attr-defined]
    changed = once.replace(b"width=400", b"width=500")
    again = inject_bytes(changed, by_hash)
    new_hashes = [k.value.value for k in _keywords(again)]  # type: ignore[attr-defined]
    assert new_hashes[0] != hashes[0] and new_hashes[1] == hashes[1]
    assert again == changed.replace(hashes[0].encode(), new_hashes[0].encode())


def _keywords(source: bytes) -> list[ast.keyword]:
    return [
        k
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        for k in node.keywords
        if k.arg == "__image_data"
    ]


def test_crlf_encoding_and_bom_are_kept() -> None:
    crlf = (HEADER + 'x = StaticImage(\n    "a.jpg",\n    "A",\n)\n').replace("\n", "\r\n").encode()
    assert inject_bytes(crlf) == crlf.replace(b'"A",\r\n', b'"A",\r\n    __image_data="h",\r\n')

    latin1 = ("# -*- coding: latin-1 -*-\n" + HEADER + 'x = StaticImage("café.jpg", "é")\n').encode(
        "latin-1"
    )
    error = Outcome(ERROR, 'No image data for "café.jpg" → run extract')
    result = inject_bytes(latin1, lambda call: error)
    literal = '"No image data for \\"café.jpg\\" \\u2192 run extract"'
    assert result.endswith(
        f'x = StaticImage("café.jpg", "é", __error={literal})\n'.encode("latin-1")
    )
    assert ast.literal_eval(ast.parse(result).body[-1].value.keywords[0].value) == error.value  # type: ignore[attr-defined]

    bom = b"\xef\xbb\xbf" + (HEADER + 'x = StaticImage("a.jpg", "A")\n').encode()
    assert inject_bytes(bom) == bom.replace(b'"A")', b'"A", __image_data="h")')


def test_nothing_planned_means_the_same_bytes_object() -> None:
    source = (HEADER + "x = 1  # untouched\n").encode()
    assert inject_python(source, {}).source is source


# --------------------------------------------------------------------------------------------
# Class bodies: what reaches StaticImage


CLASS_SOURCE = """\
class Page:
    hero = StaticImage("a.jpg", "A")

    def thumb(self):
        return StaticImage("b.jpg", "B")
"""


def _run_with(
    stub: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, outcome: Outcome = DATA
) -> dict[str, Any]:
    monkeypatch.setattr(staticimg, "StaticImage", stub, raising=False)
    namespace: dict[str, Any] = {}
    code = HEADER + inject(CLASS_SOURCE, lambda call: outcome)
    exec(compile(code, "app/page.py", "exec"), namespace)
    return namespace


def test_class_body_keyword_arrives_unmangled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python mangles `__name` identifiers inside a class, but not the keyword of a call:
    CPython 3.8 to 3.13 all pass `__image_data` as written. The runtime accepts the mangled
    spelling `_Page__image_data` as well, in case an implementation ever mangles it."""
    seen: list[dict[str, Any]] = []

    def stub(*args: Any, **kwargs: Any) -> str:
        seen.append(kwargs)
        return ""

    namespace = _run_with(stub, monkeypatch)
    namespace["Page"]().thumb()
    assert seen == [{"__image_data": "h"}, {"__image_data": "h"}]
    assert "_Page__image_data" not in seen[0]


def test_class_body_with_the_real_static_image(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    static_image = pytest.importorskip("staticimg.static_image")
    data_store = pytest.importorskip("staticimg.data_store")
    reference = "0123456789abcdef0123"
    record = {
        "layout": "constrained",
        "width": 100,
        "height": 50,
        "images": {
            "fallback": {"src": "/img/a-100w.jpg", "srcSet": "/img/a-100w.jpg 100w"},
            "sources": [],
        },
    }
    (tmp_path / f"{reference}.json").write_bytes(orjson.dumps(record))
    data_store.configure(data_dir=tmp_path)
    try:
        received: list[dict[str, Any]] = []
        real = static_image.StaticImage

        def spy(*args: Any, **kwargs: Any) -> Any:
            received.append(dict(kwargs))
            return real(*args, **kwargs)

        namespace = _run_with(spy, monkeypatch, Outcome(IMAGE_DATA, reference))
        assert received[0]["__image_data"] == reference
        assert "/img/a-100w.jpg" in str(namespace["Page"].hero)
    finally:
        data_store.reset()


def test_attribute_callee_and_wide_characters_before_the_call() -> None:
    source = 'import staticimg as si\nx = "ü€🎉"; y = si.StaticImage("a.jpg", "A")\n'.encode()
    assert inject_bytes(source) == source.replace(b'"A")', b'"A", __image_data="h")')
