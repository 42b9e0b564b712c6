"""From a project to its image requests: discover → scan → props. Writes nothing.

This is `staticimg extract --plan`, and the first half of every extract.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from staticimg.compiler.astro_props import ASTRO_CALLEES, AstroRequest, plan_astro_call
from staticimg.compiler.config import Config, JinjaSettings
from staticimg.compiler.diagnostics import Diagnostic, Span
from staticimg.compiler.props import ImageRequest, plan_call
from staticimg.compiler.scan.cache import FOLDER as SCAN_FOLDER
from staticimg.compiler.scan.cache import ScanCache
from staticimg.compiler.scan.calls import FileScan
from staticimg.compiler.scan.discover import SourceFile, SourceKind, discover
from staticimg.compiler.scan.prefilter import might_contain_calls

if TYPE_CHECKING:
    import jinja2

# Template callees are looked up by name: templates get them as globals, not imports
# (`staticimg.jinja.install`). Astro's get_image is `astro_get_image` there: `get_image` is
# Gatsby's helper.
TEMPLATE_CALLEES = frozenset({"StaticImage", "Image", "Picture", "Svg", "astro_get_image"})

# A call's request: Gatsby-style (`StaticImage`) or Astro-style (`Image`, `Picture`, …).
Request = ImageRequest | AstroRequest
# Parsing is the only expensive step; below this many files to parse, starting worker
# processes costs more than it saves.
PARALLEL_THRESHOLD = 24


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One call found in the sources, and what planning made of it: `staticimg inject`
    rewrites calls one by one, so it needs each call's own result, failures included."""

    file: str  # project-relative, POSIX separators
    callee: str
    span: Span  # the callee name as written, the same as `ImageRequest.span`
    request: Request | None  # None when planning found an error
    diagnostics: tuple[Diagnostic, ...]  # what `plan_call` reported for this call

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def injectable(self) -> bool:
        """Whether `staticimg inject` rewrites this call: Markdown images are looked up by
        their props hash at render time instead (there is no call to give an argument)."""
        return self.callee != "Markdown"


@dataclass(frozen=True, slots=True)
class Plan:
    requests: tuple[Request, ...]
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...]  # every file discovery found, project-relative, in its order
    files_parsed: int
    seconds: float
    # Every call found, in file order then source order, whether or not it was planned.
    calls: tuple[PlannedCall, ...] = ()

    @property
    def files_scanned(self) -> int:
        return len(self.files)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> int:
        return len(self.diagnostics) - self.errors


def make_plan(
    config: Config,
    paths: Iterable[Path] = (),
    *,
    jobs: int | None = None,
    config_diagnostics: Sequence[Diagnostic] = (),
    cache: ScanCache | None = None,
) -> Plan:
    """Scan and plan. With a `cache`, files scanned before with the same bytes are not parsed
    again (the parsers are not even imported)."""
    started = time.perf_counter()
    sources = list(discover(config, paths))
    scans: list[FileScan] = []
    candidates: list[tuple[SourceFile, bytes]] = []
    for source in sources:
        try:
            data = source.path.read_bytes()
        except OSError as exc:
            message = f"cannot read this file: {exc.strerror or exc}"
            scans.append(
                FileScan(
                    source.relative, diagnostics=(Diagnostic("SI112", message, source.relative),)
                )
            )
            continue
        if _may_contain_calls(source, data):
            candidates.append((source, data))
    if cache is not None:
        remaining: list[tuple[SourceFile, bytes]] = []
        keys: dict[str, str] = {}
        for source, data in candidates:
            keys[source.relative] = key = cache.key(source.relative, data)
            cached = cache.get(key)
            if cached is None:
                remaining.append((source, data))
            else:
                scans.append(cached)
        fresh = _scan_all(config.jinja, remaining, jobs or os.cpu_count() or 1)
        for scan in fresh:
            cache.put(keys[scan.file], scan)
        scans += fresh
    else:
        scans += _scan_all(config.jinja, candidates, jobs or os.cpu_count() or 1)
    requests: list[Request] = []
    calls: list[PlannedCall] = []
    diagnostics: list[Diagnostic] = list(config_diagnostics)
    for scan in scans:
        diagnostics.extend(scan.diagnostics)
        for planned in plan_scan(scan):
            diagnostics.extend(planned.diagnostics)
            calls.append(planned)
            if planned.request is not None:
                requests.append(planned.request)
    diagnostics.sort(key=Diagnostic.sort_key)
    # Scans finish in cache-then-fresh order; calls are listed in a stable order instead.
    calls.sort(key=lambda c: (c.file, c.span.line, c.span.column))
    return Plan(
        requests=tuple(requests),
        diagnostics=tuple(diagnostics),
        files=tuple(source.relative for source in sources),
        files_parsed=len(candidates),
        seconds=time.perf_counter() - started,
        calls=tuple(calls),
    )


