"""A job's own marks: favourite star, rating 1-5, note and tags, saved with the job (`s.annotate`).

The store is the one truth. Each widget's key carries the value it was drawn from, so after a save
(here, or in another tab) the next rerun draws a fresh widget from the stored value instead of keeping a
stale one; each change is saved by its widget's callback before that rerun.
"""
from __future__ import annotations

import hashlib

import streamlit as st

import studio_ui as ui

NOTE_MAX = 500


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _toggle_favourite(s, job) -> None:
    s.annotate(job, favourite=not job.favourite)


def _save_rating(s, job, widget: str) -> None:
    stars = st.session_state.get(widget)  # 0-4 from st.feedback, None when cleared
    s.annotate(job, rating=None if stars is None else stars + 1)


def _save_note(s, job, widget: str) -> None:
    s.annotate(job, note=(st.session_state.get(widget) or "").strip())


def _save_tags(s, job, widget: str) -> None:
    s.annotate(job, tags=list(st.session_state.get(widget) or []))


def known_tags(s) -> list[str]:
    """Every tag used in this workspace, to pick from."""
    df = ui.history_frame(s)
    if "tags" not in df:
        return []
    return sorted({t.strip() for cell in df["tags"].dropna() for t in str(cell).split(",") if t.strip()})


def annotation_controls(s, job, *, key: str) -> None:
    """The favourite star, the rating, the note and the tags of `job`; `key` keeps several on one page apart."""
    with st.container(horizontal=True, vertical_alignment="center"):
        favourite = bool(job.favourite)
        st.button("Favourite", key=f"{key}-fav", on_click=_toggle_favourite, args=(s, job),
                  icon=":material/star:" if favourite else ":material/star_border:",
                  type="primary" if favourite else "secondary",
                  help="Remove from favourites" if favourite else "Mark as a favourite")
        rating = f"{key}-rating-{job.rating or 0}"
        st.feedback("stars", key=rating, default=job.rating - 1 if job.rating else None,
                    on_change=_save_rating, args=(s, job, rating))
    note = f"{key}-note-{_digest(job.note or '')}"
    st.text_input("Note", value=job.note or "", key=note, max_chars=NOTE_MAX, on_change=_save_note,
                  args=(s, job, note), placeholder="What stands out (Enter saves)")
    tags = f"{key}-tags-{_digest(','.join(job.tags or []))}"
    st.multiselect("Tags", sorted(set(known_tags(s)) | set(job.tags or [])), default=list(job.tags or []),
                   key=tags, accept_new_options=True, on_change=_save_tags, args=(s, job, tags),
                   placeholder="Add tags")
