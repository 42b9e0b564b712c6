"""Render time of one image: `GatsbyImage` / `StaticImage` → HTML, in microseconds.

Four cases, each a typical call:

* `gatsby_image_dict`: GatsbyImage with an image-data dict: constrained 480 px, blurred
  placeholder, JPEG + WebP at 4 widths (the budget: ≤ 20 µs);
* `static_image_reference`: StaticImage with the `__image_data` reference `inject` writes,
  the record read from a data folder (the first render reads it; the timing is warm);
* `fixed_dominant_color`: GatsbyImage, fixed 80×80, dominant-colour placeholder, eager;
* `full_width_art_directed`: GatsbyImage of `with_art_direction(...)`: fullWidth, AVIF +
  WebP + JPEG, one extra media query with its own placeholder.

Each is timed with `timeit` (best of several repeats, so a busy neighbour on a shared
machine inflates nothing) and written to bench/results/render_speed.json.

    python bench/render_speed.py [--number N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

import staticimg
from staticimg import GatsbyImage, StaticImage, with_art_direction
from staticimg.data_store import reset

RESULTS = Path(__file__).resolve().parent / "results" / "render_speed.json"
REFERENCE = "0bf5625cd2e20e75e4e1"
# A real 20 px blurred JPEG placeholder is about 800 bytes of base64.
PLACEHOLDER = "data:image/jpeg;base64," + "/9j/4AAQSkZJRgABAQAAAQABAAD" * 30


def srcset(stem: str, widths: list[int], ext: str) -> str:
    return ",\n".join(f"/_img/{stem}-{w}w-0123456789ab.{ext} {w}w" for w in widths)


def constrained() -> dict[str, Any]:
    widths = [120, 240, 480, 960]
    sizes = "(min-width: 480px) 480px, 100vw"
    return {
        "layout": "constrained",
        "width": 480,
        "height": 360,
        "backgroundColor": "#283858",
        "images": {
            "fallback": {
                "src": "/_img/hero-480w-0123456789ab.jpg",
                "srcSet": srcset("hero", widths, "jpg"),
                "sizes": sizes,
            },
            "sources": [
                {"srcSet": srcset("hero", widths, "webp"), "type": "image/webp", "sizes": sizes}
            ],
        },
        "placeholder": {"fallback": PLACEHOLDER},
    }


def fixed() -> dict[str, Any]:
    return {
        "layout": "fixed",
        "width": 80,
        "height": 80,
        "backgroundColor": "#080808",
        "images": {
            "fallback": {
                "src": "/_img/avatar-80w-0123456789ab.jpg",
                "srcSet": srcset("avatar", [80, 160], "jpg"),
                "sizes": "80px",
            },
            "sources": [
                {
                    "srcSet": srcset("avatar", [80, 160], "webp"),
                    "type": "image/webp",
                    "sizes": "80px",
                }
            ],
        },
    }


def full_width(stem: str, ratio: float) -> dict[str, Any]:
    widths = [750, 1080, 1366, 1920]
    return {
        "layout": "fullWidth",
        "width": 1,
        "height": 1 / ratio,
        "backgroundColor": "#181808",
        "images": {
            "fallback": {
                "src": f"/_img/{stem}-1920w-0123456789ab.jpg",
                "srcSet": srcset(stem, widths, "jpg"),
                "sizes": "100vw",
            },
            "sources": [
                {"srcSet": srcset(stem, widths, "avif"), "type": "image/avif", "sizes": "100vw"},
                {"srcSet": srcset(stem, widths, "webp"), "type": "image/webp", "sizes": "100vw"},
            ],
        },
        "placeholder": {"fallback": PLACEHOLDER},
    }


def cases(data_dir: Path) -> dict[str, Callable[[], object]]:
    (data_dir / f"{REFERENCE}.json").write_bytes(orjson.dumps(constrained()))
    staticimg.configure(data_dir=data_dir, development=False)
    image = constrained()
    small = fixed()
    art = with_art_direction(
        full_width("harbour", 16 / 9),
        [{"media": "(max-width: 600px)", "image": full_width("harbour-portrait", 3 / 4)}],
    )
    # `inject` writes the reference as `__image_data`; a ** spread is how Python passes a
    # keyword that would otherwise be name-mangled in a class body.
    injected = {"__image_data": REFERENCE}
    return {
        "gatsby_image_dict": lambda: GatsbyImage(image, "A harbour at dawn"),
        "static_image_reference": lambda: StaticImage(
            src="../images/hero.jpg",
            alt="A harbour at dawn",
            width=480,
            placeholder="blurred",
            formats=["auto", "webp"],
            **injected,
        ),
        "fixed_dominant_color": lambda: GatsbyImage(small, "", loading="eager"),
        "full_width_art_directed": lambda: GatsbyImage(art, "A harbour at dawn"),
    }


def measure(function: Callable[[], object], number: int, repeat: int) -> float:
    function()  # warm: the first call reads the record and fills the caches
    best = min(timeit.repeat(function, number=number, repeat=repeat))
    return best / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=20_000, help="calls per repeat")
    parser.add_argument("--repeat", type=int, default=7, help="repeats (the best counts)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        timings = {
            name: round(measure(function, args.number, args.repeat), 2)
            for name, function in cases(Path(folder)).items()
        }
        reset()
    for name, micros in timings.items():
        print(f"{name:26} {micros:7.2f} µs per render")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "number": args.number,
        "repeat": args.repeat,
        "microseconds_per_render": timings,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
