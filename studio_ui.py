"""Shared UI pieces: the process's runtime, the session's Studio, the demo banner, the sidebar, the
live job monitor (the one polling fragment), job cards and the video player. Logic stays in lib/; this
file only renders, and nothing here waits on the network."""
from __future__ import annotations

import re
import time
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta

import streamlit as st

from lib import jobstate as js, mediacap, snippets
from lib.keys import key_id
from lib.labels import wire_detail
from lib.media import download_name, video_url
from lib.runtime import Runtime
from lib.settings import Settings, SettingsError, load_settings, valid_api_key
from lib.studio import LOCAL_WORKSPACE, Studio, open_studio

# Streamlit's Material icons: they render without a colour-emoji font.
STATUS_ICONS = {"queued": ":material/schedule:", "submitting": ":material/upload:",
                "processing": ":material/progress_activity:", "downloading": ":material/download:",
                "success": ":material/check_circle:", "error": ":material/error:",
                "timeout": ":material/timer_off:", "cancelled": ":material/cancel:"}
# The live view re-reads the store (no network) this often: quickly while jobs run, slowly when idle.
BUSY_REFRESH, IDLE_REFRESH = 1.0, 5.0
KEY_CHECK_SECONDS = 12.0


def plain(text) -> str:
    """Text from users or servers, safe inside Markdown: every punctuation character is escaped, so
    a prompt or an error message shows as typed and never becomes a link, an emoji or formatting.
    Escapes do not stop GFM's autolinks (they are found in the text after escapes are read), so an
    invisible word joiner breaks what they look for: "://", "www." and the "@" of an address."""
    text = _AUTOLINK.sub(_JOINER, str(text))
    return "".join("\\" + c if c in _MARKDOWN_PUNCTUATION else c for c in text)


_MARKDOWN_PUNCTUATION = set("\\`*_{}[]()#+-.!|<>~$:=\"'&")
_JOINER = "\u2060"
# Where a word joiner goes: inside "://", between "www" and ".", after "@".
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=[wW][wW][wW])(?=\.)|(?<=@)")


# -- the session's studio ---------------------------------------------------------------------------

def _secrets() -> dict:
    try:
        return {k: v for k, v in st.secrets.items() if isinstance(v, (str, int, float))}
    except FileNotFoundError:  # no secrets.toml: perfectly normal
        return {}


def _workspace(runtime: Runtime) -> str:
    """"local" for one shared workspace; in per-user mode, a token the app issued, kept in the URL
    (?ws=), so a reload keeps it and another browser never guesses it. A token the app did not issue (a
    hand-picked "aaaaaaaaaaaaaaaa" would be picked again by someone else) gets a fresh workspace."""
    if runtime.settings.workspaces != "per-user":
        return LOCAL_WORKSPACE
    ws = st.session_state.get("workspace")  # checked when it was stored
    if not ws:
        ws = runtime.workspace_for(st.query_params.get("ws"))
    st.session_state["workspace"] = ws
    if st.query_params.get("ws") != ws:
        st.query_params["ws"] = ws
    return ws


@st.cache_resource(show_spinner=False, on_release=Runtime.stop)
def runtime_for(settings: Settings) -> Runtime:
    """The process's one runtime (store, keys, budgets, engine) for these settings, started once."""
    return Runtime(settings).start()


def current_settings() -> Settings:
    return load_settings(secrets=_secrets())


def studio() -> Studio:
    """This session's Studio, rebuilt only when its settings, key or workspace change."""
    try:
        settings = current_settings()
    except SettingsError as exc:
        st.error(f"Configuration problem: {exc}. Fix it in the environment, .env or secrets and reload.")
        st.stop()
    runtime = runtime_for(settings)
    session_key = st.session_state.get("session_api_key", "")
    workspace = _workspace(runtime)
    ident = (id(runtime), key_id(session_key) if session_key else "", workspace)
    if st.session_state.get("studio_ident") != ident:
        st.session_state["studio"] = open_studio(runtime, session_key=session_key, workspace=workspace)
        st.session_state["studio_ident"] = ident
    return st.session_state["studio"]


# -- banner and sidebar -----------------------------------------------------------------------------

