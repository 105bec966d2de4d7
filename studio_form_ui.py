"""Widgets for the Generate form that follow a model's schema (lib/form.py says what to draw)."""
from __future__ import annotations

import math
import re
from functools import lru_cache

import streamlit as st

from lib import form as F
from lib import pricing
from lib.catalog import Catalog
from lib.images import ImageRejected, check_image
from lib.labels import label
from studio_ui import field_errors

ASPECTS = {(16, 9): "16:9 landscape", (9, 16): "9:16 portrait", (1, 1): "1:1 square", (4, 3): "4:3", (3, 4): "3:4"}
_HELP = {
    "json_object": "A JSON object, e.g. {\"key\": \"value\"}; checked before anything is sent.",
    "json_list": "A JSON list, e.g. [{\"key\": \"value\"}]; checked before anything is sent.",
}


# -- defaults that survive a slow first load ------------------------------------------------------------
# A value the app puts in session state (a restored draft, a re-run, a model switch's fitting) reaches the
# browser only with the script run that set it. On a slow machine a click can rerun the page before a
# widget's code has loaded; that widget then appears with the default of the newest run and sends it
# back, silently replacing the value (a draft's prompt emptied, the first model picked). So each keyed
# form widget takes its current value as its default. (Streamlit would log that a widget has both a
# default and a session value: .streamlit/config.toml turns that warning off.)

JS_MAX_SAFE_INTEGER = 2**53 - 1


def current(key: str, fallback=None):
    """The widget's current value, as its default (`fallback` before it has one)."""
    return st.session_state.get(key, fallback)


def current_index(options, key: str) -> int:
    """A selectbox's default: the position of its current value (the first option if it has none)."""
    options = list(options)
    value = st.session_state.get(key)
    return options.index(value) if value in options else 0


