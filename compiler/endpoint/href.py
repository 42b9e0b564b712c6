"""What an `/_image?href=…` names: a remote URL, a `data:` URI or a file under the static root.

Classification follows Astro's `isRemotePath` (reference: astro.md §5.4), which was hardened
after CVE-2025-58179 (an allowlist bypass through backslashes): the href is URL-decoded up to
10 times, and anything that some URL parser could read as another host (`//host`, `\\host`,
`/\\host`, a scheme, credentials) counts as remote, so the allowlist decides.

A local href must then be a plain `/`-rooted path that stays inside the static root once
resolved with symlinks followed. Anything that looks like traversal at any decoding depth
(`..` or `.` segments and their Windows spellings such as `....`, backslashes, NUL and other
control characters, drive letters, invalid UTF-8 such as the overlong `%c0%af`) is refused
outright rather than normalised: a normaliser that disagrees with the file system is how
traversal bugs start.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final, Literal
from urllib.parse import unquote

__all__ = [
    "MAX_DECODINGS",
    "Forbidden",
    "decodings",
    "href_kind",
    "is_dot_segment",
    "local_file",
]

MAX_DECODINGS: Final = 10
_SCHEME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_DRIVE: Final = re.compile(r"^[A-Za-z]:")
_LOCAL_START: Final = re.compile(r"^/[\w.@-]")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


class Forbidden(Exception):
    """The href may not be read (the endpoint answers 403 and says no more)."""


def decodings(href: str) -> list[str]:
    """`href` and each URL-decoding of it, until nothing changes (at most 10 rounds).
    Raises Forbidden when a round meets invalid UTF-8 (overlong `%c0%af` and the like)."""
    stages = [href]
    for _ in range(MAX_DECODINGS):
        try:
            decoded = unquote(stages[-1], errors="strict")
        except UnicodeDecodeError:
            raise Forbidden("invalid percent-encoding") from None
        if decoded == stages[-1]:
            break
        stages.append(decoded)
    return stages


def href_kind(href: str) -> Literal["data", "remote", "local"]:
    """Astro's `isRemotePath`, on the fully decoded href: "data" for a `data:` URI, "remote"
    for anything a browser or URL parser could send to another host, else "local"."""
    if href[:5].lower() == "data:":
        return "data"
    try:
        stages = decodings(href)
    except Forbidden:
        return "local"  # refused by `local_file` with the rest
    for text in stages:
        if _is_remote(text):
            return "remote"
    return "local"


def _is_remote(text: str) -> bool:
    if _DRIVE.match(text):
        return False  # C:/boot.ini: a (refused) local path, not the scheme "c"
    if _LOCAL_START.match(text):
        return False
    if text.startswith(("\\", "//", "/\\")):
        return True
    scheme = _SCHEME.match(text)
    if scheme:
        return scheme.group().lower() != "file:"
    # "user@host/…" and the like: an authority with credentials is never a path.
    return "@" in text.split("/", 1)[0]


def is_dot_segment(segment: str) -> bool:
    """`.`, `..` and what Windows reads as them: any run of dots (`....`), and names it
    trims (a trailing dot or space)."""
    return bool(segment) and (not segment.strip(".") or segment.endswith((".", " ")))


def local_file(href: str, static_root: Path) -> Path:
    """The file under `static_root` that a local href names (it may not exist).

    The path is the href's path part (query and fragment dropped), URL-decoded once as a
    browser's URL would be; every decoding of it must be clean. Raises Forbidden for anything
    else, including a path that a symlink leads out of the static root."""
    stages = decodings(href)
    for text in stages:
        path = text.split("?", 1)[0].split("#", 1)[0]
        if _CONTROL.search(path) or "\\" in path or ":" in path:
            raise Forbidden("control character, backslash or drive letter")
        if any(is_dot_segment(segment) for segment in path.split("/")):
            raise Forbidden("dot segment")
    written = href.split("?", 1)[0].split("#", 1)[0]
    if not written.startswith("/") or written.startswith("//"):
        raise Forbidden("not a /-rooted path")
    relative = unquote(written, errors="strict").lstrip("/")
    if not relative:
        raise Forbidden("no file named")
    base = static_root.resolve()
    candidate = (base / relative).resolve()
    if not candidate.is_relative_to(base):
        raise Forbidden("outside the static root")
    return candidate
