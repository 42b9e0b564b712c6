"""The Astro image settings at render time: `[tool.staticimg.image]` (Astro's `image.*`).

`image_settings()` is, first found: what `configure(...)` set, else the nearest
pyproject.toml at or above the working directory (`[tool.staticimg.image]`, plus the
`domains` and `remote_patterns` of `[tool.staticimg]`, which the build's downloader uses too),
else the defaults. Reading is lenient: a bad value falls back to its default here, and
`staticimg build` reports it (SI001) through `settings_from_table`, which the compiler's
configuration loader calls with the same table.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from staticimg import data_store
from staticimg.astro.layout import parse_layout
from staticimg.astro.types import ImageSettings
from staticimg.remote_patterns import RemotePattern, normalise_host

__all__ = ["OBJECT_FITS", "configure", "image_settings", "reset", "settings_from_table"]

OBJECT_FITS: Final = ("fill", "contain", "cover", "none", "scale-down")

# Every spelling a key may take → the field. snake_case is ours; kebab-case is TOML's habit;
# camelCase is Astro's, so a configuration copied from astro.config.mjs reads as it is.
_ALIASES: Final = {
    "service": "service",
    "service_config": "service_config",
    "serviceConfig": "service_config",
    "endpoint": "endpoint",
    "layout": "layout",
    "object_fit": "object_fit",
    "objectFit": "object_fit",
    "object_position": "object_position",
    "objectPosition": "object_position",
    "breakpoints": "breakpoints",
    "responsive_styles": "responsive_styles",
    "responsiveStyles": "responsive_styles",
    "domains": "domains",
    "remote_patterns": "remote_patterns",
    "remotePatterns": "remote_patterns",
}
_PATTERN_KEYS: Final = ("protocol", "hostname", "port", "pathname")
_PROTOCOLS: Final = ("http", "https", "data")


@dataclass(slots=True)
class _State:
    configured: ImageSettings | None = None
    loaded: ImageSettings | None = None


_state = _State()


def image_settings() -> ImageSettings:
    """The settings in force (configured, else read from pyproject.toml once, else defaults)."""
    if _state.configured is not None:
        return _state.configured
    if _state.loaded is None:
        _state.loaded = _read_project(Path.cwd())
    return _state.loaded


def configure(settings: ImageSettings | None = None, **changes: Any) -> None:
    """Set the settings for this process: `settings` as given (default: the ones in force),
    with `changes` applied, e.g. `configure(layout="constrained", domains=["cdn.example"])`.

    Changes take the spellings pyproject.toml does (`objectFit`, `layout="fullWidth"`); a bad
    value raises ValueError here (an explicit call should fail loudly)."""
    base = settings if settings is not None else image_settings()
    result, problems = _apply(base, changes)
    if problems:
        raise ValueError("; ".join(f"{key}: {message}" for key, message in problems))
    _state.configured = result


def reset() -> None:
    """Forget `configure` and what was read (tests, or a process that changes directory)."""
    _state.configured = None
    _state.loaded = None


def settings_from_table(
    table: Mapping[str, Any], top: Mapping[str, Any]
) -> tuple[ImageSettings, list[tuple[str, str]]]:
    """`[tool.staticimg.image]` (`table`) and `[tool.staticimg]` (`top`, for its `domains`
    and `remote_patterns`) as settings, and the problems found as (key, message): a bad value
    is reported and its default kept."""
    merged: dict[str, Any] = {}
    for key in ("domains", "remote_patterns", "remote-patterns", "remotePatterns"):
        if key in top:
            merged[key] = top[key]
    merged.update(table)
    return _apply(ImageSettings(), merged)


def _read_project(start: Path) -> ImageSettings:
    pyproject = data_store.find_pyproject(start)
    if pyproject is None:
        return ImageSettings()
    top = data_store.staticimg_table(pyproject)
    table = top.get("image", {})
    settings, _ = settings_from_table(table if isinstance(table, Mapping) else {}, top)
    return settings


def _apply(
    base: ImageSettings, table: Mapping[str, Any]
) -> tuple[ImageSettings, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    for key, raw in table.items():
        name = _ALIASES.get(key) or _ALIASES.get(str(key).replace("-", "_"))
        if name is None:
            close = difflib.get_close_matches(str(key), list(_ALIASES), n=1)
            suggestion = f' (did you mean "{close[0]}"?)' if close else ""
            problems.append((str(key), f"unknown key `{key}`{suggestion}"))
            continue
        try:
            parsed = _PARSERS[name](raw, values)
        except ValueError as exc:
            problems.append((str(key), str(exc)))
            continue
        if parsed is not _SKIP:
            values[name] = parsed
    return dataclasses.replace(base, **values), problems


_SKIP: Final = object()


def _service(value: Any, values: dict[str, Any]) -> Any:
    # Astro's shape too: service = { entrypoint = "pkg.mod:svc", config = { ... } }
    if isinstance(value, Mapping):
        entrypoint = value.get("entrypoint", value.get("name"))
        config = value.get("config", {})
        if not isinstance(entrypoint, str) or not isinstance(config, Mapping):
            raise ValueError(
                "`service` as a table needs `entrypoint` (a string) and optionally `config` "
                "(a table)"
            )
        values.setdefault("service_config", dict(config))
        value = entrypoint
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            '`service` must be "pillow", "passthrough", "imgix", "cloudinary", "cdn" or '
            f'"package.module:attribute", not {value!r}'
        )
    return value.strip()


def _service_config(value: Any, values: dict[str, Any]) -> Any:
    if not isinstance(value, Mapping):
        raise ValueError(f"`service_config` must be a table, not {value!r}")
    return dict(value)


def _endpoint(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, Mapping):  # Astro's `endpoint = { route = "/_image" }`
        value = value.get("route")
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        raise ValueError(f'`endpoint` must be a path such as "/_image", not {value!r}')
    return value.rstrip("/") or "/"


def _layout(value: Any, values: dict[str, Any]) -> Any:
    layout = parse_layout(value)
    if layout is None:
        raise ValueError(
            f'`layout` must be "constrained", "fixed", "full-width" or "none", not {value!r}'
        )
    return layout


def _object_fit(value: Any, values: dict[str, Any]) -> Any:
    if value is None:
        return None
    if not isinstance(value, str) or value.strip().lower() not in OBJECT_FITS:
        raise ValueError(f"`object_fit` must be one of {', '.join(OBJECT_FITS)}, not {value!r}")
    return value.strip().lower()


def _object_position(value: Any, values: dict[str, Any]) -> Any:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f'`object_position` must be a CSS position such as "top", not {value!r}')
    return " ".join(value.split())


def _breakpoints(value: Any, values: dict[str, Any]) -> Any:
    if not isinstance(value, Iterable) or isinstance(value, str | bytes | Mapping):
        raise ValueError(f"`breakpoints` must be a list of widths in pixels, not {value!r}")
    widths = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
            raise ValueError(f"`breakpoints` must hold positive whole numbers, not {item!r}")
        widths.append(item)
    return tuple(sorted(set(widths)))


def _responsive_styles(value: Any, values: dict[str, Any]) -> Any:
    if not isinstance(value, bool):
        raise ValueError(f"`responsive_styles` must be true or false, not {value!r}")
    return value


def _domains(value: Any, values: dict[str, Any]) -> Any:
    if not isinstance(value, Iterable) or isinstance(value, str | bytes | Mapping):
        raise ValueError(f"`domains` must be a list of host names, not {value!r}")
    hosts = []
    for domain in value:
        host = normalise_host(domain) if isinstance(domain, str) and "*" not in domain else None
        if host is None:
            raise ValueError(
                f"`domains` takes exact host names, not {domain!r} (use `remote_patterns` "
                "for wildcards, schemes, ports or paths)"
            )
        hosts.append(host)
    return tuple(hosts)


def _remote_patterns(value: Any, values: dict[str, Any]) -> Any:
    if not isinstance(value, Iterable) or isinstance(value, str | bytes | Mapping):
        raise ValueError(
            "`remote_patterns` must be a list of tables such as "
            f'[{{ protocol = "https", hostname = "**.example.com" }}], not {value!r}'
        )
    patterns = []
    for item in value:
        if isinstance(item, RemotePattern):
            patterns.append(item)
            continue
        if not isinstance(item, Mapping):
            raise ValueError(f"a `remote_patterns` entry must be a table, not {item!r}")
        fields: dict[str, str | None] = {}
        for part, raw in item.items():
            if part not in _PATTERN_KEYS:
                raise ValueError(
                    f"unknown key `{part}` in a `remote_patterns` entry "
                    f"(known: {', '.join(_PATTERN_KEYS)})"
                )
            if part == "port" and isinstance(raw, int) and not isinstance(raw, bool):
                raw = str(raw)
            if raw is not None and not isinstance(raw, str):
                raise ValueError(f"`{part}` in `remote_patterns` must be a string, not {raw!r}")
            if part == "protocol" and raw is not None:
                raw = raw.lower().removesuffix(":")
                if raw not in _PROTOCOLS:
                    raise ValueError(f'`protocol` must be "http", "https" or "data", not {raw!r}')
            if part == "hostname" and raw:
                prefix = "**." if raw.startswith("**.") else "*." if raw.startswith("*.") else ""
                host = normalise_host(raw[len(prefix) :])
                if host is None or "*" in raw[len(prefix) :]:
                    raise ValueError(
                        f"`hostname` {raw!r} is not a host name, `*.host` or `**.host`"
                    )
                raw = prefix + host
            fields[part] = raw
        patterns.append(RemotePattern(**fields))
    return tuple(patterns)


_PARSERS: Final = {
    "service": _service,
    "service_config": _service_config,
    "endpoint": _endpoint,
    "layout": _layout,
    "object_fit": _object_fit,
    "object_position": _object_position,
    "breakpoints": _breakpoints,
    "responsive_styles": _responsive_styles,
    "domains": _domains,
    "remote_patterns": _remote_patterns,
}
