"""`[tool.staticimg]` in the project's pyproject.toml, with defaults that need no configuration.

A bad key or value is reported as a diagnostic pointing into pyproject.toml, and the default
stands in for it, so one typo never hides every other problem in the build.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import math
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, get_type_hints

from staticimg.astro.types import ImageSettings
from staticimg.compiler.diagnostics import Diagnostic, Span

# Remote patterns and host names are the runtime's (the `/_image` endpoint and `get_image`
# match them too); imported here so `staticimg.compiler.config` still offers them.
from staticimg.remote_patterns import RemotePattern as RemotePattern
from staticimg.remote_patterns import normalise_host as normalise_host

if TYPE_CHECKING:
    import jinja2

PYPROJECT = "pyproject.toml"

# Folders never worth scanning: VCS data, virtual environments, dependency and build output.
# Virtual environments under any name are also recognised by their pyvenv.cfg.
DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "_darcs", ".jj",
        ".venv", "venv", "__pypackages__", "node_modules", "bower_components",
        "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis",
        ".tox", ".nox", ".eggs", "build", "dist", "_build", "buck-out",
        ".staticimg", ".cache", "htmlcov", ".idea", ".vscode",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class JinjaSettings:
    """How the project's Jinja environment is configured, so templates parse as they render."""

    extensions: tuple[str, ...] = ()
    # Jinja's defaults (jinja2.defaults), written out so reading the configuration does not
    # import Jinja: image worker processes import this module too.
    block_start_string: str = "{%"
    block_end_string: str = "%}"
    variable_start_string: str = "{{"
    variable_end_string: str = "}}"
    comment_start_string: str = "{#"
    comment_end_string: str = "#}"
    line_statement_prefix: str = ""
    line_comment_prefix: str = ""
    trim_blocks: bool = False
    lstrip_blocks: bool = False

    def environment(self) -> jinja2.Environment:
        """A parsing environment. Raises ImportError or jinja2 errors for bad settings."""
        import jinja2

        return jinja2.Environment(
            extensions=list(self.extensions),
            block_start_string=self.block_start_string,
            block_end_string=self.block_end_string,
            variable_start_string=self.variable_start_string,
            variable_end_string=self.variable_end_string,
            comment_start_string=self.comment_start_string,
            comment_end_string=self.comment_end_string,
            line_statement_prefix=self.line_statement_prefix or None,
            line_comment_prefix=self.line_comment_prefix or None,
            trim_blocks=self.trim_blocks,
            lstrip_blocks=self.lstrip_blocks,
            autoescape=True,
        )


REMOTE_PATTERN_KEYS: Final = ("protocol", "hostname", "port", "pathname")


@dataclass(frozen=True, slots=True)
class Config:
    root: Path
    # Folders (relative to the root) whose files are scanned.
    source_roots: tuple[str, ...] = (".",)
    # gitignore-style patterns a file must match to be scanned...
    include: tuple[str, ...] = (
        "*.py",
        "*.html",
        "*.htm",
        "*.jinja",
        "*.jinja2",
        "*.j2",
        "*.md",
        "*.markdown",
    )
    # ...and must not match (added to DEFAULT_EXCLUDED_DIRS, which always apply).
    exclude: tuple[str, ...] = ()
    # Which included files are Jinja templates; every `.py` file is Python.
    template_suffixes: tuple[str, ...] = (".html", ".htm", ".jinja", ".jinja2", ".j2")
    cache_dir: str = ".staticimg"
    # `/`-rooted `src` values are relative to this folder (relative to the root).
    static_root: str = "static"
    # Where image files are written, and the URL prefix they are served under.
    output_dir: str = "static/_staticimg"
    url_prefix: str = "/static/_staticimg"
    # Worker processes for image work; 0 means one per CPU core.
    jobs: int = 0
    # Pillow's decompression-bomb limit: a source with more pixels is refused (SI305).
    max_image_pixels: int = 100_000_000
    # Remote `src` URLs (docs/security.md): nothing is fetched unless allowed here. `domains`
    # are exact host names (any scheme, port and path); `remote_patterns` use Astro's wildcards.
    domains: tuple[str, ...] = ()
    remote_patterns: tuple[RemotePattern, ...] = ()
    # Hosts (names as written in URLs) or addresses/networks ("127.0.0.1", "10.0.0.0/8") that
    # may be fetched although they are loopback, private, link-local or otherwise non-public.
    allow_private_hosts: tuple[str, ...] = ()
    # Per remote image: the most bytes downloaded, seconds for the whole fetch (every redirect
    # included), and redirects followed.
    remote_max_bytes: int = 50_000_000
    remote_timeout: float = 30.0
    remote_max_redirects: int = 5
    jinja: JinjaSettings = field(default_factory=JinjaSettings)
    # `[tool.staticimg.image]`: Astro's `image.*` (service, layout, breakpoints, …), with the
    # allowlist above copied in, as every service hook receives it.
    image: ImageSettings = field(default_factory=ImageSettings)

    @property
    def cache_path(self) -> Path:
        return self.root / self.cache_dir

    @property
    def output_path(self) -> Path:
        return self.root / self.output_dir

    def relative(self, path: Path) -> str:
        """`path` relative to the project root, POSIX separators (raises ValueError outside)."""
        return path.resolve().relative_to(self.root).as_posix()


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that has a pyproject.toml, else `start`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / PYPROJECT).is_file():
            return folder
    return start


