"""`staticimg extract`: from a project to image files and one image-data JSON per call.

    plan (scan + props) → resolve each `src` → probe headers → recipes (names, no pixels)
      → jobs for what is missing, one per distinct source → workers → placeholders, JSON

Everything is looked up by content: an output whose name exists is done (names digest every
input), a placeholder whose key is cached is done. A warm build therefore decodes nothing,
and a changed source re-processes only the calls that use it. Nothing is ever deleted here:
`staticimg clean` removes what no call references any more.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from staticimg.compiler import data, lock, stamp
from staticimg.compiler.astro_props import AstroRequest
from staticimg.compiler.atomic import is_temporary, write_bytes
from staticimg.compiler.config import Config
from staticimg.compiler.diagnostics import Diagnostic
from staticimg.compiler.images.decode import ImageError, SourceInfo
from staticimg.compiler.images.jobs import Job, JobResult, Task
from staticimg.compiler.images.recipe import Geometry, Output, Recipe, make_recipe
from staticimg.compiler.images.schedule import Workers, default_workers
from staticimg.compiler.images.sources import (
    SourceFile,
    SourceIndex,
    SourceProblem,
    is_remote,
    resolve_src,
)
from staticimg.compiler.plan import Plan, Request, make_plan, scan_cache
from staticimg.compiler.plan_ahead import PlanAhead

if TYPE_CHECKING:
    from staticimg.astro.types import ImageService
    from staticimg.compiler.images.astro import AstroRecipe, Refused, SvgSource
    from staticimg.compiler.images.remote import Fetched

Progress = Callable[[int, int], None]  # (jobs done, jobs in all)

SOURCE_INDEX = "sources.json"
PROBE_CACHE = "probes.json"


@dataclass
class ProbeCache:
    """Image headers by content digest: a warm build opens no image at all."""

    path: Path
    entries: dict[str, list[Any]]
    dirty: bool = False

    @classmethod
    def load(cls, path: Path) -> ProbeCache:
        try:
            entries = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            entries = {}
        return cls(path, entries if isinstance(entries, dict) else {})

    def probe(self, source: SourceFile, max_pixels: int) -> SourceInfo | ImageError:
        info = _cached_info(self.entries.get(source.digest))
        if info is not None and info.width * info.height <= max_pixels:
            return info  # else probe again: not cached, damaged, or the limit fell
        from staticimg.compiler.images.decode import probe

        try:
            info = probe(source.path, max_pixels=max_pixels)
        except ImageError as exc:
            return exc
        self.entries[source.digest] = [
            info.format,
            info.width,
            info.height,
            info.may_have_alpha,
            info.frames,
            info.coefficients,
        ]
        self.dirty = True
        return info

    def save(self) -> None:
        if self.dirty:
            write_bytes(self.path, orjson.dumps(self.entries, option=orjson.OPT_SORT_KEYS))


_PROBED_FORMATS = frozenset({"jpg", "png", "webp", "gif", "avif", "tiff", "bmp"})


def _cached_info(entry: object) -> SourceInfo | None:
    """A probe cache entry, or None when it is not one (damaged by something other than us,
    or written by an older version)."""
    if not (isinstance(entry, list) and len(entry) == 6):
        return None
    kind, width, height, may_have_alpha, frames, coefficients = entry
    counts = (width, height, frames)
    if not (
        kind in _PROBED_FORMATS
        and all(type(n) is int and n > 0 for n in counts)
        and isinstance(may_have_alpha, bool)
        and type(coefficients) is int
        and coefficients >= 0
    ):
        return None
    return SourceInfo(kind, width, height, may_have_alpha, frames, coefficients)


@dataclass(frozen=True, slots=True)
class Stats:
    calls: int  # calls with image data
    sources: int  # distinct source images
    outputs: int  # image files the calls reference
    written: int  # image files written by this run
    bytes_written: int
    bytes_saved: int  # Σ per call: source bytes − the largest fallback file's bytes
    decoded: int  # decodes run by this build: one per source and way of decoding it
    seconds: float


@dataclass(frozen=True, slots=True)
class Build:
    plan: Plan
    records: dict[str, dict[str, Any]]  # props hash → image data or error record
    diagnostics: tuple[Diagnostic, ...]  # the plan's and the image stage's, sorted
    outputs: frozenset[str]  # every output file name the calls reference
    stats: Stats

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> int:
        return len(self.diagnostics) - self.errors

    def summary(self) -> dict[str, Any]:
        """The one-line summary as data: what `extract --format json` prints last."""
        stats = self.stats
        return {
            "kind": "summary",
            "calls": len(self.records),
            "images": stats.calls,
            "sources": stats.sources,
            "outputs": stats.outputs,
            "written": stats.written,
            "bytes_written": stats.bytes_written,
            "bytes_saved": stats.bytes_saved,
            "decoded": stats.decoded,
            "errors": self.errors,
            "warnings": self.warnings,
            "seconds": round(stats.seconds, 3),
        }


def build(
    config: Config,
    paths: Iterable[Path] = (),
    *,
    jobs: int | None = None,
    executor: Executor | None = None,
    config_diagnostics: Sequence[Diagnostic] = (),
    progress: Progress | None = None,
    planning: PlanAhead | None = None,
) -> Build:
    """Build every call's images and image data. `planning` is the plan of the same config,
    paths and diagnostics already under way (the command line starts it before importing
    this module); without it the project is planned here."""
    started = time.perf_counter()
    paths = tuple(paths)
    workers = jobs or config.jobs or default_workers()
    # One build per cache folder at a time; taking the lock sweeps a killed build's temp files.
    with lock.hold(config):
        stamp.remove(config)  # this build may change things; a killed one must not look current
        with Workers(workers, executor) as pool:
            if not (config.cache_path / data.MANIFEST).exists():
                pool.start()  # a first build: the workers will be needed, let them boot now
            if planning is not None:
                plan = planning.result()
            else:
                cache = scan_cache(config)
                plan = make_plan(config, paths, jobs=pool.workers,
                                 config_diagnostics=config_diagnostics, cache=cache)  # fmt: skip
            return _build(config, paths, pool, plan, progress, started)


def _build(
    config: Config,
    paths: Iterable[Path],
    pool: Workers,
    plan: Plan,
    progress: Progress | None,
    started: float,
) -> Build:
    stage = _Stage(config)
    recipes = stage.plan_recipes(plan.requests)
    stage.write_copies()
    job_list = stage.jobs()
    done = 0

    def collect(job: Job, result: JobResult) -> None:
        nonlocal done
        stage.collect(job, result)
        done += 1
        if progress:
            progress(done, len(job_list))

    if progress:
        progress(0, len(job_list))
    pool.run(job_list, collect)
    records = stage.records()
    data.write_manifest(config, stage.referenced, records)
    diagnostics = sorted((*plan.diagnostics, *stage.diagnostics), key=Diagnostic.sort_key)
    stats = Stats(
        calls=sum(1 for r in records.values() if "error" not in r),
        sources=len({r.source.digest for r in recipes.values()}),
        outputs=len(stage.referenced),
        written=len(stage.written),
        bytes_written=sum(stage.written.values()),
        bytes_saved=stage.bytes_saved(),
        decoded=len(job_list),
        seconds=time.perf_counter() - started,
    )
    result = Build(plan, records, tuple(diagnostics), frozenset(stage.referenced), stats)
    if not diagnostics and not stage.remote:  # remote copies expire: no warm-build stamp
        _write_stamp(config, paths, stage, result)
    return result


def _write_stamp(config: Config, paths: Iterable[Path], stage: _Stage, result: Build) -> None:
    stamp.write(
        config,
        list(paths),
        discovered=result.plan.files,
        inputs={recipe.source.path for recipe in stage.recipes.values()},
        outputs=[
            *(config.output_path / name for name in sorted(stage.referenced)),
            *(data.data_file(config, key) for key in sorted(result.records)),
            config.cache_path / data.MANIFEST,
        ],
        summary=result.summary(),
    )


@dataclass(frozen=True, slots=True)
class Survey:
    """What the project's calls reference, worked out without pixels or writes."""

    plan: Plan
    outputs: frozenset[str]  # output file names
    data: frozenset[str]  # props hashes (data/<hash>.json)
    placeholders: frozenset[str]  # placeholder cache keys
    scans: frozenset[str]  # scan cache keys