def mode_banner(s: Studio) -> None:
    if s.demo:
        st.info("**Demo mode**: no API key is set, so jobs run on the bundled Runware simulator on this "
                "machine. Videos are real MP4s drawn locally; nothing is sent to Runware and nothing is "
                "charged. Add a key in the sidebar, `.env` or secrets to use the real API.", icon="🧪")


def _use_key(runtime: Runtime):
    key = st.session_state.pop("key_input", "").strip()
    st.session_state["key_problem"] = None
    if not key:
        return
    if not valid_api_key(key):
        st.session_state["key_problem"] = "That key has characters an API key cannot have (spaces, line breaks or non-ASCII)."
        return
    # One cheap request, made by the engine; the page waits at most the check's own deadline.
    try:
        check = runtime.check_key(key).result(timeout=KEY_CHECK_SECONDS)
    except FutureTimeout:
        check = None
    if check is not None and not check.ok:
        st.session_state["key_problem"] = check.message
        return
    st.session_state["session_api_key"] = key
    st.session_state["key_note"] = check.message if check else "Runware did not answer in time; the key is kept and used."


def _forget_key(s: Studio):
    st.session_state.pop("session_api_key", None)
    st.session_state.pop("key_note", None)
    s.runtime.drop_key(s.key_id)


def sidebar(s: Studio) -> None:
    with st.sidebar:
        label = {"demo": "Demo (simulator)", "environment": "Runware API", "session": "Runware API (your key)"}
        st.caption(f"Mode: **{label[s.key_source]}**")
        if s.key_source == "session":
            if st.session_state.get("key_note"):
                st.caption(st.session_state["key_note"])
            st.button("Forget my key", on_click=_forget_key, args=(s,),
                      help="Removes the key from this browser session and from the app's memory.")
        else:
            with st.expander("Use my own API key"):
                st.text_input("Runware API key", type="password", key="key_input",
                              help="Kept only in this browser session's memory: never written to disk, "
                                   "logged or shown.")
                st.button("Use this key", on_click=_use_key, args=(s.runtime,))
                if st.session_state.get("key_problem"):
                    st.error(st.session_state["key_problem"])
        if s.settings.workspaces == "per-user":
            st.caption("Private workspace: keep this page's link to come back to your jobs.")


# -- field messages --------------------------------------------------------------------------------

def field_errors(*parameters: str, found_now=()) -> None:
    """Show the validation messages stored for these request fields (and any `found_now`, e.g. at
    upload), right under their widgets: the message in plain words, Runware's names small below it."""
    stored = st.session_state.get("problems", [])
    seen = set()
    for p in [p for p in list(found_now) + stored if p.get("parameter") in parameters]:
        if (p.get("parameter"), p["message"]) in seen:
            continue
        seen.add((p.get("parameter"), p["message"]))
        st.error(plain(p["message"]), icon="⚠️")
        detail = wire_detail(p)
        if detail:
            st.caption(plain(detail))


# -- jobs ---------------------------------------------------------------------------------------------

def elapsed(job) -> str:
    end = job.finished_at or time.time()
    return f"{max(0, end - job.created_at):.0f} s"


STATUS_WORDS = {**js.WORDS, js.QUEUED: "queued (waiting for capacity)"}


def status_line(job) -> str:
    text = STATUS_WORDS[job.status]
    if job.status == js.PROCESSING and _is_number(job.progress):
        text += f" {int(job.progress)}%"
    return f"{STATUS_ICONS[job.status]} {text} · {elapsed(job)}"


def play_local_copy(media_dir, result: dict | None):
    """Play a result's local copy: (its path, its /videos URL or None), or None when there is none."""
    if not result or not result.get("file"):
        return None
    path = media_dir / result["file"]
    if not path.is_file():
        st.warning("The local copy of this video is missing.")
        return None
    url = video_url(st.context.url, st.get_option("server.baseUrlPath") or "", result["file"])
    # Served from disk by the /videos route; only without a browser URL (e.g. AppTest) read it in.
    st.video(url or str(path))
    return path, url


