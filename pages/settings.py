"""Settings / status: what the app is connected to and with which limits. Never the key itself."""
import streamlit as st

from lib import jobstate
from lib.settings import DEFAULT_API_URL, ENV_NAMES
import studio_ui as ui

s = ui.studio()
ui.mode_banner(s)
ui.show_flash()
st.title("Settings & status")
cfg = s.settings
demo = s.runtime.demo
limiter = s.runtime.limiter(s.api_url)
in_flight = s.store.count(statuses=jobstate.IN_FLIGHT, key_id=s.key_id)
# A hosted demo (per-user workspaces) shows its visitors no server internals: no paths, ports, database
# or simulator address. The operator reads those from the log at start (LOG_LEVEL=INFO).
hosted = cfg.workspaces == "per-user"
HIDDEN = "not shown in a hosted demo"
if s.demo:
    api_url = "the bundled simulator" if hosted else demo.url
else:
    api_url = cfg.api_url if not hosted or cfg.api_url == DEFAULT_API_URL else "set by the operator"
rows = {
    "Mode": "Demo (bundled simulator)" if s.demo else "Runware API",
    "API key": {"demo": "not set (demo mode)", "environment": "set (environment, .env or secrets)",
                "session": "set (this browser session only)"}[s.key_source],
    "API URL": api_url,
    "Requests per minute (budget)": f"{limiter.used()} used of {cfg.requests_per_minute} in the last minute",
    "Tasks in flight (budget)": f"{in_flight} of {cfg.max_in_flight}",
    "Daily spend cap": f"${cfg.daily_budget_usd:.2f} (UTC day)" if cfg.daily_budget_usd else "off",
    "Daily spend cap per workspace": (f"${cfg.workspace_daily_budget_usd:.2f} (UTC day)"
                                      if cfg.workspace_daily_budget_usd else "off"),
    "Media folder cap": f"{cfg.max_media_gb:g} GB (oldest local copies removed past it)" if cfg.max_media_gb else "off",
    "Data directory": HIDDEN if hosted else str(cfg.data_dir.resolve()),
    "Workspaces": "one per browser (hosted demo)" if hosted else "one shared (local)",
    "Simulator": ("running" if hosted else f"running at {demo.url}") if demo and demo.url else "not running (not needed)",
    "Polling interval": f"{cfg.poll_interval_min:g}-{cfg.poll_interval_max:g} s",
    "Job timeout": f"{cfg.job_timeout:g} s",
    "Log level": cfg.log_level,
}
st.table({"Setting": list(rows), "Value": list(rows.values())})
with st.expander("How to change these"):
    st.markdown("Set them in the environment, a `.env` file or `.streamlit/secrets.toml`:")
    st.code("\n".join(f"{env}=..." for env in ENV_NAMES.values()))

import studio_settings_ui  # noqa: E402  (kept apart so this page's own lines merge easily)

studio_settings_ui.account_and_catalog(s)
