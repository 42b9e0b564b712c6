"""The scan started ahead in a forked child: the same plan as planning here, and a plan
whatever happens to the child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from staticimg.compiler import lock, plan_ahead
from staticimg.compiler.config import load_config
from staticimg.compiler.plan import make_plan, scan_cache
from staticimg.compiler.plan_ahead import PlanAhead

from .test_cli import make_project

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forks a child")


def _plans(root: Path) -> tuple[object, object]:
    config, problems = load_config(root)
    with lock.hold(config):
        ahead = PlanAhead(config, jobs=1, config_diagnostics=problems)
        here = make_plan(config, jobs=1, config_diagnostics=problems)
        return ahead.result(), here


def _comparable(plan: object) -> object:
    return {name: getattr(plan, name) for name in ("requests", "diagnostics", "files", "calls")}


def test_the_child_plans_what_this_process_would(tmp_path: Path) -> None:
    ahead, here = _plans(make_project(tmp_path))
    assert _comparable(ahead) == _comparable(here)
    assert ahead.requests  # type: ignore[attr-defined]


def test_the_child_fills_the_scan_cache(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    config, _ = load_config(root)
    with lock.hold(config):
        PlanAhead(config, jobs=1).result()
    cached = list((config.cache_path / "scan").iterdir())
    assert cached
    cache = scan_cache(config)
    data = (root / "app" / "pages.py").read_bytes()
    assert cache.get(cache.key("app/pages.py", data)) is not None


def test_the_command_line_forks_the_scan(tmp_path: Path) -> None:
    """In a fresh single-threaded process, as on the command line (this test process may run
    other tests' threads, and then PlanAhead plans in-process instead): a child is forked,
    its plan is this process's plan, and a child killed before answering changes nothing."""
    root = make_project(tmp_path)
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from staticimg.compiler import lock, plan_ahead
        from staticimg.compiler.config import load_config
        from staticimg.compiler.plan import make_plan

        config, problems = load_config(Path({str(root)!r}))

        def same(a, b):
            names = ("requests", "diagnostics", "files", "calls")
            return all(getattr(a, n) == getattr(b, n) for n in names)

        with lock.hold(config):
            here = make_plan(config, jobs=1, config_diagnostics=problems)
            ahead = plan_ahead.PlanAhead(config, jobs=1, config_diagnostics=problems)
            assert ahead._child is not None
            child = ahead._child[0]
            assert same(ahead.result(), here) and here.requests
            assert child.exitcode == 0
            plan_ahead._plan_in_child = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
            killed = plan_ahead.PlanAhead(config, jobs=1, config_diagnostics=problems)
            child = killed._child[0]
            assert same(killed.result(), here)
            assert child.exitcode == -signal.SIGKILL
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_a_child_that_dies_leaves_the_plan_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path)
    config, _ = load_config(root)

    def die(*args: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if threading.active_count() > 1:
        pytest.skip("another thread runs in this test process: PlanAhead does not fork")
    monkeypatch.setattr(plan_ahead, "_plan_in_child", die)
    with lock.hold(config):
        ahead = PlanAhead(config, jobs=1)
        assert ahead._child is not None  # forked, and then killed
        plan = ahead.result()
    assert _comparable(plan) == _comparable(make_plan(config, jobs=1))


def test_a_failing_scan_is_raised_here_with_its_own_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = load_config(make_project(tmp_path))
    calls: list[str] = []

    def broken(*args: object, **kwargs: object) -> None:
        calls.append(str(os.getpid()))
        raise RuntimeError("scanner bug")

    monkeypatch.setattr("staticimg.compiler.plan.make_plan", broken)
    ahead = PlanAhead(config, jobs=1)
    with pytest.raises(RuntimeError, match="scanner bug"):
        ahead.result()
    assert calls == [str(os.getpid())]  # the child's failure is not recorded here


def test_no_fork_while_other_threads_run(tmp_path: Path) -> None:
    config, _ = load_config(make_project(tmp_path))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        ahead = PlanAhead(config, jobs=1)
        assert ahead._child is None  # forking a threaded process can deadlock the child
        assert ahead.result().requests
    finally:
        stop.set()
        other.join()