def load_config(root: Path) -> tuple[Config, list[Diagnostic]]:
    root = root.resolve()
    pyproject = root / PYPROJECT
    if not pyproject.is_file():
        return Config(root), []
    text = pyproject.read_bytes().decode("utf-8", errors="replace")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Config(root), [_toml_error(exc, text)]
    table = document.get("tool", {}).get("staticimg", {})
    reader = _TableReader(text)
    jinja_table = table.pop("jinja", {}) if isinstance(table, dict) else {}
    image_table = table.pop("image", {}) if isinstance(table, dict) else {}
    patterns_key = next((k for k in _PATTERNS_SPELLINGS if isinstance(table, dict) and k in table),
                        None)  # fmt: skip
    patterns_value = table.pop(patterns_key) if patterns_key else None
    values = reader.read(
        Config, table, "tool.staticimg", skip={"root", "jinja", "remote_patterns", "image"}
    )
    if patterns_key is not None:
        patterns = _remote_patterns(patterns_value, patterns_key, reader)
        if patterns is not None:
            values["remote_patterns"] = patterns
    _check_remote_values(values, reader)
    jinja_values = reader.read(JinjaSettings, jinja_table, "tool.staticimg.jinja")
    for key in ("cache_dir", "static_root", "output_dir"):
        if key in values and not _stays_inside(root, values[key]):
            message = f"`{key}` must be a folder inside the project, not {values.pop(key)!r}"
            reader.diagnostics.append(reader.diagnostic(key, message))
    prefix = values.get("url_prefix")
    if prefix is not None and not re.match(r"(/|https?://)", prefix):
        message = f"`url_prefix` must start with `/` or be an http(s) URL, not {prefix!r}"
        reader.diagnostics.append(reader.diagnostic("url_prefix", message))
        del values["url_prefix"]
    config = Config(root, **values, jinja=JinjaSettings(**jinja_values))
    config = dataclasses.replace(config, image=_image_settings(image_table, config, reader))
    diagnostics = reader.diagnostics
    if config.jinja.extensions:
        # Project-local extensions import the way the project's own code imports them.
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        try:
            config.jinja.environment()
        except Exception as exc:
            diagnostics.append(reader.diagnostic("extensions", f"cannot set up Jinja: {exc}"))
            config = dataclasses.replace(config, jinja=JinjaSettings())
    return config, diagnostics


def _image_settings(table: Any, config: Config, reader: _TableReader) -> ImageSettings:
    settings = ImageSettings()
    if not isinstance(table, dict):
        message = "`[tool.staticimg.image]` must be a table"
        reader.diagnostics.append(reader.diagnostic("image", message))
    elif table:  # the reader is imported only when there is something to read
        from staticimg.astro.settings import settings_from_table

        settings, problems = settings_from_table(table, {})
        for key, message in problems:
            message = f"[tool.staticimg.image] {message}"
            reader.diagnostics.append(reader.diagnostic(key, message))
    return dataclasses.replace(
        settings, domains=config.domains, remote_patterns=tuple(config.remote_patterns)
    )


