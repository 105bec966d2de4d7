"""Gallery: finished videos in a grid with their prompts, newest first, paged."""
import math

import streamlit as st

import studio_ui as ui

PER_PAGE = 9
COLUMNS = 3

s = ui.studio()
ui.mode_banner(s)
ui.show_flash()
st.title("Gallery")
df = ui.history_frame(s)
done = df[(df["status"] == "success") & (df["video_files"].str.len() > 0)]
if done.empty:
    st.info("Finished videos appear here.")
    st.stop()

pages = math.ceil(len(done) / PER_PAGE)
page = st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1, key="g_page") if pages > 1 else 1
chunk = done.iloc[(page - 1) * PER_PAGE: page * PER_PAGE]
for start in range(0, len(chunk), COLUMNS):
    for col, (_, row) in zip(st.columns(COLUMNS), chunk.iloc[start:start + COLUMNS].iterrows()):
        with col:
            job = s.store.get(row["task_uuid"], workspace=s.workspace)
            if job:
                ui.video_player(s, job, 0)
                st.text(job.prompt[:200])
                st.page_link("pages/history.py", label="Details", query_params={"job": job.task_uuid})
