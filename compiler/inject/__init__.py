"""`staticimg inject`: write each call's outcome into the source, as Gatsby's Babel pass does.

Every planned call gets one keyword argument: `__image_data="<props hash>"`, a reference the
runtime resolves to the JSON `extract` wrote, or `__error="<text>"` saying why there is no
image (see `outcome`). Python files are rewritten through libcst (`python`), templates by text
edits at the offsets Jinja's lexer gives (`jinja`). Only files with planned calls are read,
and a file is written only when its bytes change, atomically, keeping its permissions.
"""

from __future__ import annotations

import difflib
import io
import stat
import time
import tokenize
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from staticimg.compiler.atomic import write_if_changed
from staticimg.compiler.config import Config
from staticimg.compiler.diagnostics import Diagnostic
from staticimg.compiler.inject.outcome import (
    InjectError,
    Outcome,
    Records,
    Skipped,
    decide,
)
from staticimg.compiler.plan import (
    TEMPLATE_CALLEES,
    Plan,
    PlannedCall,
    plan_scan,
    scan_source,
    template_environment,
)
from staticimg.compiler.scan.discover import SourceFile, SourceKind

__all__ = ["FileInjection", "InjectedCall", "Injection", "file_diagnostics", "inject"]

# Rewrites of one file, at most, until its error texts name where the calls are now. Two
# suffice unless a column crosses a power of ten on the way.
MAX_PASSES = 4


@dataclass(frozen=True, slots=True)
class InjectedCall:
    call: PlannedCall
    outcome: Outcome
    skipped: str | None = None  # why the outcome could not be written into this call


@dataclass(frozen=True, slots=True)
class FileInjection:
    file: str  # project-relative, POSIX separators
    path: Path
    calls: tuple[InjectedCall, ...]
    before: bytes = b""
    after: bytes = b""
    problem: str | None = None  # set when the file was not rewritten at all
    written: bool = False

    @property
    def changed(self) -> bool:
        return self.problem is None and self.after != self.before

    def diff(self) -> str:
        """A unified diff of the rewrite (empty when nothing changes)."""
        if not self.changed:
            return ""
        encoding = _encoding(self.before) if _is_python(self.file) else "utf-8"
        before = self.before.decode(encoding, "replace").splitlines(keepends=True)
        after = self.after.decode(encoding, "replace").splitlines(keepends=True)
        lines = difflib.unified_diff(before, after, f"a/{self.file}", f"b/{self.file}")
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


@dataclass(frozen=True, slots=True)
class Injection:
    files: tuple[FileInjection, ...]
    seconds: float

    @property
    def changed(self) -> tuple[FileInjection, ...]:
        return tuple(f for f in self.files if f.changed)

    @property
    def not_rewritten(self) -> tuple[FileInjection, ...]:
        return tuple(f for f in self.files if f.problem is not None)

    @property
    def calls(self) -> tuple[InjectedCall, ...]:
        """The calls whose outcome is in the source now (or would be, with `write=False`)."""
        return tuple(
            c for f in self.files if f.problem is None for c in f.calls if c.skipped is None
        )

    @property
    def skipped(self) -> tuple[InjectedCall, ...]:
        return tuple(
            c for f in self.files if f.problem is None for c in f.calls if c.skipped is not None
        )

    @property
    def images(self) -> int:
        return sum(1 for c in self.calls if not c.outcome.is_error)

    @property
    def errors(self) -> int:
        return sum(1 for c in self.calls if c.outcome.is_error)

    @property
    def failed(self) -> bool:
        """Whether some outcome could not be written: a file or a call was left alone."""
        return bool(self.not_rewritten or self.skipped)


def inject(
    config: Config,
    plan: Plan,
    *,
    records: Mapping[str, Mapping[str, Any]] | None = None,
    write: bool = True,
) -> Injection:
    """Rewrite every file that has planned calls. `records` are a build's data records by
    props hash, still in memory; others are read from the data folder. With `write=False`
    nothing is written and the result says what would change."""
    started = time.perf_counter()
    store = Records(config, records)
    by_file: dict[str, list[PlannedCall]] = defaultdict(list)
    for call in plan.calls:
        if call.injectable:
            by_file[call.file].append(call)
    files = [
        _inject_file(config, file, calls, store, write) for file, calls in sorted(by_file.items())
    ]
    return Injection(tuple(files), time.perf_counter() - started)


