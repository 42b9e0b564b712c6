"""The Python scanner: which calls count, how arguments evaluate, where problems point."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from staticimg.compiler.diagnostics import Span
from staticimg.compiler.scan.calls import Arg, ArgKind, FoundCall, Unresolved
from staticimg.compiler.scan.prefilter import might_contain_calls
from staticimg.compiler.scan.python import scan_python

HEADER = "from staticimg import StaticImage\n"


def scan(code: str) -> list[FoundCall]:
    result = scan_python(textwrap.dedent(code).encode(), "pkg/mod.py")
    assert result.diagnostics == ()
    return list(result.calls)


def only_call(code: str) -> FoundCall:
    calls = scan(code)
    assert len(calls) == 1
    return calls[0]


def arg(call: FoundCall, name: str) -> Arg:
    matches = [a for a in call.args if a.name == name]
    assert len(matches) == 1, call.args
    return matches[0]


def value(code: str, name: str = "bar") -> Any:
    return arg(only_call(HEADER + textwrap.dedent(code)), name).value


def unresolved(code: str, name: str = "bar") -> Unresolved:
    result = value(code, name)
    assert isinstance(result, Unresolved), result
    return result


# Gatsby's babel-jsx-utils vectors (reference/gatsby.md §1.5), written as Python calls.
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('StaticImage(bar="hello")', "hello"),
        ("StaticImage(bar=1)", 1),
        ("StaticImage(bar=[1, 2, 3])", [1, 2, 3]),
        ('StaticImage(bar={"hello": "World"})', {"hello": "World"}),
        ('StaticImage(bar=f"hello")', "hello"),
        ("StaticImage(bar=f\"hello {'world'}\")", "hello world"),
        ("StaticImage(bar=1 + 2)", 3),
        ("myVar = 1\nStaticImage(bar=myVar)", 1),
        ("myVar = 1 + 1\nStaticImage(bar=myVar)", 2),
    ],
)
def test_gatsby_evaluation_vectors(code: str, expected: Any) -> None:
    assert value(code) == expected


def test_gatsby_spread_vector() -> None:
    call = only_call(HEADER + 'attributes = {"bar": 4}\nStaticImage(**attributes)\n')
    (bar,) = call.args
    assert (bar.kind, bar.name, bar.value, bar.from_spread) == (ArgKind.KEYWORD, "bar", 4, True)


def test_gatsby_invalid_name_vector() -> None:
    problem = unresolved("StaticImage(bar=invalid)")
    assert problem.reason == "`invalid` is not defined in this file"
    assert problem.span == Span(2, 17, 2, 24)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("StaticImage(bar=None)", None),
        ("StaticImage(bar=True)", True),
        ("StaticImage(bar=-2.5)", -2.5),
        ("StaticImage(bar=1_000)", 1000),
        ("StaticImage(bar=0x10)", 16),
        ("StaticImage(bar=(1, 'a'))", (1, "a")),
        ("StaticImage(bar='a' 'b' \"c\")", "abc"),
        ("StaticImage(bar=r'\\d' + '\\n')", "\\d\n"),
        ("StaticImage(bar=f'{{x}} {1 + 1!r:>3} {\"q\"!r}')", "{x}   2 'q'"),
        ("W = 7\nStaticImage(bar=f'{W:03d}px')", "007px"),
        ("StaticImage(bar=10 // 3 * 2 - 1)", 5),
        ("StaticImage(bar=2 ** 10)", 1024),
        ("StaticImage(bar=1600 / 9 * 16)", 1600 / 9 * 16),
        ("StaticImage(bar='%s-%d' % ('a', 3))", "a-3"),
        ("StaticImage(bar=not 0)", True),
        ("StaticImage(bar=1 < 2 <= 2)", True),
        ("StaticImage(bar='a' in 'abc')", True),
        ("StaticImage(bar=0 or 'x')", "x"),
        ("StaticImage(bar=1 and 2)", 2),
        ("StaticImage(bar='big' if 3 > 2 else 'small')", "big"),
        ("StaticImage(bar=[1, 2, 3][-1])", 3),
        ("StaticImage(bar='hero.jpg'[:4])", "hero"),
        ("StaticImage(bar={'a': {'b': 5}}['a']['b'])", 5),
        ("StaticImage(bar=[*[1, 2], 3])", [1, 2, 3]),
        ("D = {'a': 1}\nStaticImage(bar={**D, 'b': 2})", {"a": 1, "b": 2}),
        ("StaticImage(bar=None is None)", True),
    ],
)
def test_constant_expressions(code: str, expected: Any) -> None:
    assert value(code) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # chains of names, followed to the end
        ("A = 100\nB = A * 2\nC = B + 1\nStaticImage(bar=C)", 201),
        # unpacking, nested
        ("A, (B, C) = 1, (2, 'c')\nStaticImage(bar=C)", "c"),
        # chained assignment
        ("A = B = 'x'\nStaticImage(bar=B)", "x"),
        # annotated assignment
        ("A: int = 9\nStaticImage(bar=A)", 9),
        # a module constant used inside a function, whatever their order in the file
        ("def page():\n    return StaticImage(bar=LATER)\nLATER = 3", 3),
        # a local bound earlier in the same function
        (
            "def page():\n    w = 300\n    h = w * 16 / 9\n    return StaticImage(bar=h)",
            300 * 16 / 9,
        ),
        # a class attribute used in the class body
        ("class Page:\n    W = 5\n    img = StaticImage(bar=W * 2)", 10),
    ],
)
def test_bound_names(code: str, expected: Any) -> None:
    assert value(code) == expected


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("def page(p):\n    return StaticImage(bar=p)", "`p` is a function parameter"),
        ("def page(*, p=1):\n    return StaticImage(bar=p)", "`p` is a function parameter"),
        ("for s in ['a', 'b']:\n    StaticImage(bar=s)", "`s` is a loop variable"),
        ("[StaticImage(bar=s) for s in 'ab']", "`s` is a loop variable"),
        ("x = 1\nx = 2\nStaticImage(bar=x)", "`x` is bound 2 times (lines 2, 3)"),
        ("x = 1\nx += 1\nStaticImage(bar=x)", "`x` is bound 2 times"),
        (
            "def f():\n    x = 1\n    for _ in 'ab':\n        x = 2\n    StaticImage(bar=x)",
            "bound 2 times",
        ),
        ("StaticImage(bar=later)\nlater = 1", "`later` is used before it is assigned"),
        ("from consts import WIDTH\nStaticImage(bar=WIDTH)", "`WIDTH` is imported"),
        ("import os\nStaticImage(bar=os.sep)", "`os.sep` is an attribute"),
        ("StaticImage(bar=get_width())", "`get_width()` is a function call"),
        ("StaticImage(bar=len('abc'))", "`len('abc')` is a function call"),
        ("StaticImage(bar=len)", "`len` is a builtin"),
        ("StaticImage(bar=[x for x in 'ab'])", "is a comprehension"),
        ("StaticImage(bar=lambda: 1)", "is a lambda"),
        ("StaticImage(bar={1, 2})", "sets have no order"),
        ("StaticImage(bar=b'raw')", "bytes are not valid"),
        ("StaticImage(bar=1j)", "complex numbers"),
        ("StaticImage(bar=1 / 0)", "division by zero"),
        ("StaticImage(bar='a' + 1)", "`+` cannot combine a str and an int"),
        ("StaticImage(bar='x' * 10**9)", "too large"),
        ("StaticImage(bar=9 ** 9 ** 9)", "too large"),
        ("StaticImage(bar=[0] * 10**6)", "too large"),
        ("StaticImage(bar=(y := 3))", "assignment expression"),
        ("a = b\nb = a\nStaticImage(bar=a)", "`a` (bound on line 2) is not constant"),
        (
            "def f():\n    def g(): pass\n    StaticImage(bar=g)",
            "`g` is bound by a function definition",
        ),
        ("import json\nStaticImage(bar=json)", "`json` is imported"),
        ("with open('f') as fh:\n    StaticImage(bar=fh)", "`fh` is bound by an `as` clause"),
    ],
)
def test_unresolvable(code: str, reason: str) -> None:
    assert reason in unresolved(code).reason


def test_unresolved_points_at_the_offending_sub_expression() -> None:
    problem = unresolved("StaticImage(bar=800 * scale() + 1)")
    assert problem.reason.startswith("`scale()` is a function call")
    assert problem.span == Span(2, 23, 2, 30)
    assert problem.hint


def test_unresolved_chain_points_at_the_use_and_names_the_binding() -> None:
    problem = unresolved("import random\nW = random.random()\nStaticImage(bar=W)")
    assert problem.reason == (
        "`W` (bound on line 3) is not constant: `random.random()` is a function call; "
        "calls are not evaluated at build time"
    )
    assert problem.span == Span(4, 17, 4, 18)


@pytest.mark.parametrize(
    "code",
    [
        "from staticimg import StaticImage\nStaticImage(src='a')",
        "from staticimg import StaticImage as Img\nImg(src='a')",
        "import staticimg\nstaticimg.StaticImage(src='a')",
        "import staticimg as si\nsi.StaticImage(src='a')",
        "def f():\n    from staticimg import StaticImage\n    return StaticImage(src='a')",
        "class C:\n    from staticimg import StaticImage\n    x = StaticImage(src='a')",
    ],
)
def test_calls_bound_to_staticimg_are_found(code: str) -> None:
    call = only_call(code)
    assert call.callee == "StaticImage"
    assert call.args[0].value == "a"


@pytest.mark.parametrize(
    "code",
    [
        "from gatsby import StaticImage\nStaticImage(src='a')",
        "import staticimg\nfrom other import StaticImage\nStaticImage(src='a')",
        "import staticimg\ndef StaticImage(**kw): pass\nStaticImage(src='a')",
        "import staticimg\nStaticImage(src='a')",  # not imported: a NameError, not ours
        "import staticimg\nother.StaticImage(src='a')",
        "from staticimg import StaticImage\nx = StaticImage",  # not a call
        "from staticimg import GatsbyImage\nGatsbyImage(image={})",
    ],
)
def test_other_callees_are_ignored(code: str) -> None:
    assert scan(code) == []


def test_positional_and_spread_arguments() -> None:
    call = only_call(
        HEADER + "ARGS = ['hero.jpg', 'Alt']\nOPTS = {'width': 10}\n"
        "StaticImage(*ARGS, **OPTS, **dynamic, height=3)\n"
    )
    kinds = [(a.kind, a.name, a.index, a.from_spread) for a in call.args]
    assert kinds == [
        (ArgKind.POSITIONAL, None, 0, True),
        (ArgKind.POSITIONAL, None, 1, True),
        (ArgKind.KEYWORD, "width", -1, True),
        (ArgKind.SPREAD, None, -1, False),
        (ArgKind.KEYWORD, "height", -1, False),
    ]
    spread = call.args[3].value
    assert isinstance(spread, Unresolved)
    assert spread.reason == "`dynamic` is not defined in this file"


def test_spans_are_one_based_and_cover_values_and_call() -> None:
    call = only_call(HEADER + "hero = StaticImage(\n    src='a.jpg',\n\twidth=3 * 100,\n)\n")
    assert call.name_span == Span(2, 8, 2, 19)
    assert call.span == Span(2, 8, 5, 2)
    assert arg(call, "src").span == Span(3, 9, 3, 16)
    assert arg(call, "width").span == Span(4, 8, 4, 15)


def test_several_calls_in_source_order() -> None:
    calls = scan(HEADER + "a = StaticImage(src='1')\nb = StaticImage(src='2')\n")
    assert [c.args[0].value for c in calls] == ["1", "2"]


def test_pre_filter_needs_both_names() -> None:
    assert might_contain_calls(b"from staticimg import StaticImage")
    assert not might_contain_calls(b"class StaticImage: pass")
    assert not might_contain_calls(b"import staticimg")


def test_syntax_error_is_one_located_diagnostic() -> None:
    result = scan_python(HEADER.encode() + b"x = 1\nStaticImage(src='a'\n", "bad.py")
    assert result.calls == ()
    (problem,) = result.diagnostics
    assert problem.code == "SI110"
    assert problem.file == "bad.py"
    assert problem.span == Span(3, 12, 3, 13)
    assert "never closed" in problem.message


def test_declared_encoding_is_honoured() -> None:
    source = "# -*- coding: latin-1 -*-\n" + HEADER + "StaticImage(src='café.jpg')\n"
    result = scan_python(source.encode("latin-1"), "latin.py")
    assert result.calls[0].args[0].value == "café.jpg"


def test_undecodable_bytes_are_located() -> None:
    result = scan_python(HEADER.encode() + b"StaticImage(src='caf\xe9.jpg')\n", "bytes.py")
    (problem,) = result.diagnostics
    assert problem.code == "SI112"
    assert problem.span == Span(2, 21, 2, 22)


def test_deep_nesting_does_not_crash() -> None:
    call = only_call(HEADER + "StaticImage(bar=" + "(" * 150 + "1" + ")" * 150 + ")\n")
    assert call.args[0].value == 1
    chain = only_call(HEADER + "StaticImage(bar=" + " + ".join(["1"] * 600) + ")\n")
    assert chain.args[0].value == 600


def test_what_cpython_refuses_is_a_syntax_error() -> None:
    for code in ("(" * 400 + "1" + ")" * 400, "'\\x4'", "'a' b'b'", "1" * 4301):
        result = scan_python((HEADER + f"StaticImage(bar={code})\n").encode(), "x.py")
        assert [d.code for d in result.diagnostics] == ["SI110"], code


def test_self_documenting_fstring_fields_are_refused_not_misread() -> None:
    assert "self-documenting" in unresolved("StaticImage(bar=f'{1=}')").reason


def test_unicode_errors_from_encoding_detection_are_diagnostics() -> None:
    # Python's "undefined" codec raises a bare UnicodeError inside libcst's detection.
    result = scan_python(b"# coding: undefined\n" + HEADER.encode() + b"StaticImage()\n", "u.py")
    assert [d.code for d in result.diagnostics] == ["SI112"]


@pytest.mark.parametrize(
    "literal",
    [
        "rf'\\{0}'",
        "rf'a\\b{1}c\\\\'",
        "f'\\\\{2}'",
        "f'''a'{3}'''",
        'f"""b"{4}"""',
        "f'tab\\t{5}\\u00e9'",
        "fr'{{}}{6}'",
        "Rf'\\d{7}'",
    ],
)
def test_fstring_text_matches_python(literal: str) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = eval(literal)
    assert value(f"StaticImage(bar={literal})") == expected


def test_absurd_nesting_is_refused_without_crashing_the_process() -> None:
    # libcst's native parser overflows its stack on this; CPython's parser, run first, refuses
    # it cleanly. A subprocess, so that a regression fails this test instead of killing pytest.
    import subprocess
    import sys

    code = (
        "from staticimg.compiler.scan.python import scan_python\n"
        "src = b'from staticimg import StaticImage\\nStaticImage(a=' + b'(' * 1300 + b'1'"
        " + b')' * 1300 + b')\\n'\n"
        "print([d.code for d in scan_python(src, 'x.py').diagnostics])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (result.returncode, result.stdout.strip()) == (0, "['SI110']")


def test_a_global_bound_inside_a_function_is_not_constant() -> None:
    problem = unresolved("def f():\n    global v\n    v = []\nStaticImage(bar=v)")
    assert "through `global` or `nonlocal`" in problem.reason


def test_shared_structures_are_weighed_before_they_are_stringified() -> None:
    code = "s = 'x' * 100_000\nl = [s] * 10\nm = [l] * 100\nStaticImage(bar=f'{m}')"
    assert unresolved(code).reason == "the value is too large to be a prop"
