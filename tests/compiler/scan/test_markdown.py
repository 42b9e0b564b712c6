"""The Markdown scanner: which images become `Markdown` calls, their arguments and spans,
and the plan stage picking up `.md` files (discovery, pre-filter, dispatch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from staticimg.astro.markdown import decode_uri, image_reference, image_source
from staticimg.compiler.config import Config
from staticimg.compiler.diagnostics import Span
from staticimg.compiler.plan import make_plan
from staticimg.compiler.scan.calls import ArgKind, FoundCall
from staticimg.compiler.scan.discover import SourceKind, discover
from staticimg.compiler.scan.markdown import scan_markdown

FILE = "content/post.md"


def found(text: str) -> list[FoundCall]:
    scan = scan_markdown(text, FILE)
    assert scan.file == FILE and scan.diagnostics == ()
    return list(scan.calls)


def args(call: FoundCall) -> dict[str, object]:
    assert all(a.kind is ArgKind.KEYWORD and a.index == -1 and a.resolved for a in call.args)
    return {a.name: a.value for a in call.args if a.name is not None}


def srcs(text: str) -> list[object]:
    return [args(call)["src"] for call in found(text)]


def test_inline_image_with_title() -> None:
    (call,) = found('Intro.\n\n![A *harbour* at dawn](../images/harbour.jpg "Dawn")\n')
    assert call.file == FILE and call.callee == "Markdown"
    assert args(call) == {
        "src": "../images/harbour.jpg",
        "alt": "A harbour at dawn",  # plain text, emphasis dropped
        "title": "Dawn",
    }
    assert call.span == Span(3, 1, 3, 53)
    assert call.name_span == Span(3, 1, 3, 3)
    src = next(a for a in call.args if a.name == "src")
    assert src.span == Span(3, 24, 3, 45)


def test_no_title_no_title_arg() -> None:
    (call,) = found("![x](a.png)")
    assert args(call) == {"src": "a.png", "alt": "x"}


@pytest.mark.parametrize(
    "text",
    [
        "![Alt][logo]\n\n[logo]: ./img/logo.png 'The logo'\n",
        "![Alt][LOGO]\n\n[logo]: <./img/logo.png> (The logo)\n",
        '![logo][]\n\n[logo]: ./img/logo.png "The logo"\n',
        "![logo]\n\n[logo]: ./img/logo.png\n  'The logo'\n",
    ],
)
def test_reference_images_resolve_their_definitions(text: str) -> None:
    (call,) = found(text)
    assert args(call)["src"] == "./img/logo.png"
    assert args(call)["title"] == "The logo"
    assert call.span.line == 1 and call.span.column == 1


def test_undefined_reference_is_not_an_image() -> None:
    assert found("![Alt][missing]") == []


def test_code_is_not_scanned() -> None:
    text = (
        "`![span](a.png)` and ``![double `tick`](b.png)``\n\n"
        "    ![indented](c.png)\n\n"
        "```md\n![fenced](d.png)\n```\n\n"
        "~~~\n![tilde](e.png)\n~~~\n\n"
        "\\![escaped](f.png)\n\n"
        "<div>\n![html block](g.png)\n</div>\n\n"
        "![real](h.png)\n"
    )
    assert srcs(text) == ["h.png"]


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("images/a.png", "images/a.png"),
        ("./a.png", "./a.png"),
        ("../a.png", "../a.png"),
        ("/static/a.png", "/static/a.png"),
        ("~/assets/a.png", "~/assets/a.png"),
        ("https://example.com/a.png", "https://example.com/a.png"),
        ("HTTP://example.com/a.png", "HTTP://example.com/a.png"),
        ("my%20image.png", "my image.png"),  # decodeURI
        ("<my image.png>", "my image.png"),
        ("café.png", "café.png"),
        ("a%2Fb%23c.png", "a%2Fb%23c.png"),  # reserved characters stay encoded
        ("data:image/png;base64,iVBORw0KGgo=", None),
        ("//cdn.example.com/a.png", None),
        ("mailto:me@example.com", None),
        ("javascript:alert(1)", None),  # not even an image to markdown-it
        ("<>", None),
    ],
)
def test_which_sources_are_reported(src: str, expected: str | None) -> None:
    assert srcs(f"![a]({src})") == ([] if expected is None else [expected])


def test_positions_across_lines_lists_quotes_and_links() -> None:
    text = (
        "# Title\n"
        "\n"
        "Some text ![one](1.png) and ![two\n"
        "continued](2.png) then `![code](x.png)` ![three](3.png)\n"
        "soft break ![four](4.png)\n"
        "\n"
        "> quoted ![five](5.png)\n"
        "\n"
        "- item [![six](6.png)](https://example.com)\n"
        "  1. ![seven](<7 b.png> 'T (x)')\n"
        "\n"
        "![js](javascript:x) ![eight](8.png)\r\n"
    )
    calls = found(text)
    assert [args(c)["src"] for c in calls] == [
        "1.png", "2.png", "3.png", "4.png", "5.png", "6.png", "7 b.png", "8.png"
    ]  # fmt: skip
    assert [(c.span.line, c.span.column) for c in calls] == [
        (3, 11),
        (3, 29),
        (4, 41),
        (5, 12),
        (7, 10),
        (9, 9),
        (10, 6),
        (12, 21),
    ]
    assert calls[1].span == Span(3, 29, 4, 18)  # the alt spans two lines
    assert calls[6].span == Span(10, 6, 10, 33)  # title with parentheses inside quotes
    assert args(calls[1])["alt"] == "two\ncontinued"
    for call in calls:
        assert call.name_span == Span(call.span.line, call.span.column, call.span.line,
                                      call.span.column + 2)  # fmt: skip
    lines = text.replace("\r\n", "\n").split("\n")
    for call in calls:
        assert lines[call.span.line - 1][call.span.column - 1 :].startswith("![")


def test_hashes_match_the_runtime_plugin_and_the_planner() -> None:
    from staticimg.compiler.astro_props import plan_astro_call

    (call,) = found("![A cat](../img/cat%20one.jpg)")
    request, problems = plan_astro_call(call)
    assert problems == [] and request is not None
    assert request.hash == image_reference("../img/cat one.jpg", FILE)


@pytest.mark.parametrize(
    ("url", "decoded"),
    [
        ("a%20b", "a b"),
        ("caf%C3%A9", "café"),
        ("%E2%82%AC%2F%3F%3A%40%26%3D%2B%24%2C%23", "€%2F%3F%3A%40%26%3D%2B%24%2C%23"),
        ("%41%3b", "A%3b"),
        ("100%", "100%"),  # decodeURI would throw: kept as written
        ("%zz", "%zz"),
        ("%C3", "%C3"),  # not UTF-8
        ("%ED%A0%80", "%ED%A0%80"),  # a surrogate: decodeURI rejects it too
        ("plain", "plain"),
    ],
)
def test_decode_uri_is_javascripts(url: str, decoded: str) -> None:
    assert decode_uri(url) == decoded


def test_image_source_none_and_empty() -> None:
    assert image_source(None) is None and image_source("") is None


def test_large_file_without_images_is_cheap() -> None:
    text = "Lorem ipsum dolor sit amet. " * 20_000
    assert found(text) == []


# --- the plan stage ---------------------------------------------------------------------------


def test_discovery_and_plan_pick_up_markdown(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "post.md").write_text("# Post\n\n![A cat](cat.jpg)\n")
    (tmp_path / "content" / "notes.markdown").write_text("no images here\n")
    (tmp_path / "content" / "latin.md").write_bytes(b"![x](y.png) caf\xe9\n")
    config = Config(tmp_path)
    kinds = {s.relative: s.kind for s in discover(config)}
    assert kinds == {
        "content/latin.md": SourceKind.MARKDOWN,
        "content/notes.markdown": SourceKind.MARKDOWN,
        "content/post.md": SourceKind.MARKDOWN,
    }
    plan = make_plan(config, jobs=1)
    assert plan.files_parsed == 2  # notes.markdown has no `![`: not parsed
    (call,) = [c for c in plan.calls if c.file == "content/post.md"]
    assert call.callee == "Markdown" and call.span == Span(3, 1, 3, 3)
    assert call.request is not None
    (problem,) = [d for d in plan.diagnostics if d.file == "content/latin.md"]
    assert problem.code == "SI112" and "UTF-8" in problem.message


def test_a_template_suffix_wins_over_markdown(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text("{{ StaticImage(src='a.png', alt='') }}")
    config = Config(tmp_path, template_suffixes=(".md",))
    assert [s.kind for s in discover(config)] == [SourceKind.TEMPLATE]