def video_player(s: Studio, job, index: int = 0) -> None:
    result = job.results[index] if index < len(job.results) else None
    if result and result.get("evicted"):
        st.caption(mediacap.EVICTED_NOTE)
        return
    played = play_local_copy(s.settings.media_dir, result)
    if played is None:
        return
    path, url = played
    if url:
        count = len(job.results)
        label = "Download" if count == 1 else f"Download video {index + 1} of {count}"
        name = download_name(job.prompt, result.get("seed"), index, count, path.suffix)
        st.link_button(label, f"{url}?download=1&as={name}", icon=":material/download:")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def job_details_line(job, simulated: bool = False) -> str:
    """Model, size, length, seeds and cost as Markdown. Seeds and cost come from a server: only numbers
    are shown (the answer checks make them numbers; a store written otherwise still shows no markup).
    A demo job's cost is the simulator's figure: labelled so, nothing was charged."""
    model = f"`{job.model}`" if _AIR_LIKE.fullmatch(str(job.model)) else plain(job.model)
    parts = [model, f"{job.width}x{job.height}" if job.width else "", f"{job.duration:g} s" if job.duration else ""]
    seeds = [str(r["seed"]) for r in job.results if isinstance(r.get("seed"), int) and not isinstance(r["seed"], bool)]
    if seeds:
        parts.append("seed " + ", ".join(seeds))
    if _is_number(job.cost):
        parts.append(f"\\${job.cost:.3f}" + (" (simulated)" if simulated else ""))
    return " · ".join(p for p in parts if p)


# A model id that is safe inside a code span (no backtick can close it).
_AIR_LIKE = re.compile(r"[\w.:@/-]{1,200}")


def error_box(s: Studio, job) -> None:
    waiting = s.waiting_reason(job)
    if waiting:
        st.warning(plain(waiting), icon="⏸️")
    if not job.error:
        return
    # The engine stores server text already scrubbed of keys; scrubbing at show time too covers jobs
    # stored before that (and keys pasted since).
    redact = s.runtime.keys.redact
    text = (f"**{plain(redact(str(job.error.get('code', 'error'))))}**: "
            f"{plain(redact(str(job.error.get('message', ''))))}")
    if job.pending:
        st.warning(f"Not confirmed by Runware yet; retrying with the same task id. {text}"
                   if job.status == js.SUBMITTING else text, icon="📡")
    else:
        st.error(text, icon="❌")


def job_actions(s: Studio, job, key: str) -> None:
    """The buttons a job's state allows: re-check, cancel (never sent), abandon (never confirmed)."""
    if s.can_recheck(job) and st.button("Re-check", key=f"recheck-{key}",
                                        help="Ask Runware again (the job is not resubmitted)."):
        s.recheck(job)
        st.rerun()
    if job.status == js.QUEUED and st.button("Cancel", key=f"cancel-{key}", help="It was not sent yet."):
        s.cancel(job)
        st.rerun()
    if job.status == js.SUBMITTING and not job.intent and job.attempts and st.button(
            "Stop trying", key=f"abandon-{key}",
            help="Stop resending. Runware is asked once whether it has the job; if it might, it may still run."):
        s.abandon(job)
        st.rerun()
    if job.intent:
        st.caption("Asking Runware…")


def job_card(s: Studio, job) -> None:
    with st.container(border=True):
        st.markdown(f"**{status_line(job)}**{ready_count(job)}  \n{model_label(s, job)}  \n"
                    f"{job_details_line(job, s.demo_job(job))}")
        if job.status == js.PROCESSING and _is_number(job.progress):
            st.progress(int(job.progress) / 100)
        elif job.status == js.PROCESSING:
            typical_time(s, job)
        st.text(job.prompt if len(job.prompt) < 300 else job.prompt[:300] + "…")
        for i in range(len(job.results)):
            video_player(s, job, i)
        error_box(s, job)
        job_actions(s, job, key=job.task_uuid)
        card_links(s, job)


def typical_time(s: Studio, job) -> None:
    """Without progress from Runware: time so far against how long this model usually takes here."""
    typical = s.store.typical_seconds(job.model)
    if typical:
        so_far = time.time() - (job.submitted_at or job.created_at)
        st.progress(min(so_far / typical, 0.99), text=f"{so_far:.0f} s of about {typical:.0f} s (typical for this model)")


