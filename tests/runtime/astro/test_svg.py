"""SVG: parsing, Astro's sizing rules, sanitising hostile files, DTD refusal, the inline
`Svg` component (props over file attributes, §9.6) and static-root containment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import orjson
import pytest
from markupsafe import Markup

from staticimg import data_store, notice
from staticimg.astro import svg as svg_module
from staticimg.astro.svg import (
    Svg,
    SvgDocument,
    check_svg,
    is_active_svg,
    parse_svg,
    render_svg,
    svg_record,
    svg_size,
)
from staticimg.data_store import DATA_DIR_ENV, DEVELOPMENT_ENV

NS = 'xmlns="http://www.w3.org/2000/svg"'
XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
LOGO = (
    f'<svg {NS} {XLINK} version="1.1" width="85" height="107" viewBox="0 0 85 107" '
    'class="logo" role="presentation">'
    '<defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/></linearGradient></defs>'
    '<path d="M0 0h85v107H0z" fill="url(#g)"/><use xlink:href="#g"/></svg>'
)


class _Tags(HTMLParser):
    """What a browser's HTML tokenizer makes of the output: tags with their attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def tags(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(markup)
    parser.close()
    return parser.tags


def root_attributes(markup: str) -> dict[str, str | None]:
    tag, attributes = tags(markup)[0]
    assert tag == "svg"
    return attributes


@pytest.fixture(autouse=True)
def clean_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(DEVELOPMENT_ENV, raising=False)
    data_store.reset()
    notice._logged.clear()
    svg_module.configure(static_root=None)
    yield
    data_store.reset()
    svg_module.configure(static_root=None)


# --- parsing and sizing ---------------------------------------------------------------------


def test_root_attributes_drop_xmlns_and_version_keep_the_rest() -> None:
    document = parse_svg(LOGO)
    assert document.attributes == {
        "width": "85",
        "height": "107",
        "viewBox": "0 0 85 107",
        "class": "logo",
        "role": "presentation",
    }
    assert document.inner.startswith("<defs><linearGradient id=")
    assert '<use xlink:href="#g"/>' in document.inner
    assert (document.width, document.height) == (85, 107)


@pytest.mark.parametrize(
    ("attributes", "size"),
    [
        ('width="100" height="50"', (100, 50)),
        ('width="100px" height="50px"', (100, 50)),
        ('width="1in" height="2in"', (96, 192)),
        ('width="2.54cm" height="25.4mm"', (96, 96)),
        ('width="72pt" height="36pt"', (96, 48)),
        ('width="1pc" height="3pc"', (16, 48)),  # 1pc = 12pt = 16px (image-size has 1/9)
        ('width="2em" height="3ex"', (32, 24)),
        ('width="1e2" height="5E1"', (100, 50)),
        ('width=" 10 " height="20"', (10, 20)),
        ('width="10.4" height="10.5"', (10, 11)),  # rounded half up, like Math.round
        ('viewBox="0 0 300 150"', (300, 150)),
        ('viewBox="-10,-10,  300,150"', (300, 150)),  # commas and any whitespace
        ('width="100%" height="100%" viewBox="0 0 40 30"', (40, 30)),  # % ignored
        ('width="100" viewBox="0 0 30 20"', (100, 66)),  # the other one floored
        ('height="100" viewBox="0 0 30 20"', (150, 100)),
        ('height="7" viewBox="0 0 10 3"', (23, 7)),  # 23.33 floored
        ('width="0" height="0"', (0, 0)),  # Astro accepts a zero-size SVG
        ('width="0" height="0" viewBox="0 0 8 4"', (8, 4)),  # zero counts as unset
        ('width="10vw" height="5" viewBox="0 0 4 2"', (10, 5)),  # unknown unit: unset
    ],
)
def test_sizes_follow_astro(attributes: str, size: tuple[int, int]) -> None:
    text = f"<svg {NS} {attributes}/>"
    assert svg_size(text.encode()) == size


@pytest.mark.parametrize(
    ("attributes", "width", "height"),
    [
        ('width="10"', 10.0, None),
        ('height="50%"', None, None),
        ("", None, None),
        ('viewBox="0 0 0 10"', None, None),
        ('viewBox="0 0 ten 10"', None, None),
        ('width="-5" height="5"', None, 5.0),
        ('width="1.5" height="2.25"', 1.5, 2.25),
    ],
)
def test_unknown_sizes_are_none(attributes: str, width: float | None, height: float | None) -> None:
    document = parse_svg(f"<svg {NS} {attributes}></svg>")
    assert (document.width, document.height) == (width, height)
    if width is None or height is None:
        assert svg_size(f"<svg {NS} {attributes}></svg>".encode()) is None


