"""The example site in a real headless Chromium: what DESIGN.md §5 promises, measured.

- no layout shift while images arrive (CLS 0, with a control shift to prove the probe works);
- the browser downloads the right srcset candidate at phone, tablet and desktop widths, at
  1x and 2x: `sizes` is truthful on every `<source>` and the `<img>`;
- the eager hero is what Chromium reports as the largest contentful paint;
- with JavaScript off every image is visible;
- the placeholder shows until its image arrives, then fades out;
- a failed image shows its error in development and nothing in production.

The site is examples/site, built and rendered by the fixtures in conftest.py.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import PIL.Image
import pytest

from tests.browser.conftest import browser_missing

_missing = browser_missing()
if _missing:
    pytest.skip(_missing, allow_module_level=True)

from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

from tests.browser.conftest import reset  # noqa: E402
from tests.browser.server import IMAGE_PREFIX, SiteServer  # noqa: E402

PAGES = ["index.html", "gallery.html"]
# Every page, the Markdown one included: its images are Astro-style only.
ALL_PAGES = [*PAGES, "notes.html"]
# The images a page shows: GatsbyImage's main images and Astro-style Image/Picture/Markdown
# images with a layout (which carry `sizes`).
MAIN_IMAGES = "img[data-main-image], img[data-astro-image]"
HERO_ALT = "A dandelion clock lit by the low evening sun"  # each page's eager hero

# Types Chromium decodes; a <source> of any other type is skipped by the browser.
SUPPORTED_TYPES = {"", "image/avif", "image/webp", "image/jpeg", "image/png", "image/gif"}

ALL_MAIN_IMAGES_LOADED = """
const images = [...document.querySelectorAll('img[data-main-image], img[data-astro-image]')];
return images.length > 0 && images.every(i => i.complete && i.naturalWidth > 0);
"""

# Every layout shift since navigation. The observer's first callback brings the buffered
# entries; with none there is no callback, hence the timeout.
LAYOUT_SHIFTS = """
return await new Promise(resolve => {
  const shifts = [];
  const observer = new PerformanceObserver(list => {
    for (const entry of list.getEntries()) {
      shifts.push({
        value: entry.value,
        hadRecentInput: entry.hadRecentInput,
        nodes: entry.sources.map(
          s => s.node ? (s.node.outerHTML || s.node.nodeName).slice(0, 160) : '?'),
      });
    }
  });
  observer.observe({type: 'layout-shift', buffered: true});
  setTimeout(() => { observer.disconnect(); resolve(shifts); }, 300);
});
"""

# For each main image: what the browser chose (currentSrc), the candidate sets it chose
# from, and the box it is drawn in. `slot` is the width the `sizes` attribute of the set
# in use evaluates to here, measured by laying out a probe of that width.
IMAGE_CHOICES = """
const slotWidth = (sizes) => {
  const entries = sizes.split(',').map(s => s.trim()).filter(Boolean);
  let length = '100vw';
  for (const entry of entries) {
    const m = entry.match(/^(\\(.*\\))\\s+(\\S.*)$/);
    if (!m) { length = entry; break; }
    if (matchMedia(m[1]).matches) { length = m[2]; break; }
  }
  const probe = document.createElement('div');
  probe.style.cssText = 'position:absolute;visibility:hidden;height:0;width:' + length;
  document.body.appendChild(probe);
  const width = probe.getBoundingClientRect().width;
  probe.remove();
  return width;
};
const absolute = (srcset) => srcset.split(',').map(c => c.trim()).filter(Boolean).map(c => {
  const [url, descriptor] = c.split(/\\s+/);
  return [new URL(url, document.baseURI).href, descriptor || '1x'];
});
return [...document.querySelectorAll('img[data-main-image], img[data-astro-image]')].map(img => {
  const picture = img.parentElement.tagName === 'PICTURE' ? img.parentElement : null;
  const sources = picture ? [...picture.querySelectorAll('source')] : [];
  const sets = sources.map(s => ({
    kind: 'source', type: s.type, media: s.media,
    matches: !s.media || matchMedia(s.media).matches,
    candidates: absolute(s.srcset), sizes: s.sizes, slot: slotWidth(s.sizes || '100vw'),
  }));
  sets.push({
    kind: 'img', type: '', media: '', matches: true,
    candidates: img.srcset ? absolute(img.srcset) : [[img.src, '1x']],
    sizes: img.sizes, slot: slotWidth(img.sizes || '100vw'),
  });
  const box = img.getBoundingClientRect();
  return {
    alt: img.alt, currentSrc: img.currentSrc, sets,
    width: box.width, height: box.height, dpr: devicePixelRatio,
  };
});
"""


def go(driver: WebDriver, site: SiteServer, page: str) -> None:
    driver.get(site.url + page)


def scroll_through(driver: WebDriver) -> None:
    """Scroll to the bottom in steps, so every lazy image comes near the viewport, then back
    to the top. Driven from here, not by a script with timers: with JavaScript off, the
    page's timers never fire."""
    height, step = driver.execute_script(
        "return [document.documentElement.scrollHeight, Math.max(200, innerHeight * 0.8)]"
    )
    y = 0.0
    while y < height:
        y += step
        driver.execute_script("scrollTo(0, arguments[0])", y)
        time.sleep(0.03)
    driver.execute_script("scrollTo(0, 0)")


