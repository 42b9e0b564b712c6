"""Jinja integration: `install(env)` or the `StaticImageExtension`.

Both register the same globals, so a template can write `{{ staticimg_head() }}` once in
`<head>` and `{{ StaticImage(src="hero.jpg", alt="…") }}` anywhere. The functions return
`Markup`, so autoescaping inserts their HTML as it is, and the values they put in it are
escaped once, by staticimg.

This is the one runtime module that imports Jinja; `import staticimg` never loads it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib.resources.abc import Traversable
from typing import Any, Final

from jinja2 import Environment
from jinja2.ext import Extension

from staticimg import data_store
from staticimg.gatsby_image import GatsbyImage
from staticimg.head import staticimg_head
from staticimg.hooks import get_image, get_src, get_src_set, with_art_direction
from staticimg.image_data import get_image_data, get_low_resolution_image_url
from staticimg.static_image import StaticImage

__all__ = ["GLOBALS", "StaticImageExtension", "install"]


def _astro(name: str) -> Callable[..., Any]:
    """An Astro-API global, imported when a template first calls it (a Gatsby-only site
    never loads `staticimg.astro`)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        import staticimg.astro

        return getattr(staticimg.astro, name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


GLOBALS: Final[dict[str, Callable[..., Any]]] = {
    "StaticImage": StaticImage,
    "GatsbyImage": GatsbyImage,
    "staticimg_head": staticimg_head,
    "get_image": get_image,
    "get_src": get_src,
    "get_src_set": get_src_set,
    "with_art_direction": with_art_direction,
    "get_image_data": get_image_data,
    "get_low_resolution_image_url": get_low_resolution_image_url,
    # Astro's image API. `get_image` in templates stays Gatsby's helper (already shipped);
    # Astro's is `astro_get_image`.
    "Image": _astro("Image"),
    "Picture": _astro("Picture"),
    "Svg": _astro("Svg"),
    "astro_get_image": _astro("get_image"),
}


def install(
    env: Environment,
    *,
    data_dir: str | os.PathLike[str] | Traversable | None = None,
    development: bool | None = None,
) -> Environment:
    """Register staticimg's globals on `env` (and `configure` the data store if asked).

    Returns `env`, so `env = install(Environment(...))` reads naturally.
    """
    if data_dir is not None or development is not None:
        data_store.configure(data_dir=data_dir, development=development)
    env.globals.update(GLOBALS)
    return env


class StaticImageExtension(Extension):
    """`Environment(extensions=["staticimg.jinja.StaticImageExtension"])`: the same globals
    as `install`, for frameworks that configure Jinja through a list of extensions."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        install(environment)
