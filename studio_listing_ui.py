"""History's and the Gallery's reads of the job table: SQL queries (lib/jobquery.py) whose answers are
kept in this session until any job of the workspace changes (`store.version`), so a rerun that
changes nothing (a click on a tile, a page turn back) asks the database one cheap question."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import jobquery
from lib.history import shape
from lib.jobquery import JobFilter
from lib.studio import Studio

# Answers kept per store version; past this many (a user paging through everything) they start over.
MAX_CACHED = 64


class Listing:
    """One script run's view of the workspace's jobs. Create one per run: it reads the version once."""

    def __init__(self, s: Studio):
        self.s = s
        version = (s.workspace, s.store.version(s.workspace))
        cache = st.session_state.get("listing_cache")
        if not cache or cache["version"] != version or len(cache["answers"]) > MAX_CACHED:
            cache = st.session_state["listing_cache"] = {"version": version, "answers": {}}
        self._answers = cache["answers"]

    def cached(self, key, make):
        """`make()`, kept under `key` until a job of the workspace changes (for what a page builds from
        the answers below, e.g. its table)."""
        if key not in self._answers:
            self._answers[key] = make()
        return self._answers[key]

    def total(self) -> int:
        return self.count(JobFilter())

    def count(self, f: JobFilter) -> int:
        return self.cached(("count", f), lambda: jobquery.count(self.s.store, self.s.workspace, f))

    def page(self, f: JobFilter, page: int, per_page: int) -> pd.DataFrame:
        """Page `page` (from 1) of the matching jobs, shaped for people, newest first."""
        return self.cached(("page", f, page, per_page), lambda: shape(jobquery.rows(
            self.s.store, self.s.workspace, f, offset=(page - 1) * per_page, limit=per_page), self.sweep_names()))

    def choices(self, column: str) -> list[str]:
        return self.cached(("choices", column), lambda: jobquery.distinct(self.s.store, self.s.workspace, column))

    def tags(self) -> list[str]:
        return self.cached(("tags",), lambda: jobquery.tags(self.s.store, self.s.workspace))

    def sweeps(self) -> dict:
        """The workspace's sweeps by id, newest first. A new sweep always brings new jobs (a new version)."""
        return self.cached(("sweeps",), lambda: {sweep.sweep_id: sweep for sweep in self.s.sweeps()})

    def sweep_names(self) -> dict[str, str]:
        return {sweep_id: sweep.name for sweep_id, sweep in self.sweeps().items()}

    def everything(self, f: JobFilter) -> pd.DataFrame:
        """Every matching job, shaped (exports). Not kept: it is built only when a download is clicked."""
        return shape(jobquery.rows(self.s.store, self.s.workspace, f), self.sweep_names())


def page_number(total: int, per_page: int, key: str) -> int:
    """A page number input when there is more than one page; the page to show (from 1)."""
    count = jobquery.pages(total, per_page)
    if count == 1:
        return 1
    # A page past the end (after a filter or a delete) would show nothing: start over at the last one.
    if st.session_state.get(key, 1) > count:
        st.session_state[key] = count
    return int(st.number_input(f"Page (of {count})", min_value=1, max_value=count, step=1, key=key))
