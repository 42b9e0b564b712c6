"""Markdown images through the image pipeline: a markdown-it-py plugin (Astro's markdown
images, reference/astro.md §8.1).

`staticimg build` finds every `![alt](src)` in the project's Markdown files (the scanner in
`staticimg.compiler.scan.markdown` reads them with markdown-it-py, as this plugin does) and
builds each image as Astro's `getImage({src})` would. At render time the plugin's `image`
rule finds that image's record by the same key and renders it with `Image` (webp, `srcset`,
width and height, `loading="lazy"`, `decoding="async"`, the configured layout). An image the
build did not make — a `data:` URI, a remote host outside the allowlist, a `/`-rooted path,
a file rendered without building — stays the plain `<img>` markdown-it would have written,
as Astro leaves it.

    md = MarkdownIt().use(staticimg_images, file="content/post.md")
    html = md.render(text)                      # or pass env={"staticimg_file": ...}
    html = render_markdown(text, "content/post.md")

`file` is the Markdown file's path relative to the project root: relative image paths are
resolved from it, and it is part of each image's key. The Markdown is the project's own
content: raw HTML in it passes through, as in Astro, so do not render visitors' input here.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

from markupsafe import Markup

from staticimg import data_store, notice
from staticimg.astro.types import TRANSFORM_KEYS
from staticimg.hashing import props_hash

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.token import Token
    from markdown_it.utils import OptionsDict

__all__ = [
    "FILE_ENV",
    "decode_uri",
    "image_reference",
    "image_source",
    "render_markdown",
    "staticimg_images",
]

FILE_ENV: Final = "staticimg_file"  # the env key that names the file at render time
_HANDLED: Final = frozenset({"src", "alt", "title"})

_ESCAPE_RUN: Final = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_BAD_ESCAPE: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
# decodeURI leaves escapes of these as they are: they would change what the URI means.
_RESERVED: Final = frozenset(";/?:@&=+$,#")
_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def decode_uri(url: str) -> str:
    """JavaScript's `decodeURI`, which Astro applies to every Markdown image URL: `%XX`
    sequences become the UTF-8 characters they encode, except the reserved ones
    (`;/?:@&=+$,#`). A URL that decodeURI would reject (a stray `%`, bytes that are not
    UTF-8) is returned as it is."""
    if "%" not in url:
        return url
    if _BAD_ESCAPE.search(url):
        return url
    try:
        return _ESCAPE_RUN.sub(_decode_run, url)
    except UnicodeDecodeError:
        return url


def _decode_run(match: re.Match[str]) -> str:
    raw = match.group(0)
    text = bytes.fromhex(raw.replace("%", "")).decode("utf-8")  # strict, like decodeURI
    out: list[str] = []
    position = 0
    for char in text:
        width = 3 * len(char.encode("utf-8"))
        out.append(raw[position : position + width] if char in _RESERVED else char)
        position += width
    return "".join(out)


def image_source(url: str | None) -> str | None:
    """The `src` the build makes an image from, for a Markdown image's URL (as markdown-it
    gives it), or None for one it never builds: empty, a `data:` URI, protocol-relative
    (`//host/x.png`), or a scheme other than http(s). Relative, `/`-rooted and http(s)
    sources are kept; the build decides what it can make of them."""
    if not url:
        return None
    src = decode_uri(url)
    if src.startswith("//"):
        return None
    scheme = _SCHEME.match(src)
    if scheme is not None and scheme.group(0).lower() not in ("http:", "https:"):
        return None  # data:, mailto:, C:… — Astro collects only allowed http(s) remotes
    return src


def image_reference(src: str, file: str) -> str:
    """The key of a Markdown image's record: the props hash of exactly
    `{"astro": "image", "src": src}` for the Markdown file (the build uses the same)."""
    return props_hash({"astro": "image", "src": src}, file)


def staticimg_images(md: MarkdownIt, *, file: str | None = None) -> None:
    """markdown-it-py plugin: render images through the records `staticimg build` made.

    `file` names the Markdown file (project-relative); `env["staticimg_file"]` given to
    `render` takes its place for one render. Without either, images render plainly.
    """
    previous = cast("RendererHTML", md.renderer).rules.get("image")

    def render_image(
        self: RendererHTML,
        tokens: Sequence[Token],
        idx: int,
        options: OptionsDict,
        env: Any,
    ) -> str:
        token = tokens[idx]
        source = env.get(FILE_ENV, file) if isinstance(env, Mapping) else file
        html = _built_image(self, token, options, env, source)
        if html is not None:
            return str(html)
        if previous is not None:
            return str(previous(tokens, idx, options, env))
        return str(self.image(tokens, idx, options, env))

    md.add_render_rule("image", render_image)


def _built_image(
    renderer: RendererHTML, token: Token, options: OptionsDict, env: Any, file: object
) -> Markup | None:
    if not isinstance(file, str) or not file:
        return None
    src = image_source(_text_attribute(token, "src"))
    if src is None:
        return None
    reference = image_reference(src, file)
    record = data_store.load(reference)
    if record is None:
        return None  # not built: a remote host not allowed, a /-rooted path, no build yet
    if "error" in record:
        return notice.build_error(record["error"])
    from staticimg.astro.components import Image  # lazily: only once a record is there

    props: dict[str, Any] = {"alt": renderer.renderInlineAsText(token.children, options, env)}
    title = _text_attribute(token, "title")
    if title:
        props["title"] = title
    # Attributes other plugins set (loading, class, …) reach the <img>, as in Astro; the
    # build's props are fixed by the record, so transform keys are not passed.
    for key, value in (token.attrs or {}).items():
        if key not in _HANDLED and key not in TRANSFORM_KEYS and value is not None:
            props[key.replace("-", "_")] = value
    return Image(__image_data=reference, **props)


def _text_attribute(token: Token, name: str) -> str | None:
    value = token.attrGet(name)
    return None if value is None else str(value)


_renderer: MarkdownIt | None = None
_renderer_lock = threading.Lock()


def render_markdown(text: str, file: str) -> Markup:
    """CommonMark `text` as HTML, with its images rendered from the build's records.

    `file` is the Markdown file's path relative to the project root."""
    global _renderer
    md = _renderer
    if md is None:
        from markdown_it import MarkdownIt

        with _renderer_lock:
            md = _renderer
            if md is None:
                md = _renderer = MarkdownIt("commonmark").use(staticimg_images)
    return Markup(md.render(text, {FILE_ENV: file}))
