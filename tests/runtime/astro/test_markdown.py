"""The markdown-it-py plugin: images render from the build's records through `Image`, and
stay markdown-it's plain `<img>` when there is no record; everything escaped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markupsafe import Markup

from staticimg import data_store, notice
from staticimg.astro.components import Image
from staticimg.astro.markdown import image_reference, render_markdown, staticimg_images
from staticimg.astro.record import image_record
from staticimg.astro.types import GetImageResult, SrcSetValue
from staticimg.data_store import DATA_DIR_ENV, DEVELOPMENT_ENV
from staticimg.hashing import props_hash

FILE = "content/post.md"


def record_for(src: str) -> dict[str, object]:
    result = GetImageResult(
        raw_options={"src": src},
        options={"src": src, "width": 800, "height": 600, "format": "webp"},
        src="/_astro/cat.1a2b3c.webp",
        src_set=(
            SrcSetValue(
                transform={"src": src, "width": 400}, descriptor="400w", url="/_astro/c-400.webp"
            ),
            SrcSetValue(
                transform={"src": src, "width": 800}, descriptor="800w", url="/_astro/c-800.webp"
            ),
        ),
        attributes={"width": 800, "height": 600, "loading": "lazy", "decoding": "async"},
    )
    return image_record(result)


@pytest.fixture(autouse=True)
def data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(DEVELOPMENT_ENV, raising=False)
    data_store.reset()
    notice._logged.clear()
    folder = tmp_path / "data"
    folder.mkdir()
    data_store.configure(data_dir=folder)
    yield folder
    data_store.reset()


def write(folder: Path, reference: str, record: object) -> None:
    (folder / f"{reference}.json").write_bytes(orjson.dumps(record))


def plain(text: str) -> str:
    return str(MarkdownIt("commonmark").render(text))


def test_reference_is_the_props_hash_of_exactly_astro_image_and_src() -> None:
    assert image_reference("cat one.jpg", FILE) == props_hash(
        {"astro": "image", "src": "cat one.jpg"}, FILE
    )


@pytest.mark.parametrize(
    "text",
    [
        "![A cat](cat.jpg)",
        '![A cat](cat%20one.jpg "Title")',
        "![logo][l]\n\n[l]: /static/logo.png\n",
        "![remote](https://example.com/a.png)",
        "![dot](data:image/png;base64,iVBORw0KGgo=)",
        "![proto](//cdn.example.com/a.png)",
        "text `![code](cat.jpg)` and\n\n    ![block](cat.jpg)\n",
    ],
)
def test_without_records_the_output_is_markdown_its_own(text: str) -> None:
    md = MarkdownIt("commonmark").use(staticimg_images, file=FILE)
    assert md.render(text) == plain(text)
    assert render_markdown(text, FILE) == Markup(plain(text))


def test_a_built_image_renders_through_image(data: Path) -> None:
    reference = image_reference("../img/cat one.jpg", FILE)
    write(data, reference, record_for("../img/cat one.jpg"))
    html = render_markdown('Look: ![A *tabby* cat](../img/cat%20one.jpg "Mog")\n', FILE)
    expected = Image(__image_data=reference, alt="A tabby cat", title="Mog")
    assert html == Markup(f"<p>Look: {expected}</p>\n")
    assert 'src="/_astro/cat.1a2b3c.webp"' in html
    assert 'srcset="/_astro/c-400.webp 400w, /_astro/c-800.webp 800w"' in html
    assert 'loading="lazy"' in html and 'decoding="async"' in html


def test_the_record_is_per_file(data: Path) -> None:
    write(data, image_reference("cat.jpg", FILE), record_for("cat.jpg"))
    assert "/_astro/" in render_markdown("![c](cat.jpg)", FILE)
    assert render_markdown("![c](cat.jpg)", "content/other.md") == Markup(plain("![c](cat.jpg)"))


def test_file_from_env_and_none_at_all(data: Path) -> None:
    write(data, image_reference("cat.jpg", FILE), record_for("cat.jpg"))
    md = MarkdownIt().use(staticimg_images)
    assert md.render("![c](cat.jpg)") == plain("![c](cat.jpg)")  # no file: plain
    assert "/_astro/" in md.render("![c](cat.jpg)", {"staticimg_file": FILE})
    other = MarkdownIt().use(staticimg_images, file="content/other.md")
    assert "/_astro/" in other.render("![c](cat.jpg)", {"staticimg_file": FILE})


def test_an_error_record_renders_the_notice(data: Path) -> None:
    error = {"code": "SI301", "message": 'no image "<cat>.jpg"', "file": FILE, "line": 1}
    write(data, image_reference("<cat>.jpg", FILE), {"error": error})
    text = r"![c](<\<cat\>.jpg>)"
    data_store.configure(development=True)
    html = render_markdown(text, FILE)
    assert 'data-staticimg-error="SI301"' in html and "&lt;cat&gt;" in html
    assert "<cat>" not in html
    data_store.configure(development=False)
    assert render_markdown(text, FILE) == Markup(
        '<p><span data-staticimg-error="" hidden></span></p>\n'
    )


HOSTILE_SRC = 'x.png?a="><svg/onload=alert(3)>'
# The image as Markdown writes it: `\<`, `\>` and `\"` are escapes in a <…> destination
# and a title; raw HTML in the alt text.
HOSTILE = (
    "![\"><script>alert(1)</script> & 'x'](<x.png?a=\"\\>\\<svg/onload=alert(3)\\>> "
    '"t\\" onload=\\"alert(2)")'
)


def test_hostile_alt_title_and_src_are_escaped_without_a_record() -> None:
    html = render_markdown(HOSTILE, FILE)
    assert html == Markup(plain(HOSTILE))
    assert html.count("<img ") == 1
    assert "<script" not in html and "<svg" not in html and ' onload="' not in html
    assert 'src="x.png?a=%22%3E%3Csvg/onload=alert(3)%3E"' in html


def test_hostile_alt_and_title_are_escaped_with_a_record(data: Path) -> None:
    write(data, image_reference(HOSTILE_SRC, FILE), record_for(HOSTILE_SRC))
    html = render_markdown(HOSTILE, FILE)
    assert "/_astro/cat.1a2b3c.webp" in html and html.count("<img ") == 1
    assert "<script" not in html and "<svg" not in html and ' onload="' not in html
    assert 'alt="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;x&#39;"' in html
    assert 'title="t&#34; onload=&#34;alert(2)"' in html


def _eager(state: StateCore) -> None:
    """Another plugin's core rule: sets attributes on every image token."""
    for block in state.tokens:
        for token in block.children or ():
            if token.type == "image":
                token.attrSet("loading", "eager")
                token.attrSet("data-zoom", "1")
                token.attrSet("width", "50")  # a transform prop: fixed by the record


def test_attributes_other_plugins_set_reach_the_img(data: Path) -> None:
    write(data, image_reference("cat.jpg", FILE), record_for("cat.jpg"))
    md = MarkdownIt("commonmark").use(staticimg_images, file=FILE)
    md.core.ruler.push("eager", _eager)
    html = md.render("![c](cat.jpg)")
    assert 'loading="eager"' in html and 'data-zoom="1"' in html
    assert 'width="800"' in html and 'width="50"' not in html


def test_an_earlier_image_rule_still_renders_the_fallback() -> None:
    md = MarkdownIt("commonmark")

    def framed(self: object, tokens: list, idx: int, options: object, env: object) -> str:
        return f"<figure>{tokens[idx].attrGet('src')}</figure>"

    md.add_render_rule("image", framed)
    md.use(staticimg_images, file=FILE)
    assert md.render("![c](cat.jpg)") == "<p><figure>cat.jpg</figure></p>\n"
