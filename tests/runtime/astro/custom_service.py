"""Image services for `load_service` tests, loaded by import path."""

from __future__ import annotations

from typing import Any

from staticimg.astro.service import BaseService
from staticimg.astro.types import ImageSettings, Options

created = 0


class ThumborLike(BaseService):
    """A complete external service (a subclass of BaseService)."""

    properties_to_hash = ("src", "width")

    def __init__(self) -> None:
        global created
        created += 1

    def get_url(self, options: Options, config: ImageSettings) -> str:
        prefix = config.service_config.get("prefix", "https://thumbor.example")
        src = getattr(options["src"], "src", options["src"])
        return f"{prefix}/{options.get('width')}x{options.get('height')}/{src}"


class OnlyGetURL:
    """Only the required hook: Astro's defaults fill in the rest."""

    def get_url(self, options: Options, config: ImageSettings) -> str:
        return f"https://only.example/{options['src']}?w={options.get('width')}"


only_get_url = OnlyGetURL()
no_hooks: Any = object()


class Broken:
    def __init__(self) -> None:
        raise RuntimeError("needs a key")