def test_only_the_first_root_svg_is_read() -> None:
    document = parse_svg(
        f'<?xml version="1.0"?><!-- made by hand --><svg {NS}><g/></svg><svg><script/></svg>'
    )
    assert document.inner == "<g/>"


def test_bytes_honour_the_declared_encoding() -> None:
    data = '<?xml version="1.0" encoding="ISO-8859-1"?><svg><text>café</text></svg>'
    assert svg_size(data.encode("latin-1")) is None  # readable, no size
    assert not is_active_svg(data.encode("latin-1"))
    utf16 = f'<svg {NS} width="3" height="4"><text>ü</text></svg>'.encode("utf-16")
    assert svg_size(utf16) == (3, 4)


def test_no_ns0_prefixes_and_namespaces_as_html_expects() -> None:
    text = (
        f'<svg:svg xmlns:svg="http://www.w3.org/2000/svg" {XLINK} '
        'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" inkscape:version="1.3">'
        '<svg:g xml:space="preserve" inkscape:label="Layer 1"><svg:use xlink:href="#a"/></svg:g>'
        "<inkscape:namedview><inkscape:grid/></inkscape:namedview></svg:svg>"
    )
    document = parse_svg(text)
    assert document.attributes == {}
    assert document.inner == '<g xml:space="preserve"><use xlink:href="#a"/></g>'
    assert "ns0" not in document.inner


def test_undeclared_xlink_prefix_is_accepted() -> None:
    document = parse_svg('<svg><use xlink:href="#icon"/></svg>')
    assert document.inner == '<use xlink:href="#icon"/>'


def test_text_and_attribute_values_are_escaped() -> None:
    document = parse_svg(
        f"<svg {NS}><style>a &gt; b {{ fill: red }}</style>"
        '<text title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&lt;/svg&gt;&lt;script&gt;'
        "</text></svg>"
    )
    assert "<style>a &gt; b { fill: red }</style>" in document.inner
    assert 'title="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in document.inner
    assert "&lt;/svg&gt;&lt;script&gt;" in document.inner
    assert [tag for tag, _ in tags(document.inner)] == ["style", "text"]


def test_cdata_becomes_escaped_text() -> None:
    document = parse_svg(f"<svg {NS}><style><![CDATA[a > b {{ fill: red }}]]></style></svg>")
    assert document.inner == "<style>a &gt; b { fill: red }</style>"


@pytest.mark.parametrize(
    "text",
    [
        "<svg><g></svg>",
        "not xml at all",
        "",
        "<svg>&nbsp;</svg>",
    ],
)
def test_malformed_files_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError, match="well-formed"):
        parse_svg(text)
    assert is_active_svg(text.encode())  # fails closed
    assert svg_size(text.encode()) is None


def test_a_root_other_than_svg_is_refused() -> None:
    with pytest.raises(ValueError, match=r"root element is <html>, not <svg>"):
        parse_svg("<html><svg/></html>")


# --- DTDs and entities ----------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE svg [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&lol3;</text></svg>"""


@pytest.mark.parametrize(
    "text",
    [
        BILLION_LAUGHS,
        '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><svg><text>&xxe;</text></svg>',
        '<!DOCTYPE svg [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><svg/>',
        "<!DOCTYPE svg [<!ELEMENT svg ANY>]><svg/>",
    ],
)
def test_dtd_internal_subsets_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="billion laughs"):
        parse_svg(text)
    reason = check_svg(text.encode())
    assert reason is not None and "DOCTYPE" in reason
    assert is_active_svg(text.encode())
    assert svg_size(text.encode()) is None


def test_a_bare_doctype_is_ignored_but_its_entities_are_not_loaded() -> None:
    public = (
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
    )
    document = parse_svg(f'{public}<svg {NS} width="4" height="2"><g/></svg>')
    assert (document.inner, document.width) == ("<g/>", 4)
    with pytest.raises(ValueError, match="external DTD"):
        parse_svg(f"{public}<svg {NS}><text>&nbsp;</text></svg>")


# --- sanitising -----------------------------------------------------------------------------

