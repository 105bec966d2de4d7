"""Settings & status: what the app is connected to, your own defaults (kept in this browser), and the
server's limits (shown, not edited: the operator sets them). Never the key itself."""
import streamlit as st

from lib import jobstate, prefs
from lib.settings import DEFAULT_API_URL, ENV_NAMES
import studio_form_ui as fui
import studio_prefs_ui as prefs_ui
import studio_ui as ui

s = ui.studio()
ui.mode_banner(s)
ui.show_flash()
st.title("Settings & status")
cfg = s.settings
demo = s.runtime.demo
# A hosted demo (per-user workspaces) shows its visitors no server internals: no paths, ports, database,
# simulator address or log level. The operator reads those from the log at start (LOG_LEVEL=INFO).
hosted = cfg.workspaces == "per-user"
if s.demo:
    api_url = "the bundled simulator" if hosted else demo.url
else:
    api_url = cfg.api_url if not hosted or cfg.api_url == DEFAULT_API_URL else "set by the operator"
status = {
    "Mode": "Demo (bundled simulator)" if s.demo else "Runware API",
    "API key": {"demo": "not set (demo mode)", "environment": "set (environment, .env or secrets)",
                "session": "set (this browser session only)"}[s.key_source],
    "API URL": api_url,
    "Workspaces": "one per browser (hosted demo)" if hosted else "one shared (local)",
}
if hosted:
    status["Server details"] = "not shown in a hosted demo"
else:
    status["Data directory"] = str(cfg.data_dir.resolve())
    status["Simulator"] = f"running at {demo.url}" if demo and demo.url else "not running (not needed)"
    status["Log level"] = cfg.log_level
st.table({"Setting": list(status), "Value": list(status.values())})

prefs_ui.defaults_form(s, fui.picker_labels(s.catalog))

st.subheader("Limits")
st.caption("What this server allows; set by its operator, shown here so you know what you can hit.")
limiter = s.runtime.limiter(s.api_url)
in_flight = s.store.count(statuses=jobstate.IN_FLIGHT, key_id=s.key_id)
capped = "on the server's key; demo mode and your own key are not capped"
limits = {
    "Videos per job": f"up to {prefs.RESULTS[1]}",
    "First/last frame image": f"up to {cfg.max_image_mb:g} MB each",
    "Result video download": f"up to {cfg.max_video_mb:g} MB each",
    "Requests per minute": f"{limiter.used()} used of {cfg.requests_per_minute} in the last minute",
    "Tasks in flight": f"{in_flight} of {cfg.max_in_flight} (more jobs wait as queued)",
    "Daily spend cap": f"${cfg.daily_budget_usd:.2f} per UTC day, {capped}" if cfg.daily_budget_usd else "off",
    "Daily spend cap per workspace": (f"${cfg.workspace_daily_budget_usd:.2f} per UTC day, {capped}"
                                      if cfg.workspace_daily_budget_usd else "off"),
    "Media folder cap": f"{cfg.max_media_gb:g} GB (oldest local copies removed past it)" if cfg.max_media_gb else "off",
    "Sweeps ask first": (f"above ${cfg.confirm_above_usd:.2f}, or with any price unknown" if cfg.confirm_above_usd > 0
                         else "always"),
    "Polling interval": f"{cfg.poll_interval_min:g}-{cfg.poll_interval_max:g} s",
    "Job timeout": f"{cfg.job_timeout:g} s (a job still running then can be re-checked)",
}
st.table({"Limit": list(limits), "Value": list(limits.values())})
if not hosted:
    with st.expander("How to change the server's settings"):
        st.markdown("Set them in the environment, a `.env` file or `.streamlit/secrets.toml`:")
        st.code("\n".join(f"{env}=..." for env in ENV_NAMES.values()))

import studio_settings_ui  # noqa: E402  (kept apart so this page's own lines merge easily)

studio_settings_ui.account_and_catalog(s)
