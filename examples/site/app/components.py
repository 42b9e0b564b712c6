"""Page components written as plain Python functions returning HTML.

Every StaticImage below is found and evaluated at build time by `staticimg extract`: its
build props are constants (literals, arithmetic, f-strings, names bound once in this file).
"""

from __future__ import annotations

import staticimg as si
from staticimg import StaticImage
from staticimg import StaticImage as Img

IMAGES = "../images"
CARD_WIDTH = 320
CARD = {"width": CARD_WIDTH, "aspect_ratio": 4 / 3, "placeholder": "blurred"}


def hero(title: str) -> str:
    # The hero loads eagerly: it is the page's largest contentful paint.
    image = StaticImage(
        src=f"{IMAGES}/harbour.jpg",
        alt="A harbour at dawn",
        layout="fullWidth",
        placeholder="blurred",
        formats=["auto", "webp", "avif"],
        loading="eager",
    )
    return f"<header>{image}<h1>{title}</h1></header>"


def cards(caption: str) -> str:
    coffee = Img(src=f"{IMAGES}/coffee.jpg", alt=caption, **CARD)
    rocket = Img(src=f"{IMAGES}/rocket.jpg", alt="A rocket on the launch pad", **CARD)
    return f"<section class='cards'>{coffee}{rocket}</section>"


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
        )
    )