def _browser_number(value) -> bool:
    """A number a browser holds exactly; Streamlit refuses a default beyond that (a re-run's huge
    steps or ttl would otherwise break the page)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and abs(value) <= JS_MAX_SAFE_INTEGER)


def current_number(key: str, low, high=None):
    """A number widget's default: its current value, kept within the widget's range and of its type."""
    value = st.session_state.get(key)
    if not _browser_number(value):
        return low
    value = max(low, value)
    value = min(high, value) if high is not None else value
    return type(low)(value)


def aspect_label(size) -> str:
    w, h = size
    ratio = w / h
    name = next((label for (a, b), label in ASPECTS.items() if abs(a / b - ratio) < 0.02), f"{ratio:.2f}:1")
    return f"{w}x{h} · {name}"


@lru_cache(maxsize=4)
def picker_labels(catalog: Catalog) -> dict[str, str]:
    """One label per model for the picker: provider, name, AIR, price, deprecation. Built once per
    catalog (the picker reruns on every keystroke elsewhere in the form)."""
    labels = {F.CUSTOM: "Custom model (AIR id)…"}
    for air in F.picker_order(catalog):
        m = catalog.get(air)
        parts = [f"{m.provider} · {m.name}", air]
        price = pricing.headline(m)
        if price:
            parts.append(price)
        gone = F.deprecation(m)
        if gone:
            parts.append(f"⚠ deprecated ({gone})")
        labels[air] = " · ".join(parts)
    return labels


def draw_control(control: F.Control) -> None:
    """One schema-drawn control, with its validation messages under it."""
    c, ss = control, st.session_state
    if c.kind == "select":
        options = list(c.options) if c.required else [""] + list(c.options)
        if ss.get(c.key) not in options:
            ss[c.key] = options[0]
        st.selectbox(c.label, options, index=current_index(options, c.key), key=c.key,
                     format_func=lambda v: "(model default)" if v == "" else str(v))
    elif c.kind == "toggle":
        st.toggle(c.label, current(c.key, False), key=c.key)
    elif c.kind == "slider":
        lo, hi = (int(c.min), int(c.max)) if c.integer else (float(c.min), float(c.max))
        if not isinstance(ss.get(c.key), (int, float)) or not lo <= ss[c.key] <= hi:
            ss[c.key] = lo
        st.slider(c.label, lo, hi, current_number(c.key, lo, hi), key=c.key)
    elif c.kind == "number":
        # Empty until set: an unset number is left to the model's default.
        value = ss.get(c.key)
        value = (int(value) if c.integer else float(value)) if _browser_number(value) else None
        st.number_input(c.label, value=value, step=1 if c.integer else None, key=c.key,
                        placeholder="model default")
    elif c.kind in F.JSON_KINDS:
        st.text_area(c.label, current(c.key, ""), key=c.key, height=80, help=_HELP[c.kind],
                     placeholder="{}" if c.kind == "json_object" else "[]")
    else:
        st.text_area(c.label, current(c.key, ""), key=c.key, height=80)
    field_errors(c.name)


def thumbnails(images, max_bytes: int, width: int = 120) -> None:
    """Small previews of the uploaded images that are images Runware takes (the others get a
    message at their field instead)."""
    good = []
    for data in images:
        try:
            if isinstance(data, bytes) and data:  # (a re-run's image given by link has no preview)
                check_image(data, max_bytes)
                good.append(data)
        except ImageRejected:
            continue
    if good:
        st.image(good, width=width)


# -- the action bar, the error summary and the keyboard shortcut (issue 13 items 2, 3) -------------------

ACTION_BAR_KEY = "action_bar"
ACTION_BAR_DETAILS_KEY = "action_bar_details"
ADVANCED_KEY = "advanced_open"  # the Advanced expander's open state
SHORTCUT_HINT = "Ctrl/⌘+Enter in the prompt submits"
# Fields drawn inside the "Advanced" expander besides the model's JSON settings: an error in any of them
# opens it (a message inside a collapsed section is invisible).
ADVANCED_FIELDS = frozenset({"webhookURL", "ttl", "includeCost", "uploadEndpoint"})
def error_summary(problems: list[dict], order=()) -> str:
    """"Nothing was sent. Fix: Prompt, Provider settings": every field with a problem, once, in the
    order the page draws them (`order`: parameters as drawn); those drawn nowhere come last."""
    place = {name: i for i, name in reversed(list(enumerate(order)))}
    ranked = sorted(problems, key=lambda p: place.get(p.get("parameter"), len(place)))
    names = list(dict.fromkeys(label(p.get("parameter")) for p in ranked))
    return "Nothing was sent. Fix: " + ", ".join(names) + "."


def advanced_fields(lay: F.Layout) -> frozenset:
    """The request fields the "Advanced" expander draws."""
    return ADVANCED_FIELDS | {c.name for c in lay.controls if c.kind in F.JSON_KINDS}


def open_sections_holding(problems: list[dict], lay: F.Layout) -> None:
    """Open the Advanced expander when it holds an error. (A stateful expander: state set here, before the
    run draws it, opens it even after the user closed it; fixing the error does not fold it away.)"""
    if holds_error(problems, advanced_fields(lay)):
        st.session_state[ADVANCED_KEY] = True


def holds_error(problems: list[dict] | None, fields) -> bool:
    """Whether a section drawing these fields has a message to show (so it must be open)."""
    fields = set(fields)
    return any(re.sub(r"\[\d+\].*|\..*", "", str(p.get("parameter"))) in fields for p in problems or ())


# Sticks the keyed action bar (price, summary, Generate) to the bottom of the viewport, so the action is
# reachable without scrolling on any screen; it sits in its own place once the form ends above it.
_ACTION_BAR_CSS = """
<style>
/* Streamlit wraps the keyed block in a layout wrapper of the same size: that wrapper is what sticks. */
div:has(> .st-key-%(key)s) {
  position: sticky; bottom: 0; z-index: 99;
  background-color: var(--studio-page-bg, #ffffff);
  border-top: 1px solid color-mix(in srgb, currentColor 20%%, transparent);
  padding: 0.5rem 0 0.75rem 0;
  box-shadow: 0 -6px 12px -8px rgba(0, 0, 0, 0.25);
}
.st-key-%(key)s { gap: 0.4rem; }  /* a low bar leaves more of the form in view */
/* On a phone the bar keeps the price and Generate only (a phone has no Ctrl+Enter either): with the
   details it took about 120 px and covered the prompt on first load. */
@media (max-width: 640px) {
  .st-key-%(details)s { display: none; }
  div:has(> .st-key-%(key)s) { padding: 0.25rem 0 0.5rem 0; }
}
</style>
"""

# The bar's script: its background follows the page's colour, and Ctrl+Enter / Cmd+Enter in the prompt
# submits. Streamlit's text area commits its value on that same key press (and reruns); the click comes a
# moment later, so the rerun it asks for carries the committed prompt. The listener is installed once per
# browser page: this html is re-mounted on every visit to Generate.
_SUBMIT_SHORTCUT_JS = """
<script>
(() => {
  // The bar is opaque, in the page's own colour (light, dark or a custom theme, switched at any time):
  // the form scrolls underneath it. Streamlit's theme has no CSS variable, so the body's colour is copied.
  const copyBackground = () => document.documentElement.style.setProperty(
    "--studio-page-bg", getComputedStyle(document.body).backgroundColor);
  copyBackground();
  if (window.__studioSubmitShortcut) return;
  setInterval(copyBackground, 1000);
  window.__studioSubmitShortcut = true;
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.isComposing) return;
    const target = event.target;
    if (!target || !target.closest || !target.closest(".st-key-%(prompt)s")) return;
    setTimeout(() => {
      const button = document.querySelector(".st-key-%(key)s button[kind='primary']");
      if (!button || button.disabled) return;
      // Leaving the box commits a value Streamlit has not taken yet (as a mouse click on the button
      // would); then the prompt keeps the focus for the next edit.
      target.blur();
      button.click();
      target.focus();
    }, 150);
  }, true);
})();
</script>
"""

# Brings the first error message of the form into view once the rerun that drew it is over and the
# layout has settled (an expander it opened grows for a moment, pushing the message down: scrolled too
# early, it would end up under the action bar). The submit's number makes each script new, so the
# browser runs it once per refused submit.
_SCROLL_TO_ERROR_JS = """
<script>
(() => {
  /* submit %(run)d */
  const started = Date.now();
  let lastTop = null, steady = 0;
  const attempt = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    const idle = !app || app.getAttribute("data-test-script-state") !== "running";
    const message = document.querySelector('[data-testid="stMain"] [data-testid="stAlertContentError"]');
    const late = Date.now() - started > 4000;
    if (idle && message) {
      const target = message.closest('[data-testid="stElementContainer"]') || message;
      const top = Math.round(target.getBoundingClientRect().top);
      steady = top === lastTop ? steady + 1 : 0;
      lastTop = top;
      if (steady >= 3 || late) {
        target.scrollIntoView({block: "center"});
        return;
      }
    }
    if (Date.now() - started < 6000) setTimeout(attempt, 100);
  };
  setTimeout(attempt, 100);
})();
</script>
"""


def action_bar_assets(prompt_key: str = "f_prompt") -> None:
    """The action bar's style and the prompt's submit shortcut (they draw nothing)."""
    # One element with the script: a style-only st.html would go to Streamlit's event container, where
    # it takes the place of a toast the Generate callback just made (e.g. "Already submitted").
    st.html(_ACTION_BAR_CSS % {"key": ACTION_BAR_KEY, "details": ACTION_BAR_DETAILS_KEY}
            + _SUBMIT_SHORTCUT_JS % {"key": ACTION_BAR_KEY, "prompt": prompt_key}, unsafe_allow_javascript=True)


def scroll_to_first_error(run: int) -> None:
    st.html(_SCROLL_TO_ERROR_JS % {"run": run}, unsafe_allow_javascript=True)
