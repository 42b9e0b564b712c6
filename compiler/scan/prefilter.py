"""Which Python files are worth parsing, decided on raw bytes (no parser imported)."""

from __future__ import annotations

DEFAULT_CALLEES = frozenset(
    {
        "staticimg.StaticImage",
        "staticimg.astro.Image",
        "staticimg.astro.Picture",
        "staticimg.astro.get_image",
        "staticimg.astro.Svg",
    }
)


def might_contain_calls(data: bytes, callees: frozenset[str] = DEFAULT_CALLEES) -> bool:
    """Cheap pre-filter on raw bytes: a file that never names a callee and its package cannot
    contain a call to it, so it is not parsed at all."""
    for qualified in callees:
        package, _, name = qualified.rpartition(".")
        if name.encode() in data and package.split(".")[0].encode() in data:
            return True
    return False