def load_everything(driver: WebDriver, timeout: float = 15) -> None:
    """Scroll through the page and wait until every main image has loaded."""
    scroll_through(driver)
    WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: d.execute_script(ALL_MAIN_IMAGES_LOADED),
        f"not every {MAIN_IMAGES} loaded",
    )


# ---------------------------------------------------------------------------------------
# 1. No layout shift


@pytest.mark.parametrize("page", ALL_PAGES)
@pytest.mark.parametrize("viewport", [375, 1440])
def test_images_arriving_shift_nothing(
    browser: WebDriver, site: SiteServer, page: str, viewport: int
) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": viewport, "height": 800, "deviceScaleFactor": 1, "mobile": False},
    )
    # Every image arrives well after the page is laid out: a box that waited for its image
    # to know its size would move everything below it.
    site.image_delay = 0.4
    go(browser, site, page)
    load_everything(browser)
    time.sleep(0.6)  # the fades (0.25 s, 0.5 s) end; opacity moves nothing, but be sure

    shifts = browser.execute_script(LAYOUT_SHIFTS)
    cls = sum(s["value"] for s in shifts if not s["hadRecentInput"])
    assert cls == 0, shifts

    # Control: the same probe sees a real shift, so the zero above is a measurement.
    browser.execute_script(
        "const d = document.createElement('div'); d.style.height = '120px';"
        "document.body.prepend(d);"
    )
    time.sleep(0.1)
    shifts = browser.execute_script(LAYOUT_SHIFTS)
    assert sum(s["value"] for s in shifts) > 0, "the layout-shift probe saw no control shift"


# ---------------------------------------------------------------------------------------
# 2. The right srcset candidate


@dataclass(frozen=True)
class Candidate:
    url: str
    width: float  # pixels: the `w` descriptor, or the density times the slot for `x`


def candidates(entries: list[list[str]], slot: float) -> list[Candidate]:
    result = []
    for url, descriptor in entries:
        value = float(descriptor[:-1])
        if descriptor.endswith("w"):
            result.append(Candidate(url, value))
        elif descriptor.endswith("x"):
            result.append(Candidate(url, value * slot))
        else:
            raise AssertionError(f"unexpected srcset descriptor {descriptor!r} for {url}")
    return sorted(result, key=lambda c: c.width)


def smallest_covering(options: list[Candidate], need: float) -> Candidate:
    """The smallest candidate at least `need` pixels wide, else the largest."""
    return next((c for c in options if c.width >= need), options[-1])


