"""The once-per-page `<head>` snippet: wrapper CSS, the no-JavaScript style, the load script.

Gatsby hides every main image with an inline `opacity:0` and relies on its scripts to undo
it, so an image stays invisible when JavaScript is off, late or broken (and when the image
loads before the per-image script runs: issue #35628). Here the main image is visible by
default. The only rule that hides it is scoped under `html.staticimg-js`, a class the script
below adds to `<html>` *after* it has registered its listeners, so an image is hidden only
while something is certain to reveal it:

* one capturing `load`/`error` listener on `document` (load events do not bubble, but they
  do pass `document` in the capture phase) catches every main image whenever it finishes,
  including images inserted later, and marks its wrapper `data-loaded` once the image is
  decoded (`img.decode()`, as Gatsby does), so the placeholder never fades out over an image
  that is not painted yet (the "blink" of Gatsby issue #29911);
* at DOMContentLoaded, wrappers whose image is already `complete` are marked too (an image
  that finished before this script ran, if the snippet was placed late).

`data-loaded` fades the main image in (250 ms) and the placeholder out (500 ms), Gatsby's
timings; a wrapper with `data-no-fade` (`fade=False`) never hides its image and drops the
placeholder without a transition.
"""

from __future__ import annotations

from typing import Final

from markupsafe import Markup

from staticimg.html import attribute_value

__all__ = ["HEAD_CSS", "HEAD_SCRIPT", "JS_CLASS", "NOSCRIPT_CSS", "staticimg_head"]

JS_CLASS: Final = "staticimg-js"

W: Final = ".gatsby-image-wrapper"

HEAD_CSS: Final = (
    f"{W}{{position:relative;overflow:hidden}}"
    f"{W} img{{bottom:0;height:100%;left:0;margin:0;max-width:none;padding:0;"
    "position:absolute;right:0;top:0;width:100%;object-fit:cover}"
    f"{W} [data-main-image]{{transform:translateZ(0);transition:opacity .25s linear}}"
    f".{JS_CLASS} {W}:not([data-loaded]):not([data-no-fade]) [data-main-image]"
    "{opacity:0;will-change:opacity}"
    f"{W} [data-placeholder-image]{{transition:opacity .5s linear}}"
    f"{W}[data-loaded] [data-placeholder-image]{{opacity:0}}"
    f"{W}[data-no-fade] [data-main-image],{W}[data-no-fade] [data-placeholder-image]"
    "{transition:none}"
    f"{W}-constrained{{display:inline-block;vertical-align:top}}"
)

# Without JavaScript nothing would ever remove a placeholder (which shows through a
# transparent image), so it is hidden, as Gatsby does; the main image needs no help.
NOSCRIPT_CSS: Final = f"{W} [data-placeholder-image]{{opacity:0!important}}"

HEAD_SCRIPT: Final = (
    "(function(d){"
    "function m(i){var w=i.closest('[data-gatsby-image-wrapper]');"
    "w&&w.setAttribute('data-loaded','')}"
    "function h(e){var t=e.target,f=function(){m(t)};"
    "t&&t.hasAttribute&&t.hasAttribute('data-main-image')&&"
    "(e.type=='load'&&t.decode?t.decode().then(f,f):f())}"
    "function c(){d.querySelectorAll("
    "'[data-gatsby-image-wrapper]:not([data-loaded]) [data-main-image]')"
    ".forEach(function(i){i.complete&&m(i)})}"
    "d.addEventListener('load',h,!0);d.addEventListener('error',h,!0);"
    "d.readyState=='loading'?d.addEventListener('DOMContentLoaded',c):c();"
    f"d.documentElement.classList.add('{JS_CLASS}')"
    "})(document)"
)

_HEAD: Final = (
    "<style{nonce}>" + HEAD_CSS + "</style>"
    "<noscript><style{nonce}>" + NOSCRIPT_CSS + "</style></noscript>"
    "<script{nonce}>" + HEAD_SCRIPT + "</script>"
)
_PLAIN_HEAD: Final = Markup(_HEAD.replace("{nonce}", ""))


def staticimg_head(*, nonce: str | None = None) -> Markup:
    """The `<style>`, `<noscript><style>` and `<script>` every page with images needs, once,
    in `<head>` (and the Astro responsive-image `<style>` when `responsive_styles` is on).
    `nonce` is written on each for a Content-Security-Policy that uses one.
    """
    # Astro's responsive-image CSS, when `[tool.staticimg.image] responsive_styles = true`
    # (imported here, not at the top: a Gatsby-only page must not load the Astro settings).
    from staticimg.astro.styles import responsive_styles_for_head

    astro_css = responsive_styles_for_head()
    if nonce is None:
        if not astro_css:
            return _PLAIN_HEAD
        return Markup(f"{_PLAIN_HEAD}<style>{astro_css}</style>")
    attribute = f' nonce="{attribute_value(nonce)}"'
    html = _HEAD.replace("{nonce}", attribute)
    if astro_css:
        html += f"<style{attribute}>{astro_css}</style>"
    return Markup(html)
