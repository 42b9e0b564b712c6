"""The image-data store: one JSON per call, the placeholder cache, and what a build references.

Layout of the cache folder (`.staticimg/` by default):

    data/<props hash>.json          the call's image data (IGatsbyImageData shape) or an error
    placeholders/<key>.json         dominant colour, BlurHash and blurred data URI, by content
    manifest.json                   the outputs and data files the last build referenced

Every file is written atomically and only when its bytes change, so a warm build touches
nothing and a reader never sees half a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from staticimg.compiler.atomic import write_bytes, write_if_changed
from staticimg.compiler.config import Config
from staticimg.compiler.diagnostics import Diagnostic
from staticimg.compiler.images.encode import MIME_TYPES
from staticimg.compiler.images.recipe import FormatSet, Recipe
from staticimg.image_data import build_image_data

DATA = "data"
PLACEHOLDERS = "placeholders"
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


def data_file(config: Config, props_hash: str) -> Path:
    return config.cache_path / DATA / f"{props_hash}.json"


def image_data(recipe: Recipe, placeholder: Mapping[str, Any], url_prefix: str) -> dict[str, Any]:
    """The call's image data: Gatsby's IGatsbyImageData, plus `blurHash`."""
    prefix = url_prefix.rstrip("/")

    def candidates(format_set: FormatSet) -> list[tuple[str, int]]:
        return [(f"{prefix}/{o.name}", o.width) for o in format_set.outputs]

    background = recipe.request.background_color or placeholder.get("backgroundColor")
    return build_image_data(
        layout=recipe.layout,
        sizes=recipe.sizes,
        fallback=(recipe.fallback.format, candidates(recipe.fallback)) if recipe.fallback else None,
        sources=[(MIME_TYPES[fs.format], candidates(fs)) for fs in recipe.sources],
        sizes_attribute=recipe.request.sizes,
        background_color=background,
        placeholder_url=placeholder.get("fallback"),
        blur_hash=placeholder.get("blurHash"),
    )


def error_data(diagnostic: Diagnostic) -> dict[str, Any]:
    """The record of a call whose image failed: inject and the runtime surface it."""
    return {"error": diagnostic.to_json()}


def write_data(config: Config, props_hash: str, record: Mapping[str, Any]) -> bool:
    return write_if_changed(data_file(config, props_hash), orjson.dumps(record))


# What a cached placeholder holds: always a colour and a BlurHash, a data URI for some kinds.
_PLACEHOLDER_KEYS = frozenset({"backgroundColor", "blurHash", "fallback"})
_PLACEHOLDER_REQUIRED = frozenset({"backgroundColor", "blurHash"})


def read_placeholder(config: Config, key: str) -> dict[str, Any] | None:
    """The cached placeholder values, or None when missing, or damaged by something other
    than us (then they are computed again)."""
    try:
        value = orjson.loads((config.cache_path / PLACEHOLDERS / f"{key}.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not (
        isinstance(value, dict)
        and _PLACEHOLDER_REQUIRED <= value.keys() <= _PLACEHOLDER_KEYS
        and all(isinstance(item, str) for item in value.values())
    ):
        return None
    return value


def write_placeholder(config: Config, key: str, value: Mapping[str, Any]) -> None:
    write_bytes(config.cache_path / PLACEHOLDERS / f"{key}.json", orjson.dumps(value))


def write_manifest(config: Config, outputs: Iterable[str], data: Iterable[str]) -> None:
    manifest = {
        "version": MANIFEST_VERSION,
        "output_dir": config.output_dir,
        "url_prefix": config.url_prefix,
        "outputs": sorted(set(outputs)),
        "data": sorted(set(data)),
    }
    write_if_changed(config.cache_path / MANIFEST, orjson.dumps(manifest))
