"""Page components written as plain Python functions returning HTML.

Every StaticImage below is found and evaluated at build time by `staticimg extract`: its
build props are constants (literals, arithmetic, f-strings, names bound once in this file).
`staticimg inject` then adds `__image_data="<hash>"` to each call (or `__error="…"` when the
image could not be made), which is how the call finds its image data when the page renders.

A StaticImage renders as an object with `__html__` (so Jinja and markupsafe use it as is)
whose `str()` is the HTML, so an f-string is all a component needs.

Every call is written over several lines with a trailing comma: `inject` then adds its
argument on a line of its own, and the file stays formatted (ruff) after a build.
"""

from __future__ import annotations

from html import escape

import staticimg as si
from staticimg import GatsbyImage, StaticImage, get_image, with_art_direction
from staticimg import StaticImage as Img
from staticimg.astro import Image

IMAGES = "../images"
CARD_WIDTH = 320
CARD = {"width": CARD_WIDTH, "aspect_ratio": 4 / 3, "placeholder": "blurred"}


def hero(title: str) -> str:
    # The hero is the page's largest contentful paint: eager (fetched at once, with
    # fetchpriority="high") and without the fade, because Chromium does not count an image
    # that appears at opacity 0 and fades in as a contentful paint at all.
    image = StaticImage(
        src=f"{IMAGES}/harbour.jpg",
        alt="A dandelion clock lit by the low evening sun",
        layout="fullWidth",
        placeholder="blurred",
        formats=["auto", "webp", "avif"],
        loading="eager",
        fade=False,
        __image_data="a34d3c11dbc26ba05e52",
    )
    return f"<header>{image}<div class='prose'><h1>{escape(title)}</h1></div></header>"


def cards(caption: str) -> str:
    coffee = Img(
        src=f"{IMAGES}/coffee.jpg",
        alt=caption,
        **CARD,
        __image_data="f49c024843eaafa6de92",
    )
    rocket = Img(
        src=f"{IMAGES}/rocket.jpg",
        alt="A rocket on the launch pad",
        **CARD,
        __image_data="27d8af4e3f3bbeb4ceb2",
    )
    return (
        "<section class='cards'>"
        f"<figure>{coffee}<figcaption>{escape(caption)}</figcaption></figure>"
        f"<figure>{rocket}<figcaption>Launch day</figcaption></figure>"
        "</section>"
    )


def avatar() -> str:
    size = CARD_WIDTH // 4
    return str(
        si.StaticImage(
            "../images/astronaut.jpg",
            "",  # decorative: empty alt is allowed
            layout="FIXED",
            width=size,
            height=size,
            placeholder="DOMINANT_COLOR",
            transformOptions={"cropFocus": "attention", "grayscale": True},
            __image_data="3df1b4c975e81d0a96aa",
        )
    )


def byline(author: str) -> str:
    return f"<div class='byline'>{avatar()}<span>Photographs by {escape(author)}</span></div>"


def banner() -> str:
    """Art direction: a 3:1 panorama, and a square crop of the same photo on small screens.

    Both crops are made at build time by their own StaticImage; `get_image` takes each
    one's image data, `with_art_direction` puts the square one behind a media query, and
    GatsbyImage renders the result. The page's CSS sizes the box for each query (`.banner`).
    """
    wide = StaticImage(
        src=f"{IMAGES}/harbour.jpg",
        alt="Dandelions gone to seed in a meadow at sunset",
        layout="fullWidth",
        aspect_ratio=3,
        placeholder="dominantColor",
        __image_data="c16437178f6f5b32ddce",
    )
    square = StaticImage(
        src=f"{IMAGES}/harbour.jpg",
        alt="Dandelions gone to seed in a meadow at sunset",
        layout="fullWidth",
        aspect_ratio=1,
        breakpoints=[480, 750, 1080],
        placeholder="dominantColor",
        transform_options={"crop_focus": "entropy"},
        __image_data="96cbbc2bb534df837e3d",
    )
    art_directed = with_art_direction(
        get_image(wide), [{"media": "(max-width: 600px)", "image": get_image(square)}]
    )
    image = GatsbyImage(
        image=art_directed, alt="Dandelions gone to seed in a meadow at sunset", class_name="banner"
    )
    return f"<figure>{image}<figcaption>Resize the window: the crop changes.</figcaption></figure>"


def deep_field() -> str:
    # No placeholder at all: the wrapper keeps the space, and nothing is drawn until the
    # image arrives.
    image = StaticImage(
        src="/deep-field.jpg",  # `/`-rooted: relative to static_root ("images")
        alt="Thousands of galaxies in one small patch of sky",
        width=400,
        aspect_ratio=1,
        placeholder="none",
        formats=["auto", "avif"],
        __image_data="3f6b94c2b3b1ce865bfc",
    )
    return f"<figure>{image}<figcaption>The Hubble deep field, square crop</figcaption></figure>"


def rocket_card() -> str:
    """Astro's `Image`: a fixed layout makes a 1x and a 2x file; `priority` is a rendering
    prop (loading, decoding, fetchpriority), so it could change per page."""
    image = Image(
        src=f"{IMAGES}/rocket.jpg",
        alt="A rocket on the launch pad",
        width=CARD_WIDTH // 2,
        layout="fixed",
        class_="rocket",
        __image_data="463a2d9614e01a749fe3",
    )
    return f"<figure>{image}<figcaption>An Astro-style Image, fixed layout</figcaption></figure>"
