"""A job's own marks: favourite star, rating 1-5, note and tags, saved with the job (`s.annotate`).

The store is the one truth. Each widget's key carries the value it was drawn from, so after a save
(here, or in another tab) the next rerun draws a fresh widget from the stored value instead of keeping a
stale one; each change is saved by its widget's callback before that rerun.
"""
from __future__ import annotations

import hashlib

import streamlit as st

import studio_ui as ui
from lib.store import MAX_NOTE, BadAnnotation
from studio_listing_ui import Listing


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _save(s, job, key: str, **marks) -> None:
    """Save from a widget's callback; a value the store refuses is said under the widgets instead."""
    try:
        s.annotate(job, **marks)
        st.session_state.pop(f"{key}-problem", None)
    except BadAnnotation as exc:
        st.session_state[f"{key}-problem"] = str(exc)
        # Redraw the widgets from what is stored: the refused value must not look saved.
        st.session_state[f"{key}-redraw"] = st.session_state.get(f"{key}-redraw", 0) + 1


def _toggle_favourite(s, job, key: str) -> None:
    _save(s, job, key, favourite=not job.favourite)


def _save_rating(s, job, key: str, widget: str) -> None:
    stars = st.session_state.get(widget)  # 0-4 from st.feedback, None when cleared
    _save(s, job, key, rating=None if stars is None else stars + 1)


def _save_note(s, job, key: str, widget: str) -> None:
    _save(s, job, key, note=(st.session_state.get(widget) or "").strip())


def _save_tags(s, job, key: str, widget: str) -> None:
    _save(s, job, key, tags=list(st.session_state.get(widget) or []))


def annotation_controls(s, job, *, key: str) -> None:
    """The favourite star, the rating, the note and the tags of `job`; `key` keeps several on one page apart."""
    with st.container(horizontal=True, vertical_alignment="center"):
        favourite = bool(job.favourite)
        st.button("Favourite", key=f"{key}-fav", on_click=_toggle_favourite, args=(s, job, key),
                  icon=":material/star:" if favourite else ":material/star_border:",
                  type="primary" if favourite else "secondary",
                  help="Remove from favourites" if favourite else "Mark as a favourite")
        rating = f"{key}-rating-{job.rating or 0}"
        st.feedback("stars", key=rating, default=job.rating - 1 if job.rating else None,
                    on_change=_save_rating, args=(s, job, key, rating))
    redraw = st.session_state.get(f"{key}-redraw", 0)
    note = f"{key}-note-{_digest(job.note or '')}-{redraw}"
    st.text_input("Note", value=job.note or "", key=note, max_chars=MAX_NOTE, on_change=_save_note,
                  args=(s, job, key, note), placeholder="What stands out (Enter saves)")
    tags = f"{key}-tags-{_digest(','.join(job.tags or []))}-{redraw}"
    st.multiselect("Tags", sorted(set(Listing(s).tags()) | set(job.tags or [])), default=list(job.tags or []),
                   key=tags, accept_new_options=True, on_change=_save_tags, args=(s, job, key, tags),
                   placeholder="Add tags")
    if st.session_state.get(f"{key}-problem"):
        st.error(ui.plain(st.session_state[f"{key}-problem"]), icon="⚠️")