HOSTILE = f"""<svg {NS} {XLINK} onload="alert(1)" width="10" height="10">
<script>alert(1)</script>
<SCRIPT type="text/javascript">alert(2)</SCRIPT>
<script xlink:href="https://evil.example/x.js"/>
<x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(3)</x:script>
<rect width="5" height="5" onclick="alert(4)" ONMOUSEOVER="alert(5)" fill="red"/>
<a href="javascript:alert(6)"><text>a</text></a>
<a xlink:href="  JaVa&#x09;ScRiPt:alert(7)"><text>b</text></a>
<a href="&#10;&#13; javascript:alert(8)"><text>c</text></a>
<a href="data:text/html,&lt;script&gt;alert(9)&lt;/script&gt;"><text>d</text></a>
<a href="vbscript:msgbox(10)"><text>e</text></a>
<image href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/>
<a href="https://example.com/ok"><text>f</text></a>
<foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">
  <img src="x" onerror="alert(11)"/></div></foreignObject>
<iframe src="https://evil.example"/><embed src="x.swf"/><object data="x.html"/>
<handler type="application/ecmascript">alert(12)</handler>
<a><animate attributeName="href" values="#x;javascript:alert(13)"/><text>g</text></a>
<set attributeName="onmouseover" to="alert(14)"/>
<animate attributeName="fill" values="red;blue" dur="1s"/>
<use href="#g"/><style>.c {{ fill: blue }}</style>
</svg>"""


def test_hostile_content_is_removed_for_inlining() -> None:
    document = parse_svg(HOSTILE)
    inner = document.inner
    assert document.attributes == {"width": "10", "height": "10"}
    lowered = inner.lower()
    for needle in (
        "script",
        "alert(",
        "onclick",
        "onmouseover",
        "onerror",
        "iframe",
        "embed",
        "object",
        "handler",
        "foreignobject",
        "data:text",
    ):
        assert needle not in lowered, needle
    found = tags(inner)
    names = [tag for tag, _ in found]
    assert names.count("a") == 7 and names.count("text") == 7
    assert ("rect", {"width": "5", "height": "5", "fill": "red"}) in found
    assert (
        "image",
        {"href": "data:image/png;base64,iVBORw0KGgo=", "width": "1", "height": "1"},
    ) in found
    assert ("a", {"href": "https://example.com/ok"}) in found
    assert ("animate", {"attributename": "fill", "values": "red;blue", "dur": "1s"}) in found
    assert ("use", {"href": "#g"}) in found
    assert "<style>.c { fill: blue }</style>" in inner
    for _, attributes in found:
        assert not any(key.startswith("on") for key in attributes)


def test_hostile_content_is_reported_as_active() -> None:
    reason = check_svg(HOSTILE.encode())
    assert reason is not None
    for part in (
        "<script> element",
        "<SCRIPT> element",
        "event handler attribute onload=",
        "ONMOUSEOVER=",
        "javascript: URL in href= on <a>",
        "javascript: URL in xlink:href= on <a>",
        "data: (non-image) URL",
        "vbscript:",
        "onerror= on <img>",  # inside foreignObject: the file would run it
        "<iframe> element",
        "<handler> element",
        "<animate> that sets href= to a javascript: URL",
        "<set> that sets the event handler onmouseover=",
    ):
        assert part in reason, part


@pytest.mark.parametrize(
    "text",
    [
        f'<svg {NS}><rect onload="x"/></svg>',
        f'<svg {NS} onLoad="x"/>',
        f'<svg {NS}><a href="javascript:void(0)"/></svg>',
        f"<svg {NS}><script/></svg>",
        f'<svg {NS}><foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml"/>'
        "</foreignObject></svg>",
        f'<svg {NS}><a xlink:href="data:application/xhtml+xml,x"/></svg>',
    ],
)
def test_active_files(text: str) -> None:
    assert is_active_svg(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        LOGO,
        f'<svg {NS}><a href="#top"><text>x</text></a><animate attributeName="x" to="5"/></svg>',
        f'<svg {NS}><foreignObject><p xmlns="http://www.w3.org/1999/xhtml">hi</p>'
        "</foreignObject></svg>",
        f'<svg {NS}><image href="data:image/svg+xml;base64,PHN2Zy8+"/></svg>',
        f"<svg {NS}><text>javascript:alert(1) onload= as text</text></svg>",
    ],
)
def test_clean_files_are_not_active(text: str) -> None:
    assert check_svg(text.encode()) is None


