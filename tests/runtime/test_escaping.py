"""Every value is escaped, and srcset URLs never carry raw whitespace or commas.

Hostile values go in through every prop and every string of the image data; an HTML parser
then reads the output back: the element structure must be exactly ours, and each hostile
value must come back as text inside its attribute.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from markupsafe import Markup

from staticimg import GatsbyImage
from staticimg.html import srcset

EVIL = "\"><script>alert(1)</script><x y='"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser


def hostile_data() -> dict[str, Any]:
    return {
        "layout": "constrained",
        "width": 400,
        "height": 300,
        "backgroundColor": f"red{EVIL}",
        "images": {
            "fallback": {
                "src": f"/a.jpg{EVIL}",
                "srcSet": f"/a b,c.jpg{EVIL} 100w,\n/d.jpg 200w",
                "sizes": f"100vw{EVIL}",
            },
            "sources": [
                {"srcSet": "/e.webp 100w", "type": f"image/webp{EVIL}", "media": f"(x){EVIL}"}
            ],
        },
        "placeholder": {
            "fallback": f"data:image/jpeg;base64,AAAA{EVIL}",
            "sources": [{"media": f"(y){EVIL}", "srcSet": "data:image/jpeg;base64,BBBB"}],
        },
    }


def test_hostile_props_and_data_stay_inside_their_attributes() -> None:
    html = str(
        GatsbyImage(
            hostile_data(),
            EVIL,
            class_name=EVIL,
            style=EVIL,
            img_class_name=EVIL,
            img_style={"filter": EVIL},
            object_fit=EVIL,
            data_note=EVIL,
            title=Markup(f"safe &amp; {EVIL}"),
        )
    )
    parsed = parse(html)
    assert [tag for tag, _ in parsed.tags] == [
        "div",  # wrapper
        "div",  # sizer
        "img",
        "picture",  # art-directed placeholder
        "source",
        "img",
        "picture",
        "source",
        "img",  # main
    ]
    assert "".join(parsed.text) == ""
    wrapper = parsed.tags[0][1]
    assert wrapper["class"] == f"gatsby-image-wrapper gatsby-image-wrapper-constrained {EVIL}"
    assert wrapper["style"] == EVIL.strip().rstrip(";")
    main = parsed.tags[-1][1]
    assert main["alt"] == EVIL
    assert main["class"] == EVIL
    assert main["data-note"] == EVIL
    assert main["title"] == f"safe & {EVIL}"  # Markup keeps its entities, quotes are escaped
    assert main["src"] == f"/a.jpg{EVIL}"
    assert main["sizes"] == f"100vw{EVIL}"
    assert parsed.tags[7][1]["type"] == f"image/webp{EVIL}"
    assert parsed.tags[7][1]["media"] == f"(x){EVIL}"
    assert parsed.tags[4][1]["media"] == f"(y){EVIL}"
    assert parsed.tags[5][1]["src"] == f"data:image/jpeg;base64,AAAA{EVIL}"


def test_srcset_urls_are_percent_encoded() -> None:
    html = str(GatsbyImage(hostile_data(), "Alt"))
    main = parse(html).tags[-1][1]
    value = main["srcset"]
    assert value is not None
    candidates = value.split(",")
    assert len(candidates) == 2  # the only commas left separate candidates
    url, descriptor = candidates[0].split(" ")  # the only space left starts the descriptor
    assert descriptor == "100w"
    assert url.startswith("/a%20b%2Cc.jpg")
    assert candidates[1] == "/d.jpg 200w"


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("/a.jpg 1w,\n/b.jpg 2w", "/a.jpg 1w,/b.jpg 2w"),
        ("/a.jpg 1w, /b.jpg 2w", "/a.jpg 1w,/b.jpg 2w"),
        ("/a.jpg 1w,/b.jpg 2w", "/a.jpg 1w,/b.jpg 2w"),
        ("my photo.jpg 120w", "my%20photo.jpg 120w"),
        ("/a,b.jpg 1w,\n/c d.jpg 2w", "/a%2Cb.jpg 1w,/c%20d.jpg 2w"),
        ("/tab\there.jpg 1w,\n/x.jpg 2w", "/tab%09here.jpg 1w,/x.jpg 2w"),
        ("data:image/jpeg;base64,AA,BB", "data:image/jpeg;base64,AA%2CBB"),
        ("/a.jpg", "/a.jpg"),
        ("/a.jpg 1.5x,\n/b.jpg 2x", "/a.jpg 1.5x,/b.jpg 2x"),
    ],
)
def test_srcset_forms(given: str, written: str) -> None:
    assert srcset(given) == written


def test_no_newlines_anywhere() -> None:
    assert "\n" not in str(GatsbyImage(hostile_data(), "Alt"))
