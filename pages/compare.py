"""Compare: 2 to 6 finished jobs side by side, played in step by one control, each video labelled with
the parameters that set it apart (the shared ones listed once), each with its favourite star, rating,
note and tags. `?jobs=<uuid>,<uuid>,...` picks the jobs, so other pages can link here."""
import pandas as pd
import streamlit as st

import studio_sync_player as player
import studio_ui as ui
from lib.compare import MAX_JOBS, MIN_JOBS, compare, jobs_param, parse_job_ids
from lib.media import ROUTE_PREFIX
from studio_annotate_ui import annotation_controls

PICK = "c_jobs"
PICKED_FROM = "c_jobs_from"  # the ?jobs= value the pick was last read from (or written to)
LABEL_LIMIT = 80
MAX_OFFERED = 300


def _pick_to_url() -> None:
    value = jobs_param(st.session_state[PICK])
    if value:
        st.query_params["jobs"] = value
    else:
        st.query_params.pop("jobs", None)
    st.session_state[PICKED_FROM] = value


def _take_sweep(s, finished: set) -> None:
    """The first videos of the chosen sweep, in the order it queued them, become the pick."""
    sweep = st.session_state.get("c_sweep")
    if sweep:
        jobs = [job.task_uuid for job in s.store.sweep_jobs(sweep, s.workspace) if job.task_uuid in finished]
        st.session_state[PICK] = jobs[:MAX_JOBS]
        _pick_to_url()
    st.session_state["c_sweep"] = None  # a one-off action, not a filter that stays on


def _choice(row) -> str:
    prompt = row.prompt if len(row.prompt) <= 50 else row.prompt[:49] + "…"
    return f"{prompt} · {row.created:%Y-%m-%d %H:%M:%S} · {row.task_uuid[:8]}"


def _served(s, path_in_media: str) -> str:
    """A file of the media folder as the browser loads it (root-relative when the app's URL is unknown)."""
    path = f"{ROUTE_PREFIX}/{path_in_media}"
    return ui.absolute_video_url(path) or path


s = ui.studio()
ui.mode_banner(s)
ui.show_flash()
st.title("Compare")
df = ui.history_frame(s)
done = df[(df["status"] == "success") & (df["video_files"].str.len() > 0)]
if len(done) < MIN_JOBS:
    st.info("Compare needs at least two finished videos. Make some on the Generate page.")
    st.stop()

finished = set(done["task_uuid"])
wanted = st.query_params.get("jobs", "")
if PICK not in st.session_state or st.session_state.get(PICKED_FROM) != wanted:
    # A link (or the browser's back button) says which jobs: only finished videos of this workspace.
    linked = parse_job_ids(wanted)
    st.session_state[PICK] = [u for u in linked if u in finished]
    st.session_state[PICKED_FROM] = wanted
    if len(st.session_state[PICK]) < len(linked):
        st.warning("Some linked jobs are not finished videos in this workspace, so they are left out.")
else:
    st.session_state[PICK] = [u for u in st.session_state[PICK] if u in finished]  # deleted since
# The newest finished videos are offered (a list of thousands helps nobody), and whatever is picked.
offered = done[done["task_uuid"].isin(set(done["task_uuid"].head(MAX_OFFERED)) | set(st.session_state[PICK]))]
choices = {row.task_uuid: _choice(row) for row in offered.itertuples()}
pick_column, sweep_column = st.columns([3, 1], vertical_alignment="bottom")
picked = pick_column.multiselect(f"Jobs to compare ({MIN_JOBS} to {MAX_JOBS})", list(choices), key=PICK,
                                 format_func=choices.get, max_selections=MAX_JOBS, on_change=_pick_to_url,
                                 placeholder="Pick finished jobs")
in_sweeps = done[done["sweep_id"] != ""]
counts = in_sweeps["sweep_id"].value_counts(sort=False)
names = dict(zip(in_sweeps["sweep_id"], in_sweeps["sweep"]))
sweeps = [sweep for sweep in dict.fromkeys(in_sweeps["sweep_id"]) if counts[sweep] >= MIN_JOBS]  # newest first
if sweeps:
    sweep_column.selectbox("Or take a sweep's videos", sweeps, index=None, key="c_sweep", placeholder="A sweep",
                           format_func=lambda sweep: f"{names[sweep] or 'Sweep ' + sweep[:8]} ({counts[sweep]})",
                           on_change=_take_sweep, args=(s, finished))
jobs = [job for job in (s.job(u) for u in picked) if job is not None]
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
        result = next((r for r in job.results if r.get("file")), None)  # the first video kept here
        with column:
            if result and (s.settings.media_dir / result["file"]).is_file():
                poster = result.get("poster")
                player.video(group, index, _served(s, result["file"]), _served(s, poster) if poster else None)
            else:
                st.warning("The local copy of this video is missing.")
            label = comparison.label(index, LABEL_LIMIT) or "same request"
            st.markdown(f"**{index + 1}** · {ui.plain(label)}")
            st.caption(ui.job_details_line(job, s.demo_job(job)))
            annotation_controls(s, job, key=f"compare-{job.task_uuid}")

st.subheader(f"The same in all {len(jobs)}")
st.dataframe(pd.DataFrame({"parameter": list(comparison.shared), "value": list(comparison.shared.values())}),
             hide_index=True, width="stretch")
