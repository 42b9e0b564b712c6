"""Where a call's `src` points, and the bytes there.

`src` is a path relative to the calling file, a `/`-rooted path inside the configured static
root, or an http(s) URL. Every path is resolved with symlinks followed and must stay inside
the project: a `..` or a symlink that leads out is refused, so a template cannot publish
`/etc/passwd` as an image.
"""

from __future__ import annotations

import difflib
import hashlib
import os.path
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from staticimg.compiler.config import Config

# Content digests key every cache: 128 bits of BLAKE2b, hex.
DIGEST_SIZE = 16


class SourceProblem(Exception):
    """`src` does not lead to a readable file inside the project."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path  # resolved, inside the project
    relative: str  # project-relative, POSIX separators: what messages show
    digest: str  # of the bytes
    size: int


def is_remote(src: str) -> bool:
    return src.startswith(("http://", "https://"))


def resolve_src(src: str, calling_file: str, config: Config) -> Path:
    """The file `src` names, as written in `calling_file` (project-relative).

    Raises SourceProblem.
    """
    if is_remote(src):
        raise SourceProblem(
            "SI306",
            f"remote image {src} is not fetched: no remote source is allowed",
            "Download the image into the project and point `src` at the file.",
        )
    if src.startswith("/"):
        base = config.root / config.static_root
        written = PurePosixPath(src.lstrip("/"))
        where = f"in the static root `{config.static_root}/`"
    else:
        base = (config.root / calling_file).parent
        written = PurePosixPath(src)
        where = f"next to {calling_file}"
    candidate = base.joinpath(*written.parts)
    resolved = candidate.resolve()
    if not resolved.is_relative_to(config.root):
        through_link = candidate.absolute() != resolved and _lexically_inside(candidate, config)
        how = "through a symbolic link " if through_link else ""
        raise SourceProblem(
            "SI302",
            f'"{src}" leads {how}outside the project, to {resolved}',
            "Copy the image into the project. Images are published, so staticimg only reads "
            "files inside the project root.",
        )
    if not resolved.is_file():
        relative = resolved.relative_to(config.root).as_posix()
        kind = "is a folder" if resolved.is_dir() else "does not exist"
        raise SourceProblem(
            "SI301",
            f'image "{src}" {kind}: looked for {relative} ({where})',
            _closest(resolved) or _how_src_resolves(),
        )
    return resolved


def read_source(path: Path, config: Config) -> SourceFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceProblem(
            "SI307",
            f"cannot read {config.relative(path)}: {exc.strerror or exc}",
            "Check the file's permissions.",
        ) from None
    digest = hashlib.blake2b(data, digest_size=DIGEST_SIZE).hexdigest()
    return SourceFile(path, config.relative(path), digest, len(data))


def _lexically_inside(candidate: Path, config: Config) -> bool:
    """Whether the path as written (before following links) is inside the project."""
    return Path(os.path.normpath(candidate.absolute())).is_relative_to(config.root)


def _closest(missing: Path) -> str | None:
    folder = missing.parent
    if not folder.is_dir():
        return None
    names = [p.name for p in folder.iterdir() if p.is_file()]
    close = difflib.get_close_matches(missing.name, names, n=1, cutoff=0.8)
    return f'Did you mean "{close[0]}"?' if close else None


def _how_src_resolves() -> str:
    return (
        "A relative `src` is relative to the file that contains the call; a `/`-rooted one "
        "is relative to the static root (`static_root` in [tool.staticimg])."
    )