def test_deep_nesting_does_not_recurse() -> None:
    depth = 20_000
    text = f"<svg {NS}>" + "<g>" * depth + "</g>" * depth + "</svg>"
    assert parse_svg(text).inner.count("<g>") == depth - 1


# --- the component: props over file attributes (Astro's SVG component tests) ---------------


def test_render_merges_props_over_file_attributes() -> None:
    document = parse_svg(LOGO)
    html = render_svg(
        document,
        {
            "aria_hidden": "true",
            "id": "main-logo",
            "style": {"color": "red", "fontSize": "32px", "margin": None},
            "class_": "brand",
            "data_state": "open",
            "role": "img",
        },
    )
    assert isinstance(html, Markup)
    attributes = root_attributes(html)
    assert attributes == {
        "width": "85",
        "height": "107",
        "viewbox": "0 0 85 107",
        "class": "brand",  # replaces, does not append
        "role": "img",
        "aria-hidden": "true",
        "id": "main-logo",
        "style": "color:red;font-size:32px",
        "data-state": "open",
    }
    assert html.startswith('<svg width="85" height="107" viewBox="0 0 85 107" class="brand"')
    assert html.endswith(document.inner + "</svg>")
    for dropped in ("xmlns", "version", '=""'):
        assert dropped not in html


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"class_name": "a"}, ' class="a"'),
        ({"className": "a"}, ' class="a"'),
        ({"class": ["a", "b"]}, ' class="a b"'),
        ({"view_box": "0 0 1 1"}, ' viewBox="0 0 1 1"'),
        ({"viewBox": "0 0 1 1"}, ' viewBox="0 0 1 1"'),
        ({"preserve_aspect_ratio": "none"}, ' preserveAspectRatio="none"'),
        ({"stroke_width": 2}, ' stroke-width="2"'),
        ({"strokeLinecap": "round"}, ' stroke-linecap="round"'),
        ({"xlink_href": "#a"}, ' xlink:href="#a"'),
        ({"aria_hidden": True}, ' aria-hidden="true"'),
        ({"aria_hidden": False}, ' aria-hidden="false"'),
        ({"focusable": False}, ' focusable="false"'),
        ({"hidden_thing": False}, ""),
        ({"width": 64.0}, ' width="64"'),
        ({"width": 1.5}, ' width="1.5"'),
        ({"title": ""}, ""),
        ({"fill": None}, ""),
        (
            {"data_x": '"><script>alert(1)</script>'},
            ' data-x="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"',
        ),
        ({"style": "color: red"}, ' style="color: red"'),
    ],
)
def test_prop_names_and_values(props: dict[str, object], expected: str) -> None:
    html = render_svg(SvgDocument({}, "<g/>"), props)
    assert html == f"<svg{expected}><g/></svg>"


def test_none_or_empty_prop_removes_a_file_attribute() -> None:
    html = render_svg(parse_svg(LOGO), {"class_": None, "role": ""})
    attributes = root_attributes(html)
    assert "class" not in attributes and "role" not in attributes


@pytest.mark.parametrize("name", ["onclick", "onLoad", "on_click", "ONMOUSEOVER"])
def test_event_handler_props_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="event handlers"):
        render_svg(SvgDocument({}, ""), {name: "alert(1)"})


@pytest.mark.parametrize("name", ["a b", 'x"y', "x>y", "1x", "a=b"])
def test_unwritable_prop_names_are_refused(name: str) -> None:
    with pytest.raises(TypeError, match="not an attribute name"):
        render_svg(SvgDocument({}, ""), {name: "1"})


def test_script_url_props_are_refused() -> None:
    with pytest.raises(ValueError, match="script and non-image data"):
        render_svg(SvgDocument({}, ""), {"href": " javascript:alert(1)"})


# --- the component: build records, errors, dynamic files ------------------------------------


@pytest.fixture
def data_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    data_store.configure(data_dir=folder)
    return folder


def test_svg_record_round_trips_through_the_data_store(data_folder: Path) -> None:
    document = parse_svg(LOGO)
    record = svg_record(document)
    assert record == {
        "astro": "svg",
        "attributes": document.attributes,
        "inner": document.inner,
        "width": 85,
        "height": 107,
    }
    reference = "0123456789abcdef0123"
    (data_folder / f"{reference}.json").write_bytes(orjson.dumps(record))
    html = Svg("icons/logo.svg", __image_data=reference, width=64, fill="currentColor")
    assert html == render_svg(document, {"width": 64, "fill": "currentColor"})
    assert root_attributes(html)["width"] == "64"
    assert Svg(src="icons/logo.svg", __image_data=record) == render_svg(document, {})


