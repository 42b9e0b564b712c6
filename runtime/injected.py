"""The props `staticimg inject` adds to a call: `__image_data` (a reference to the call's
record) and `__error` (why the build could not make it). Every component pops them the same
way before it looks at the rest.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["pop_injected"]

_IMAGE_DATA: Final = ("__image_data", "__imageData")
_ERROR: Final = "__error"


def pop_injected(props: dict[str, Any]) -> tuple[Any, Any]:
    """Remove the injected props from `props`: (image data, error), each None if absent."""
    image_data: Any = None
    error: Any = None
    for key in [key for key in props if key[:1] == "_"]:
        kind = _kind(key)
        if kind == "image":
            image_data = props.pop(key)
        elif kind == "error":
            error = props.pop(key)
    return image_data, error


def _kind(key: str) -> str | None:
    """Whether `key` is one of the props `inject` adds: "image", "error", or None.

    `_<Class>__image_data` and `_<Class>__error` count too: the private-name form Python
    gives `__image_data` when it is mangled inside `class <Class>:`. CPython (3.11 to 3.13)
    mangles names and attributes there, not the keyword of a call, so an injected call in a
    class body normally arrives unmangled; accepting both costs nothing and keeps working
    if the keyword is ever spelled through a mangled name. No other prop starts with `_`.
    """
    if key in _IMAGE_DATA:
        return "image"
    if key == _ERROR:
        return "error"
    if key.startswith("__"):
        return None
    for name in _IMAGE_DATA:
        if key.endswith(name) and len(key) > len(name) + 1:
            return "image"
    if key.endswith(_ERROR) and len(key) > len(_ERROR) + 1:
        return "error"
    return None
