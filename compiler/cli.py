"""The `staticimg` command."""

from __future__ import annotations

import atexit
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from staticimg import __version__
from staticimg.compiler.config import find_root, load_config

# The pipeline (libcst, Jinja, Pillow) is imported by each command when it runs: `--help`
# stays instant, and image worker processes, which re-import this entry point, stay lean.
if TYPE_CHECKING:
    from staticimg.compiler.config import Config
    from staticimg.compiler.diagnostics import Diagnostic
    from staticimg.compiler.images.pipeline import Build
    from staticimg.compiler.inject import Injection
    from staticimg.compiler.plan import PlannedCall

EXIT_OK, EXIT_ERRORS = 0, 1  # click itself exits with 2 on a usage error


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="staticimg")
@click.option(
    "-C",
    "--project",
    "project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Project root. Default: the nearest folder at or above the current one that has a "
    "pyproject.toml.",
)
@click.pass_context
def main(ctx: click.Context, project: Path | None) -> None:
    """Build-time responsive images for Python and Jinja.

    Write StaticImage(src=..., alt=..., width=...) in your Python code or Jinja templates.
    `staticimg extract --plan` finds every call without running your code, evaluates its
    build props, and reports whatever cannot be known at build time with its file, line,
    column and a stable error code (see docs/errors.md).

    Configuration lives in [tool.staticimg] in pyproject.toml; a project with none works.
    """
    ctx.obj = project.resolve() if project else find_root(Path.cwd())


def _output_format(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["human", "json"]),
        default="human",
        show_default=True,
        help=help,
    )


def _load(root: Path, paths: tuple[Path, ...]) -> tuple[Config, list[Diagnostic]]:
    """The project's configuration, once every PATH is checked to lie inside it."""
    config, config_problems = load_config(root)
    for path in paths:
        try:
            config.relative(path)
        except ValueError:
            raise click.BadParameter(
                f"{path} is outside the project root {root}", param_hint="PATH"
            ) from None
    return config, config_problems


def _colour(color: bool | None) -> bool | None:
    """--color/--no-color, else off when NO_COLOR is set, else click decides (a terminal)."""
    return False if color is None and os.environ.get("NO_COLOR") else color


_PATHS = click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]..."
)
_JOBS = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes. Default: one per CPU core.",
)
_COLOR = click.option(
    "--color/--no-color",
    default=None,
    help="Colour the human output. Default: when writing to a terminal and NO_COLOR is unset.",
)


@main.command()
@_PATHS
@click.option(
    "--plan",
    is_flag=True,
    help="Scan and evaluate only: print every call with its normalised props and hash, and "
    "every problem found. Reads no image and writes nothing.",
)
@_output_format("`json` prints one JSON object per line: a call record or a diagnostic.")
@_JOBS
@_COLOR
@click.pass_obj
def extract(
    root: Path,
    paths: tuple[Path, ...],
    plan: bool,
    output_format: str,
    jobs: int | None,
    color: bool | None,
) -> None:
    """Find every StaticImage call and build its images and image data.

    Writes the responsive image files into `output_dir`, one image-data JSON per call into
    `.staticimg/data/`, and reports every problem with its file, line and code. Work already
    done is found by content and skipped. Nothing is deleted: see `staticimg clean`.

    PATH is a file or folder inside the project to scan instead of the configured source
    roots. Python files (.py) and Jinja templates (.html, .htm, .jinja, .jinja2, .j2 by
    default) are scanned; virtual environments, node_modules, VCS and build folders are not.

    \b
    Examples:
      staticimg extract
      staticimg extract --plan
      staticimg extract --plan app/ templates/index.html
      staticimg extract --plan --format json | jq 'select(.kind == "diagnostic")'

    \b
    Exit status:
      0  no errors (warnings allowed)
      1  at least one error was reported
      2  usage error
    """
    config, config_problems = _load(root, paths)
    color = _colour(color)
    if not plan:
        if not config_problems:
            _report_if_unchanged(config, paths, output_format, color)
        _extract(config, paths, jobs, config_problems, output_format, color)
    from staticimg.compiler import report
    from staticimg.compiler.plan import make_plan

    result = make_plan(config, paths, jobs=jobs, config_diagnostics=config_problems)
    if output_format == "json":
        out = sys.stdout.buffer
        for line in report.json_lines(result):
            out.write(line + b"\n")
        out.flush()
    else:
        for request in result.requests:
            click.echo(report.format_call(request), color=color)
        for diagnostic in result.diagnostics:
            click.echo(report.format_diagnostic(diagnostic, root), color=color, err=True)
        click.echo(report.format_summary(result), color=color, err=True)
    sys.exit(EXIT_ERRORS if result.errors else EXIT_OK)


