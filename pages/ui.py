"""Shared UI pieces: the session's Studio, the demo banner, the sidebar, the live job monitor (the one
polling fragment), job cards and the video player. Logic stays in lib/; this file only renders."""
from __future__ import annotations

import secrets as token_source
import time
from datetime import timedelta

import streamlit as st

from lib.history import shape
from lib.media import video_url
from lib.settings import SettingsError, load_settings, valid_api_key
from lib.studio import LOCAL_WORKSPACE, Studio, open_studio
from lib.tracker import TickReport, key_id, next_interval

STATUS_ICONS = {"queued": "⏳", "submitting": "📤", "processing": "⚙️", "success": "✅", "error": "❌",
                "timeout": "⌛"}


def plain(text) -> str:
    """Text from users or servers, safe inside Markdown: every punctuation character is escaped, so
    a prompt or an error message shows as typed and never becomes a link, an emoji or formatting."""
    return "".join("\\" + c if c in _MARKDOWN_PUNCTUATION else c for c in str(text))


_MARKDOWN_PUNCTUATION = set("\\`*_{}[]()#+-.!|<>~$:=\"'&")


# -- the session's studio ---------------------------------------------------------------------------

def _secrets() -> dict:
    try:
        return {k: v for k, v in st.secrets.items() if isinstance(v, (str, int, float))}
    except FileNotFoundError:  # no secrets.toml: perfectly normal
        return {}


def _workspace(settings) -> str:
    """"local" for one shared workspace; in per-user mode, a random token kept in the URL (?ws=), so a
    reload keeps it and another browser never guesses it."""
    if settings.workspaces != "per-user":
        return LOCAL_WORKSPACE
    ws = st.session_state.get("workspace") or st.query_params.get("ws")
    if not ws or not (16 <= len(ws) <= 64 and ws.replace("-", "").replace("_", "").isalnum()):
        ws = token_source.token_urlsafe(16)
    st.session_state["workspace"] = ws
    if st.query_params.get("ws") != ws:
        st.query_params["ws"] = ws
    return ws


def studio() -> Studio:
    """This session's Studio, rebuilt only when its settings, key or workspace change."""
    try:
        settings = load_settings(secrets=_secrets())
    except SettingsError as exc:
        st.error(f"Configuration problem: {exc}. Fix it in the environment, .env or secrets and reload.")
        st.stop()
    session_key = st.session_state.get("session_api_key", "")
    workspace = _workspace(settings)
    ident = (settings, key_id(session_key) if session_key else "", workspace)
    if st.session_state.get("studio_ident") != ident:
        st.session_state["studio"] = open_studio(settings, session_key=session_key, workspace=workspace)
        st.session_state["studio_ident"] = ident
    return st.session_state["studio"]


# -- banner and sidebar -----------------------------------------------------------------------------

def mode_banner(s: Studio) -> None:
    if s.demo:
        st.info("**Demo mode**: no API key is set, so jobs run on the bundled Runware simulator on this "
                "machine. Videos are real MP4s drawn locally; nothing is sent to Runware and nothing is "
                "charged. Add a key in the sidebar, `.env` or secrets to use the real API.", icon="🧪")


def _use_key():
    key = st.session_state.pop("key_input", "").strip()
    st.session_state["key_problem"] = None
    if key and valid_api_key(key):
        st.session_state["session_api_key"] = key
    elif key:
        st.session_state["key_problem"] = "That key has characters an API key cannot have (spaces, line breaks or non-ASCII)."


def _forget_key():
    st.session_state.pop("session_api_key", None)


def sidebar(s: Studio) -> None:
    with st.sidebar:
        label = {"demo": "Demo (simulator)", "environment": "Runware API", "session": "Runware API (your key)"}
        st.caption(f"Mode: **{label[s.key_source]}**")
        if s.key_source == "session":
            st.button("Forget my key", on_click=_forget_key, help="Removes the key from this browser session.")
        else:
            with st.expander("Use my own API key"):
                st.text_input("Runware API key", type="password", key="key_input",
                              help="Kept only in this browser session's memory: never written to disk, "
                                   "logged or shown.")
                st.button("Use this key", on_click=_use_key)
                if st.session_state.get("key_problem"):
                    st.error(st.session_state["key_problem"])
        if s.settings.workspaces == "per-user":
            st.caption("Private workspace: keep this page's link to come back to your jobs.")


# -- field messages --------------------------------------------------------------------------------

def field_errors(*parameters: str) -> None:
    """Show the validation messages stored for these request fields, right under their widgets."""
    for p in st.session_state.get("problems", []):
        if p.get("parameter") in parameters:
            st.error(plain(p["message"]), icon="⚠️")


# -- jobs ---------------------------------------------------------------------------------------------

def elapsed(job) -> str:
    end = job.finished_at or time.time()
    return f"{max(0, end - job.created_at):.0f} s"


