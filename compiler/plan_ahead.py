"""The scan, started in a forked child process while the caller imports the image stage.

A first build spends its first few tenths of a second importing: libcst and the scanner on
one side, Pillow and the image stage on the other. Neither needs the other until the scan is
done, so the scan runs in a child while the parent imports, and the two halves take the two
cores. This module is imported before either half: it must stay light.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from staticimg.compiler.config import Config
    from staticimg.compiler.diagnostics import Diagnostic
    from staticimg.compiler.plan import Plan

__all__ = ["PlanAhead"]


class PlanAhead:
    """`make_plan` under way in a forked child process, so that the caller can import and
    start the image stage (Pillow, the workers) on the other core while the scanner imports
    libcst and parses. `result()` waits for it.

    The child is forked only where that is safe: on Linux, from a process running no other
    thread. Anywhere else, or if the child dies, the plan is made in this process instead:
    the same plan, later. Start it while holding the project's lock (`lock.hold`), which the
    child inherits: it writes the scan cache.
    """

    def __init__(
        self,
        config: Config,
        paths: Sequence[Path] = (),
        *,
        jobs: int | None = None,
        config_diagnostics: Sequence[Diagnostic] = (),
    ) -> None:
        self._arguments = (config, tuple(paths), jobs, tuple(config_diagnostics))
        self._child: tuple[BaseProcess, Connection] | None = None
        if sys.platform == "linux" and threading.active_count() == 1:
            context = multiprocessing.get_context("fork")
            receiver, sender = context.Pipe(duplex=False)
            child = context.Process(target=_plan_in_child, args=(sender, *self._arguments))
            child.start()
            sender.close()
            self._child = (child, receiver)

    def result(self) -> Plan:
        if self._child is not None:
            child, receiver = self._child
            self._child = None
            plan: Plan | None
            try:
                plan = receiver.recv()
            except (EOFError, OSError):  # the child died before it answered
                plan = None
            finally:
                receiver.close()
                child.join()
            if plan is not None:
                return plan
        return _plan(*self._arguments)


def _plan(
    config: Config,
    paths: Sequence[Path],
    jobs: int | None,
    config_diagnostics: Sequence[Diagnostic],
) -> Plan:
    from staticimg.compiler.plan import make_plan, scan_cache

    return make_plan(
        config, paths, jobs=jobs, config_diagnostics=config_diagnostics, cache=scan_cache(config)
    )


def _plan_in_child(
    sender: Connection,
    config: Config,
    paths: Sequence[Path],
    jobs: int | None,
    config_diagnostics: Sequence[Diagnostic],
) -> None:
    try:
        plan: Plan | None = _plan(config, paths, jobs, config_diagnostics)
    except BaseException:  # the parent plans again and reports it, with its own traceback
        plan = None
    sender.send(plan)
    sender.close()
