"""The Python-component page: plain functions that return HTML, no framework.

`layout()` is this site's page shell (the Jinja pages extend templates/base.html, which is
the same shell); `gallery()` assembles the components into a page.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from app import components
from staticimg import staticimg_head
from staticimg.astro.markdown import render_markdown

NAV = (("index.html", "Journal"), ("gallery.html", "Gallery"), ("notes.html", "Notes"))
CONTENT = Path(__file__).resolve().parents[1] / "content"
CURRENT = ' aria-current="page"'


def layout(title: str, current: str, body: str) -> str:
    nav = "".join(
        f"<a href='{href}'{CURRENT if href == current else ''}>{label}</a>" for href, label in NAV
    )
    return (
        "<!doctype html>\n"
        "<html lang='en'>\n<head>\n"
        "<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{escape(title)}</title>\n"
        "<link rel='stylesheet' href='site.css'>\n"
        f"{staticimg_head()}\n"
        "</head>\n<body>\n"
        f"<nav>{nav}</nav>\n{body}\n"
        "</body>\n</html>\n"
    )


def gallery() -> str:
    body = "".join(
        [
            components.hero("Gallery"),
            "<main>",
            "<div class='prose'><p>This page is built from Python functions that return "
            "HTML. Every image is made at build time; the page only prints it.</p></div>",
            components.byline("Ada Lindqvist"),
            "<div class='prose'><h2>The meadow, wide and narrow</h2></div>",
            components.banner(),
            "<div class='prose'><h2>Prints</h2></div>",
            components.cards("Morning coffee on the quay"),
            components.deep_field(),
            components.rocket_card(),
            "</main>",
        ]
    )
    return layout("Gallery · staticimg example", "gallery.html", body)


def notes() -> str:
    """A Markdown page: its images were found and built by `staticimg build`, and the
    markdown-it plugin renders each one from its image data (by the file's project-relative
    path and the image's src: no codemod touches Markdown)."""
    html = render_markdown((CONTENT / "notes.md").read_text(encoding="utf-8"), "content/notes.md")
    return layout("Field notes", "notes.html", f"<main><div class='prose'>{html}</div></main>")
