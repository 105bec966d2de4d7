"""Gallery: finished videos as a grid of poster thumbnails, newest first, filtered and paged. A tile
plays its video only when asked (one player at a time, not one per tile); tiles can be selected to
compare or delete."""
from pathlib import Path

import streamlit as st

import studio_ui as ui
from lib.jobquery import JobFilter
from studio_listing_ui import Listing, page_number

COLUMNS = 3
PER_PAGE_CHOICES = (12, 24, 60)
COMPARE_MIN, COMPARE_MAX = 2, 6

s = ui.studio()
ui.mode_banner(s)
ui.show_flash()
st.title("Gallery")
view = Listing(s)
videos = JobFilter(videos_only=True)
if not view.count(videos):
    st.info("Finished videos appear here.")
    st.stop()


# -- selection: kept in session state, so it survives page turns and filters ---------------------------

def selected() -> list[str]:
    return st.session_state.setdefault("g_selected", [])


def _toggle(task_uuid: str) -> None:
    chosen = selected()
    if st.session_state.get(f"g_pick-{task_uuid}"):
        if task_uuid not in chosen:
            chosen.append(task_uuid)
    elif task_uuid in chosen:
        chosen.remove(task_uuid)


def _clear_selection() -> None:
    for task_uuid in selected():
        st.session_state.pop(f"g_pick-{task_uuid}", None)
    st.session_state["g_selected"] = []


def _star(task_uuid: str, favourite: bool) -> None:
    job = s.job(task_uuid)
    if job:
        s.annotate(job, favourite=favourite)


def _drop_question() -> None:
    st.session_state.pop("g_confirm_delete", None)


@st.dialog("Delete these videos?", on_dismiss=_drop_question)
def confirm_delete(task_uuids: list[str]) -> None:
    jobs = [job for job in (s.job(u) for u in task_uuids) if job is not None]
    st.markdown(f"**{len(jobs)} job(s)** and their local videos will be removed. This cannot be undone.")
    for job in jobs:
        st.text("• " + (job.prompt if len(job.prompt) < 120 else job.prompt[:120] + "…"))
    yes, no = st.columns(2)
    if yes.button("Delete", type="primary", key="g_confirm"):
        deleted = [job.prompt[:60] for job in jobs if not job.pending and s.delete(job)]
        _drop_question()
        _clear_selection()
        names = ", ".join(f"“{p}”" for p in deleted)
        st.session_state["flash"] = f"Deleted {len(deleted)} job(s): {names}." if deleted else "Nothing was deleted."
        st.rerun()
    if no.button("Keep them", key="g_keep"):
        _drop_question()
        st.rerun()


# -- filters --------------------------------------------------------------------------------------------

sweeps = view.sweeps()
left, mid, right = st.columns(3)
models = left.multiselect("Model", view.choices("model"), key="g_model",
                          format_func=lambda m: s.catalog.get(m).name if s.catalog.known(m) else m)
tags = mid.multiselect("Tags", view.tags(), key="g_tags", help="Videos carrying every tag chosen.")
sweep = right.selectbox("Sweep", [None, *sweeps], key="g_sweep",
                        format_func=lambda sweep_id: "Any" if sweep_id is None else sweeps[sweep_id].name)
left, mid, right = st.columns([3, 2, 1], vertical_alignment="bottom")
text = left.text_input("Search prompt or note", key="g_text")
favourite = mid.toggle("Favourites only", key="g_favourite")
per_page = right.selectbox("Per page", PER_PAGE_CHOICES, key="g_per_page")
chosen = JobFilter(models=tuple(models), text=text.strip(), favourite=favourite, tags=tuple(tags),
                   sweeps=(sweep,) if sweep else (), videos_only=True)
matching = view.count(chosen)
st.caption(f"{matching} of {view.count(videos)} videos")


# -- what is selected: compare, delete --------------------------------------------------------------------

