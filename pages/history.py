"""History: every job of this workspace, newest first; filters, details, re-run, delete, export."""
import json

import streamlit as st

from lib import jobquery, jobstate as js
from lib import sweep as S
from lib.spend import SpendCapExceeded
from lib.store import DuplicateSubmit
from lib.history import to_csv, to_json
from lib.jobquery import JobFilter
from lib.request import redact_images
import studio_ui as ui
from studio_annotate_ui import annotation_controls
from studio_listing_ui import Listing, page_number

PER_PAGE = 100


def sweep_actions(s, view, sweep) -> None:
    """What can be done with a whole sweep: cancel what is still queued, queue it all again."""
    queued = view.count(JobFilter(sweeps=(sweep.sweep_id,), statuses=(js.QUEUED,)))
    words, cancel, again = st.columns([3, 2, 2], vertical_alignment="center")
    words.markdown(f"Sweep **{ui.plain(sweep.name)}** · {queued} queued")
    if cancel.button("Cancel queued", key=f"cancel-sweep-{sweep.sweep_id}", disabled=not queued,
                     help="Jobs not sent yet are cancelled; those already sent go on."):
        cancelled = s.cancel_sweep(sweep.sweep_id)
        st.session_state["flash"] = f"Cancelled {cancelled} queued job(s) of “{sweep.name}”."
        st.rerun()
    if again.button("Re-run sweep", key=f"rerun-sweep-{sweep.sweep_id}", icon="🔁",
                    help="Asks first; queues every job of this sweep again, with new task ids, as a new sweep."):
        st.session_state["h_rerun_sweep"] = sweep.sweep_id
    if st.session_state.get("h_rerun_sweep") == sweep.sweep_id:
        confirm_rerun(s, sweep)


def _drop_rerun_question() -> None:
    st.session_state.pop("h_rerun_sweep", None)


@st.dialog("Re-run this sweep?", on_dismiss=_drop_rerun_question)
def confirm_rerun(s, sweep) -> None:
    """A whole sweep again is a batch of paid jobs: always said in numbers and asked first."""
    again = S.repeat(jobquery.sweep_tasks(s.store, s.workspace, sweep.sweep_id), s.catalog)
    st.markdown(f"**{ui.plain(sweep.name)}** again: " + ui.plain(S.summary(again, demo=s.demo)))
    yes, no = st.columns(2)
    if yes.button(f"Queue {again.jobs} job(s)", type="primary", key="h_rerun_yes"):
        _drop_rerun_question()
        try:
            new, jobs = s.submit_sweep(f"{sweep.name} (re-run)"[:120], list(again.tasks), sweep.spec)
        except SpendCapExceeded as exc:
            st.session_state["flash"] = f"Nothing was queued: {exc}"
        except DuplicateSubmit:
            st.session_state["flash"] = "These jobs were queued a moment ago; nothing was queued twice."
        else:
            st.session_state["flash"] = f"Queued {len(jobs)} job(s) as “{new.name}”."
            st.session_state["h_sweep_next"] = new.sweep_id  # the filter shows the new sweep (set before it is drawn)
        st.rerun()
    if no.button("Not now", key="h_rerun_no"):
        _drop_rerun_question()
        st.rerun()


s = ui.studio()
ui.mode_banner(s)
ui.show_flash()
st.title("History")
view = Listing(s)
total = view.total()
if not total:
    if st.query_params.get("job"):
        st.warning("That job is not in this workspace (it may have been deleted).")
    st.info("No jobs yet. Start one on the Generate page.")
    st.stop()

left, mid, right = st.columns([2, 2, 3])
statuses = left.multiselect("Status", view.choices("status"), key="h_status",
                            format_func=lambda status: js.WORDS.get(status, status))
models = mid.multiselect("Model", view.choices("model"), key="h_model")
text = right.text_input("Search prompt, task id or note", key="h_text")
sweeps = view.sweeps()
if st.session_state.get("h_sweep_next") in sweeps:
    st.session_state["h_sweep"] = st.session_state.pop("h_sweep_next")
fav_col, tag_col, sweep_col, rating_col = st.columns([1, 2, 2, 1], vertical_alignment="bottom")
favourite = fav_col.toggle("Favourites only", key="h_favourite")
tags = tag_col.multiselect("Tags", view.tags(), key="h_tags", help="Jobs carrying every tag chosen.")
sweep_id = sweep_col.selectbox("Sweep", [None, *sweeps], key="h_sweep",
                               format_func=lambda i: "Any" if i is None else sweeps[i].name)
min_rating = rating_col.selectbox("Rating", [None, 1, 2, 3, 4, 5], key="h_rating",
                                  format_func=lambda r: "Any" if r is None else "★" * r + (" or more" if r < 5 else ""))
chosen = JobFilter(statuses=tuple(statuses), models=tuple(models), text=text.strip(), favourite=favourite,
                   tags=tuple(tags), sweeps=(sweep_id,) if sweep_id else (), min_rating=min_rating)