def chromium_geometric_pick(options: list[Candidate], slot: float, dpr: float) -> Candidate:
    """Blink's `SelectionLogic` (third_party/blink/.../html_srcset_parser.cc).

    Candidates sorted by density (`width / slot`); the first whose density covers the device
    pixel ratio wins, i.e. the smallest covering candidate, with one refinement above 1x: if
    the ratio is below the geometric mean of that candidate's density and the previous one's,
    the smaller one wins (a slight upscale instead of a much larger download). At 1x it never
    upscales. With no candidate large enough, the largest.
    """
    density = [c.width / slot for c in options]
    for i in range(len(options) - 1):
        if density[i + 1] < dpr:
            continue
        mean = math.sqrt(density[i] * density[i + 1])
        if (dpr <= 1 and dpr > density[i]) or dpr >= mean:
            return options[i + 1]
        return options[i]
    return options[-1]


@pytest.mark.parametrize("page", ALL_PAGES)
@pytest.mark.parametrize("dpr", [1, 2])
@pytest.mark.parametrize("viewport", [375, 768, 1440])
def test_browser_downloads_the_right_candidate(
    fresh_chrome: WebDriver,
    site: SiteServer,
    built_site: Path,
    page: str,
    viewport: int,
    dpr: int,
) -> None:
    # A browser of its own for every case (new profile, empty memory cache): Chromium takes
    # a larger candidate it already holds instead of downloading the right one
    # (AvoidDownloadIfHigherDensityResourceIsInCache), which would hide a wrong choice.
    driver = fresh_chrome
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": viewport, "height": 900, "deviceScaleFactor": dpr, "mobile": False},
    )
    site.forget_requests()
    go(driver, site, page)
    load_everything(driver)
    images: list[dict[str, Any]] = driver.execute_script(IMAGE_CHOICES)
    downloaded = {p for p in site.requests() if p.startswith(IMAGE_PREFIX)}

    assert images
    problems = []
    for image in images:
        label = f"{image['alt']!r} at {viewport}px@{dpr}x"
        assert image["dpr"] == dpr
        current = image["currentSrc"]
        # The set the browser used: the first <source> whose media matches and whose type it
        # decodes, else the <img>'s own srcset.
        eligible = [s for s in image["sets"] if s["matches"] and s["type"] in SUPPORTED_TYPES]
        chosen = eligible[0]
        urls = [url for url, _ in chosen["candidates"]]
        assert current in urls, (
            f"{label}: currentSrc {current} is not from the first eligible set "
            f"({chosen['kind']} type={chosen['type']!r} media={chosen['media']!r}): {urls}"
        )
        # `sizes` is truthful: the slot it promises is the box the image is drawn in.
        assert abs(chosen["slot"] - image["width"]) <= 1, (
            f"{label}: sizes={chosen['sizes']!r} says {chosen['slot']}px, "
            f"the image is {image['width']}px wide"
        )
        options = candidates(chosen["candidates"], image["width"])
        # The `w` descriptor is truthful too: the file loaded is that many pixels wide.
        loaded = next(c for c in options if c.url == current)
        if not current.endswith(".svg"):  # a vector image has no pixel width to check
            with PIL.Image.open(built_site / urlsplit(current).path.lstrip("/")) as file:
                assert file.width == round(loaded.width), (
                    f"{label}: {current} is {file.width}px wide, its srcset says {loaded.width}w"
                )
        need = image["width"] * dpr
        # The smallest candidate that covers the box at this pixel ratio. Above 1x, Blink's
        # geometric-mean rule may take the one just below it instead; both are right, any
        # other is not. (Headless Chromium with an emulated ratio takes the covering one.)
        allowed = {smallest_covering(options, need).url}
        if dpr > 1:
            allowed.add(chromium_geometric_pick(options, image["width"], dpr).url)
        if current not in allowed:
            problems.append(
                f"{label}: loaded {current.rsplit('/', 1)[-1]}, expected one of "
                f"{sorted(u.rsplit('/', 1)[-1] for u in allowed)} "
                f"(box {image['width']}px × {dpr} = {need}px; candidates "
                f"{[(c.url.rsplit('/', 1)[-1], c.width) for c in options]})"
            )
    assert not problems, "\n".join(problems)
    # Nothing else was fetched: one file per image, no candidate downloaded and dropped.
    assert downloaded == {urlsplit(image["currentSrc"]).path for image in images}