def scan_cache(config: Config) -> ScanCache:
    return ScanCache(config.cache_path / SCAN_FOLDER, config.jinja)


def plan_scan(scan: FileScan) -> list[PlannedCall]:
    """Each call of one scanned file with what planning made of it. Dynamic Astro-style
    calls are left out: the runtime renders them on demand."""
    planned = []
    for call in scan.calls:
        request: Request | None
        if call.callee in ASTRO_CALLEES:
            request, problems = plan_astro_call(call)
            if request is None and not problems:
                continue
        else:
            request, problems = plan_call(call)
        planned.append(
            PlannedCall(call.file, call.callee, call.name_span, request, tuple(problems))
        )
    return planned


def _may_contain_calls(source: SourceFile, data: bytes) -> bool:
    if source.kind is SourceKind.PYTHON:
        return might_contain_calls(data)
    if source.kind is SourceKind.MARKDOWN:
        return b"![" in data  # every Markdown image starts so; most .md files have none
    return any(name.encode() in data for name in TEMPLATE_CALLEES)


def _scan_all(
    jinja: JinjaSettings, candidates: list[tuple[SourceFile, bytes]], jobs: int
) -> list[FileScan]:
    if jobs <= 1 or len(candidates) < PARALLEL_THRESHOLD:
        return [scan_source(jinja, source, data) for source, data in candidates]
    executor: Executor = ProcessPoolExecutor(max_workers=jobs)
    with executor:
        scan = functools.partial(_scan_pair, jinja)
        return list(executor.map(scan, candidates, chunksize=8))


def _scan_pair(jinja: JinjaSettings, pair: tuple[SourceFile, bytes]) -> FileScan:
    return scan_source(jinja, *pair)


def scan_source(jinja: JinjaSettings, source: SourceFile, data: bytes) -> FileScan:
    """Scan one file's bytes; never raises for anything in the file."""
    if source.kind is SourceKind.PYTHON:
        from staticimg.compiler.scan.python import scan_python  # lazily: libcst is slow to import

        return scan_python(data, source.relative)
    text = _text(source, data)
    if isinstance(text, FileScan):
        return text
    if source.kind is SourceKind.MARKDOWN:
        from staticimg.compiler.scan.markdown import scan_markdown  # lazily, like the others

        return scan_markdown(text, source.relative)
    from staticimg.compiler.scan.jinja import scan_template

    return scan_template(text, source.relative, template_environment(jinja), TEMPLATE_CALLEES)


def _text(source: SourceFile, data: bytes) -> str | FileScan:
    """A template's or Markdown file's text, or the scan that reports why it has none."""
    markdown = source.kind is SourceKind.MARKDOWN
    try:
        return data.decode("utf-8-sig" if markdown else "utf-8")
    except UnicodeDecodeError as exc:
        what, reader = ("Markdown file", "Markdown renderers") if markdown else (
            "template", "Jinja's loaders")  # fmt: skip
        message = f"cannot decode this {what} as UTF-8: {exc.reason}"
        hint = f"Save the {what} as UTF-8, the encoding {reader} read by default."
        span = Span.of_byte(data, exc.start)
        diagnostic = Diagnostic("SI112", message, source.relative, span, hint=hint)
        return FileScan(source.relative, diagnostics=(diagnostic,))


@functools.cache
def template_environment(settings: JinjaSettings) -> jinja2.Environment:
    """The parsing environment for the configured settings, made once: the scanner and the
    template inject step must read templates with the same delimiters and extensions."""
    return settings.environment()