def status_line(job) -> str:
    text = {"processing": "processing", "queued": "queued (waiting for capacity)", "submitting": "submitting",
            "success": "done", "error": "failed", "timeout": "timed out"}[job.status]
    if job.status == "processing" and job.results and len(job.results) >= job.number_results:
        text = "downloading"
    return f"{STATUS_ICONS[job.status]} {text} · {elapsed(job)}"


def video_player(s: Studio, job, index: int = 0) -> None:
    result = job.results[index] if index < len(job.results) else None
    if not result or not result.get("file"):
        return
    path = s.settings.media_dir / result["file"]
    if not path.is_file():
        st.warning("The local copy of this video is missing.")
        return
    url = video_url(st.context.url, st.get_option("server.baseUrlPath") or "", result["file"])
    # Served from disk by the /videos route; only without a browser URL (e.g. AppTest) read it in.
    st.video(url or str(path))
    if url:
        st.link_button("Download", url + "?download=1", icon="⬇️")


def job_details_line(job) -> str:
    parts = [f"`{job.model}`", f"{job.width}x{job.height}" if job.width else "", f"{job.duration:g} s" if job.duration else ""]
    seeds = [str(r["seed"]) for r in job.results if r.get("seed") is not None]
    if seeds:
        parts.append("seed " + ", ".join(seeds))
    if job.cost is not None:
        parts.append(f"${job.cost:.3f}")
    return " · ".join(p for p in parts if p)


def error_box(job) -> None:
    if not job.error:
        return
    text = f"**{plain(job.error.get('code', 'error'))}**: {plain(job.error.get('message', ''))}"
    if job.pending:
        st.warning(f"Not confirmed by Runware yet; retrying with the same task id. {text}", icon="📡")
    else:
        st.error(text, icon="❌")


def recheck_button(s: Studio, job, key: str) -> None:
    if s.tracker.can_recheck(job):
        if st.button("Re-check", key=key, help="Ask Runware again (the job is not resubmitted)."):
            s.tracker.recheck(job.task_uuid)
            st.rerun()


def job_card(s: Studio, job) -> None:
    with st.container(border=True):
        st.markdown(f"**{status_line(job)}**  \n{job_details_line(job)}")
        st.text(job.prompt if len(job.prompt) < 300 else job.prompt[:300] + "…")
        if job.status == "success":
            for i in range(len(job.results)):
                video_player(s, job, i)
        error_box(job)
        recheck_button(s, job, key=f"recheck-{job.task_uuid}")


def _tick_due() -> bool:
    """Widget interactions rerun the page too; only the timer's pace should reach the API."""
    interval = st.session_state.get("poll_interval") or 0
    return time.time() - st.session_state.get("last_tick", 0) >= interval * 0.8


def _monitor_body(s: Studio, compact: bool, limit: int) -> None:
    report = TickReport()
    if _tick_due():
        report = s.tracker.tick()
        st.session_state["last_tick"] = time.time()
    pending = s.pending_jobs()
    if report.problem:
        st.warning(f"Last check with Runware failed; the next one follows automatically. {plain(report.problem)}",
                   icon="📡")
    if compact:
        if pending:
            st.caption(f"⚙️ {len(pending)} job(s) running")
    else:
        # The workspace's newest jobs, not just this session's: a reload mid-job keeps showing it.
        for job in s.store.jobs(workspace=s.workspace, limit=limit):
            job_card(s, job)
    interval = next_interval(pending, time.time(), s.settings.poll_interval_min, s.settings.poll_interval_max)
    # A job that finished changes other parts of the page (history, gallery); a new interval needs a
    # new timer. Both take a full rerun; everything else stays inside this fragment.
    if report.finished or interval != st.session_state.get("poll_interval"):
        st.session_state["poll_interval"] = interval
        st.rerun(scope="app")


def live_jobs(s: Studio, *, compact: bool = False, limit: int = 6) -> None:
    """The one polling fragment: ticks the tracker, shows the jobs, and stops when nothing is pending."""
    interval = st.session_state.get("poll_interval")
    if interval is None and s.pending_jobs():
        interval = st.session_state["poll_interval"] = s.settings.poll_interval_min
    st.fragment(_monitor_body, run_every=timedelta(seconds=interval) if interval else None)(s, compact, limit)


# -- history ------------------------------------------------------------------------------------------

def history_frame(s: Studio):
    """The workspace's job history as a DataFrame kept in session state, re-read from the store only
    when a job changed."""
    version = s.store.version(s.workspace)
    if st.session_state.get("history_version") != (s.workspace, version):
        st.session_state["history_df"] = shape(s.store.frame(s.workspace))
        st.session_state["history_version"] = (s.workspace, version)
    return st.session_state["history_df"]


def workspace_suffix(s: Studio) -> str:
    """What a link must carry to open in the same workspace (per-user mode only)."""
    return f"&ws={s.workspace}" if s.settings.workspaces == "per-user" else ""


def absolute_video_url(path: str) -> str | None:
    """A /videos/... path as an absolute URL of this app, as the browser reaches it."""
    return video_url(st.context.url, st.get_option("server.baseUrlPath") or "", path.rsplit("/", 1)[-1])
