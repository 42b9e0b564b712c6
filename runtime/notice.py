"""What an image that cannot be shown renders as: a build error, missing data, no image.

In development the page shows a visible, escaped warning where the image would be, so the
problem is seen where it is; in production it renders an empty hidden element, so a visitor
never sees internals and the layout does not break. Either way the problem is logged once
per distinct message through the `staticimg` logger.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, Final

from markupsafe import Markup

from staticimg import data_store

__all__ = ["build_error", "describe", "log_once", "missing_data", "problem"]

logger: Final = logging.getLogger("staticimg")

# Inline, so the warning is visible without the head CSS and whatever the site's CSS says.
_VISIBLE_STYLE: Final = (
    "display:block;box-sizing:border-box;max-width:100%;margin:0.5em 0;"
    "padding:0.5em 0.75em;border:2px solid #b00020;border-radius:4px;background:#fff4f4;"
    "color:#5f0010;font:14px/1.4 system-ui,sans-serif;white-space:pre-wrap;text-align:left"
)
_HIDDEN: Final = Markup('<span data-staticimg-error="" hidden></span>')
_LOGGED_LIMIT: Final = 1024
_logged: set[str] = set()


def problem(message: str, *, code: str = "") -> Markup:
    """The element for an image that cannot render, after logging `message`."""
    log_once(f"{code}: {message}" if code and not message.startswith(code) else message)
    if not data_store.is_development():
        return _HIDDEN
    return Markup(
        '<div class="staticimg-error" role="alert" data-staticimg-error="{code}" '
        'style="{style}"><strong>staticimg{label}</strong> {message}</div>'
    ).format(
        code=code,
        style=Markup(_VISIBLE_STYLE),
        label=f" {code}" if code else "",
        message=message,
    )


_CODE: Final = re.compile(r"SI\d{3}")


def build_error(error: Mapping[str, Any] | str) -> Markup:
    """The element for a build diagnostic (`{"error": {...}}` or an injected `__error`)."""
    if isinstance(error, str):
        # An injected `__error` starts with its code: "SI301 app/pages.py:12:5: …".
        code = error.split(" ", 1)[0]
        return problem(error, code=code if _CODE.fullmatch(code) else "")
    code = str(error.get("code") or "")
    return problem(describe(error), code=code)


def describe(error: Mapping[str, Any]) -> str:
    """One diagnostic as text: message, where it is, the hint and where the docs are."""
    text = str(error.get("message") or "the build reported an error for this image")
    file = error.get("file")
    if file:
        where = str(file)
        for key in ("line", "column"):
            if error.get(key) is None:
                break
            where += f":{error[key]}"
        text += f" ({where})"
    for key, label in (("hint", ""), ("docs", "see ")):
        value = error.get(key)
        if value:
            text += f"\n{label}{value}"
    return text


def log_once(message: str) -> None:
    # Once per message: a page that renders the same broken image a thousand times a minute
    # must not flood the log; the first report says everything.
    if message in _logged:
        return
    if len(_logged) >= _LOGGED_LIMIT:
        _logged.clear()
    _logged.add(message)
    logger.warning("%s", message)


def missing_data(src: object, reference: str | None = None) -> Markup:
    """The element for a call that has no image data yet: says which command makes it."""
    message = (
        f'No image data for "{src}": run `staticimg build` (extract, then inject) in the project'
    )
    if reference is not None:
        message += f" (no {reference}.json in {data_store.data_dir()})"
    return problem(message, code="")
