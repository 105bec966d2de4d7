"""What a browser keeps for itself (lib/prefs.py says what and checks it), wired to Streamlit.

- The Generate draft lives in the page's URL (`?draft=`): a reload, or the link opened again, brings the
  form back. Not the workspace: in local mode every browser shares one workspace, and a draft is one
  person's. Uploaded files cannot live in a URL: they are not kept, and a restored form says so.
- The user's defaults (model, format, quality) live in a cookie of this browser, written by a tiny
  script on the Settings page and read from the cookies the browser sends when a session starts
  (`st.context.cookies`), so they reach every new tab of this browser and no other browser.

Which wins on a fresh form: a re-run from History, then the draft, then the defaults.
"""
from __future__ import annotations

import json
import logging

import streamlit as st

from lib import form as F
from lib import prefs
from lib.catalog import Catalog
from lib.studio import Studio
from studio_form_ui import current_index, current_number

log = logging.getLogger("studio.prefs")

COOKIE_DAYS = 365
RESTORED_NOTE = ("Your draft is back from this page's link. Files you uploaded are not kept in a link: "
                 "add them again.")


# -- the draft, on Generate -------------------------------------------------------------------------

def start_form(s: Studio) -> None:
    """Before the form is drawn. A fresh form (a new session, or back from another page, where Streamlit
    forgets widget values) is filled from this session's last draft, else the draft in the URL (a
    reload, or the link opened again), else the user's defaults. A re-run chosen on History is filled
    next by the page and wins: nothing here."""
    ss = st.session_state
    if "f_model" in ss or ss.get("prefill_task"):
        return
    values = prefs.decode_draft(ss.get("prefs_draft"), s.catalog, session_copy=True)
    if not values:
        values = prefs.decode_draft(st.query_params.get(prefs.DRAFT_PARAM), s.catalog)
        if values:
            st.toast(RESTORED_NOTE, icon=":material/restore:")
    # The draft wins; the defaults fill what it lacks (a link's model the catalog no longer has, say).
    values = {**defaults(s.catalog).form_values(), **values}
    for key, value in values.items():
        ss[key] = value
    if "f_model" in values:
        # Filling a form is not a model switch: nothing to report as dropped.
        custom = values["f_model"] == F.CUSTOM
        ss["f_last_air"] = values["f_custom_air"].strip() if custom else values["f_model"]
        ss["f_switch_note"] = None


def keep_draft() -> None:
    """Keep the form's values in the URL (and in this session, for a return from another page). Called
    at the top of every Generate run, when the session already holds what the browser just sent.

    Written by a tiny script with history.replaceState, not through st.query_params: Streamlit turns
    every st.query_params change into a new browser-history entry, so Back would step through drafts
    instead of leaving the page. The server reads the draft back from the URL a new session starts
    with. A draft too long for a URL is left out of it; so are the results' destinations (webhook,
    upload endpoint), which only the session's copy keeps."""
    ss = st.session_state
    ss["prefs_draft"] = prefs.encode_draft(ss, session_copy=True)
    st.sidebar.html(url_script(prefs.encode_draft(ss)), unsafe_allow_javascript=True)


def url_script(word: str | None) -> str:
    """A script that puts the draft into this page's URL (or takes it out), in place."""
    return ("<script>(() => { const url = new URL(window.location.href);"
            f" const word = {json.dumps(word)}; const name = {json.dumps(prefs.DRAFT_PARAM)};"
            " if (word) { url.searchParams.set(name, word); } else { url.searchParams.delete(name); }"
            " if (url.href !== window.location.href) {"
            " window.history.replaceState(window.history.state, '', url.href); } })();</script>")


# -- the defaults, on Settings ------------------------------------------------------------------------

def defaults(catalog: Catalog) -> prefs.Defaults:
    """This browser's defaults: as saved in this session, else from the cookie it sent at the start."""
    ss = st.session_state
    if "prefs_defaults" not in ss:
        ss["prefs_defaults"] = prefs.decode_defaults(st.context.cookies.get(prefs.DEFAULTS_COOKIE), catalog)
    return ss["prefs_defaults"]


def cookie_script(value: str | None) -> str:
    """A script that sets (or, for None, removes) the defaults cookie in this browser. The value is
    ours (URL-safe characters only) and JSON-quoted all the same."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    path = "/" + base
    life = f"Max-Age={COOKIE_DAYS * 86400}" if value else "Max-Age=0"
    attributes = f"; Path={path}; {life}; SameSite=Lax"
    return ("<script>document.cookie = " + json.dumps(f"{prefs.DEFAULTS_COOKIE}={value or ''}{attributes}")
            + " + (location.protocol === 'https:' ? '; Secure' : '');</script>")


def _save(catalog: Catalog) -> None:
    ss = st.session_state
    chosen = prefs.check_defaults(catalog, model=ss.get("pd_model"), format=ss.get("pd_format"),
                                  quality=ss.get("pd_quality"))
    ss["prefs_defaults"] = chosen
    ss["prefs_cookie"] = prefs.encode_defaults(chosen) or ""
    ss["prefs_note"] = ("Saved: new Generate forms in this browser (a new tab, or the app opened afresh) start "
                        "with these. A form you already started keeps its values.")


def _clear() -> None:
    ss = st.session_state
    ss["prefs_defaults"] = prefs.Defaults()
    ss["prefs_cookie"] = ""
    ss["prefs_note"] = "Cleared: new Generate forms start with the app's own defaults."
    for key in ("pd_model", "pd_format", "pd_quality"):
        ss.pop(key, None)


def defaults_form(s: Studio, model_labels: dict[str, str]) -> None:
    """The Settings page's "Your defaults" block: model, format and quality, kept in this browser."""
    ss = st.session_state
    catalog = s.catalog
    current = defaults(catalog)
    st.subheader("Your defaults")
    st.caption("What a new Generate form starts with, in this browser only (kept in a cookie of this "
               "browser, not in your workspace). A draft in the page's link wins over them, and a re-run "
               "from History wins over both.")
    airs = list(F.picker_order(catalog))
    formats = list(catalog.generic.output_formats)
    ss.setdefault("pd_model", current.model if current.model in airs else F.default_model(catalog))
    ss.setdefault("pd_format", current.format or F.GENERIC_DEFAULTS["f_format"])
    ss.setdefault("pd_quality", current.quality or F.GENERIC_DEFAULTS["f_quality"])
    with st.form("prefs_defaults_form", border=True):
        st.selectbox("Model", airs, current_index(airs, "pd_model"), key="pd_model",
                     format_func=lambda a: model_labels.get(a, a))
        left, right = st.columns(2)
        left.selectbox("Format", formats, current_index(formats, "pd_format"), key="pd_format")
        right.slider("Quality", *prefs.QUALITY, current_number("pd_quality", *prefs.QUALITY), key="pd_quality")
        st.form_submit_button("Save my defaults", type="primary", on_click=_save, args=(catalog,))
    if current:
        st.button("Clear my defaults", on_click=_clear)
    cookie = ss.pop("prefs_cookie", None)
    if cookie is not None:
        st.html(cookie_script(cookie or None), unsafe_allow_javascript=True)
    note = ss.pop("prefs_note", None)
    if note:
        st.success(note)
