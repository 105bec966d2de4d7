"""Usage: spend per day and per model, jobs by status, time to finish; totals; remaining caps; CSV."""
import time

import altair as alt
import streamlit as st

from lib import spend, usage
import studio_ui as ui

s = ui.studio()
ui.mode_banner(s)
st.title("Usage")
# In demo mode the costs are the simulator's figures: nothing was charged.
money = "Spend (simulated)" if s.demo else "Spend"
df = usage.prepare(s.store.frame(s.workspace))
if df.empty:
    st.info("No jobs yet. Start one on the Generate page.")
    st.stop()

now = time.time()
sums = usage.totals(df, now)
today, week, total = st.columns(3)
today.metric(f"{money} today (UTC)", f"${sums['today']:.2f}")
week.metric(f"{money} this week", f"${sums['week']:.2f}")
total.metric(f"{money}, all time", f"${sums['all']:.2f}")

# The caps count what the cap check counts (estimates of running jobs too), on the server's key only.
caps = s.runtime.caps
if caps.on and s.key_id == s.runtime.server_key_id:
    since = spend.day_start(now)
    for cap, ws, label in ((caps.daily, None, "Daily cap left (whole deployment)"),
                           (caps.workspace, s.workspace, "Daily cap left (this workspace)")):
        left = usage.remaining(cap, spend.spent(s.store.db, s.key_id, since, ws).total)
        if left is not None:
            st.metric(label, f"${left:.2f} of ${cap:.2f}")

by_day, by_model = st.columns(2)
by_day.subheader(f"{money} per day")
by_day.altair_chart(alt.Chart(usage.spend_per_day(df)).mark_bar().encode(
    x=alt.X("day:O", title="Day (UTC)"), y=alt.Y("spend:Q", title="USD")), use_container_width=True)
by_model.subheader(f"{money} per model")
by_model.altair_chart(alt.Chart(usage.spend_per_model(df)).mark_bar().encode(
    x=alt.X("spend:Q", title="USD"), y=alt.Y("model:N", sort="-x", title=None)), use_container_width=True)

by_status, timing = st.columns(2)
by_status.subheader("Jobs by status")
by_status.altair_chart(alt.Chart(usage.jobs_by_status(df)).mark_bar().encode(
    x=alt.X("jobs:Q", title="Jobs"), y=alt.Y("status:N", sort="-x", title=None)), use_container_width=True)
timing.subheader("Time to finish per model")
times = usage.time_to_finish(df)
if times.empty:
    timing.caption("No finished videos yet.")
else:
    timing.altair_chart(alt.Chart(times).mark_bar().encode(
        x=alt.X("median:Q", title="Median seconds"), y=alt.Y("model:N", title=None),
        tooltip=["model", "jobs", "median", "mean", "longest"]), use_container_width=True)

st.download_button("Export CSV", lambda: usage.to_csv(df), "studio-usage.csv", "text/csv")