def survey(config: Config, *, config_diagnostics: Sequence[Diagnostic] = ()) -> Survey:
    cache = scan_cache(config)
    plan = make_plan(config, jobs=config.jobs or default_workers(),
                     config_diagnostics=config_diagnostics, cache=cache)  # fmt: skip
    stage = _Stage(config, offline=True)
    recipes = stage.plan_recipes(plan.requests)
    keys = {r.placeholder_spec.key for r in recipes.values() if r.placeholder_spec}
    return Survey(
        plan,
        frozenset(stage.referenced),
        frozenset(recipes) | frozenset(stage.failed),
        frozenset(keys),
        frozenset(cache.used),
    )


@dataclass
class _Stage:
    """The image stage's working state for one build."""

    config: Config
    diagnostics: list[Diagnostic] = field(default_factory=list)
    failed: dict[str, Diagnostic] = field(default_factory=dict)  # props hash → error
    placeholders: dict[str, dict[str, Any]] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)  # name → bytes
    referenced: set[str] = field(default_factory=set)
    _by_digest: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    recipes: dict[str, Recipe | AstroRecipe] = field(default_factory=dict)  # props hash →
    _job_calls: dict[tuple[str, int, int, bool], list[str]] = field(default_factory=dict)
    # Remote sources: use cached copies only, never connect (the survey for `clean`).
    offline: bool = False
    remote: int = 0  # remote URLs this build used
    _probes: ProbeCache | None = None
    _image_service: ImageService | None = None
    # Astro-style calls' sources read as SVG (None: not an SVG), by digest.
    _svgs: dict[str, SvgSource | Refused | None] = field(default_factory=dict)

    # -- names, without pixels

    def plan_recipes(self, requests: Sequence[Request]) -> dict[str, Recipe | AstroRecipe]:
        infos: dict[str, SourceInfo | ImageError] = {}
        index = SourceIndex.load(self.config.cache_path / SOURCE_INDEX)
        probes = self._probes = ProbeCache.load(self.config.cache_path / PROBE_CACHE)
        recipes = self.recipes
        fetched = self._fetch_remote(requests)
        local = self._read_local(requests, index)
        for request in requests:
            key = request.hash
            if key in recipes or key in self.failed:
                continue  # the same call twice in one file: one JSON serves both
            try:
                if is_remote(request.src):
                    source = self._remote_source(request, fetched[request.src])
                else:
                    found = local[request.src, request.file]
                    if isinstance(found, SourceProblem):
                        raise found
                    source = found
            except SourceProblem as problem:
                if not _left_to_the_page(request, problem):
                    self._fail(request, problem.code, problem.message, problem.hint)
                continue
            if isinstance(request, AstroRequest):
                self._plan_astro(request, source, infos)
                continue
            info = self._probe(source, infos)
            if isinstance(info, ImageError):
                self._fail(request, info.code, _about(source, info.message), info.hint)
                continue
            try:
                recipe = make_recipe(request, source, info)
            except ValueError as exc:
                self._fail(request, "SI205", str(exc), None, at_source=False)
                continue
            recipes[key] = recipe
            self.diagnostics.extend(recipe.warnings)
            self._by_digest[source.digest].append(key)
            self.referenced.update(output.name for output in recipe.outputs)
        index.save()
        probes.save()
        return recipes

    def _read_local(
        self, requests: Sequence[Request], index: SourceIndex
    ) -> dict[tuple[str, str], SourceFile | SourceProblem]:
        """Every local `src` resolved, and each distinct file read and digested once. Files
        are read on a few threads: reading and hashing release the GIL, and on a first build
        this is most of the time between the scan and the first image job."""
        resolved: dict[tuple[str, str], Path | SourceProblem] = {}
        for request in requests:
            place = (request.src, request.file)
            if place not in resolved and not is_remote(request.src):
                try:
                    resolved[place] = resolve_src(request.src, request.file, self.config)
                except SourceProblem as problem:
                    resolved[place] = problem

        def read(path: Path) -> SourceFile | SourceProblem:
            try:
                return index.read(path, self.config)
            except SourceProblem as problem:
                return problem

        paths = sorted({p for p in resolved.values() if isinstance(p, Path)})
        if len(paths) > 1:
            with ThreadPoolExecutor(max_workers=min(4, len(paths))) as readers:
                files = dict(zip(paths, readers.map(read, paths), strict=True))
        else:
            files = {path: read(path) for path in paths}
        return {
            place: files[path] if isinstance(path, Path) else path
            for place, path in resolved.items()
        }

    def _plan_astro(
        self, request: AstroRequest, source: SourceFile, infos: dict[str, SourceInfo | ImageError]
    ) -> None:
        """Plan a static Astro-style call: an SVG source is sized from its text, a raster
        one probed like any other."""
        from staticimg.compiler.images import astro

        info: SourceInfo | None = None
        try:
            if source.digest not in self._svgs:  # read once, however many calls use it
                try:
                    self._svgs[source.digest] = astro.svg_source(source)
                except astro.Refused as refused:
                    self._svgs[source.digest] = refused
            svg = self._svgs[source.digest]
            if isinstance(svg, astro.Refused):
                raise svg
            if svg is None and request.kind != "svg":
                probed = self._probe(source, infos)
                if isinstance(probed, ImageError):
                    self._fail(request, probed.code, _about(source, probed.message), probed.hint)
                    return
                info = probed
            service = self._service()
            recipe = astro.plan(request, source, svg or info, self.config, service)
        except astro.Refused as refused:
            self._fail(request, refused.code, refused.message, refused.hint,
                       at_source=refused.at_source)  # fmt: skip
            return
        self.recipes[request.hash] = recipe
        self.diagnostics.extend(recipe.warnings)
        self._by_digest[source.digest].append(request.hash)
        self.referenced.update(recipe.names)

    def _probe(
        self, source: SourceFile, infos: dict[str, SourceInfo | ImageError]
    ) -> SourceInfo | ImageError:
        """The source's header, probed once per distinct source (and cached across builds)."""
        if source.digest not in infos:
            assert self._probes is not None
            infos[source.digest] = self._probes.probe(source, self.config.max_image_pixels)
        return infos[source.digest]

    def _service(self) -> ImageService:
        if self._image_service is None:
            from staticimg.astro.types import ImageError as ServiceError
            from staticimg.compiler.images.astro import Refused
            from staticimg.compiler.services import load_build_service

            # A project's own service imports the way the project's own code imports it.
            if str(self.config.root) not in sys.path:
                sys.path.insert(0, str(self.config.root))
            try:
                self._image_service = load_build_service(
                    self.config.image, max_pixels=self.config.max_image_pixels
                )
            except ServiceError as error:
                raise Refused("SI309", error.message, error.hint, at_source=False) from None
        return self._image_service

    def write_copies(self) -> None:
        """The files of Astro-style calls that no worker makes: copies of their sources
        (SVG, GIF fallbacks, the passthrough service, originals for CDNs) and the files of a
        user's own local service, which transforms them itself."""
        astro_calls = [
            recipe
            for key, recipe in self.recipes.items()
            if not isinstance(recipe, Recipe) and key not in self.failed
        ]
        if not astro_calls:
            return
        from staticimg.compiler.images import astro

        existing = _listdir(self.config.output_path)
        for recipe in astro_calls:
            try:
                for name, size in astro.write_files(recipe, existing, self.config,
                                                    self._service()):  # fmt: skip
                    self.written[name] = size
            except astro.Refused as refused:
                self._fail(recipe.request, refused.code, refused.message, refused.hint)

    def _fetch_remote(self, requests: Sequence[Request]) -> dict[str, Fetched | SourceProblem]:
        """Every remote `src`, downloaded (or found in the cache) before any recipe is made."""
        urls = {request.src for request in requests if is_remote(request.src)}
        if not urls:
            return {}
        from staticimg.compiler.images.remote import fetch_all

        self.remote = len(urls)
        return fetch_all(urls, self.config, offline=self.offline)

    def _remote_source(self, request: Request, fetched: Fetched | SourceProblem) -> SourceFile:
        if isinstance(fetched, SourceProblem):
            raise fetched
        if fetched.stale is not None:  # the origin is down: built from the cached copy
            message, hint = fetched.stale
            span = request.src_span or request.span
            self.diagnostics.append(
                Diagnostic("SI352", message, request.file, span, prop="src", hint=hint)
            )
        return fetched.source

    # -- what is missing

    def jobs(self) -> list[Job]:
        existing = _listdir(self.config.output_path)
        # One job per source and way of decoding it: a call's pixels depend on its own draft
        # reduction and frame mode (see `recipe.decode_reduction`), never on its neighbours.
        tasks: dict[tuple[str, int, bool], list[tuple[Recipe | AstroRecipe, Task]]] = defaultdict(
            list
        )
        for recipe in self.recipes.values():
            missing = tuple(o for o in recipe.outputs if o.name not in existing)
            spec = recipe.placeholder_spec
            if spec is not None and spec.key not in self.placeholders:
                cached = data.read_placeholder(self.config, spec.key)
                wants_uri = spec.blurred is not None or spec.blurhash_image is not None
                if cached is not None and (not wants_uri or "fallback" in cached):
                    self.placeholders[spec.key] = cached
            wants_placeholder = spec is not None and spec.key not in self.placeholders
            if missing or wants_placeholder:
                group = (recipe.source.digest, recipe.reduction, recipe.all_frames)
                names = frozenset(o.name for o in missing)
                for geometry, outputs in _geometries(recipe):
                    if wants_placeholder or names.intersection(o.name for o in outputs):
                        task = Task(geometry, outputs, names, spec if wants_placeholder else None)
                        tasks[group].append((recipe, task))
                        wants_placeholder = False  # one task makes the call's placeholder
        return [self._job(pairs) for pairs in tasks.values()]

    def _job(self, pairs: list[tuple[Recipe | AstroRecipe, Task]]) -> Job:
        first = pairs[0][0]
        source, info, reduction = first.source, first.info, first.reduction
        assert info is not None  # only raster sources have outputs to encode
        # Asking draft() for 1/reduction of the size makes it pick exactly that reduction.
        min_width, min_height = info.width // reduction, info.height // reduction
        cost = min_width * min_height * (info.frames if first.all_frames else 1)
        cost = max(cost, info.coefficients // 2)  # 2-byte coefficients, 4-byte pixels
        job = Job(
            path=str(source.path),
            digest=source.digest,
            min_width=min_width,
            min_height=min_height,
            all_frames=first.all_frames,
            max_pixels=self.config.max_image_pixels,
            output_dir=str(self.config.output_path),
            tasks=tuple(task for _, task in pairs),
            cost=cost,
        )
        self._job_calls[_job_key(job)] = [recipe.request.hash for recipe, _ in pairs]
        return job

    # -- results

    def collect(self, job: Job, result: JobResult) -> None:
        if result.error is not None:
            code, message, hint = result.error
            for key in self._job_calls.get(_job_key(job), self._by_digest[job.digest]):
                recipe = self.recipes[key]
                self._fail(recipe.request, code, _about(recipe.source, message), hint)
            return
        for name, size in result.written:
            self.written[name] = size
        for key, value in result.placeholders.items():
            data.write_placeholder(self.config, key, value)
            self.placeholders[key] = value

    def records(self) -> dict[str, dict[str, Any]]:
        records: dict[str, dict[str, Any]] = {}
        for key, diagnostic in self.failed.items():
            records[key] = data.error_data(diagnostic)
        for key, recipe in self.recipes.items():
            if key in self.failed:
                continue
            if not isinstance(recipe, Recipe):
                records[key] = recipe.record
                continue
            spec = recipe.placeholder_spec
            values = self.placeholders.get(spec.key, {}) if spec else {}
            records[key] = data.image_data(recipe, values, self.config.url_prefix)
        for key, record in records.items():
            data.write_data(self.config, key, record)
        return records

    def bytes_saved(self) -> int:
        saved = 0
        for key, recipe in self.recipes.items():
            if key in self.failed or recipe.fallback is None:
                continue
            largest = recipe.fallback.outputs[-1].name
            size = self.written.get(largest)
            if size is None:
                try:
                    size = (self.config.output_path / largest).stat().st_size
                except OSError:
                    continue
            saved += max(0, recipe.source.size - size)
        return saved

    def _fail(
        self,
        request: Request,
        code: str,
        message: str,
        hint: str | None,
        *,
        at_source: bool = True,
    ) -> None:
        span = request.src_span if at_source and request.src_span else request.span
        prop = "src" if at_source else None
        diagnostic = Diagnostic(code, message, request.file, span, prop=prop, hint=hint)
        self.diagnostics.append(diagnostic)
        self.failed[request.hash] = diagnostic


def _geometries(recipe: Recipe | AstroRecipe) -> tuple[tuple[Geometry, tuple[Output, ...]], ...]:
    """A call's outputs by the geometry that makes them: one for `StaticImage`, one or more
    for an Astro-style call."""
    if isinstance(recipe, Recipe):
        return ((recipe.geometry, recipe.outputs),)
    return recipe.groups


def _left_to_the_page(request: Request, problem: SourceProblem) -> bool:
    """A Markdown image whose remote URL is not allowed stays a plain `<img>`, as in Astro:
    Markdown authors link images from anywhere, and only allowed hosts are optimised."""
    return (
        isinstance(request, AstroRequest)
        and request.callee == "Markdown"
        and (problem.code == "SI306")
    )


def _job_key(job: Job) -> tuple[str, int, int, bool]:
    return (job.digest, job.min_width, job.min_height, job.all_frames)


def _listdir(folder: Path) -> set[str]:
    try:
        return {p.name for p in folder.iterdir() if not is_temporary(p.name)}
    except OSError:
        return set()


def _about(source: SourceFile, message: str) -> str:
    return f"{source.relative}: {message}"
