"""Compare: 2 to 6 finished jobs side by side, played in step by one control, each video labelled with
the parameters that set it apart (the shared ones listed once), each with its favourite star, rating,
note and tags. `?jobs=<uuid>,<uuid>,...` picks the jobs, so other pages can link here."""
from datetime import datetime, timezone

import pandas as pd
import streamlit as st

import studio_sync_player as player
import studio_ui as ui
from lib import jobstate as js
from lib.compare import MAX_JOBS, MIN_JOBS, compare, jobs_param, parse_job_ids
from lib.jobquery import JobFilter
from lib.media import ROUTE_PREFIX
from studio_annotate_ui import annotation_controls
from studio_listing_ui import Listing

PICK = "c_jobs"
PICKED_FROM = "c_jobs_from"  # the ?jobs= value the pick was last read from (or written to)
LABEL_LIMIT = 80
MAX_OFFERED = 300
MAX_SWEEPS = 20  # the newest ones
VIDEOS = JobFilter(videos_only=True)


def _pick_to_url() -> None:
    value = jobs_param(st.session_state[PICK])
    if value:
        st.query_params["jobs"] = value
    else:
        st.query_params.pop("jobs", None)
    st.session_state[PICKED_FROM] = value


def _comparable(s, job) -> bool:
    """A finished job of this workspace with a local video."""
    return job is not None and job.workspace == s.workspace and job.status == js.SUCCESS and bool(_first_video(job))


def _take_sweep(s) -> None:
    """The first videos of the chosen sweep, in the order it queued them, become the pick."""
    sweep = st.session_state.get("c_sweep")
    if sweep:
        jobs = [job.task_uuid for job in s.store.sweep_jobs(sweep, s.workspace) if _comparable(s, job)]
        st.session_state[PICK] = jobs[:MAX_JOBS]
        _pick_to_url()
    st.session_state["c_sweep"] = None  # a one-off action, not a filter that stays on


def _choice(prompt: str, created_at: float, task_uuid: str) -> str:
    prompt = prompt if len(prompt) <= 50 else prompt[:49] + "…"
    created = datetime.fromtimestamp(created_at, tz=timezone.utc)
    return f"{prompt} · {created:%Y-%m-%d %H:%M:%S} · {task_uuid[:8]}"


def _served(path_in_media: str) -> str:
    """A file of the media folder as the browser loads it (root-relative when the app's URL is unknown)."""
    path = f"{ROUTE_PREFIX}/{path_in_media}"
    return ui.absolute_video_url(path) or path


def _first_video(job) -> dict | None:
    return next((r for r in job.results if r.get("file")), None)


s = ui.studio()
ui.mode_banner(s)
ui.show_flash()
st.title("Compare")
listing = Listing(s)
if listing.count(VIDEOS) < MIN_JOBS:
    st.info("Compare needs at least two finished videos. Make some on the Generate page.")
    st.stop()

wanted = st.query_params.get("jobs", "")
from_link = PICK not in st.session_state or st.session_state.get(PICKED_FROM) != wanted
# A link (or the browser's back button) says which jobs, else the pick does; either way only finished
# videos of this workspace (a picked job may have been deleted since).
asked = parse_job_ids(wanted) if from_link else st.session_state[PICK]
jobs = {u: job for u, job in ((u, s.job(u)) for u in asked) if _comparable(s, job)}
st.session_state[PICK] = list(jobs)
if from_link:
    st.session_state[PICKED_FROM] = wanted
    if len(jobs) < len(asked):
        st.warning("Some linked jobs are not finished videos in this workspace, so they are left out.")
# The newest finished videos are offered (a list of thousands helps nobody), and whatever is picked.
newest = listing.page(VIDEOS, 1, MAX_OFFERED)
choices = {row.task_uuid: _choice(row.prompt, row.created.timestamp(), row.task_uuid) for row in newest.itertuples()}
choices.update({u: _choice(job.prompt, job.created_at, u) for u, job in jobs.items() if u not in choices})
pick_column, sweep_column = st.columns([3, 1], vertical_alignment="bottom")
picked = pick_column.multiselect(f"Jobs to compare ({MIN_JOBS} to {MAX_JOBS})", list(choices), key=PICK,
                                 format_func=choices.get, max_selections=MAX_JOBS, on_change=_pick_to_url,
                                 placeholder="Pick finished jobs")
sweeps = listing.sweeps()
counts = {sweep: listing.count(JobFilter(sweeps=(sweep,), videos_only=True)) for sweep in list(sweeps)[:MAX_SWEEPS]}
offered_sweeps = [sweep for sweep, n in counts.items() if n >= MIN_JOBS]  # newest first
if offered_sweeps:
    sweep_column.selectbox("Or take a sweep's videos", offered_sweeps, index=None, key="c_sweep",
                           placeholder="A sweep", on_change=_take_sweep, args=(s,),
                           format_func=lambda sweep: f"{sweeps[sweep].name} ({counts[sweep]})")
jobs = [jobs[u] for u in picked if u in jobs]
if len(jobs) < MIN_JOBS:
    st.info(f"Pick {MIN_JOBS} to {MAX_JOBS} finished jobs to see them side by side.")
    st.stop()

comparison = compare([job.task for job in jobs])
group = player.group_id([job.task_uuid for job in jobs])
player.controls(group)
per_row = 2 if len(jobs) in (2, 4) else 3
for start in range(0, len(jobs), per_row):
    for column, index in zip(st.columns(per_row, gap="medium"), range(start, min(start + per_row, len(jobs)))):
        job = jobs[index]
        result = _first_video(job)  # the first video kept here
        with column:
            if result and (s.settings.media_dir / result["file"]).is_file():
                poster = result.get("poster")
                player.video(group, index, _served(result["file"]), _served(poster) if poster else None)
            else:
                st.warning("The local copy of this video is missing.")
            label = comparison.label(index, LABEL_LIMIT) or "same request"
            st.markdown(f"**{index + 1}** · {ui.plain(label)}")
            st.caption(ui.job_details_line(job, s.demo_job(job)))
            annotation_controls(s, job, key=f"compare-{job.task_uuid}")

st.subheader(f"The same in all {len(jobs)}")
st.dataframe(pd.DataFrame({"parameter": list(comparison.shared), "value": list(comparison.shared.values())}),
             hide_index=True, width="stretch")
