"""A shared job (?shared=<taskUUID>&token=<share token>): that one job, read-only. No workspace is
opened and no action is offered; a wrong, forged or revoked token shows one plain sentence."""
import json

import streamlit as st

from lib import sharing
from lib.demo import DEMO_LABEL
from lib.request import redact_images
import studio_ui as ui

runtime = ui.runtime_for(ui.current_settings())
job = sharing.open_job(runtime.store, runtime._workspace_secret, st.query_params.get("shared", ""),
                       st.query_params.get("token", ""))
if job is None:
    st.write("This link is not valid (or was revoked).")
    st.stop()

st.set_page_config(page_title=f"{job.prompt[:60]} · Runware Video Studio")
st.title("Shared video")
st.text(job.prompt)
st.markdown(ui.job_details_line(job, job.api_url.startswith(DEMO_LABEL)))
for i in range(len(job.results)):
    ui.shared_video(runtime, job, i)
with st.expander("Parameters"):
    st.code(json.dumps(redact_images(job.task), indent=2, ensure_ascii=False), language="json")