# --------------------------------------------------------------------------------------------
# Remote sources

_PATTERNS_SPELLINGS: Final = ("remote_patterns", "remote-patterns")


def _remote_patterns(
    value: Any, key: str, reader: _TableReader
) -> tuple[RemotePattern, ...] | None:
    where = "tool.staticimg"
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        message = (
            f"`{key}` in [{where}] must be a list of tables such as "
            '[{ protocol = "https", hostname = "**.example.com" }], '
            f"not {value!r}"
        )
        reader.diagnostics.append(reader.diagnostic(key, message))
        return None
    patterns = []
    for item in value:
        pattern = _remote_pattern(item, key, reader)
        if pattern is not None:
            patterns.append(pattern)
    return tuple(patterns)


def _remote_pattern(
    item: Mapping[str, Any], key: str, reader: _TableReader
) -> RemotePattern | None:
    fields: dict[str, str | None] = {}
    ok = True

    def bad(part: str, message: str, hint: str | None = None) -> None:
        nonlocal ok
        ok = False
        reader.diagnostics.append(reader.diagnostic(part, f"in `{key}`: {message}", hint))

    for part, raw in item.items():
        if part not in REMOTE_PATTERN_KEYS:
            close = difflib.get_close_matches(part, REMOTE_PATTERN_KEYS, n=1)
            hint = f'Did you mean "{close[0]}"?' if close else None
            bad(part, f"unknown key `{part}` (known: {', '.join(REMOTE_PATTERN_KEYS)})", hint)
            continue
        if part == "port" and isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, str):
            bad(part, f"`{part}` must be a string, not {raw!r}")
            continue
        problem = _pattern_part_problem(part, raw)
        if problem is not None:
            bad(part, problem[0], problem[1])
            continue
        if part == "protocol":
            raw = raw.lower()
        elif part == "hostname":
            prefix = "**." if raw.startswith("**.") else "*." if raw.startswith("*.") else ""
            raw = prefix + (normalise_host(raw[len(prefix) :]) or "")
        fields[part] = raw
    return RemotePattern(**fields) if ok else None


def _pattern_part_problem(part: str, value: str) -> tuple[str, str | None] | None:
    if part == "protocol":
        # "data" lets the `/_image` endpoint optimise data: URIs, as in Astro.
        if value.lower() not in ("http", "https", "data"):
            return (
                f'`protocol` must be "http", "https" or "data", not {value!r}',
                'Write the scheme without "://" or ":", e.g. protocol = "https".',
            )
    elif part == "hostname":
        rest = value.removeprefix("**.") if value.startswith("**.") else value.removeprefix("*.")
        if "*" in rest or normalise_host(rest) is None:
            return (
                f"`hostname` {value!r} is not a host name, `*.host` or `**.host`",
                "`*.` allows exactly one more label in front (a.example.com), `**.` any number; "
                "a `*` anywhere else would never match. No scheme, port or path here.",
            )
    elif part == "port":
        if value and not (value.isdigit() and 0 < int(value) < 65536):
            return (f'`port` must be a port number such as "8080", not {value!r}', None)
    elif part == "pathname":
        stem = value.removesuffix("/**") if value.endswith("/**") else value.removesuffix("/*")
        if not value.startswith("/") or "*" in stem:
            return (
                f"`pathname` {value!r} must start with `/`, with a wildcard only at the end",
                '"/images/*" allows one more segment (/images/a.jpg), "/images/**" any number.',
            )
    return None