LARGEST_PAINT = """
return await new Promise(resolve => {
  new PerformanceObserver(list => {
    const entries = list.getEntries();
    const element = entries[entries.length - 1].element;
    resolve(element && {
      main: element.matches('img[data-main-image]'), alt: element.alt,
      loading: element.loading, fetchpriority: element.getAttribute('fetchpriority'),
    });
  }).observe({type: 'largest-contentful-paint', buffered: true});
});
"""


@pytest.mark.parametrize("page", PAGES)
def test_eager_hero_is_the_largest_contentful_paint(
    browser: WebDriver, site: SiteServer, page: str
) -> None:
    # The hero arrives after the text has painted, as on a real network: it must still be
    # what the browser reports as the largest contentful paint. (An image that fades in
    # from opacity 0 is never reported: the heroes are written with fade=False.)
    site.image_delay = 0.4
    go(browser, site, page)
    WebDriverWait(browser, 10, poll_frequency=0.05).until(
        lambda d: d.execute_script(
            "const i = document.querySelector('img[data-main-image]'); return i.complete"
        )
    )
    time.sleep(0.2)  # a frame or two for the paint to be timed
    assert browser.execute_script(LARGEST_PAINT) == {
        "main": True,
        "alt": HERO_ALT,
        "loading": "eager",
        "fetchpriority": "high",
    }


# ---------------------------------------------------------------------------------------
# 3. JavaScript off


@pytest.mark.parametrize("page", PAGES)
def test_every_image_is_visible_without_javascript(
    browser: WebDriver, site: SiteServer, page: str
) -> None:
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    go(browser, site, page)
    # WebDriver's own scripts still run; the page's do not.
    assert not browser.execute_script(
        "return document.documentElement.classList.contains('staticimg-js')"
    ), "the page's script ran: JavaScript is not off"
    load_everything(browser)
    states = browser.execute_script(
        """
        return [...document.querySelectorAll('img[data-main-image]')].map(img => {
          img.scrollIntoView({block: 'center'});
          const box = img.getBoundingClientRect();
          const wrapper = img.closest('[data-gatsby-image-wrapper]');
          const placeholder = wrapper.querySelector('[data-placeholder-image]');
          const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
          return {
            alt: img.alt, opacity: getComputedStyle(img).opacity,
            visibility: getComputedStyle(img).visibility,
            width: box.width, height: box.height,
            complete: img.complete, naturalWidth: img.naturalWidth,
            onTop: top === img,
            placeholderOpacity: placeholder ? getComputedStyle(placeholder).opacity : null,
          };
        });
        """
    )
    assert states
    for state in states:
        assert state["opacity"] == "1", state
        assert state["visibility"] == "visible", state
        assert state["width"] > 0 and state["height"] > 0, state
        assert state["complete"] and state["naturalWidth"] > 0, state
        assert state["onTop"], state  # nothing covers it
        assert state["placeholderOpacity"] in (None, "0"), state


# ---------------------------------------------------------------------------------------
# 4. Placeholder before and after

PLACEHOLDER_STATES = """
return [...document.querySelectorAll('[data-gatsby-image-wrapper]')].map(wrapper => {
  const main = wrapper.querySelector('img[data-main-image]');
  const placeholder = wrapper.querySelector('[data-placeholder-image]');
  const box = placeholder ? placeholder.getBoundingClientRect() : null;
  return {
    alt: main.alt,
    fade: !wrapper.hasAttribute('data-no-fade'),
    loaded: wrapper.hasAttribute('data-loaded'),
    complete: main.complete,
    mainOpacity: getComputedStyle(main).opacity,
    placeholder: placeholder && {
      tag: placeholder.tagName,
      opacity: getComputedStyle(placeholder).opacity,
      width: box.width, height: box.height,
      background: getComputedStyle(placeholder).backgroundColor,
      decoded: placeholder.tagName === 'IMG'
        ? placeholder.complete && placeholder.naturalWidth > 0 : null,
    },
  };
});
"""

IMAGE_DELAY = 3.0  # seconds: ample time to look at the page before any image arrives