def _report_if_unchanged(
    config: Config, paths: tuple[Path, ...], output_format: str, color: bool | None
) -> None:
    """A warm build with nothing changed, recognised by stat before the scanner, the image
    stage or Pillow is imported: report the stamped build again and exit."""
    started = time.perf_counter()
    from staticimg.compiler import stamp

    summary = stamp.unchanged(config, paths)
    if summary is None:
        return
    from staticimg.compiler import report

    record = report.unchanged_record(summary, time.perf_counter() - started)
    if output_format == "json":
        import orjson

        sys.stdout.buffer.write(orjson.dumps(record) + b"\n")
        sys.stdout.flush()
    else:
        click.echo(report.format_summary_record(record), color=color, err=True)
    sys.exit(EXIT_OK)


def _extract(
    config: Config,
    paths: tuple[Path, ...],
    jobs: int | None,
    config_problems: list[Diagnostic],
    output_format: str,
    color: bool | None,
) -> NoReturn:
    result = _run_extract(config, paths, jobs, config_problems, output_format, color)
    sys.exit(EXIT_ERRORS if result.errors else EXIT_OK)


def _run_extract(
    config: Config,
    paths: tuple[Path, ...],
    jobs: int | None,
    config_problems: list[Diagnostic],
    output_format: str,
    color: bool | None,
) -> Build:
    """The image stage and its report (diagnostics and a summary, or JSON lines)."""
    from staticimg.compiler import lock
    from staticimg.compiler.plan_ahead import PlanAhead

    # The scan starts in a child process first; Pillow and the image stage are imported here
    # meanwhile, on the other core. The lock is taken before the child starts: it writes the
    # scan cache, and taking the lock sweeps temporary files.
    with lock.hold(config):
        planning = PlanAhead(
            config, paths, jobs=jobs or config.jobs, config_diagnostics=config_problems
        )
        from staticimg.compiler import report
        from staticimg.compiler.images.pipeline import build

        show_progress = output_format == "human" and sys.stderr.isatty()
        with _ProgressBar(show_progress) as progress:
            result = build(
                config,
                paths,
                jobs=jobs,
                config_diagnostics=config_problems,
                progress=progress.update if show_progress else None,
                planning=planning,
            )
    if output_format == "json":
        out = sys.stdout.buffer
        for line in report.build_lines(result):
            out.write(line + b"\n")
        out.flush()
    else:
        for diagnostic in result.diagnostics:
            click.echo(report.format_diagnostic(diagnostic, config.root), color=color, err=True)
        click.echo(report.format_build_summary(result), color=color, err=True)
    return result