def ready_count(job) -> str:
    """"2 of 4 ready" while a multi-video job is under way."""
    if job.number_results > 1 and job.pending:
        ready = sum(1 for r in job.results if r.get("file"))
        return f" · {ready} of {job.number_results} ready"
    return ""


def model_label(s: Studio, job) -> str:
    model = s.catalog.get(job.model) if s.catalog.known(job.model) else None
    return plain(model.name) if model else "Custom model"


def card_links(s: Studio, job) -> None:
    """Details, re-run, use this seed and delete, right on the card."""
    # Two by two: four in a row of a card leaves each button too narrow for its label.
    (left, mid), (right, last) = st.columns(2), st.columns(2)
    left.page_link("pages/history.py", label="Details", icon=":material/info:",
                   query_params={"job": job.task_uuid, **workspace_params(s)})
    if mid.button("Re-run", key=f"card-rerun-{job.task_uuid}", icon=":material/replay:",
                  help="Fill the form with this job's settings."):
        prefill(job.task)
    seed = next((r["seed"] for r in job.results if isinstance(r.get("seed"), int)), None)
    if seed is not None and right.button("Use this seed", key=f"card-seed-{job.task_uuid}", icon=":material/casino:",
                                         help=f"Fill the form with this job's settings and seed {seed}."):
        prefill({**job.task, "seed": seed})
    if not job.pending and last.button("Delete", key=f"card-delete-{job.task_uuid}", icon=":material/delete:",
                                       help="Asks first; removes the job and its local videos."):
        st.session_state["confirm_delete"] = job.task_uuid
    if st.session_state.get("confirm_delete") == job.task_uuid:
        confirm_delete(s, job)


def prefill(task: dict) -> None:
    st.session_state["prefill_task"] = task
    st.switch_page("pages/generate.py")


def _drop_confirmation() -> None:
    st.session_state.pop("confirm_delete", None)


@st.dialog("Delete this job?", on_dismiss=_drop_confirmation)
def confirm_delete(s: Studio, job) -> None:
    """Asks first, says what was deleted, and leaves nothing else selected in its place."""
    st.text(job.prompt if len(job.prompt) < 200 else job.prompt[:200] + "…")
    st.caption("This removes the job from History and its local videos. It cannot be undone.")
    yes, no = st.columns(2)
    if yes.button("Delete", type="primary", key=f"confirm-delete-{job.task_uuid}"):
        _drop_confirmation()
        if s.delete(job):
            st.session_state["flash"] = f"Deleted the job “{job.prompt[:80]}”."
        st.session_state["h_table_generation"] = st.session_state.get("h_table_generation", 0) + 1
        st.query_params.pop("job", None)
        st.rerun()
    if no.button("Keep it", key=f"keep-{job.task_uuid}"):
        _drop_confirmation()
        st.rerun()


def show_flash() -> None:
    """Messages left for this page: what was deleted, which jobs finished meanwhile."""
    if st.session_state.get("flash"):
        st.toast(plain(st.session_state.pop("flash")), icon=":material/delete:")
    for prompt in st.session_state.pop("finished_toasts", []):
        st.toast(plain(f"Finished: {prompt[:80]}"), icon=":material/check_circle:")


def tab_title(s: Studio) -> str:
    """The browser tab says what is going on while the user looks elsewhere."""
    running, done = s.pending_count(), st.session_state.get("finished_count", 0)
    counts = [f"{running} running" if running else "", f"{done} done" if done else ""]
    counts = ", ".join(c for c in counts if c)
    return f"({counts}) Runware Video Studio" if counts else "Runware Video Studio"


def _monitor_body(s: Studio, compact: bool, limit: int) -> None:
    """Reads the store only: the engine moves the jobs on."""
    jobs = s.recent_jobs(limit)
    pending = s.pending_count()
    if compact:
        if pending:
            st.caption(f":material/progress_activity: {pending} job(s) running")
    else:
        for job in jobs:
            job_card(s, job)
    finished = {j.task_uuid for j in jobs if not j.pending}
    seen = st.session_state.get("seen_finished")
    st.session_state["seen_finished"] = finished
    newly = finished - seen if seen is not None else set()
    if newly:
        st.session_state["finished_toasts"] = [j.prompt for j in jobs if j.task_uuid in newly]
        st.session_state["finished_count"] = st.session_state.get("finished_count", 0) + len(newly)
    # A job that finished changes other parts of the page (history, gallery); a new pace needs a new
    # timer. Both take a full rerun; everything else stays inside this fragment.
    busy = pending > 0
    if newly or busy != st.session_state.get("monitor_busy"):
        st.session_state["monitor_busy"] = busy
        st.rerun(scope="app")


