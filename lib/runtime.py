"""The one explicit runtime object of a process: settings, store, catalog, keys held in memory,
request budgets, the demo backend and the job engine. Built once per process (the app's st.App
lifespan, or first use), stopped cleanly; tests build and tear down their own. Nothing here is a
module-level singleton except the logging redaction filter.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import logging
import threading
import time
from pathlib import Path
from concurrent.futures import Future
from dataclasses import dataclass

from . import catalog_refresh, logs, mediacap, spend, workspaces
from . import jobstate as js
from .shared_budget import SharedRateLimiter
from .catalog import Catalog
from .client import KEY_PROBLEMS, RunwareClient
from .demo import DEMO_KEY, DemoBackend
from .engine import Engine, EngineConfig, abandoned_note
from .errors import ApiError
from .keys import KeyRing, key_id
from .catalog_refresh import RefreshReport
from .settings import Settings
from .store import Job, JobStore, Sweep

log = logging.getLogger("studio.runtime")

# The same request in the same workspace this soon after the first is a double submit.
DOUBLE_SUBMIT_SECONDS = 2.0
# How often the media folder cap is enforced besides after downloads (seconds).
HOUSEKEEPING_SECONDS = 60.0
WEBHOOK_PREFIX = "/webhooks/runware"
# A balance is asked for at most once a minute per key: Settings re-renders often.
BALANCE_CACHE_SECONDS = 60.0


def _new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class KeyCheck:
    ok: bool
    message: str
    balance: float | None = None


@dataclass(frozen=True)
class Balance:
    usd: float | None  # None when Runware did not say
    message: str = ""


def ask_account(client: RunwareClient) -> tuple[str, float | None]:
    """One accountManagement request, then the client is closed: ("ok", balance), ("refused", None) when
    Runware says no to the key (a low balance is not a refusal), or ("unreachable", None)."""
    try:
        return "ok", client.account().get("balance")
    except ApiError as exc:
        return ("refused" if exc.status in KEY_PROBLEMS and exc.status != 402 else "unreachable"), None
    finally:
        client.close()


def request_hash(task: dict) -> str:
    """Identifies a request regardless of its taskUUID (every Generate makes a new one)."""
    same = {k: v for k, v in task.items() if k != "taskUUID"}
    return hashlib.sha256(json.dumps(same, sort_keys=True, default=str).encode()).hexdigest()[:32]


class Runtime:
    def __init__(self, settings: Settings, *, catalog: Catalog | None = None, demo_latency: float = 2.0,
                 engine_config: EngineConfig | None = None):
        self.settings = settings
        logs.configure(settings.log_level)
        logs.register_secret(settings.api_key)  # the server's own key
        logs.register_secret(settings.operator_token)
        # A fresh refreshed catalog (catalog-cache.json) when there is one, else the bundled snapshot.
        self.catalog = catalog or catalog_refresh.catalog_for(settings)
        self._refreshing: Future | None = None
        self._balances: dict[tuple[str, str], tuple[float, Future]] = {}
        self._asks_lock = threading.Lock()  # not self._lock: making a client takes that one
        self.store = JobStore.open(settings.database_url)
        self.keys = KeyRing()
        self.server_key_id = self.keys.add(settings.api_key) if settings.api_key else None
        # Without a server key, sessions without a pasted key use the bundled simulator.
        self.demo = None if settings.api_key else DemoBackend(settings.data_dir, latency=demo_latency)
        self._limiters: dict[str, SharedRateLimiter] = {}
        self._lock = threading.Lock()
        self.webhook_token = (settings.webhook_secret or self.store.setting("webhook_token", _new_token)
                              if settings.public_url else None)
        config = engine_config or EngineConfig(
            max_in_flight=settings.max_in_flight, job_timeout=settings.job_timeout,
            max_video_bytes=int(settings.max_video_mb * 2**20),
            poll_min=settings.poll_interval_min, poll_max=settings.poll_interval_max)
        if self.webhook_token:
            config.webhook_url = f"{settings.public_url}{WEBHOOK_PREFIX}/{self.webhook_token}"
            logs.register_secret(self.webhook_token)
        if settings.max_media_gb > 0:
            config.after_download = self.housekeep
        self.engine = Engine(self.store, settings.media_dir, self.keys, self._client_for, config)
        # Signs workspace tokens. Made once and kept in the database when not configured, so every
        # replica issues and accepts the same tokens. Held privately: never shown or logged.
        self._workspace_secret = settings.secret or self.store.setting("workspace_secret", workspaces.new_secret)
        logs.register_secret(self._workspace_secret)
        self.caps = spend.Caps(settings.daily_budget_usd, settings.workspace_daily_budget_usd)
        self._housekeeping = threading.Event()
        self._housekeeper: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Runtime(mode={'demo' if self.demo else 'api'})"

    def start(self) -> "Runtime":
        if self.demo:
            self.demo.start()
            self.keys.add(DEMO_KEY)
            self._share_catalog_with_demo()
        self.engine.start()
        if self.settings.max_media_gb > 0:
            self._housekeeper = threading.Thread(target=self._housekeep_loop, name="studio-housekeeping",
                                                 daemon=True)
            self._housekeeper.start()
        # What a hosted demo's pages no longer show: the operator reads it here (LOG_LEVEL=INFO).
        # The database by its repr only: its URL may hold a password.
        log.info("data directory %s; database %r; simulator %s", self.settings.data_dir.resolve(),
                 self.store.db, self.demo.url if self.demo else "not running")
        return self

    def stop(self) -> None:
        self._housekeeping.set()
        if self._housekeeper:
            self._housekeeper.join(10)
        self.engine.stop()
        if self.demo:
            self.demo.stop()
        self.store.close()

    # -- wiring ---------------------------------------------------------------------------------------

    def limiter(self, api_url: str) -> SharedRateLimiter:
        """One request budget per API URL, shared by everything in the process and by every process on
        the same database (each demo process has its own simulator, under its own label)."""
        with self._lock:
            if api_url not in self._limiters:
                self._limiters[api_url] = SharedRateLimiter(self.store.db, api_url,
                                                             self.settings.requests_per_minute)
            return self._limiters[api_url]

    def endpoint(self, label: str) -> str | None:
        """The real URL behind an API URL label (the demo's label names its simulator)."""
        if self.demo and label == self.demo.label:
            return self.demo.url
        return label if label == self.settings.api_url else None

    def _client_for(self, label: str, api_key: str, **overrides) -> RunwareClient | None:
        url = self.endpoint(label)
        if url is None:
            return None
        options = dict(connect_timeout=self.settings.connect_timeout, read_timeout=self.settings.read_timeout,
                       limiter=self.limiter(label))
        return RunwareClient(api_key, url, **{**options, **overrides})

    # -- keys -----------------------------------------------------------------------------------------

    def hold_key(self, api_key: str) -> str:
        """Keep a user's key in memory so their jobs move on without them; its key id."""
        kid = self.keys.add(api_key)
        self.engine.unrest(kid)
        return kid

    def drop_key(self, kid: str) -> None:
        if kid not in (self.server_key_id, key_id(DEMO_KEY)):
            self.keys.discard(kid)
            self.engine.forget(kid)

    def check_key(self, api_key: str) -> Future:
        """One cheap request (accountManagement getDetails) on the engine: a Future of a KeyCheck."""
        client = self._client_for(self.settings.api_url, api_key, retries=0, deadline=10.0)

        def check() -> KeyCheck:
            outcome, balance = ask_account(client)
            if outcome == "refused":
                return KeyCheck(False, "Runware refused this key. Check it and paste it again.")
            if outcome == "unreachable":
                return KeyCheck(True, "Runware could not be asked right now; the key is kept and used.")
            return KeyCheck(True, "Runware accepted the key.", balance)

        return self.engine.call(check)

    def balance(self, session_key: str | None = None) -> Future:
        """The Runware balance (a Future of a Balance), asked by the engine: of a pasted key when given,
        else of the server's key, else of the demo simulator. Kept a minute per key; a failed answer
        is not kept, so the next look asks again."""
        if session_key:
            key, label = session_key, self.settings.api_url
        elif self.settings.api_key:
            key, label = self.settings.api_key, self.settings.api_url
        else:
            key, label = DEMO_KEY, self.demo.label
        ident = (label, key_id(key))
        with self._asks_lock:
            at, known = self._balances.get(ident, (0.0, None))
            if known is not None and time.monotonic() - at < BALANCE_CACHE_SECONDS and (
                    not known.done() or (known.exception() is None and known.result().usd is not None)):
                return known
            client = self._client_for(label, key, retries=0, deadline=10.0)

            def ask() -> Balance:
                if client is None:
                    return Balance(None, "This API is not reachable from here.")
                outcome, balance = ask_account(client)
                if outcome == "refused":
                    return Balance(None, "Runware refused this key.")
                if outcome == "unreachable":
                    return Balance(None, "Runware could not be asked right now.")
                return Balance(balance)

            future = self.engine.call(ask)
            self._balances[ident] = (time.monotonic(), future)
            return future

    def _share_catalog_with_demo(self) -> None:
        # The demo simulator stands in for Runware, which knows every refreshed model: it judges tasks
        # by the catalog the app offers (the simulator reads its catalog afresh for every task).
        if self.demo and self.demo.simulator:
            self.demo.simulator.engine.catalog = self.catalog

    def refresh_catalog(self) -> Future:
        """Fetch the newest model schemas (lib/catalog_refresh.py) on the engine: a Future of a
        RefreshReport. The catalog in use changes only when the refresh gave usable models; a refresh
        already running is shared, not doubled."""
        with self._asks_lock:
            if self._refreshing is not None and not self._refreshing.done():
                return self._refreshing

            def run() -> RefreshReport:
                report = catalog_refresh.refresh(self.settings)
                if report.ok:
                    self.catalog = catalog_refresh.catalog_for(self.settings)
                    self._share_catalog_with_demo()
                return report

            self._refreshing = self.engine.call(run)
            return self._refreshing

    # -- intents from pages ---------------------------------------------------------------------------

    def submit(self, task: dict, *, workspace: str, api_url: str, kid: str) -> Job:
        """Record a new job (nothing is sent here) and let the engine know. DuplicateSubmit if the same
        request was submitted in this workspace moments ago; spend.SpendCapExceeded if it would take
        today's spend on the server's key past a daily cap."""
        cost = spend.estimate(self.catalog.get(task.get("model", "")), task)
        # Only the server's key spends the operator's money: demo mode (simulated, free) and a visitor's
        # own pasted key are never capped.
        capped = self.caps.on and kid == self.server_key_id
        admit = self.caps.admit(key_id=kid, workspace=workspace, cost=cost, now=time.time()) if capped else None
        job = self.store.add(task, workspace=workspace, api_url=api_url, key_id=kid,
                             request_hash=request_hash(task), dedupe_seconds=DOUBLE_SUBMIT_SECONDS,
                             estimated_cost=cost, admit=admit)
        self.engine.wake()
        return job

    def submit_sweep(self, name: str, tasks: list[dict], spec: dict, *, workspace: str, api_url: str,
                     kid: str) -> tuple[Sweep, list[Job]]:
        """Record a whole sweep as queued jobs in one go (nothing is sent here): all or none, with the
        sweep's total estimated cost checked against the daily spend caps as one amount."""
        costs = [spend.estimate(self.catalog.get(t.get("model", "")), t) for t in tasks]
        total = sum(c for c in costs if c)
        capped = self.caps.on and kid == self.server_key_id
        admit = self.caps.admit(key_id=kid, workspace=workspace, cost=total, now=time.time()) if capped else None
        sweep, jobs = self.store.add_sweep(name, tasks, workspace=workspace, api_url=api_url, key_id=kid, spec=spec,
                                           costs=costs, admit=admit, request_hashes=[request_hash(t) for t in tasks],
                                           dedupe_seconds=DOUBLE_SUBMIT_SECONDS)
        self.engine.wake()
        return sweep, jobs

    def cancel_sweep(self, sweep_id: str, workspace: str) -> int:
        """Cancel the jobs of a sweep not sent yet; how many were cancelled. Those already sent go on:
        Runware has them (and may charge for them)."""
        return sum(self.cancel(job) for job in self.store.sweep_jobs(sweep_id, workspace) if job.status == js.QUEUED)

    def workspace_for(self, token: str | None) -> str:
        """`token` if this app issued it (signed, or an earlier version's token that owns jobs), else a
        fresh signed token: a hand-picked, guessable workspace name is never accepted."""
        if token and (workspaces.signed(token, self._workspace_secret)
                      or (workspaces.legacy(token) and self.store.has_workspace(token))):
            return token
        return workspaces.issue(self._workspace_secret)

    # -- housekeeping ---------------------------------------------------------------------------------

    def housekeep(self) -> list[str]:
        """Keep the media folder under STUDIO_MAX_MEDIA_GB (a no-op when off or under it). Runs every
        HOUSEKEEPING_SECONDS; the engine may also call it after each download. The jobs evicted."""
        if self.settings.max_media_gb <= 0:
            return []
        return mediacap.enforce(self.store, self.settings.media_dir, int(self.settings.max_media_gb * 2**30))

    def _housekeep_loop(self) -> None:
        while not self._housekeeping.is_set():
            try:
                self.housekeep()
            except Exception:  # a full disk or a busy database must not end housekeeping for good
                log.exception("media housekeeping failed")
            self._housekeeping.wait(HOUSEKEEPING_SECONDS)

    def cancel(self, job: Job) -> bool:
        """Stop a job that was never sent."""
        return self.store.write(job, "cancel", finished_at=time.time(),
                                error={"code": "cancelled", "message": "Cancelled before it was sent."}) is not None

    def abandon(self, job: Job) -> bool:
        """Stop a job that was never confirmed. The engine asks Runware once first when it can."""
        if self.engine.client(job.scope) is None:
            return self.store.write(job, "abandon", finished_at=time.time(), error=abandoned_note(None)) is not None
        done = self.store.write(job, "abandon_requested", intent="abandon") is not None
        self.engine.wake()
        return done

    def recheck(self, job: Job) -> bool:
        done = self.store.write(job, "recheck", intent="recheck") is not None
        self.engine.wake()
        return done

    def delete(self, job: Job) -> bool:
        """Remove a finished job and its local videos. Unfinished jobs are kept: they may be running (and
        charged) at Runware."""
        if job.pending or not self.store.delete(job.task_uuid, workspace=job.workspace):
            return False
        for result in job.results:
            for name in (result.get("file"), result.get("poster")):
                if name:
                    (self.settings.media_dir / Path(name).name).unlink(missing_ok=True)
        return True