class _ProgressBar:
    """A bar over the image jobs, on stderr, only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.shown = 0

    def __enter__(self) -> _ProgressBar:
        return self

    def update(self, done: int, total: int) -> None:
        if total == 0:
            return
        if self.bar is None:
            self.bar = click.progressbar(
                length=total, label="images", file=sys.stderr, show_pos=True
            )
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@main.command()
@click.option("-n", "--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.pass_obj
def clean(root: Path, dry_run: bool) -> None:
    """Remove image files, image data and cached placeholders that no call references.

    A normal `extract` never deletes anything. `clean` scans the project (reading no image),
    works out every file the current calls reference, and removes the rest from output_dir
    (only files named the way staticimg names them) and from the cache folder. It refuses to
    run while a source file cannot be scanned, since that file's images would be removed.
    """
    from staticimg.compiler import lock
    from staticimg.compiler.clean import clean as clean_project
    from staticimg.compiler.images.pipeline import survey

    config, config_problems = load_config(root)
    with lock.hold(config):  # not while a build writes what the survey reads
        result = clean_project(config, survey(config, config_diagnostics=config_problems),
                               dry_run=dry_run)  # fmt: skip
    if result.blocked_by:
        click.echo(
            "staticimg clean: nothing removed: these files could not be scanned, so their "
            "images might still be needed: "
            + ", ".join(result.blocked_by)
            + ". Fix them (`staticimg extract --plan` shows why) and run clean again.",
            err=True,
        )
        sys.exit(EXIT_ERRORS)
    verb = "would remove" if dry_run else "removed"
    for path in result.stale:
        click.echo(f"{verb} {config.relative(path)}")
    click.echo(f"staticimg clean: {verb} {len(result.stale)} files", err=True)


# --------------------------------------------------------------------------------------------
# inject and build


@main.command()
@_PATHS
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; list the files inject would change and exit with 1 if there are any "
    "(for CI and pre-commit).",
)
@click.option(
    "--diff", "show_diff", is_flag=True, help="Write nothing; print what would change as diffs."
)
@_output_format("`json` prints one JSON object per line: per call, per file, then a summary.")
@_JOBS
@_COLOR
@click.pass_obj
def inject(
    root: Path,
    paths: tuple[Path, ...],
    check: bool,
    show_diff: bool,
    output_format: str,
    jobs: int | None,
    color: bool | None,
) -> None:
    """Write each call's image data reference (or error) into the source.

    Every StaticImage call gets one argument: __image_data="<hash>", naming the image data
    `staticimg extract` wrote to .staticimg/data/<hash>.json, or __error="<text>" when the
    call has no image (its problems, one per line). Older injected arguments are replaced;
    nothing else in the file changes, and files without calls are never written. Running it
    twice changes nothing. See docs/inject.md.

    \b
    Examples:
      staticimg extract && staticimg inject
      staticimg inject --check            # in CI or pre-commit: are the sources up to date?
      staticimg inject --diff app/
      staticimg build                     # extract, then inject, in one go

    \b
    Exit status:
      0  done (calls may still have been given __error: extract reports those)
      1  --check found files to change, or a file or call could not be rewritten
      2  usage error
    """
    config, config_problems = _load(root, paths)
    color = _colour(color)
    from staticimg.compiler import lock
    from staticimg.compiler.inject import file_diagnostics
    from staticimg.compiler.inject import inject as inject_calls
    from staticimg.compiler.plan import make_plan, scan_cache

    with lock.hold(config):  # the scan cache and the data files are the build's
        plan = make_plan(
            config, paths, jobs=jobs, config_diagnostics=config_problems, cache=scan_cache(config)
        )
        result = inject_calls(config, plan, write=not (check or show_diff))
    problems = file_diagnostics(plan)
    if output_format == "human":
        from staticimg.compiler import report

        for diagnostic in problems:
            click.echo(report.format_diagnostic(diagnostic, root), color=color, err=True)
    _report_injection(
        result,
        output_format,
        color,
        dry_run=check or show_diff,
        check=check,
        show_diff=show_diff,
        diagnostics=problems,
        show_errors=True,
    )
    failed = result.failed or any(d.is_error for d in problems) or (check and result.changed)
    sys.exit(EXIT_ERRORS if failed else EXIT_OK)


@main.command()
@_PATHS
@_output_format("`json` prints one JSON object per line: extract's, then inject's.")
@_JOBS
@_COLOR
@click.pass_obj
def build(
    root: Path,
    paths: tuple[Path, ...],
    output_format: str,
    jobs: int | None,
    color: bool | None,
) -> None:
    """Extract, then inject: images, image data and up-to-date sources in one run.

    The same as `staticimg extract` followed by `staticimg inject`, scanning once. Calls
    whose image failed still get their __error, so everything that can be injected is.

    \b
    Exit status:
      0  no errors (warnings allowed)
      1  at least one error was reported, or a file could not be rewritten
      2  usage error
    """
    config, config_problems = _load(root, paths)
    color = _colour(color)
    built = _run_extract(config, paths, jobs, config_problems, output_format, color)
    from staticimg.compiler.inject import inject as inject_calls

    result = inject_calls(config, built.plan, records=built.records)
    _report_injection(result, output_format, color)
    sys.exit(EXIT_ERRORS if built.errors or result.failed else EXIT_OK)


@main.command()
@click.argument(
    "path", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--dir",
    "site_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The folder to serve (the same as PATH). Default: public/ in the project root.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@_COLOR
@click.pass_obj
def serve(
    root: Path,
    path: Path | None,
    site_dir: Path | None,
    host: str,
    port: int,
    color: bool | None,
) -> None:
    """Preview a built site with its images, on a local web server.

    Serves PATH (default: public/ in the project root) at /, the project's static root and
    image output folder at their URLs, and the /_image endpoint, which transforms images on
    demand as Astro's does. For previews, not production: see docs/endpoint.md for mounting
    /_image in your Flask, Django, Starlette or FastAPI application. Stop with Ctrl-C.

    \b
    Examples:
      staticimg serve
      staticimg serve build/html --port 8080
    """
    if path is not None and site_dir is not None and path.resolve() != site_dir.resolve():
        raise click.BadParameter("give the folder as PATH or as --dir, not both", param_hint="PATH")
    config, config_problems = _load(root, ())
    if config_problems:
        from staticimg.compiler import report

        for diagnostic in config_problems:
            click.echo(report.format_diagnostic(diagnostic, root), color=_colour(color), err=True)
    site = (path or site_dir or root / "public").resolve()
    if not site.is_dir():
        raise click.UsageError(
            f"there is no folder {site} to serve: build the site first, or give its folder as PATH"
        )
    from staticimg.astro.types import ImageError
    from staticimg.compiler.endpoint.serve import serve as serve_site

    try:
        serve_site(config, site, host, port)
    except OSError as error:
        message = f"cannot listen on {host}:{port}: {error.strerror or error}"
        raise click.ClickException(message) from None
    except (ValueError, ImageError) as error:  # no image service that transforms images
        raise click.ClickException(str(error)) from None


def _report_injection(
    result: Injection,
    output_format: str,
    color: bool | None,
    *,
    dry_run: bool = False,
    check: bool = False,
    show_diff: bool = False,
    diagnostics: Sequence[Diagnostic] = (),
    show_errors: bool = False,
) -> None:
    """Per call and per file records and a summary (JSON), or what needs attention and a
    one-line summary (human). `show_errors` lists the calls given __error: `build` leaves
    that to extract's diagnostics, which say the same at more length."""
    if output_format == "json":
        import orjson

        out = sys.stdout.buffer
        for line in _injection_records(result, dry_run, show_diff, diagnostics):
            out.write(orjson.dumps(line) + b"\n")
        out.flush()
        return
    for changed in result.changed:
        if show_diff:
            click.echo(changed.diff(), nl=False, color=color)
        elif check:
            click.echo(f"would rewrite {changed.file}", color=color)
    for failed in result.not_rewritten:
        title = click.style("error", fg="red", bold=True)
        click.echo(
            f"{title}: {failed.file}: not rewritten: {failed.problem}", err=True, color=color
        )
    for call in result.skipped:
        title = click.style("error", fg="red", bold=True)
        where = _location(call.call)
        click.echo(f"{title}: {where}: not injected: {call.skipped}", err=True, color=color)
    if show_errors:
        for call in result.calls:
            if call.outcome.is_error:
                first, *rest = call.outcome.value.split("\n")
                note = click.style("__error", fg="yellow", bold=True)
                lines = [f"{_location(call.call)}: {note}: {first}", *(f"    {r}" for r in rest)]
                click.echo("\n".join(lines), err=True, color=color)
    click.echo(_injection_summary(result, dry_run), err=True, color=color)