if sweep_id:
    sweep_actions(s, view, sweeps[sweep_id])
matching = view.count(chosen)
st.caption(f"{matching} of {total} jobs")

# Only one page of rows goes to the browser: at 100,000 jobs the whole table takes seconds to send.
page = page_number(matching, PER_PAGE, "h_page")
shown = view.page(chosen, page, PER_PAGE)
table = view.cached(("table", chosen, page), lambda: shown.assign(
    status=shown["status"].map(lambda status: js.WORDS.get(status, status)),
    video=shown["video"].map(ui.absolute_video_url, na_action="ignore"),
    job_link=shown["job_link"] + ui.workspace_suffix(s)))
# The table and the chosen job's details side by side: the details never land below the fold.
listing, details = st.columns([3, 2], gap="large")
with listing:
    # A new key after a delete clears the selection: the next job never slides under the pointer.
    event = st.dataframe(
        table, hide_index=True, on_select="rerun", selection_mode="single-row",
        # Rows are picked by position: another page is another table.
        key=f"h_table-{st.session_state.get('h_table_generation', 0)}-{page}",
        column_order=["favourite", "status", "created", "model", "prompt", "duration", "cost", "rating", "tags",
                      "sweep", "job_link", "video"],
        column_config={
            "favourite": st.column_config.CheckboxColumn("★", width="small"),
            "status": st.column_config.TextColumn("Status", width="small"),
            "created": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD HH:mm:ss"),
            "model": st.column_config.TextColumn("Model"),
            "prompt": st.column_config.TextColumn("Prompt", width="large"),
            "duration": st.column_config.NumberColumn("Duration", format="%d s"),
            "cost": st.column_config.NumberColumn("Cost", format="$%.3f"),
            "rating": st.column_config.NumberColumn("Rating", format="%d ★", width="small"),
            "tags": st.column_config.TextColumn("Tags"),
            "sweep": st.column_config.TextColumn("Sweep"),
            "job_link": st.column_config.LinkColumn("Link", display_text="open"),
            "video": st.column_config.LinkColumn("Video", display_text="play"),
        },
    )
    export_left, export_right, _ = st.columns([1, 1, 2])
    # Built only when clicked: at 10,000 jobs building both on every rerun costs ~0.4 s.
    # Every matching job, not just this page.
    export_left.download_button("Export CSV", lambda: to_csv(view.everything(chosen)), "studio-history.csv",
                                "text/csv")
    export_right.download_button("Export JSON", lambda: to_json(view.everything(chosen)),
                                 "studio-history.json", "application/json")


# The selection is by position and outlives changes to the table: a stale one is ignored.
rows = [r for r in (event.selection.rows if event else []) if r < len(shown)]
selected = shown.iloc[rows[0]]["task_uuid"] if rows else st.query_params.get("job")
if rows:
    st.query_params["job"] = selected  # the address bar now links to this job
job = s.store.get(selected, workspace=s.workspace) if selected else None
with details:
    if selected and job is None:
        st.warning("That job is not in this workspace (it may have been deleted).")
    if not job:
        st.caption("Select a row to see the job's details, video and actions here.")
        st.stop()
    st.subheader("Job details")
    st.markdown(f"**{ui.status_line(job)}**  \n{ui.model_label(s, job)}  \n"
                f"{ui.job_details_line(job, s.demo_job(job))}  \n`{job.task_uuid}`")
    st.text(job.prompt)
    ui.error_box(s, job)
    for i in range(len(job.results)):
        ui.video_player(s, job, i)
    annotation_controls(s, job, key=f"history-{job.task_uuid}")
    if job.status == js.SUCCESS and any(r.get("file") for r in job.results):
        st.page_link("pages/compare.py", label="Compare with other videos", icon=":material/compare:",
                     query_params={"jobs": job.task_uuid, **ui.workspace_params(s)})
    with st.expander("Parameters"):
        st.code(json.dumps(redact_images(job.task), indent=2, ensure_ascii=False), language="json")
    # Buttons are keyed by the job, so a click meant for one job can never act on another.
    a, b, c = st.columns(3)
    if a.button("Re-run with these settings", icon="🔁", key=f"rerun-{job.task_uuid}"):
        st.session_state["prefill_task"] = job.task
        st.switch_page("pages/generate.py")
    with b:
        ui.job_actions(s, job, key=job.task_uuid)
    if not job.pending and c.button("Delete", icon="🗑️", key=f"delete-{job.task_uuid}",
                                    help="Asks first; removes the job and its local videos."):
        st.session_state["confirm_delete"] = job.task_uuid
    # The question stays open (across reruns) until it is answered or dismissed.
    if st.session_state.get("confirm_delete") == job.task_uuid:
        ui.confirm_delete(s, job)

# -- Copy as code and Share (issue 15): the job's task as snippets, and a read-only link to it. --------
with details:
    ui.code_expander(s, job.task)
    ui.share_panel(s, job)
