"""What one browser session works with: the process's runtime, seen through this session's workspace
and key. Pages get a Studio and never build these parts themselves; nothing here touches the network.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import jobstate as js
from .demo import DEMO_KEY, DEMO_LABEL
from .keys import key_id
from .runtime import Runtime
from .store import Job, Sweep

LOCAL_WORKSPACE = "local"
# Errors after which asking Runware again can still find the videos. A task Runware ran and failed is
# final, and so is a refused submit.
RECHECKABLE = {"downloadFailed", "resultGone", "malformedAnswer", "taskNotFound", "recheckFailed"}


@dataclass
class Studio:
    runtime: Runtime
    workspace: str
    mode: str  # "demo" or "api"
    key_source: str  # "environment" (env, .env or secrets), "session" or "demo"
    api_url: str  # the label this session's jobs are filed under
    key_id: str

    @property
    def demo(self) -> bool:
        return self.mode == "demo"

    @property
    def settings(self):
        return self.runtime.settings

    @property
    def store(self):
        return self.runtime.store

    @property
    def catalog(self):
        return self.runtime.catalog

    # -- intents ---------------------------------------------------------------------------------------

    def submit(self, task: dict) -> Job:
        return self.runtime.submit(task, workspace=self.workspace, api_url=self.api_url, kid=self.key_id)

    def submit_sweep(self, name: str, tasks: list[dict], spec: dict) -> tuple[Sweep, list[Job]]:
        return self.runtime.submit_sweep(name, tasks, spec, workspace=self.workspace, api_url=self.api_url,
                                         kid=self.key_id)

    def cancel_sweep(self, sweep_id: str) -> int:
        return self.runtime.cancel_sweep(sweep_id, self.workspace)

    def sweeps(self) -> list[Sweep]:
        return self.store.sweeps(self.workspace)

    def annotate(self, job: Job, **marks) -> bool:
        """Favourite, rating, note, tags (see JobStore.annotate); BadAnnotation for values it refuses."""
        return self.store.annotate(job.task_uuid, self.workspace, **marks)

    def job(self, task_uuid: str) -> Job | None:
        return self.store.get(task_uuid, workspace=self.workspace)

    def recent_jobs(self, limit: int = 6) -> list[Job]:
        return self.store.jobs(workspace=self.workspace, limit=limit)

    def pending_count(self) -> int:
        return self.store.count(statuses=js.PENDING, workspace=self.workspace)

    def recheck(self, job: Job) -> bool:
        return self.can_recheck(job) and self.runtime.recheck(job)

    def cancel(self, job: Job) -> bool:
        return job.status == js.QUEUED and self.runtime.cancel(job)

    def abandon(self, job: Job) -> bool:
        return job.status == js.SUBMITTING and not job.intent and self.runtime.abandon(job)

    def delete(self, job: Job) -> bool:
        return job.workspace == self.workspace and self.runtime.delete(job)

    # -- what a page may offer ------------------------------------------------------------------------

    def demo_job(self, job: Job) -> bool:
        """Made on the bundled simulator: its costs are simulated, nothing was charged."""
        return job.api_url.startswith(DEMO_LABEL)

    def can_recheck(self, job: Job) -> bool:
        """A job Runware accepted that ended without every video: asking again may still find them."""
        failed_here = job.status == js.ERROR and (job.error or {}).get("code") in RECHECKABLE
        return ((job.status == js.TIMEOUT or failed_here) and bool(job.submitted_at) and not job.intent
                and self.runtime.keys.get(job.key_id) is not None)

    def waiting_reason(self, job: Job) -> str | None:
        """Why an unfinished job is not moving, in plain words; None when it is."""
        if not job.pending:
            return None
        if self.runtime.keys.get(job.key_id) is None:
            return "This job was made with a pasted API key that is no longer in memory (the app restarted). " \
                   "Paste your key again to continue."
        if self.runtime.endpoint(job.api_url) is None:
            return "This job belongs to another API or another demo process; it continues there."
        return self.runtime.engine.resting(job.scope)


def open_studio(runtime: Runtime, *, session_key: str = "", workspace: str = LOCAL_WORKSPACE) -> Studio:
    """A Studio for one session. `session_key` (pasted by the user) wins over the configured key; with
    neither, demo mode against the bundled simulator."""
    settings = runtime.settings
    if session_key:
        return Studio(runtime, workspace, "api", "session", settings.api_url, runtime.hold_key(session_key))
    if settings.api_key:
        return Studio(runtime, workspace, "api", "environment", settings.api_url, runtime.server_key_id)
    return Studio(runtime, workspace, "demo", "demo", runtime.demo.label, key_id(DEMO_KEY))