def _location(call: PlannedCall) -> str:
    return f"{call.file}:{call.span.line}:{call.span.column}"


def _injection_summary(result: Injection, dry_run: bool) -> str:
    changed = len(result.changed)
    verb = "would change" if dry_run else "changed"
    calls = result.calls
    parts = [
        f"{changed} file{'s' * (changed != 1)} {verb}",
        f"{len(calls)} call{'s' * (len(calls) != 1)} injected ({result.images} with image data, "
        + click.style(f"{result.errors} with __error", fg="yellow" if result.errors else None)
        + ")",
    ]
    if result.not_rewritten:
        parts.append(click.style(f"{len(result.not_rewritten)} not rewritten", fg="red"))
    if result.skipped:
        parts.append(click.style(f"{len(result.skipped)} calls skipped", fg="red"))
    return "staticimg inject: " + ", ".join(parts) + f", {result.seconds:.2f}s"


def _injection_records(
    result: Injection, dry_run: bool, show_diff: bool, diagnostics: Sequence[Diagnostic]
) -> Iterator[dict[str, Any]]:
    for diagnostic in diagnostics:
        yield diagnostic.to_json()
    for file in result.files:
        for call in file.calls:
            record: dict[str, Any] = {
                "kind": "injected" if file.problem is None and call.skipped is None else "skipped",
                "file": call.call.file,
                "line": call.call.span.line,
                "column": call.call.span.column,
                "argument": call.outcome.keyword,
                "value": call.outcome.value,
            }
            if call.skipped is not None or file.problem is not None:
                record["reason"] = call.skipped or file.problem
            yield record
        status = "not_rewritten" if file.problem else "unchanged"
        if file.changed:
            status = "would_change" if dry_run else "changed"
        record = {"kind": "file", "file": file.file, "status": status}
        if file.problem:
            record["reason"] = file.problem
        if show_diff and file.changed:
            record["diff"] = file.diff()
        yield record
    yield {
        "kind": "inject_summary",
        "dry_run": dry_run,
        "files": len(result.files),
        "files_changed": len(result.changed),
        "files_written": sum(1 for f in result.files if f.written),
        "not_rewritten": len(result.not_rewritten),
        "calls": len(result.calls),
        "images": result.images,
        "errors": result.errors,
        "skipped": len(result.skipped),
        "seconds": round(result.seconds, 3),
    }


def console() -> NoReturn:
    """The `staticimg` console script: `main`, then an exit that skips tearing down the
    interpreter. Freeing a few hundred modules one by one is the last thing a build would
    wait for (about 40 ms); exit handlers still run and output is flushed first."""
    try:
        main()
    except SystemExit as done:
        status = done.code
    else:  # pragma: no cover - click's standalone mode always exits
        status = EXIT_OK
    if not isinstance(status, int):  # the same rule as the interpreter's own exit
        if status is not None:
            print(status, file=sys.stderr)
        status = EXIT_OK if status is None else EXIT_ERRORS
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing left to say
            status = status or EXIT_ERRORS
    os._exit(status)
