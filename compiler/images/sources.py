"""Where a call's `src` points, and the bytes there.

`src` is a path relative to the calling file, a `/`-rooted path inside the configured static
root, or an http(s) URL. Every path is resolved with symlinks followed and must stay inside
the project: a `..` or a symlink that leads out is refused, so a template cannot publish
`/etc/passwd` as an image. URLs are fetched by `remote.py` (allowlist, address rules, limits,
cache) into a local file that the image stage then treats like any other source.
"""

from __future__ import annotations

import difflib
import hashlib
import os.path
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from staticimg.compiler.atomic import write_if_changed
from staticimg.compiler.config import Config
from staticimg.remote_patterns import is_http_url

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


is_remote = is_http_url  # what the image stage calls it


def resolve_src(src: str, calling_file: str, config: Config) -> Path:
    """The file `src` names, as written in `calling_file` (project-relative).

    Raises SourceProblem. A remote `src` has no path here: one the allowlist refuses raises
    SI306; an allowed one is a ValueError (fetch it with `remote.fetch`).
    """
    if is_remote(src):
        from staticimg.compiler.images.remote import refusal

        problem = refusal(src, config)
        if problem is not None:
            raise problem
        raise ValueError(f"{src} is remote: fetch it with staticimg.compiler.images.remote")
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


@dataclass
class SourceIndex:
    """Digests of source files by their stat, so a warm build does not re-read every image.

    An entry is reused only while size, mtime, ctime and inode all match, the same test git
    and make rely on; anything else reads and digests the file again.
    """

    path: Path
    entries: dict[str, list[Any]] = field(default_factory=dict)
    seen: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> SourceIndex:
        try:
            entries = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            entries = {}
        return cls(path, entries if isinstance(entries, dict) else {})

    def read(self, file: Path, config: Config) -> SourceFile:
        relative = config.relative(file)
        try:
            stat = file.stat()
        except OSError:
            return read_source(file, config)
        signature = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        entry = self.entries.get(relative)
        if (
            isinstance(entry, list)
            and len(entry) == 5
            and entry[:4] == signature
            and isinstance(entry[4], str)
        ):
            self.seen[relative] = entry
            return SourceFile(file, relative, entry[4], stat.st_size)
        source = read_source(file, config)
        self.seen[relative] = [*signature, source.digest]
        return source

    def save(self) -> None:
        """Keep what this build saw (plus entries of files it did not look at)."""
        merged = {**self.entries, **self.seen}
        write_if_changed(self.path, orjson.dumps(merged, option=orjson.OPT_SORT_KEYS))


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