def live_jobs(s: Studio, *, compact: bool = False, limit: int = 6) -> None:
    """The one polling fragment: re-reads the store every second while jobs run, every 5 s when idle."""
    busy = st.session_state.get("monitor_busy")
    if busy is None:
        busy = st.session_state["monitor_busy"] = s.pending_count() > 0
    every = timedelta(seconds=BUSY_REFRESH if busy else IDLE_REFRESH)
    st.fragment(_monitor_body, run_every=every)(s, compact, limit)


# -- history ------------------------------------------------------------------------------------------

def workspace_params(s: Studio) -> dict:
    """Query parameters a link must carry to open in the same workspace (per-user mode only)."""
    return {"ws": s.workspace} if s.settings.workspaces == "per-user" else {}


def workspace_suffix(s: Studio) -> str:
    """What a link must carry to open in the same workspace (per-user mode only)."""
    return f"&ws={s.workspace}" if s.settings.workspaces == "per-user" else ""


def absolute_video_url(path: str) -> str | None:
    """A /videos/... path as an absolute URL of this app, as the browser reaches it."""
    return video_url(st.context.url, st.get_option("server.baseUrlPath") or "", path.rsplit("/", 1)[-1])


# -- copy as code, share links (issue 15) -------------------------------------------------------------

def code_expander(s: Studio, task: dict, what: str = "this job") -> None:
    """A task as runnable Python, cURL and SDK snippets (lib/snippets.py); never the key."""
    code = snippets.for_task(task, snippets.api_url_for(s.settings, s.demo), public_url=s.settings.public_url)
    with st.expander("Code"):
        st.caption(f"Runs {what} with your key from `RUNWARE_API_KEY` and prints the video URL.")
        for tab, (kind, language) in zip(st.tabs(["Python", "cURL", "Python SDK"]),
                                         (("python", "python"), ("curl", "bash"), ("sdk", "python"))):
            tab.code(code[kind], language=language)


def app_origin() -> str:
    """This app's address as the browser reaches it (scheme, host and base path), or "" (AppTest)."""
    match = re.match(r"^(https?://[^/]+)", st.context.url or "")
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return (match.group(1) + ("/" + base if base else "")) if match else ""


def share_url(task_uuid: str, token: str) -> str:
    return f"{app_origin()}/shared?shared={task_uuid}&token={token}"


def share_panel(s: Studio, job) -> None:
    """Share: a read-only link to this one job, and revoking every link to it."""
    from lib import sharing
    db, made = s.store.db, f"share-link-{job.task_uuid}"
    left, right = st.columns(2)
    if left.button("Share", icon=":material/share:", key=f"share-{job.task_uuid}",
                   help="A read-only link to this job only: its video, parameters, seed and cost."):
        # The runtime's secret signs share tokens too (over the task UUID and the share id).
        st.session_state[made] = share_url(job.task_uuid, sharing.create(db, s.runtime._workspace_secret, job))
    if st.session_state.get(made):
        st.caption("Copy link (read-only; anyone with it can watch this job):")
        st.code(st.session_state[made], language=None)
    live = sharing.active(db, job.task_uuid, job.workspace)
    if live and right.button(f"Revoke links ({len(live)})", icon=":material/link_off:",
                             key=f"revoke-{job.task_uuid}"):
        sharing.revoke_all(db, job.task_uuid, job.workspace)
        st.session_state.pop(made, None)
        st.rerun()


def shared_video(runtime: Runtime, job, index: int) -> None:
    """A result video on a shared page: served by the /videos route, no download of other jobs."""
    result = job.results[index] if index < len(job.results) else None
    play_local_copy(runtime.settings.media_dir, result)