def _check_remote_values(values: dict[str, Any], reader: _TableReader) -> None:
    """The remote keys' own rules, beyond their types. A bad value falls back to the default."""
    domains = values.get("domains")
    if domains is not None:
        normalised = []
        for domain in domains:
            host = normalise_host(domain)
            if host is None or "*" in domain:
                message = f"`domains` takes exact host names, not {domain!r}"
                hint = (
                    "Write the host alone (images.example.com); for wildcards, schemes, ports "
                    "or paths use `remote_patterns`."
                )
                reader.diagnostics.append(reader.diagnostic("domains", message, hint))
            else:
                normalised.append(host)
        values["domains"] = tuple(normalised)
    private = values.get("allow_private_hosts")
    if private is not None:
        kept = []
        for entry in private:
            host = normalise_host(entry)
            if host is None:
                try:
                    host = str(ipaddress.ip_network(entry.strip(), strict=False))
                except ValueError:
                    message = (
                        "`allow_private_hosts` takes host names, IP addresses or networks "
                        f"(10.0.0.0/8), not {entry!r}"
                    )
                    reader.diagnostics.append(reader.diagnostic("allow_private_hosts", message))
                    continue
            kept.append(host)
        values["allow_private_hosts"] = tuple(kept)
    for key in ("remote_max_bytes", "remote_timeout", "max_image_pixels"):
        if key in values and not values[key] > 0:
            message = f"`{key}` must be greater than 0, not {values.pop(key)!r}"
            reader.diagnostics.append(reader.diagnostic(key, message))


class _TableReader:
    """Reads a TOML table into dataclass keyword arguments, checking names and types."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.diagnostics: list[Diagnostic] = []

    def read(
        self, cls: type, table: Any, where: str, skip: frozenset[str] | set[str] = frozenset()
    ) -> dict[str, Any]:
        if not isinstance(table, Mapping):
            self.diagnostics.append(self.diagnostic(where, f"`{where}` must be a table"))
            return {}
        hints = get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls) if f.name not in skip]
        values: dict[str, Any] = {}
        for key, value in table.items():
            name = key.replace("-", "_")
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = (
                    f'Did you mean "{close[0]}"?' if close else f"Known keys: {', '.join(names)}."
                )
                message = f"unknown key `{key}` in [{where}]"
                self.diagnostics.append(self.diagnostic(key, message, hint))
                continue
            expected = hints[name]
            converted = _convert(value, expected)
            if converted is None:
                message = f"`{key}` in [{where}] must be {_describe(expected)}, not {value!r}"
                self.diagnostics.append(self.diagnostic(key, message))
                continue
            values[name] = converted
        return values

    def diagnostic(self, key: str, message: str, hint: str | None = None) -> Diagnostic:
        return Diagnostic("SI001", message, PYPROJECT, self._locate(key), prop=key, hint=hint)

    def _locate(self, key: str) -> Span | None:
        pattern = re.compile(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=", re.MULTILINE)
        match = pattern.search(self.text)
        if match is None:
            return None
        line = self.text.count("\n", 0, match.start()) + 1
        column = match.start() - (self.text.rfind("\n", 0, match.start()) + 1)
        column += len(match.group()) - len(match.group().lstrip()) + 1
        return Span(line, column, line, column + len(key))


def _stays_inside(root: Path, folder: str) -> bool:
    if not folder or Path(folder).is_absolute():
        return False
    return (root / folder).resolve().is_relative_to(root)


def _convert(value: Any, expected: Any) -> Any:
    if expected is str:
        return value if isinstance(value, str) else None
    if expected is bool:
        return value if isinstance(value, bool) else None
    if expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return value if ok else None
    if expected is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok and math.isfinite(value) and value >= 0 else None
    if expected == tuple[str, ...]:
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        return None
    raise TypeError(f"no TOML conversion for {expected}")


def _describe(expected: Any) -> str:
    described = {
        str: "a string",
        bool: "true or false",
        int: "a whole number ≥ 0",
        float: "a number ≥ 0",
    }
    return described.get(expected, "a list of strings")


def _toml_error(exc: tomllib.TOMLDecodeError, text: str) -> Diagnostic:
    match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    if match:
        line, column = int(match.group(1)), int(match.group(2))
    else:  # "(at end of document)"
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
    span = Span(line, column, line, column + 1)
    message = f"cannot parse pyproject.toml: {exc}"
    return Diagnostic("SI002", message, PYPROJECT, span)
