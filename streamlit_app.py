"""Runware Video Studio: the entrypoint routes; the pages render; lib/ does the work.

`streamlit run streamlit_app.py` imports this module, finds `app` (an st.App with two routes: /videos
serves local copies of result videos from disk, /webhooks/runware takes Runware's webhooks; and a
lifespan that starts the job engine with the server, so jobs move on with no browser open) and serves it; each browser session then runs this
same file as its script, where `__name__ == "__main__"`.
"""
import logging
from contextlib import asynccontextmanager

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

import studio_ui as ui
from lib.media import video_routes
from lib.settings import SettingsError
from lib.webhooks import webhook_routes

log = logging.getLogger("studio.app")


def _friendly_error(exc: Exception) -> bool:
    """No user ever sees a traceback: log it (redacted) and show a plain message instead."""
    log.error("unexpected error: %s", type(exc).__name__, exc_info=exc)
    st.error("Something went wrong on this page. Your jobs are safe: every job is saved before it is "
             "sent. Reload the page to continue.", icon="🛟")
    return True


@asynccontextmanager
async def _lifespan(_app):
    """Start the runtime (and its engine) with the server: pending jobs resume at once after a restart."""
    try:
        ui.runtime_for(ui.current_settings())
    except SettingsError as exc:
        log.error("configuration problem: %s", exc)  # every page says so too
    yield
    st.cache_resource.clear()  # stops the engine cleanly


def _media_dir():
    return ui.current_settings().media_dir


def _runtime():
    try:
        return ui.runtime_for(ui.current_settings())
    except SettingsError:
        return None


def main() -> None:
    st.set_page_config(page_title="Runware Video Studio", page_icon="🎬", layout="wide")
    if "shared" in st.query_params:
        # A share link shows that one job and nothing else: no workspace is opened, no sidebar (key
        # panel, running jobs), no other page. The page itself checks the link's token.
        st.navigation([st.Page("pages/shared.py", title="Shared video", url_path="shared", default=True)],
                      position="hidden").run()
        return
    studio = ui.studio()
    st.set_page_config(page_title=ui.tab_title(studio))
    pages = {
        "generate": st.Page("pages/generate.py", title="Generate", icon=":material/movie:", default=True),
        "history": st.Page("pages/history.py", title="History", icon=":material/history:", url_path="history"),
        "gallery": st.Page("pages/gallery.py", title="Gallery", icon=":material/grid_view:", url_path="gallery"),
        "compare": st.Page("pages/compare.py", title="Compare", icon=":material/compare:", url_path="compare"),
        "usage": st.Page("pages/usage.py", title="Usage", icon=":material/bar_chart:", url_path="usage"),
        "settings": st.Page("pages/settings.py", title="Settings", icon=":material/settings:", url_path="settings"),
    }
    page = st.navigation(list(pages.values()))
    if st.query_params.get("job") and page is not pages["history"]:
        # A job link (?job=<taskUUID>) opens that job's details, whatever page it landed on.
        st.switch_page(pages["history"], query_params=dict(st.query_params))
    ui.sidebar(studio)
    if page is not pages["generate"]:
        with st.sidebar:
            ui.live_jobs(studio, compact=True)
    page.run()


if __name__ == "__main__":
    main()
else:
    # This app always routes with st.navigation. Until some session has called it, Streamlit 1.67 treats
    # an app with a pages/ folder as an old-style multipage app: a fresh server's first visit to
    # /history would run pages/history.py bare, beside a raw list of files. Say so up front, as
    # st.navigation itself does when it first runs.
    PagesManager.uses_pages_directory = False
    app = st.App("streamlit_app.py", routes=video_routes(_media_dir) + webhook_routes(_runtime),
                 lifespan=_lifespan, on_script_error=_friendly_error)
