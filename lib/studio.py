"""Everything one browser session works with, assembled from settings: demo or API mode, the client,
the tracker, the store, the workspace. The pages get a Studio and never build these parts themselves."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import demo, logs
from .budget import limiter_for
from .catalog import Catalog, load_catalog
from .client import RunwareClient
from .media import serve_from
from .settings import Settings
from .store import JobStore
from .tracker import Tracker

LOCAL_WORKSPACE = "local"


@lru_cache(maxsize=8)
def job_store(db_path: Path) -> JobStore:
    """One store per database file per process (it keeps a connection per thread)."""
    return JobStore(db_path)


@dataclass
class Studio:
    settings: Settings
    mode: str  # "demo" or "api"
    key_source: str  # "environment" (env, .env or secrets), "session" or "demo"
    workspace: str
    store: JobStore
    client: RunwareClient
    tracker: Tracker
    catalog: Catalog

    @property
    def demo(self) -> bool:
        return self.mode == "demo"

    @property
    def endpoint(self) -> str:
        """Where requests go (the simulator's loopback URL in demo mode)."""
        return self.client.api_url

    def delete_job(self, task_uuid: str) -> bool:
        """Remove a finished job of this workspace and its local videos. Pending jobs are kept: they
        may be running (and charged) at Runware."""
        job = self.store.get(task_uuid, workspace=self.workspace)
        if job is None or job.pending or not self.store.delete(task_uuid, workspace=self.workspace):
            return False
        for result in job.results:
            if result.get("file"):
                (self.settings.media_dir / result["file"]).unlink(missing_ok=True)
        return True

    def pending_jobs(self):
        """This workspace's unfinished jobs that this session's tracker can move on (jobs made with
        another key, or in the other mode, wait for a session that has it)."""
        return self.tracker.pending(self.workspace)


def open_studio(settings: Settings, *, session_key: str = "", workspace: str = LOCAL_WORKSPACE) -> Studio:
    """A Studio for one session. `session_key` (pasted by the user) wins over the configured key;
    with neither, demo mode against the bundled simulator."""
    logs.configure(settings.log_level)
    logs.register_secret(settings.api_key)  # the server's own key; never a user's pasted one
    key, source = (session_key, "session") if session_key else (settings.api_key, "environment")
    if key:
        mode, api_url, scope_url = "api", settings.api_url, settings.api_url
    else:
        sim = demo.ensure_simulator(settings.data_dir)
        mode, key, source, api_url, scope_url = "demo", demo.DEMO_KEY, "demo", sim.url, demo.DEMO_API_URL
    limiter = limiter_for(scope_url, settings.requests_per_minute)
    client = RunwareClient(key, api_url, connect_timeout=settings.connect_timeout,
                           read_timeout=settings.read_timeout, limiter=limiter)
    store = job_store(settings.db_path.resolve())
    serve_from(settings.media_dir)
    tracker = Tracker(store, client, key=key, media_dir=settings.media_dir, max_in_flight=settings.max_in_flight,
                      job_timeout=settings.job_timeout, max_video_bytes=int(settings.max_video_mb * 2**20),
                      scope_url=scope_url, min_poll_gap=settings.poll_interval_min / 2)
    return Studio(settings, mode, source, workspace, store, client, tracker, load_catalog())
