"""The head snippet: CSS, the no-JavaScript style and the load script, and what the script does.

The script runs under Node (when installed) against a small fake DOM, which is enough to
check its contract: listeners first, then the `<html>` class; a capturing `load`/`error`
listener marks the wrapper; images already complete at DOMContentLoaded are marked too.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from markupsafe import Markup

from staticimg import staticimg_head
from staticimg.head import HEAD_CSS, HEAD_SCRIPT, JS_CLASS, NOSCRIPT_CSS


def test_head_has_style_noscript_style_and_script() -> None:
    head = staticimg_head()
    assert isinstance(head, Markup)
    assert str(head) == (
        f"<style>{HEAD_CSS}</style><noscript><style>{NOSCRIPT_CSS}</style></noscript>"
        f"<script>{HEAD_SCRIPT}</script>"
    )


def test_nonce_on_every_element_escaped() -> None:
    head = str(staticimg_head(nonce='abc"x'))
    assert head.count(' nonce="abc&#34;x"') == 3
    assert "<style nonce" in head and "<script nonce" in head


def test_css_keeps_gatsby_rules_and_timings() -> None:
    assert ".gatsby-image-wrapper{position:relative;overflow:hidden}" in HEAD_CSS
    assert ".gatsby-image-wrapper-constrained{display:inline-block;vertical-align:top}" in HEAD_CSS
    assert "object-fit:cover" in HEAD_CSS
    assert "transition:opacity .25s linear" in HEAD_CSS  # main image, Gatsby's 250 ms
    assert "transition:opacity .5s linear" in HEAD_CSS  # placeholder, Gatsby's 500 ms
    assert "[data-loaded] [data-placeholder-image]{opacity:0}" in HEAD_CSS
    assert "[data-placeholder-image]{opacity:0!important}" in NOSCRIPT_CSS


def test_script_is_small_and_adds_the_class_last() -> None:
    assert len(HEAD_SCRIPT) < 700
    assert HEAD_SCRIPT.rindex(JS_CLASS) > HEAD_SCRIPT.rindex("addEventListener")
    assert "addEventListener('load',h,!0)" in HEAD_SCRIPT  # capturing
    assert "addEventListener('error',h,!0)" in HEAD_SCRIPT


FAKE_DOM = r"""
const W = 'data-gatsby-image-wrapper';
function el(attrs, parent) {
  return {
    attrs: Object.assign({}, attrs), parent, complete: false,
    hasAttribute(n) { return n in this.attrs },
    setAttribute(n, v) { this.attrs[n] = v },
    closest(sel) {
      for (let x = this; x; x = x.parent) if (W in x.attrs) return x;
      return null;
    },
  };
}
const log = [];
const listeners = {};
const wrappers = [0, 1, 2].map(() => el({[W]: ''}));
const images = wrappers.map(w => el({'data-main-image': ''}, w));
images[2].complete = true;
let decoded = false;
images[0].decode = () => Promise.resolve().then(() => { decoded = true });
const document = {
  readyState: READY,
  documentElement: {classList: {add(c) { log.push('class:' + c) }}},
  addEventListener(type, fn, capture) {
    log.push('listen:' + type + ':' + !!capture);
    listeners[type] = fn;
  },
  querySelectorAll(sel) { return images.filter(i => !('data-loaded' in i.parent.attrs)) },
};
(function () { SCRIPT }).call(null);
listeners.load({type: 'load', target: images[0]});
listeners.error({type: 'error', target: images[1]});
listeners.load({type: 'load', target: document});  // the window's own load: ignored
if (listeners.DOMContentLoaded) listeners.DOMContentLoaded({target: document});
const before = 'data-loaded' in wrappers[0].attrs;  // not before the image is decoded
setTimeout(() => console.log(JSON.stringify({
  log, before, decoded, loaded: wrappers.map(w => 'data-loaded' in w.attrs),
})), 0);
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
@pytest.mark.parametrize("ready", ["loading", "interactive"])
def test_script_behaviour_in_node(ready: str) -> None:
    program = FAKE_DOM.replace("READY", json.dumps(ready)).replace("SCRIPT", HEAD_SCRIPT)
    result = subprocess.run(
        ["node", "-e", program], capture_output=True, text=True, timeout=60, check=True
    )
    outcome = json.loads(result.stdout)
    listens = [entry for entry in outcome["log"] if entry.startswith("listen:")]
    assert "listen:load:true" in listens and "listen:error:true" in listens
    assert outcome["log"][-1] == f"class:{JS_CLASS}"  # only after the listeners exist
    assert outcome["loaded"] == [True, True, True]
    assert outcome["before"] is False and outcome["decoded"] is True
    if ready == "loading":
        assert "listen:DOMContentLoaded:false" in listens
