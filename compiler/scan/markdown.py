"""Find the images in Markdown files: `![alt](src "title")` and `![alt][ref]`.

markdown-it-py reads the file exactly as the runtime plugin (`staticimg.astro.markdown`)
will render it, so an image is found here if and only if it is rendered there: images in
code spans and code blocks are not images, reference-style images are resolved through
their definitions, and both sides derive `src` the same way (`image_source`). Each image
becomes one `Markdown` call with the keyword arguments `src`, `alt` and, if there is one,
`title`; the planner turns it into Astro's `getImage({src})`.

markdown-it only records the lines of each block, so positions are worked out from those:
the line by counting the line breaks before the image in its paragraph, the column by
finding its `![` on that line. Both are exact for everything but a code span or link
destination that itself spans lines earlier in the same paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Final, cast

from staticimg.astro.markdown import image_source
from staticimg.compiler.diagnostics import Span
from staticimg.compiler.scan.calls import Arg, ArgKind, FileScan, FoundCall

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.token import Token

__all__ = ["CALLEE", "scan_markdown"]

CALLEE: Final = "Markdown"
# What markdown-it does to the text first (its `normalize` rule): one line per `\n`.
_NEWLINES: Final = re.compile(r"\r\n?")
_CODE_SPAN: Final = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")

_parser: MarkdownIt | None = None


def _markdown() -> MarkdownIt:
    global _parser
    if _parser is None:
        from markdown_it import MarkdownIt

        _parser = MarkdownIt("commonmark")
    return _parser


def scan_markdown(text: str, file: str) -> FileScan:
    """One `Markdown` call per image the build may make, in document order.

    `file` is the project-relative POSIX path. Images with a `data:` URI, a
    protocol-relative URL or a scheme other than http(s) are left out (they render as
    they are written); `/`-rooted, relative and http(s) sources are reported.
    """
    md = _markdown()
    renderer = cast("RendererHTML", md.renderer)  # the default renderer: alt as plain text
    text = _NEWLINES.sub("\n", text)
    lines = text.split("\n")
    starts = [0]
    for source_line in lines[:-1]:
        starts.append(starts[-1] + len(source_line) + 1)
    calls: list[FoundCall] = []
    for block in md.parse(text):
        if block.type != "inline" or not block.children or block.map is None:
            continue
        first, last = block.map
        limit = starts[last] if last < len(starts) else len(text)
        for image, line, ordinal in _images(block.children, first):
            raw = image.attrGet("src")
            src = image_source(None if raw is None else str(raw))
            if src is None:
                continue
            span, name_span, src_span = _locate(text, lines, starts, line, ordinal, limit)
            alt = renderer.renderInlineAsText(image.children, md.options, {})
            values: list[tuple[str, str, Span]] = [("src", src, src_span), ("alt", alt, span)]
            title = image.attrGet("title")
            if title:
                values.append(("title", str(title), span))
            args = tuple(
                Arg(ArgKind.KEYWORD, name, -1, value_span, value)
                for name, value, value_span in values
            )
            calls.append(FoundCall(file, CALLEE, span, name_span, args))
    return FileScan(file, tuple(calls))


def _images(children: Sequence[Token], first_line: int) -> Iterator[tuple[Token, int, int]]:
    """Each image of an inline block with its 0-based line and how many `![` come before
    it on that line (earlier images, and text that only looked like one)."""
    line = first_line
    seen_on_line = 0
    for token in children:
        if token.type == "image":
            yield token, line, seen_on_line
            seen_on_line += 1
            breaks = token.content.count("\n")  # the label's own line breaks
        elif token.type in ("softbreak", "hardbreak"):
            breaks = 1
        elif token.type in ("text", "html_inline"):
            seen_on_line += token.content.count("![")
            breaks = token.content.count("\n")
        else:
            breaks = 0
        if breaks:
            line += breaks
            seen_on_line = 0


def _locate(
    text: str, lines: list[str], starts: list[int], line: int, ordinal: int, limit: int
) -> tuple[Span, Span, Span]:
    """(the whole image, its `![`, its destination) for the `ordinal`-th `![` on `line`."""
    source = lines[line] if line < len(lines) else ""
    # Code spans and `\![` on the line are not images: blank them out before counting.
    masked = _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), source).replace("\\![", "   ")
    column = -1
    for _ in range(ordinal + 1):
        column = masked.find("![", column + 1)
        if column < 0:
            break
    if column < 0:
        column = max(masked.find("!["), 0)
    offset = starts[line] + column if line < len(starts) else len(text)
    end, destination = _image_end(text, offset, max(limit, offset))
    span = _span(starts, offset, end)
    name_span = _span(starts, offset, min(offset + 2, end))
    src_span = _span(starts, *destination) if destination else span
    return span, name_span, src_span


def _image_end(text: str, start: int, limit: int) -> tuple[int, tuple[int, int] | None]:
    """Where the image that starts at `start` ends, and the destination of an inline one."""
    position = _closing(text, start + 2, limit, "[", "]")
    if position >= limit or text[position] not in "([":
        return position, None
    if text[position] == "[":  # ![alt][ref] or ![alt][]
        return _closing(text, position + 1, limit, "[", "]"), None
    position += 1
    while position < limit and text[position] in " \t\n":
        position += 1
    begin = position
    if position < limit and text[position] == "<":
        position = _closing(text, position + 1, limit, "<", ">")
        destination = (begin + 1, position - 1)
    else:
        depth = 0
        while position < limit and not text[position].isspace():
            char = text[position]
            if char == "\\":
                position += 1
            elif char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:
                    break
                depth -= 1
            position += 1
        destination = (begin, position)
    quote: str | None = None
    while position < limit:
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "\"'(":
            quote = ")" if char == "(" else char
        elif char == ")":
            return position + 1, destination
        position += 1
    return limit, destination


def _closing(text: str, position: int, limit: int, opening: str, closing: str) -> int:
    """One past the `closing` that balances an already open `opening`."""
    depth = 1
    while position < limit:
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == opening and opening != closing:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return position + 1
        position += 1
    return limit


def _span(starts: list[int], begin: int, end: int) -> Span:
    line, column = _position(starts, begin)
    end_line, end_column = _position(starts, max(end, begin + 1))
    return Span(line, column, end_line, end_column)


def _position(starts: list[int], offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    low, high = 0, len(starts) - 1
    while low < high:  # the last line that starts at or before offset
        middle = (low + high + 1) // 2
        if starts[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low + 1, offset - starts[low] + 1
