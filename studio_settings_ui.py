"""The Settings page's account and catalog blocks: the Runware balance and the models catalog (with its
Refresh button). Both ask the engine (runtime.balance / runtime.refresh_catalog) and wait a bounded time
under a spinner; nothing here touches the network.

Who sees what: a pasted key's owner sees that key's balance. The server key's balance and the Refresh
button are the operator's: everyone in single mode (a local app), and in per-user mode (a hosted demo)
only a session opened with ?operator=<STUDIO_OPERATOR_TOKEN>; without that setting nobody is.
"""
from __future__ import annotations

import hmac
import time
from concurrent.futures import TimeoutError as FutureTimeout

import streamlit as st

import studio_ui as ui
from lib.studio import Studio

BALANCE_WAIT_SECONDS = 10.0
# A refresh reads one schema per model; past this the page stops waiting (the refresh goes on).
REFRESH_WAIT_SECONDS = 60.0


def is_operator(settings) -> bool:
    """The operator's rights for this session; a matching ?operator= is remembered for the session, so
    moving between pages (which may drop the query) keeps them."""
    if settings.workspaces != "per-user":
        return True
    if not settings.operator_token:
        return False
    if st.session_state.get("operator_token_ok") == settings.operator_token:
        return True
    given = st.query_params.get("operator") or ""
    if given and hmac.compare_digest(given.encode(), settings.operator_token.encode()):
        st.session_state["operator_token_ok"] = settings.operator_token
        return True
    return False


def _balance_text(s: Studio, operator: bool) -> str | None:
    """The balance line for this session, or None when it may not see one."""
    if s.key_source == "session":
        future, whose = s.runtime.balance(s.runtime.keys.get(s.key_id)), "your key"
    elif s.key_source == "environment" and operator:
        future, whose = s.runtime.balance(), "the server's key"
    elif s.key_source == "demo":
        future, whose = s.runtime.balance(), "simulated, demo mode"
    else:
        return None
    try:
        if future.done():
            answer = future.result()
        else:
            with st.spinner("Asking Runware for the balance…"):
                answer = future.result(timeout=BALANCE_WAIT_SECONDS)
    except FutureTimeout:
        return "Runware did not answer in time; reload the page to ask again."
    except Exception:  # shown as "unknown": the page must not fail over a balance
        return "unknown (Runware could not be asked)."
    if answer.usd is None:
        return answer.message or "Runware did not say."
    return f"${answer.usd:,.2f} ({whose})"


def _refresh(s: Studio) -> None:
    future = s.runtime.refresh_catalog()
    try:
        with st.spinner("Fetching the newest model schemas…"):
            report = future.result(timeout=REFRESH_WAIT_SECONDS)
    except FutureTimeout:
        st.session_state["catalog_note"] = ("info", "Still refreshing in the background; reload this page "
                                                    "in a minute to see the result.")
        return
    except Exception:
        st.session_state["catalog_note"] = ("error", "The refresh failed; the catalog in use is kept.")
        return
    # Names and reasons come from outside servers: each is escaped; only the list markup is ours.
    text = ui.plain(report.message) + "".join(f"\n- skipped {ui.plain(air)}: {ui.plain(why)}"
                                             for air, why in report.skipped[:20])
    st.session_state["catalog_note"] = ("success" if report.ok else "warning", text)


def _catalog_source(catalog) -> str:
    made = catalog.generated_from
    refreshed = made.get("refreshed")
    if refreshed:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(refreshed["at"]))
        return (f"refreshed {when} from {refreshed.get('schema_url')} ({refreshed.get('models')} schemas, "
                f"{refreshed.get('added')} models new to the bundled snapshot)")
    return f"bundled snapshot ({made.get('sdk', 'generated')}, schemas {made.get('schemas_version', '?')})"


def account_and_catalog(s: Studio) -> None:
    """The Balance line and the Models catalog block of the Settings page."""
    operator = is_operator(s.settings)
    balance = _balance_text(s, operator)
    if balance is not None:
        st.subheader("Account")
        st.markdown(f"**Balance:** {ui.plain(balance)}")
    st.subheader("Models catalog")
    catalog = s.catalog
    st.markdown(f"{len(catalog.models)} models · {ui.plain(_catalog_source(catalog))}")
    if operator:
        if st.button("Refresh models catalog",
                     help="Reads the curated model list and each model's request schema from Runware's "
                          "schema and content services; bad entries are skipped."):
            _refresh(s)
            st.rerun()  # so the line above shows the catalog now in use
        kind, text = st.session_state.get("catalog_note", (None, None))
        if kind:
            getattr(st, kind)(text)
