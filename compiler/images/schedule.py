"""Running jobs over the cores with the pixels in flight bounded.

Any `concurrent.futures.Executor` can run the jobs (a Dask `Client.get_executor()` or a Ray
pool for very large catalogues); by default it is a process pool with one worker per core.
Workers come from a fork server that has imported only the pixel code, so each one carries
Pillow and not the scanner.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait

from staticimg.compiler.images.jobs import Job, JobResult

# Decoded pixels allowed in flight per worker. A job larger than the whole budget still runs,
# alone. At 4 bytes a pixel plus a crop and the first resize, this keeps a worker near 100 MB.
PIXELS_PER_WORKER = 24_000_000

OnResult = Callable[[Job, JobResult], None]


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Workers:
    """Where jobs run: the given executor, this process (one worker or one job), or a process
    pool started when first needed, or earlier with `start()` so the workers boot while the
    parent is still scanning."""

    def __init__(self, workers: int, executor: Executor | None = None) -> None:
        self.workers = workers
        self.executor = executor
        self._pool: ProcessPoolExecutor | None = None
        self._booting: threading.Thread | None = None

    def start(self) -> None:
        """Boot the workers without waiting for them.

        Starting a worker blocks until the fork server has imported the pixel code (about a
        tenth of a second), so the workers are asked for from a thread: the build goes on
        scanning meanwhile, and the fork server's imports run on another core.
        """
        if self.executor is not None or self._pool is not None or self.workers <= 1:
            return
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["staticimg.compiler.images.work"])
        pool = self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        self._booting = threading.Thread(target=_boot, args=(pool, self.workers), daemon=True)
        self._booting.start()

    def _booted(self) -> ProcessPoolExecutor:
        if self._booting is not None:
            self._booting.join()
            self._booting = None
        assert self._pool is not None
        return self._pool

    def run(self, jobs: Sequence[Job], on_result: OnResult) -> None:
        """Run every job, calling `on_result` in the parent as each one finishes.

        Largest first, so the long jobs start early and the cores finish together.
        """
        ordered = sorted(jobs, key=lambda job: (-job.cost, job.digest))
        from staticimg.compiler.images.work import run_job  # the pixel code: only when needed

        if self.executor is not None:
            _run_bounded(self.executor, ordered, on_result, self.workers)
        elif self._pool is None and (self.workers <= 1 or len(ordered) <= 1):
            for job in ordered:
                on_result(job, run_job(job))
        elif ordered:
            self.start()
            _run_bounded(self._booted(), ordered, on_result, self.workers)

    def close(self) -> None:
        if self._pool is not None:
            self._booted().shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _boot(pool: ProcessPoolExecutor, workers: int) -> None:
    # Workers are spawned on demand, one per job submitted while none is idle: ask for all.
    for _ in range(workers):
        pool.submit(_ready)


def _ready() -> None:
    """A no-op job: submitting one makes the pool start a worker."""


def _run_bounded(
    executor: Executor, ordered: Sequence[Job], on_result: OnResult, workers: int
) -> None:
    from staticimg.compiler.images.work import run_job

    budget = PIXELS_PER_WORKER * workers
    pending = deque(ordered)
    in_flight: dict[Future[JobResult], Job] = {}
    pixels = 0
    try:
        while pending or in_flight:
            # Keep every worker fed (plus one queued each) while the pixel budget allows.
            while pending and len(in_flight) < 2 * workers:
                if in_flight and pixels + pending[0].cost > budget:
                    break
                job = pending.popleft()
                in_flight[executor.submit(run_job, job)] = job
                pixels += job.cost
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                job = in_flight.pop(future)
                pixels -= job.cost
                on_result(job, _result(job, future))
    finally:
        for future in in_flight:
            future.cancel()


def _result(job: Job, future: Future[JobResult]) -> JobResult:
    try:
        return future.result()
    except Exception as exc:  # a worker that died (out of memory, killed) fails its job only
        message = f"the worker processing this image failed: {type(exc).__name__}: {exc}"
        hint = "Run again with `-j 1` to see whether the image itself is the problem."
        return JobResult(job.digest, error=("SI304", message, hint))