def test_record_for_a_missing_or_failed_build(data_folder: Path) -> None:
    data_store.configure(development=True)
    missing = Svg("icons/gone.svg", __image_data="ffffffffffffffffffff")
    assert "staticimg build" in missing and "ffffffffffffffffffff" in missing
    error = {"code": "SI301", "message": "no file <icons/gone.svg>", "file": "app.py", "line": 3}
    (data_folder / "eeeeeeeeeeeeeeeeeeee.json").write_bytes(orjson.dumps({"error": error}))
    html = Svg("icons/gone.svg", __image_data="eeeeeeeeeeeeeeeeeeee")
    assert 'data-staticimg-error="SI301"' in html and "&lt;icons/gone.svg&gt;" in html
    injected = Svg("icons/gone.svg", __error="SI301 app.py:3:1: no file")
    assert 'data-staticimg-error="SI301"' in injected
    data_store.configure(development=False)
    assert Svg("icons/gone.svg", __error="SI301 x") == Markup(
        '<span data-staticimg-error="" hidden></span>'
    )


@pytest.fixture
def static_root(tmp_path: Path) -> Path:
    root = tmp_path / "site" / "static"
    (root / "icons").mkdir(parents=True)
    (root / "icons" / "logo.svg").write_text(LOGO, encoding="utf-8")
    svg_module.configure(static_root=root)
    return root


def test_dynamic_call_reads_a_rooted_path_under_the_static_root(static_root: Path) -> None:
    html = Svg("/icons/logo.svg", aria_hidden="true")
    assert root_attributes(html)["aria-hidden"] == "true"
    assert "<linearGradient" in html


def test_dynamic_call_cache_follows_the_file(static_root: Path) -> None:
    assert "<path" in Svg("/icons/logo.svg")
    file = static_root / "icons" / "logo.svg"
    file.write_text(f'<svg {NS} width="1" height="1"><circle r="1"/></svg>', encoding="utf-8")
    stat = file.stat()
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert Svg("/icons/logo.svg") == Markup('<svg width="1" height="1"><circle r="1"/></svg>')


def test_dynamic_call_finds_the_project_static_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "public" / "img").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.staticimg]\nstatic_root = "public"\n')
    (project / "public" / "img" / "a.svg").write_text(f"<svg {NS}><g/></svg>")
    (project / "app").mkdir()
    monkeypatch.chdir(project / "app")
    assert Svg("/img/a.svg") == Markup("<svg><g/></svg>")


def test_relative_src_at_runtime_says_to_use_a_constant(static_root: Path) -> None:
    with pytest.raises(ValueError, match="constant src"):
        Svg("icons/logo.svg")
    with pytest.raises(ValueError, match="constant src"):
        Svg("https://example.com/logo.svg")


def test_dot_dot_and_symlink_escapes_are_refused(static_root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "site" / "secret.svg"
    secret.write_text(f"<svg {NS}><text>secret</text></svg>")
    with pytest.raises(ValueError, match="outside the static root"):
        Svg("/../secret.svg")
    with pytest.raises(ValueError, match="outside the static root"):
        Svg("/icons/../../secret.svg")
    (static_root / "icons" / "link.svg").symlink_to(secret)
    with pytest.raises(ValueError, match="outside the static root"):
        Svg("/icons/link.svg")
    (static_root / "outside").symlink_to(tmp_path / "site", target_is_directory=True)
    with pytest.raises(ValueError, match="outside the static root"):
        Svg("/outside/secret.svg")
    with pytest.raises(ValueError, match="outside the static root"):
        Svg("/icons")  # a folder is not a file
    with pytest.raises(FileNotFoundError):
        Svg("/icons/none.svg")


def test_a_symlink_inside_the_static_root_is_fine(static_root: Path) -> None:
    (static_root / "alias.svg").symlink_to(static_root / "icons" / "logo.svg")
    assert "<linearGradient" in Svg("/alias.svg")


def test_dynamic_file_is_sanitised(static_root: Path) -> None:
    (static_root / "bad.svg").write_text(HOSTILE)
    html = Svg("/bad.svg")
    assert "alert(" not in html and "<script" not in html.lower()