def _inject_file(
    config: Config, file: str, planned: list[PlannedCall], store: Records, write: bool
) -> FileInjection:
    path = config.root / file
    outcomes = _decide(planned, store)
    calls = tuple(InjectedCall(call, outcome) for call, outcome in outcomes)
    # Write through a symlink to its target (replacing the link would cut it), but only
    # inside the project: inject never edits files elsewhere.
    target = path.resolve()
    if not target.is_relative_to(config.root):
        return FileInjection(file, path, calls, problem="it links to a file outside the project")
    try:
        before = target.read_bytes()
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError as exc:
        return FileInjection(file, path, calls, problem=f"cannot read it: {exc.strerror or exc}")
    try:
        current = before
        after, skipped = _rewrite(config, file, before, outcomes)
        # Error texts name lines and columns. The first rewrite of a file can move calls (a
        # new line per multi-line call), so the texts would name places of the old text and
        # the next run would rewrite them again: re-plan the new text until it is stable.
        for _ in range(MAX_PASSES - 1):
            if after == current or not any(outcome.is_error for _, outcome in outcomes):
                break
            outcomes = _decide(_replan(config, file, target, after, len(planned)), store)
            current = after
            after, skipped = _rewrite(config, file, current, outcomes)
    except InjectError as exc:
        return FileInjection(file, path, calls, before, before, problem=str(exc))
    # Calls are reported where they are in the file on disk when the command ends: the
    # re-planned positions once written, the original ones on a dry run.
    reasons = {s.span: s.reason for s in skipped}
    calls = tuple(
        InjectedCall(final if write else original, outcome, reasons.get(final.span))
        for original, (final, outcome) in zip(planned, outcomes, strict=True)
    )
    written = False
    if write and after != before:
        try:
            written = write_if_changed(target, after)
            if written and stat.S_IMODE(target.stat().st_mode) != mode:
                target.chmod(mode)  # the temporary file was created with default bits
        except OSError as exc:
            problem = f"cannot write it: {exc.strerror or exc}"
            return FileInjection(file, path, calls, before, before, problem=problem)
    return FileInjection(file, path, calls, before, after, written=written)


def _decide(calls: list[PlannedCall], store: Records) -> list[tuple[PlannedCall, Outcome]]:
    return [(c, decide(c, store.get(c.request.hash) if c.request else None)) for c in calls]


def _replan(config: Config, file: str, path: Path, source: bytes, count: int) -> list[PlannedCall]:
    """The calls of a rewritten file, planned again, exactly as the next run will see them."""
    kind = SourceKind.PYTHON if _is_python(file) else SourceKind.TEMPLATE
    scan = scan_source(config.jinja, SourceFile(path, file, kind), source)
    planned = plan_scan(scan)
    if scan.diagnostics or len(planned) != count:  # pragma: no cover - a bug in this module
        raise InjectError(
            "the rewritten file does not scan as before; it was left unchanged. Please report "
            "this as a staticimg bug, with the file"
        )
    return planned


def _rewrite(
    config: Config, file: str, source: bytes, planned: list[tuple[PlannedCall, Outcome]]
) -> tuple[bytes, tuple[Skipped, ...]]:
    outcomes = {call.span: outcome for call, outcome in planned}
    # The scanner chose its parser by the same rule: `.py` is Python, anything else planned
    # is a template.
    if _is_python(file):
        from staticimg.compiler.inject.python import inject_python  # libcst: slow to import

        result = inject_python(source, outcomes)
        return result.source, result.skipped
    from staticimg.compiler.inject.jinja import inject_template

    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InjectError(f"it is no longer UTF-8 ({exc.reason}); run inject again") from exc
    try:
        env = template_environment(config.jinja)
    except Exception as exc:  # it scanned with these settings; guard all the same
        raise InjectError(f"the Jinja settings cannot make an environment: {exc}") from exc
    rewritten = inject_template(text, outcomes, env, TEMPLATE_CALLEES, name=file)
    return (source if rewritten == text else rewritten.encode("utf-8")), ()


def _encoding(source: bytes) -> str:
    try:
        return tokenize.detect_encoding(io.BytesIO(source).readline)[0]
    except (SyntaxError, LookupError):
        return "utf-8"


def file_diagnostics(plan: Plan) -> list[Diagnostic]:
    """The plan's diagnostics that belong to no call: configuration, and files that could
    not be scanned (their calls could not be injected)."""
    of_calls = {d for call in plan.calls for d in call.diagnostics}
    return [d for d in plan.diagnostics if d not in of_calls]


def _is_python(file: str) -> bool:
    # Discovery's rule: `.py` in any case is Python; every other planned file is a template.
    return file.lower().endswith(".py")
