"""Fixtures for the browser tests: the example site, built and served, and headless Chromium.

The site is built once per session from a copy of examples/site (never in place: the build
rewrites its sources), exactly as `make demo` builds it: `staticimg build`, then
`render.py`. It is served from a loopback server owned by the fixture. Chromium is Debian's
(`/usr/bin/chromium` driven by `/usr/bin/chromedriver`, both from `make system-deps`);
nothing is downloaded, and selenium's driver manager never runs because the driver's path is
given.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.server import SiteServer

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "site"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

# The default window of every test, unless it sets its own metrics.
DEFAULT_METRICS = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}

CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # the tests may run as root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no traffic but the test's own, to loopback
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Classic scrollbars take 15px from the layout viewport but not from `100vw`, so a
    # fullWidth image (`sizes="100vw"`) would be 15px narrower than its `sizes` says and the
    # candidate test would measure the scrollbar, not staticimg. Overlay scrollbars, as on
    # phones, make `100vw` the true width.
    "--hide-scrollbars",
]


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            return f"{path} not found: install it with `make system-deps` (Debian {package})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[dev]'"
    return None


def start_chrome(profile: Path, page_load_strategy: str = "normal") -> WebDriver:
    """A fresh headless Chromium with its own empty profile in `profile`.

    `page_load_strategy="none"` makes navigation return at once instead of at the load
    event, for a test that looks at a page while its images are still on their way.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    options.page_load_strategy = page_load_strategy
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    service = Service(executable_path=str(CHROMEDRIVER), log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_script_timeout(30)
    driver.set_page_load_timeout(30)
    reset(driver)
    return driver


def reset(driver: WebDriver) -> None:
    """Back to the default state: default window, scripts on, HTTP cache off, blank page."""
    driver.get("about:blank")
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DEFAULT_METRICS)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/site, built and rendered; returns its public/ folder."""
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    site = tmp_path_factory.mktemp("example") / "site"
    shutil.copytree(
        EXAMPLE,
        site,
        ignore=shutil.ignore_patterns("public", ".staticimg", "__pycache__"),
    )
    build = subprocess.run(
        [sys.executable, "-m", "staticimg.compiler", "build", "--no-color"],
        cwd=site,
        capture_output=True,
        text=True,
        check=False,
    )
    # The example has one failing call on purpose (a missing file, SI301), so the build
    # reports exactly one error and exits 1; anything else is a broken build.
    report = build.stdout + build.stderr
    assert build.returncode == 1, report
    assert report.count("error[") == 1, report
    assert "error[SI301]" in report, report
    # Development at the root (what `make demo` renders), production under /production/.
    for args in ([], ["--production", "--out", "public/production"]):
        render = subprocess.run(
            [sys.executable, "render.py", *args],
            cwd=site,
            capture_output=True,
            text=True,
            check=False,
        )
        assert render.returncode == 0, render.stdout + render.stderr
    return site / "public"


@pytest.fixture(scope="session")
def server(built_site: Path) -> Iterator[SiteServer]:
    with SiteServer(built_site) as running:
        yield running


@pytest.fixture
def site(server: SiteServer) -> Iterator[SiteServer]:
    """The server, with its switches back to their defaults after the test."""
    yield server
    server.image_delay = 0.0
    server.no_store = True


@pytest.fixture(scope="session")
def shared_chrome(
    tmp_path_factory: pytest.TempPathFactory, built_site: Path
) -> Iterator[WebDriver]:
    """One Chromium for the session: most tests reset it and reuse it (see `browser`)."""
    driver = start_chrome(tmp_path_factory.mktemp("chrome-profile"))
    yield driver
    with contextlib.suppress(Exception):  # a dead browser must not mask the real failure
        driver.quit()


@pytest.fixture(scope="session")
def unwaiting_chrome(
    tmp_path_factory: pytest.TempPathFactory, built_site: Path
) -> Iterator[WebDriver]:
    """A Chromium whose navigations do not wait for the load event (page load strategy
    "none"): chromedriver otherwise blocks every command until the page, images included,
    has loaded, so a page whose images are held back could not be looked at before they
    arrive."""
    driver = start_chrome(tmp_path_factory.mktemp("chrome-profile"), page_load_strategy="none")
    yield driver
    with contextlib.suppress(Exception):
        driver.quit()


@pytest.fixture
def fresh_chrome(tmp_path: Path, built_site: Path) -> Iterator[WebDriver]:
    """A Chromium of the test's own, with a new profile and empty caches; quit after."""
    driver = start_chrome(tmp_path / "chrome-profile")
    yield driver
    with contextlib.suppress(Exception):
        driver.quit()


@pytest.fixture
def browser(shared_chrome: WebDriver) -> Iterator[WebDriver]:
    """The session's Chromium, reset to the default state before and after the test."""
    reset(shared_chrome)
    yield shared_chrome
    reset(shared_chrome)