def selection_bar() -> None:
    chosen_uuids = selected()
    if not chosen_uuids:
        return
    bar = st.container(border=True)
    words, compare, delete, clear = bar.columns([3, 2, 2, 1])
    words.markdown(f"**{len(chosen_uuids)} selected**")
    if COMPARE_MIN <= len(chosen_uuids) <= COMPARE_MAX:
        compare.page_link("pages/compare.py", label="Compare", icon=":material/compare:",
                          query_params={"jobs": ",".join(chosen_uuids), **ui.workspace_params(s)})
    else:
        compare.caption(f"Select {COMPARE_MIN} to {COMPARE_MAX} videos to compare them.")
    if delete.button("Delete selected", icon=":material/delete:", key="g_delete",
                     help="Asks first; removes the jobs and their local videos."):
        st.session_state["g_confirm_delete"] = list(chosen_uuids)
    clear.button("Clear", key="g_clear", on_click=_clear_selection)
    if st.session_state.get("g_confirm_delete"):
        confirm_delete(st.session_state["g_confirm_delete"])


selection_bar()


# -- the grid -----------------------------------------------------------------------------------------------

def poster_file(row) -> str | None:
    """The poster's file name when it is on disk (a job may predate posters, or its copy was removed)."""
    name = row.get("poster")
    if not isinstance(name, str) or not name:
        return None
    name = Path(name).name
    return name if (s.settings.media_dir / name).is_file() else None


def poster(row) -> None:
    """The first frame as a picture (served from disk by /videos), or a plain tile without one."""
    name = row["poster_file"]
    if name is None:
        with st.container(border=True, height=140):
            st.caption("No preview")
        return
    # Without a browser URL (AppTest) the file is read in; a browser loads it straight from the route.
    st.image(ui.absolute_video_url(name) or str(s.settings.media_dir / name), width="stretch")


def tiles(f: JobFilter, page: int, per_page: int) -> list[dict]:
    """One page of tiles. Kept until a job changes: removing a local copy changes its job too."""
    records = view.page(f, page, per_page).to_dict("records")
    return [{**row, "poster_file": poster_file(row)} for row in records]


def model_name(model: str) -> str:
    return s.catalog.get(model).name if s.catalog.known(model) else "Custom model"


def tile(row) -> None:
    task_uuid = row["task_uuid"]
    with st.container(border=True):
        if st.session_state.get("g_playing") == task_uuid:
            job = s.job(task_uuid)
            if job:
                ui.video_player(s, job, 0)
        else:
            poster(row)
        st.text(row["prompt"] if len(row["prompt"]) < 160 else row["prompt"][:160] + "…")
        st.caption(ui.plain(model_name(row["model"])) + (f" · {ui.plain(row['tags'])}" if row["tags"] else ""))
        pick = st.container()
        star, play, details = st.columns([1, 2, 2], vertical_alignment="center")
        faved = bool(row["favourite"])
        star.button("★" if faved else "☆", key=f"g_star-{task_uuid}", type="tertiary", on_click=_star,
                    args=(task_uuid, not faved), help="Remove from favourites" if faved else "Add to favourites")
        if st.session_state.get("g_playing") != task_uuid:
            # One player at a time: playing this tile puts the last one back to its poster.
            play.button("Play", key=f"g_play-{task_uuid}", icon=":material/play_arrow:",
                        on_click=st.session_state.__setitem__, args=("g_playing", task_uuid))
        pick.checkbox("Select", key=f"g_pick-{task_uuid}", value=task_uuid in selected(),
                      on_change=_toggle, args=(task_uuid,))
        # A button, not st.page_link: a page link costs ~2 ms to draw, times every tile on every rerun.
        if details.button("Details", key=f"g_details-{task_uuid}", icon=":material/info:"):
            st.switch_page("pages/history.py", query_params={"job": task_uuid, **ui.workspace_params(s)})


if not matching:
    st.info("No videos match these filters.")
    st.stop()
page = page_number(matching, per_page, "g_page")
records = view.cached(("tiles", chosen, page, per_page), lambda: tiles(chosen, page, per_page))
for start in range(0, len(records), COLUMNS):
    for col, row in zip(st.columns(COLUMNS), records[start:start + COLUMNS]):
        with col:
            tile(row)