@pytest.mark.parametrize("page", PAGES)
def test_placeholder_shows_until_the_image_arrives(
    unwaiting_chrome: WebDriver, site: SiteServer, page: str
) -> None:
    browser = unwaiting_chrome
    reset(browser)
    site.image_delay = IMAGE_DELAY
    started = time.monotonic()
    go(browser, site, page)  # returns at once: this driver does not wait for the load event
    WebDriverWait(browser, IMAGE_DELAY, poll_frequency=0.02).until(
        lambda d: d.execute_script(
            "return location.pathname === arguments[0] && document.readyState !== 'loading'",
            "/" + page,
        )
    )
    before = browser.execute_script(PLACEHOLDER_STATES)
    assert time.monotonic() - started < IMAGE_DELAY, "too slow to see the page before load"

    with_placeholder = [s for s in before if s["placeholder"]]
    assert with_placeholder, "no image on the page has a placeholder"
    for state in before:
        assert not state["complete"] and not state["loaded"], state
        # With JavaScript on, the main image waits hidden until it has loaded, to fade in;
        # without the fade (the heroes) it is never hidden: an image that has not arrived
        # draws nothing, so the placeholder shows through it.
        assert state["mainOpacity"] == ("0" if state["fade"] else "1"), state
    for state in with_placeholder:
        placeholder = state["placeholder"]
        assert placeholder["opacity"] == "1", state
        assert placeholder["width"] > 0 and placeholder["height"] > 0, state
        if placeholder["tag"] == "IMG":  # blurred: a data URI, decoded at once
            assert placeholder["decoded"], state
        else:  # dominant colour: a coloured box
            assert placeholder["background"] not in ("", "rgba(0, 0, 0, 0)"), state

    load_everything(browser, timeout=IMAGE_DELAY * 4)

    def settled(driver: WebDriver) -> list[dict[str, Any]] | None:
        states: list[dict[str, Any]] = driver.execute_script(PLACEHOLDER_STATES)
        done = all(
            s["loaded"]
            and s["mainOpacity"] == "1"
            and (s["placeholder"] is None or s["placeholder"]["opacity"] == "0")
            for s in states
        )
        return states if done else None

    # The fades take 0.25 s (image) and 0.5 s (placeholder); computed opacity reaches its
    # end value when they finish.
    after = WebDriverWait(browser, 5, poll_frequency=0.05).until(
        settled, "placeholders did not fade out, or main images did not fade in"
    )
    assert after is not None and len(after) == len(before)


# ---------------------------------------------------------------------------------------
# 5. A failed image


def test_failed_image_shows_its_error_in_development(browser: WebDriver, site: SiteServer) -> None:
    go(browser, site, "index.html")
    errors = browser.execute_script(
        """
        return [...document.querySelectorAll('[data-staticimg-error]')].map(e => {
          e.scrollIntoView({block: 'center'});
          const box = e.getBoundingClientRect();
          const style = getComputedStyle(e);
          return {
            text: e.innerText,
            width: box.width, height: box.height, display: style.display,
            visibility: style.visibility, opacity: style.opacity,
            elements: [...e.querySelectorAll('*')].map(c => c.tagName),
          };
        });
        """
    )
    assert len(errors) == 1, errors
    (error,) = errors
    assert "SI301" in error["text"] and "lighthouse.jpg" in error["text"], error
    assert error["display"] != "none" and error["visibility"] == "visible", error
    assert error["opacity"] == "1" and error["width"] > 0 and error["height"] > 0, error
    # The message is text, escaped: no markup of its own inside the warning.
    assert set(error["elements"]) <= {"STRONG"}, error


def test_failed_image_renders_nothing_in_production(browser: WebDriver, site: SiteServer) -> None:
    go(browser, site, "production/index.html")
    errors = browser.execute_script(
        """
        return [...document.querySelectorAll('[data-staticimg-error]')].map(e => ({
          text: e.innerText, width: e.getBoundingClientRect().width,
          display: getComputedStyle(e).display,
        }));
        """
    )
    assert errors == [{"text": "", "width": 0, "display": "none"}]
    load_everything(browser)  # and every other image is there
