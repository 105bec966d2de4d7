"""The job engine (issue #7): one worker per process moves every job on with no page open; leases keep
two engines (or processes) off one job; one retry layer; answers never trusted. Real servers on loopback
ports (the simulator, or a StandIn speaking Runware's protocol where the simulator cannot misbehave in
the way a test needs). Sends are counted as the server *received* them, never as acceptances."""
from __future__ import annotations

import json
import socket
import threading
import time

import av
import pytest

from conftest import CLOSED_URL, TEST_KEY, Received, StandIn, force, video_task, wait_for
from lib import engine as engine_module
from lib import jobstate as js
from lib.budget import RateLimiter
from lib.client import RunwareClient
from lib.demo import DEMO_KEY
from lib.engine import SEND_LANES, poll_interval
from lib.errors import ApiError
from lib.keys import KeyRing, key_id
from lib.simulator.render import render_mp4
from lib.simulator.server import Simulator
from lib.store import DuplicateSubmit
from lib.studio import open_studio

WS = "local"
KID = key_id(TEST_KEY)
SERVER_KEY = "server-key-0123456789abcdef"


def add(store, url: str, task: dict | None = None, *, key: str = TEST_KEY, workspace: str = WS) -> dict:
    """Record a job the way a page does (nothing is sent here); the task."""
    task = task or video_task(seed=42)
    store.add(task, workspace=workspace, api_url=url, key_id=key_id(key))
    return task


def finished(store, task_uuid: str, timeout: float = 15.0):
    """The job once it has left the pending statuses."""
    return wait_for(lambda: (j := store.get(task_uuid)) and not j.pending and j, timeout,
                    f"job {task_uuid} to finish")


def settled(store, task_uuid: str, timeout: float = 15.0):
    """The job once the engine has acted on its intent (a re-check) and it is finished again."""
    return wait_for(lambda: (j := store.get(task_uuid)) and not j.intent and not j.pending and j, timeout,
                    f"job {task_uuid} to settle")


def reached(store, task_uuid: str, status: str, timeout: float = 15.0):
    return wait_for(lambda: (j := store.get(task_uuid)).status == status and j, timeout,
                    f"job {task_uuid} to be {status}")


def playable(path) -> bool:
    with av.open(str(path)) as container:
        return container.streams.video[0].frames > 0


def sent_directly(sim_url: str, task: dict) -> None:
    """Submit a task straight to Runware, as a process that then crashed would have."""
    client = RunwareClient(TEST_KEY, sim_url, retries=0)
    try:
        client.submit(task)
    finally:
        client.close()


@pytest.fixture(scope="module")
def mp4_bytes(tmp_path_factory) -> bytes:
    """A real, small MP4 for StandIns to serve as a result video."""
    path = tmp_path_factory.mktemp("mp4") / "clip.mp4"
    render_mp4(path, prompt="stand-in", width=64, height=64, duration=1, fps=8, seed=1)
    return path.read_bytes()


class FakeRunware(StandIn):
    """Runware's REST protocol on a StandIn, with the answers a test scripts. `submit(tasks)`,
    `poll(uuids)` and `details(uuid)` return (status, body dict); GET /video/<name> serves `videos`."""

    def __init__(self, *, submit=None, poll=None, details=None, videos=None):
        self.on_submit = submit or (lambda tasks: (200, {"data": [
            {"taskType": "videoInference", "taskUUID": t["taskUUID"]} for t in tasks]}))
        self.on_poll = poll or (lambda uuids: (200, {"data": [
            {"taskType": "videoInference", "taskUUID": u, "status": "processing"} for u in uuids]}))
        self.on_details = details or (lambda uuid: (400, {"errors": [
            {"code": "invalidTaskType", "parameter": "taskType", "message": "Not supported here."}]}))
        self.videos = dict(videos or {})
        super().__init__(self._respond)

    @property
    def api(self) -> str:
        return self.url + "/v1"

    def video_url(self, name: str) -> str:
        return f"{self.url}/video/{name}"

    def _respond(self, method, path, body, n):
        if method == "GET":
            data = self.videos.get(path.rsplit("/", 1)[-1])
            if data is None:
                return 404, "application/json", b'{"errors": [{"code": "notFound", "message": "gone"}]}'
            return 200, "video/mp4", data
        tasks = json.loads(body)
        kind = tasks[0]["taskType"]
        if kind == "videoInference":
            status, answer = self.on_submit(tasks)
        elif kind == "getResponse":
            status, answer = self.on_poll([t["taskUUID"] for t in tasks])
        elif kind == "getTaskDetails":
            status, answer = self.on_details(tasks[0]["taskUUID"])
        else:
            status, answer = 400, {"errors": [{"code": "invalidTaskType", "message": kind}]}
        return status, "application/json", json.dumps(answer).encode()

    def posts(self, task_type: str, task_uuid: str | None = None) -> list[list[str]]:
        """The taskUUIDs of each POST of `task_type` received (only those naming `task_uuid`, if given)."""
        out = []
        for method, _, _, body in list(self.requests):
            if method != "POST":
                continue
            uuids = [t.get("taskUUID") for t in json.loads(body) if t.get("taskType") == task_type]
            if uuids and (task_uuid is None or task_uuid in uuids):
                out.append(uuids)
        return out

    def gets(self, name: str) -> int:
        return sum(1 for method, path, _, _ in list(self.requests) if method == "GET" and path.endswith("/" + name))


def success_item(task_uuid: str, url: str, video_uuid: str = "v-1", **extra) -> dict:
    return {"taskType": "videoInference", "taskUUID": task_uuid, "status": "success", "videoUUID": video_uuid,
            "videoURL": url, **extra}


# == the happy path: no page involved ===============================================================

def test_key_id_is_a_short_stable_label():
    assert key_id(TEST_KEY) == key_id(TEST_KEY) != key_id(TEST_KEY + "x")
    assert len(key_id(TEST_KEY)) == 16 and TEST_KEY not in key_id(TEST_KEY)
    ring = KeyRing()
    assert ring.add(TEST_KEY) == KID and ring.get(KID) == TEST_KEY
    ring.discard(KID)
    assert ring.get(KID) is None


def test_a_job_is_sent_once_polled_and_downloaded(simulator, received, make_engine, tmp_path):
    engine = make_engine(simulator.url)
    task = add(engine.store, simulator.url, video_task(seed=42, includeCost=True))
    engine.wake()
    job = finished(engine.store, task["taskUUID"])
    assert job.status == "success" and job.error is None and job.finished_at and job.submitted_at
    assert job.attempts == 1 and job.lease_owner is None
    result, = job.results
    assert result["seed"] == 42 and result["cost"] > 0 and job.cost == pytest.approx(result["cost"])
    assert result["file"] == f"{task['taskUUID']}-0.mp4"
    assert playable(tmp_path / "media" / result["file"])
    names = sorted(p.name for p in (tmp_path / "media").iterdir())
    assert names == sorted([result["file"], result["poster"]])  # the video and its poster, no partial files
    assert received.sends(task["taskUUID"]) == 1
    assert received.video_gets() == {"/video/" + result["videoURL"].rsplit("/", 1)[-1]: 1}
    # A finished job is left alone: nothing more is asked about it.
    posts = len(received.posts)
    time.sleep(0.4)
    assert len(received.posts) == posts


def test_without_include_cost_there_is_no_cost(simulator, make_engine):
    engine = make_engine(simulator.url)
    task = add(engine.store, simulator.url)
    engine.wake()
    job = finished(engine.store, task["taskUUID"])
    assert job.status == "success" and job.cost is None and "cost" not in job.results[0]


def test_two_results_are_two_files(simulator, make_engine, tmp_path):
    engine = make_engine(simulator.url)
    task = add(engine.store, simulator.url, video_task(seed=42, numberResults=2, includeCost=True))
    engine.wake()
    job = finished(engine.store, task["taskUUID"])
    assert job.status == "success"
    assert sorted(r["seed"] for r in job.results) == [42, 43]
    assert sorted(r["file"] for r in job.results) == [f"{task['taskUUID']}-0.mp4", f"{task['taskUUID']}-1.mp4"]
    assert all(playable(tmp_path / "media" / r["file"]) for r in job.results)
    assert job.cost == pytest.approx(sum(r["cost"] for r in job.results))


def test_the_tasks_in_flight_budget_holds_and_the_oldest_go_first(simulator, received, make_engine):
    engine = make_engine(simulator.url, max_in_flight=2, start=False)
    store = engine.store
    tasks = [add(store, simulator.url, video_task(seed=42, positivePrompt=f"budget {i}")) for i in range(5)]
    seen, stop = [], threading.Event()

    def watch():
        while not stop.is_set():
            accepted = len(simulator.stats.snapshot()["submitted"])  # read first: it only grows
            done = store.count(statuses=js.FINISHED + (js.DOWNLOADING,))
            seen.append((store.count(statuses=js.IN_FLIGHT), accepted - done))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        engine.start()
        wait_for(lambda: store.count(statuses=js.PENDING) == 0, 30, "every job to finish")
    finally:
        stop.set()
        watcher.join()
    assert [store.get(t["taskUUID"]).status for t in tasks] == ["success"] * 5
    assert max(s[0] for s in seen) == 2  # the budget was used ...
    assert max(s[1] for s in seen) <= 2  # ... and Runware never had more than 2 unfinished tasks of ours
    # Oldest first: jobs are claimed in order; with SEND_LANES submits under way at once, two claimed
    # together may reach the API in either order, but never further apart.
    order = simulator.stats.snapshot()["submitted"]
    assert sorted(order) == sorted(t["taskUUID"] for t in tasks)
    assert all(abs(order.index(t["taskUUID"]) - i) < SEND_LANES for i, t in enumerate(tasks))
    assert all(received.sends(t["taskUUID"]) == 1 for t in tasks)


def test_every_processing_job_of_a_key_is_polled_in_one_request(simulator, received, make_engine, tmp_path):
    from lib.store import JobStore
    simulator.engine.latency = 30.0  # they stay processing
    store = JobStore(tmp_path / "studio.sqlite3")
    tasks = [video_task(seed=42) for _ in range(20)]
    for task in tasks:
        sent_directly(simulator.url, task)
        add(store, simulator.url, task)
        force(store, task["taskUUID"], status=js.PROCESSING, submitted_at=time.time(), attempts=1)
    make_engine(simulator.url, store=store)
    polls = wait_for(received.polls, 10, "a poll")
    assert sorted(polls[0]) == sorted(t["taskUUID"] for t in tasks)


def test_an_idle_engine_sends_nothing(simulator, received, make_engine):
    make_engine(simulator.url)
    time.sleep(0.5)
    assert received.posts == [] and simulator.stats.snapshot()["posts"] == 0


def test_jobs_of_a_key_not_in_memory_are_left_alone(simulator, received, make_engine):
    engine = make_engine(simulator.url)
    theirs = add(engine.store, simulator.url, key="someone-elses-key-0123456789")
    mine = add(engine.store, simulator.url)
    engine.wake()
    assert finished(engine.store, mine["taskUUID"]).status == "success"
    job = engine.store.get(theirs["taskUUID"])
    assert job.status == js.QUEUED and job.revision == 0 and received.sends(theirs["taskUUID"]) == 0


def test_jobs_for_an_api_this_process_cannot_reach_are_left_alone(simulator, received, make_engine):
    engine = make_engine(simulator.url)
    elsewhere = add(engine.store, "simulator://local/7")  # another demo process's jobs
    mine = add(engine.store, simulator.url)
    engine.wake()
    assert finished(engine.store, mine["taskUUID"]).status == "success"
    assert engine.store.get(elsewhere["taskUUID"]).revision == 0


def test_each_key_has_its_own_tasks_in_flight_budget(simulator, received, make_engine):
    simulator.engine.latency = 1.0  # Alice's first job stays in flight while Bob's goes out
    alice, bob = "alice-key-0123456789abcdef", "bob-key-0123456789abcdef"
    engine = make_engine(simulator.url, keys=(alice, bob), max_in_flight=1, start=False)
    a1, a2 = add(engine.store, simulator.url, key=alice), add(engine.store, simulator.url, key=alice)
    b1 = add(engine.store, simulator.url, key=bob)
    engine.start()
    # Bob's job goes out while Alice's first is in flight and her second waits for it.
    reached(engine.store, b1["taskUUID"], js.PROCESSING)
    assert engine.store.get(a2["taskUUID"]).status == js.QUEUED
    assert engine.store.get(a1["taskUUID"]).status in js.IN_FLIGHT
    for task in (a1, a2, b1):
        assert finished(engine.store, task["taskUUID"]).status == "success"
        assert received.sends(task["taskUUID"]) == 1


def test_poll_interval_steps():
    assert [poll_interval(age, 1.5, 10.0) for age in (1, 30, 100, 1000)] == [1.5, 3.0, 6.0, 10.0]
    assert poll_interval(30, 5.0, 10.0) == 5.0 and poll_interval(100, 1.5, 4.0) == 4.0
    steps = [poll_interval(age, 1.5, 10.0) for age in range(0, 400, 5)]
    assert steps == sorted(steps)  # never faster as a job ages


# == no browser, restarts, pasted keys (whole Runtimes) ===================================================

def test_a_job_finishes_with_no_page_open(make_runtime, tmp_path):
    runtime = make_runtime()  # demo mode: the bundled simulator
    received = Received(runtime.demo.simulator)
    task = video_task(seed=42)
    runtime.submit(task, workspace=WS, api_url=runtime.demo.label, kid=key_id(DEMO_KEY))
    job = finished(runtime.store, task["taskUUID"])
    assert job.status == "success"
    assert playable(tmp_path / "data" / "media" / job.results[0]["file"])  # STUDIO_DATA_DIR/media
    assert received.sends(task["taskUUID"]) == 1 and received.polls(task["taskUUID"])


def _restarted_demo(make_runtime):
    """A second runtime on the same data dir, with what its simulator receives recorded from the start."""
    runtime = make_runtime(start=False)
    runtime.demo.start()
    received = Received(runtime.demo.simulator)
    return runtime.start(), received


def test_a_restarted_runtime_resumes_a_processing_job_without_resending_it(make_runtime):
    first = make_runtime(demo_latency=1.0)
    task = video_task(seed=42)
    first.submit(task, workspace=WS, api_url=first.demo.label, kid=key_id(DEMO_KEY))
    reached(first.store, task["taskUUID"], js.PROCESSING)
    first.stop()  # mid-job: the process goes away

    second, received = _restarted_demo(make_runtime)
    job = finished(second.store, task["taskUUID"])
    assert job.status == "success" and job.results[0]["file"]
    assert received.sends(task["taskUUID"]) == 0  # the restarted simulator still knew it: only polled


def test_a_job_recorded_but_never_sent_is_sent_after_a_restart(make_runtime):
    first = make_runtime(start=False)  # its engine never ran: the job was only written
    task = video_task(seed=42)
    first.submit(task, workspace=WS, api_url=first.demo.label, kid=key_id(DEMO_KEY))
    first.stop()
    second, received = _restarted_demo(make_runtime)
    assert finished(second.store, task["taskUUID"]).status == "success"
    assert received.sends(task["taskUUID"]) == 1


def test_a_pasted_key_job_waits_after_a_restart_until_the_key_is_pasted_again(simulator, received,
                                                                               make_runtime):
    simulator.engine.latency = 0.8
    first = make_runtime(api_key=SERVER_KEY, api_url=simulator.url)
    studio = open_studio(first, session_key=TEST_KEY)
    task = video_task(seed=42)
    studio.submit(task)
    reached(first.store, task["taskUUID"], js.PROCESSING)
    first.stop()

    second = make_runtime(api_key=SERVER_KEY, api_url=simulator.url)  # the pasted key is gone
    job = second.store.get(task["taskUUID"])
    assert "Paste your key again" in open_studio(second).waiting_reason(job)
    polls = len(received.polls(task["taskUUID"]))
    time.sleep(1.0)  # past the task's latency: it would have finished if anyone polled it
    assert len(received.polls(task["taskUUID"])) == polls
    assert second.store.get(task["taskUUID"]).revision == job.revision  # untouched

    second.hold_key(TEST_KEY)
    job = finished(second.store, task["taskUUID"], timeout=10)
    assert job.status == "success" and job.results[0]["file"]
    assert received.sends(task["taskUUID"]) == 1


# == leases: two engines (two owners) on one store ======================================================

def test_two_engines_send_each_job_once_and_download_each_video_once(simulator, received, make_engine,
                                                                       tmp_path):
    from lib.store import JobStore
    engines = [make_engine(simulator.url, store=JobStore(tmp_path / "studio.sqlite3"), start=False)
               for _ in range(2)]
    assert engines[0].owner != engines[1].owner
    store = engines[0].store
    tasks = [add(store, simulator.url, video_task(seed=42, positivePrompt=f"lease {i}")) for i in range(10)]
    for engine in engines:
        engine.start()
    jobs = [finished(store, t["taskUUID"], timeout=30) for t in tasks]
    assert [j.status for j in jobs] == ["success"] * 10  # none lost
    assert received.sends_by_uuid() == {t["taskUUID"]: 1 for t in tasks}
    urls = ["/video/" + j.results[0]["videoURL"].rsplit("/", 1)[-1] for j in jobs]
    assert received.video_gets() == {u: 1 for u in urls}
    assert all((tmp_path / "media" / j.results[0]["file"]).is_file() for j in jobs)


def test_a_crashed_owners_lease_is_waited_out_then_the_job_is_resent_under_its_uuid(simulator, received,
                                                                                   make_engine, tmp_path):
    from lib.store import JobStore
    store = JobStore(tmp_path / "studio.sqlite3")
    task = add(store, simulator.url)
    # Another process claimed it, maybe sent it, and died: its lease runs for a while yet.
    force(store, task["taskUUID"], status=js.SUBMITTING, attempts=1, lease_owner="crashed-host:1:dead",
          lease_until=time.time() + 1.0)
    make_engine(simulator.url, store=store)
    time.sleep(0.6)
    assert received.sends(task["taskUUID"]) == 0 and store.get(task["taskUUID"]).status == js.SUBMITTING
    job = finished(store, task["taskUUID"])
    assert job.status == "success" and job.attempts == 2
    assert received.sends(task["taskUUID"]) == 1


def test_a_crashed_owners_submit_that_did_reach_runware_is_resent_and_accepted_once(simulator, received,
                                                                                    make_engine, tmp_path):
    from lib.store import JobStore
    store = JobStore(tmp_path / "studio.sqlite3")
    task = add(store, simulator.url)
    sent_directly(simulator.url, task)  # the dead owner's submit got through; its answer was lost
    force(store, task["taskUUID"], status=js.SUBMITTING, attempts=1, lease_owner="crashed-host:1:dead",
          lease_until=time.time() - 1)
    make_engine(simulator.url, store=store)
    assert finished(store, task["taskUUID"]).status == "success"
    assert received.sends(task["taskUUID"]) == 2  # the resend the crash made necessary, no more
    assert simulator.stats.snapshot()["submitted"] == [task["taskUUID"]]  # Runware ran it once


def test_a_live_lease_held_by_another_owner_is_never_acted_on(simulator, received, make_engine, tmp_path):
    from lib.store import JobStore
    store = JobStore(tmp_path / "studio.sqlite3")
    held = add(store, simulator.url)
    sent_directly(simulator.url, held)
    force(store, held["taskUUID"], status=js.PROCESSING, attempts=1, submitted_at=time.time(),
          lease_owner="other-host:2:alive", lease_until=time.time() + 60)
    revision = store.get(held["taskUUID"]).revision
    engine = make_engine(simulator.url, store=store)
    other = add(store, simulator.url)
    engine.wake()
    assert finished(store, other["taskUUID"]).status == "success"  # the engine was busy all along ...
    time.sleep(0.3)
    assert received.polls(held["taskUUID"]) == []  # ... and never asked about the leased job
    assert store.get(held["taskUUID"]).revision == revision


def test_two_engines_resending_the_same_submitting_jobs_send_each_once(simulator, received, make_engine,
                                                                       tmp_path):
    from lib.store import JobStore
    store = JobStore(tmp_path / "studio.sqlite3")
    tasks = [add(store, simulator.url) for _ in range(6)]
    for task in tasks:  # every one left "submitting" by a crash, its lease long expired
        force(store, task["taskUUID"], status=js.SUBMITTING, attempts=1, lease_owner="gone:1:x",
              lease_until=time.time() - 60, error={"code": "notConfirmed", "message": "crashed"})
    engines = [make_engine(simulator.url, store=JobStore(tmp_path / "studio.sqlite3"), start=False)
               for _ in range(2)]
    for engine in engines:
        engine.start()
    for task in tasks:
        assert finished(store, task["taskUUID"]).status == "success"
    assert received.sends_by_uuid() == {t["taskUUID"]: 1 for t in tasks}


def test_two_engines_racing_to_download_record_one_file_per_video(simulator, received, make_engine, tmp_path):
    from lib.store import JobStore
    store = JobStore(tmp_path / "studio.sqlite3")
    client = RunwareClient(TEST_KEY, simulator.url, retries=0)
    tasks = [video_task(seed=42, positivePrompt=f"race {i}") for i in range(5)]
    for task in tasks:
        client.submit(task)
    for task in tasks:  # finished at Runware, recorded as delivered: only the download is left
        update = wait_for(lambda: (u := client.poll([task["taskUUID"]])[task["taskUUID"]]).results and u, 10)
        add(store, simulator.url, task)
        force(store, task["taskUUID"], status=js.DOWNLOADING, attempts=1, submitted_at=time.time(),
              results=update.results)
    client.close()
    engines = [make_engine(simulator.url, store=JobStore(tmp_path / "studio.sqlite3"), start=False)
               for _ in range(2)]
    for engine in engines:
        engine.start()
    for task in tasks:
        job = finished(store, task["taskUUID"])
        assert job.status == "success" and job.results[0]["file"] == f"{task['taskUUID']}-0.mp4"
        assert playable(tmp_path / "media" / job.results[0]["file"])
    assert sorted(received.video_gets().values()) == [1] * 5  # each video fetched once, never twice at once
    assert sorted(p.name for p in (tmp_path / "media").iterdir()) == sorted(
        f"{t['taskUUID']}-0.{suffix}" for t in tasks for suffix in ("jpg", "mp4"))


# == one retry layer ======================================================================================

@pytest.mark.parametrize("fault", ["429", "500", "503", "html", "truncate", "reset"])
def test_a_call_with_four_retries_makes_at_most_five_requests_each_taking_a_budget_slot(simulator, received,
                                                                                       fault):
    simulator.faults.retry_after = 0  # Retry-After: 0, so the test does not sleep
    simulator.faults.script(fault, times=20)
    limiter = RateLimiter(100)
    client = RunwareClient(TEST_KEY, simulator.url, retries=4, backoff=0.01, limiter=limiter)
    with pytest.raises(ApiError) as failure:
        client.poll(["5f0e7c1a-0000-4000-8000-000000000000"])
    assert failure.value.retryable
    assert len(received.posts) == 5  # the old design retried inside each of these too (up to 25)
    assert limiter.used() == 5


def test_retries_stop_once_the_server_recovers(simulator, received):
    limiter = RateLimiter(10)
    client = RunwareClient(TEST_KEY, simulator.url, limiter=limiter, backoff=0.01, retries=3)
    simulator.faults.script("503", times=2)
    client.poll(["5f0e7c1a-0000-4000-8000-000000000000"])
    assert len(received.posts) == 3 and limiter.used() == 3


@pytest.fixture
def silent_server():
    """Accepts connections (the kernel's backlog does) and never answers a byte."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"


def test_worst_case_seconds_bounds_a_call_to_a_server_that_never_answers(silent_server):
    client = RunwareClient(TEST_KEY, silent_server, connect_timeout=0.3, read_timeout=0.4, deadline=1.0,
                           retries=10, backoff=0.01)
    started = time.monotonic()
    with pytest.raises(ApiError):
        client.poll(["5f0e7c1a-0000-4000-8000-000000000000"])
    assert time.monotonic() - started <= client.worst_case_seconds()


def test_worst_case_seconds_bounds_a_call_to_a_server_that_drips_its_answer():
    """Each byte comes just within the read timeout, so no single read ever times out."""
    stop = threading.Event()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def drip(conn):
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            while not stop.is_set():
                try:
                    conn.sendall(b" ")
                except OSError:
                    return
                time.sleep(0.1)

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    client = RunwareClient(TEST_KEY, f"http://127.0.0.1:{server.getsockname()[1]}/v1", connect_timeout=0.3,
                           read_timeout=0.4, deadline=1.0, retries=3, backoff=0.01)
    started = time.monotonic()
    try:
        with pytest.raises(ApiError):
            client.poll(["5f0e7c1a-0000-4000-8000-000000000000"])
        assert time.monotonic() - started <= client.worst_case_seconds()
    finally:
        stop.set()
        server.close()


# == what a poll answer may say ===========================================================================

def test_a_delivered_result_is_kept_when_the_other_result_of_the_task_fails(make_engine, mp4_bytes, tmp_path):
    def poll(uuids):
        u = uuids[0]
        return 200, {"data": [success_item(u, fake.video_url("one.mp4"), "v-1", cost=0.5, seed=7)],
                     "errors": [{"code": "providerError", "status": "error", "taskType": "videoInference",
                                 "taskUUID": u, "message": "The second video could not be made."}]}

    with FakeRunware(poll=poll, videos={"one.mp4": mp4_bytes}) as fake:
        engine = make_engine(fake.api)
        task = add(engine.store, fake.api, video_task(numberResults=2, includeCost=True))
        engine.wake()
        job = finished(engine.store, task["taskUUID"])
        assert job.status == "error" and job.error["partial"] and job.error["code"] == "providerError"
        result, = job.results
        assert result["videoUUID"] == "v-1" and result["cost"] == 0.5 and job.cost == 0.5
        assert playable(tmp_path / "media" / result["file"])
        assert fake.gets("one.mp4") == 1 and len(fake.posts("videoInference")) == 1


def test_at_most_number_results_are_kept(make_engine, mp4_bytes, tmp_path):
    def poll(uuids):
        return 200, {"data": [success_item(uuids[0], fake.video_url(f"{i}.mp4"), f"v-{i}", cost=0.1)
                              for i in range(30)]}

    with FakeRunware(poll=poll, videos={f"{i}.mp4": mp4_bytes for i in range(30)}) as fake:
        engine = make_engine(fake.api)
        task = add(engine.store, fake.api, video_task(includeCost=True))  # asked for one
        engine.wake()
        job = finished(engine.store, task["taskUUID"])
        assert job.status == "success" and len(job.results) == 1 and job.cost == pytest.approx(0.1)
        assert sum(fake.gets(f"{i}.mp4") for i in range(30)) == 1


MALFORMED_ITEMS = {
    "string cost": {"cost": "0.5"},
    "videoURL not a web address": {"videoURL": "file:///etc/passwd"},
    "videoURL not a string": {"videoURL": 5},
    "seed not a number": {"seed": "x"},
    "videoUUID not a string": {"videoUUID": ["a"]},
}


@pytest.mark.parametrize("bad", MALFORMED_ITEMS.values(), ids=MALFORMED_ITEMS.keys())
def test_a_malformed_item_fails_only_its_own_task(make_engine, mp4_bytes, bad):
    tasks = [video_task(seed=1), video_task(seed=2)]
    good, broken = (t["taskUUID"] for t in tasks)

    def poll(uuids):
        data = [success_item(good, fake.video_url("good.mp4"), "v-good")] if good in uuids else []
        if broken in uuids:
            data.append({**success_item(broken, fake.video_url("bad.mp4"), "v-bad"), **bad})
        return 200, {"data": data}

    with FakeRunware(poll=poll, videos={"good.mp4": mp4_bytes, "bad.mp4": mp4_bytes}) as fake:
        engine = make_engine(fake.api, start=False)
        for task in tasks:  # both accepted at one moment, so one poll asks for both
            add(engine.store, fake.api, task)
            force(engine.store, task["taskUUID"], status=js.PROCESSING, attempts=1, submitted_at=time.time())
        engine.start()
        assert finished(engine.store, good).status == "success"
        job = finished(engine.store, broken)
        assert job.status == "error" and job.error["code"] == "malformedAnswer"
        assert "could not be used" in job.error["message"] and job.results == []
        assert any(set(uuids) == {good, broken} for uuids in fake.posts("getResponse"))  # one batched poll
        assert fake.gets("bad.mp4") == 0


def test_an_answer_whose_data_is_not_a_list_fails_that_request_and_the_job_goes_on(make_engine, mp4_bytes):
    answers = []

    def poll(uuids):
        answers.append(uuids)
        if len(answers) <= 2:
            return 200, {"data": 5}
        return 200, {"data": [success_item(uuids[0], fake.video_url("v.mp4"))]}

    with FakeRunware(poll=poll, videos={"v.mp4": mp4_bytes}) as fake:
        engine = make_engine(fake.api)
        task = add(engine.store, fake.api)
        engine.wake()
        assert finished(engine.store, task["taskUUID"]).status == "success"
        assert len(answers) >= 3


@pytest.mark.parametrize("status, answer", [
    (200, {"data": [], "errors": ["boom"]}),
    (400, {"errors": ["boom"]}),
    (200, {"data": 5}),
    (200, {"data": [5, None, "x", {"taskUUID": 7}]}),
    (200, {"data": [{"taskType": "videoInference", "status": "success"}]}),  # an item for no task
], ids=["errors-not-objects", "400-errors-not-objects", "data-not-a-list", "items-not-objects", "no-taskUUID"])
def test_odd_answers_never_crash_the_engine_and_the_job_still_times_out(make_engine, status, answer):
    with FakeRunware(poll=lambda uuids: (status, answer)) as fake:
        engine = make_engine(fake.api, job_timeout=0.6)
        task = add(engine.store, fake.api)
        engine.wake()
        job = finished(engine.store, task["taskUUID"], timeout=10)
        assert job.status == "timeout" and job.error["code"] == "studioTimeout"
        assert len(fake.posts("getResponse")) >= 2  # the loop kept going after the odd answers


# == re-check ==============================================================================================

def _failed_download(engine, fake):
    """A job whose video URL answered 404: error downloadFailed, its result kept without a file."""
    task = add(engine.store, fake.api)
    engine.wake()
    job = finished(engine.store, task["taskUUID"])
    assert job.status == "error" and job.error["code"] == "downloadFailed"
    assert "file" not in job.results[0] and job.results[0]["download_error"]
    return job


def _recheck(engine, job):
    """What Runtime.recheck does: leave the intent, wake the engine."""
    assert engine.store.write(job, "recheck", intent="recheck")
    engine.wake()


def test_recheck_of_a_failed_download_asks_runware_again_and_takes_the_fresh_url(make_engine, mp4_bytes,
                                                                                  tmp_path):
    state = {"url": "old.mp4"}

    def poll(uuids):
        return 200, {"data": [success_item(uuids[0], fake.video_url(state["url"]), "v-1")]}

    with FakeRunware(poll=poll, videos={"new.mp4": mp4_bytes}) as fake:
        engine = make_engine(fake.api)
        job = _failed_download(engine, fake)
        polls = len(fake.posts("getResponse"))
        state["url"] = "new.mp4"  # Runware hands out a fresh URL for the same video
        _recheck(engine, job)
        job = settled(engine.store, job.task_uuid)
        assert job.status == "success" and job.results[0]["videoURL"].endswith("/new.mp4")
        assert "download_error" not in job.results[0] and playable(tmp_path / "media" / job.results[0]["file"])
        assert len(fake.posts("getResponse")) > polls and len(fake.posts("videoInference")) == 1
        assert fake.gets("old.mp4") == 1  # a permanent 404 is not fetched again on its own


def test_recheck_asks_get_task_details_where_get_response_no_longer_knows_the_task(make_engine, mp4_bytes,
                                                                                    tmp_path):
    state = {"known": True}

    def poll(uuids):
        u = uuids[0]
        if state["known"]:
            return 200, {"data": [success_item(u, fake.video_url("old.mp4"), "v-1")]}
        return 400, {"errors": [{"code": "taskNotFound", "taskUUID": u, "message": "No such task."}]}

    def details(u):
        return 200, {"data": [{"taskType": "getTaskDetails", "taskUUID": u, "status": "success",
                               "response": [success_item(u, fake.video_url("new.mp4"), "v-1")]}]}

    with FakeRunware(poll=poll, details=details, videos={"new.mp4": mp4_bytes}) as fake:
        engine = make_engine(fake.api)
        job = _failed_download(engine, fake)
        state["known"] = False
        _recheck(engine, job)
        job = settled(engine.store, job.task_uuid)
        assert job.status == "success", job.error
        assert job.results[0]["videoURL"].endswith("/new.mp4") and playable(tmp_path / "media" / job.results[0]["file"])
        assert len(fake.posts("getTaskDetails")) == 1


def test_recheck_of_a_result_gone_everywhere_says_so_and_stops(make_engine, mp4_bytes):
    state = {"known": True}

    def poll(uuids):
        u = uuids[0]
        if state["known"]:
            return 200, {"data": [success_item(u, fake.video_url("old.mp4"), "v-1")]}
        return 400, {"errors": [{"code": "taskNotFound", "taskUUID": u, "message": "No such task."}]}

    def details(u):
        return 404, {"errors": [{"code": "notFound", "taskUUID": u, "message": "No such task."}]}

    with FakeRunware(poll=poll, details=details) as fake:
        engine = make_engine(fake.api)
        job = _failed_download(engine, fake)
        state["known"] = False
        _recheck(engine, job)
        job = settled(engine.store, job.task_uuid)
        assert job.status == "error" and job.error["code"] == "resultGone"
        assert "no longer knows" in job.error["message"]
        requests_after = len(fake.requests)
        time.sleep(0.5)
        assert len(fake.requests) == requests_after  # no loop
        assert fake.gets("old.mp4") == 1  # the stale URL was not tried again


def test_a_timed_out_job_can_be_rechecked_and_keeps_waiting(simulator, received, make_engine):
    simulator.engine.latency = 1.8
    engine = make_engine(simulator.url, job_timeout=1.0)
    task = add(engine.store, simulator.url)
    engine.wake()
    job = finished(engine.store, task["taskUUID"])
    assert job.status == "timeout" and job.error["code"] == "studioTimeout"
    _recheck(engine, job)
    job = settled(engine.store, task["taskUUID"])
    assert job.status == "success" and received.sends(task["taskUUID"]) == 1


@pytest.mark.parametrize("status, error, submitted, allowed", [
    (js.TIMEOUT, {"code": "studioTimeout"}, True, True),
    (js.ERROR, {"code": "downloadFailed"}, True, True),
    (js.ERROR, {"code": "resultGone"}, True, True),
    (js.ERROR, {"code": "timeoutProvider"}, True, False),  # Runware ran it and it failed: final
    (js.ERROR, {"code": "invalidModel"}, False, False),  # refused at submit: never accepted
    (js.PROCESSING, None, True, False),
    (js.SUCCESS, None, True, False),
])
def test_what_a_recheck_is_offered_for(make_runtime, status, error, submitted, allowed):
    runtime = make_runtime(api_key=TEST_KEY, start=False)
    task = video_task()
    runtime.store.add(task, workspace=WS, api_url=runtime.settings.api_url, key_id=KID)
    force(runtime.store, task["taskUUID"], status=status, error=error,
          submitted_at=time.time() if submitted else None)
    studio = open_studio(runtime)
    job = runtime.store.get(task["taskUUID"])
    assert studio.can_recheck(job) is allowed
    assert studio.recheck(job) is allowed  # Studio.recheck leaves the intent only where it is offered
    assert (runtime.store.get(task["taskUUID"]).intent == "recheck") is allowed


def test_only_a_session_holding_the_key_may_recheck(make_runtime):
    runtime = make_runtime(api_key=SERVER_KEY)
    task = video_task()
    runtime.store.add(task, workspace=WS, api_url=runtime.settings.api_url, key_id=KID)
    force(runtime.store, task["taskUUID"], status=js.TIMEOUT, submitted_at=time.time(), finished_at=time.time(),
          error={"code": "studioTimeout", "message": "slow"})
    job = runtime.store.get(task["taskUUID"])
    assert not open_studio(runtime).can_recheck(job)  # the server's key cannot poll a pasted key's job
    assert open_studio(runtime, session_key=TEST_KEY).can_recheck(job)


# == jobs Runware never accepted ============================================================================

REFUSALS = {401: ("keyRefused", "The API key was refused"), 402: ("balanceTooLow", "balance is too low"),
            403: ("modelNotAllowed", "may not use this model")}


@pytest.mark.parametrize("status", sorted(REFUSALS))
def test_a_refused_submit_ends_the_job_with_a_plain_reason_and_is_not_retried(make_engine, status):
    refusal = (status, {"errors": [{"code": "refused", "message": f"HTTP {status} from Runware"}]})
    with FakeRunware(submit=lambda tasks: refusal) as fake:
        engine = make_engine(fake.api)
        task = add(engine.store, fake.api)
        engine.wake()
        job = finished(engine.store, task["taskUUID"])
        code, words = REFUSALS[status]
        assert job.status == "error" and job.error["code"] == code and words in job.error["message"]
        time.sleep(0.4)
        assert len(fake.posts("videoInference")) == 1 and len(fake.requests) == 1


def test_a_task_runware_refuses_ends_with_runwares_own_error_and_is_not_sent_again(simulator, received,
                                                                                   make_engine, catalog):
    assert catalog.get("acme:1@1").custom  # a valid custom AIR the simulator does not run
    engine = make_engine(simulator.url)
    task = add(engine.store, simulator.url, video_task(model="acme:1@1"))
    engine.wake()
    job = finished(engine.store, task["taskUUID"])
    assert job.status == "error" and job.error["code"] == "invalidModel" and job.error["message"]
    time.sleep(0.3)
    assert received.sends(task["taskUUID"]) == 1 and simulator.stats.snapshot()["submitted"] == []


def test_a_wrong_key_at_the_simulator_ends_the_job_after_one_send(make_engine, tmp_path):
    with Simulator(latency=0.3, api_key="the-right-key-0123456789", media_dir=tmp_path / "sim") as sim:
        received = Received(sim)
        engine = make_engine(sim.url)
        task = add(engine.store, sim.url)
        engine.wake()
        job = finished(engine.store, task["taskUUID"])
        assert job.status == "error" and "The API key was refused" in job.error["message"]
        time.sleep(0.3)
        assert received.sends(task["taskUUID"]) == 1


def test_an_unreachable_api_keeps_the_job_submitting_with_a_note(make_engine):
    engine = make_engine(CLOSED_URL, client={"retries": 0})
    task = add(engine.store, CLOSED_URL)
    engine.wake()
    job = wait_for(lambda: (j := engine.store.get(task["taskUUID"])).error and j, 10, "a note")
    assert job.status == js.SUBMITTING and job.error["code"] == "notConfirmed"
    assert "Could not reach Runware" in job.error["message"] and job.finished_at is None


def test_a_queued_job_can_be_cancelled_while_the_api_is_unreachable(make_runtime):
    runtime = make_runtime(api_key=TEST_KEY, engine={"max_in_flight": 1})
    studio = open_studio(runtime)
    stuck, waiting = video_task(positivePrompt="first"), video_task(positivePrompt="second")
    studio.submit(stuck)
    studio.submit(waiting)
    wait_for(lambda: runtime.store.get(stuck["taskUUID"]).error, 10, "the first send to fail")
    job = runtime.store.get(waiting["taskUUID"])
    assert job.status == js.QUEUED  # the budget is taken by the job that could not be sent
    assert studio.cancel(job)
    job = runtime.store.get(waiting["taskUUID"])
    assert job.status == js.CANCELLED and job.error["code"] == "cancelled" and job.attempts == 0


def _abandon(runtime, task_uuid):
    """Abandon as a page does: re-read and ask until the write lands (the engine may be writing too)."""
    studio = open_studio(runtime)
    wait_for(lambda: studio.abandon(runtime.store.get(task_uuid)), 10, "the abandon to be recorded")


@pytest.mark.parametrize("poll_answer, words", [
    ((503, {"errors": [{"code": "serverBusy", "message": "busy"}]}), "may still have the job"),
    ("taskNotFound", "Runware said it does not have this job"),
], ids=["runware-cannot-be-asked", "runware-does-not-have-it"])
def test_abandoning_a_submitting_job_asks_runware_once_then_cancels(make_runtime, poll_answer, words):
    def poll(uuids):
        if poll_answer == "taskNotFound":
            return 400, {"errors": [{"code": "taskNotFound", "taskUUID": uuids[0], "message": "No such task."}]}
        return poll_answer

    busy = (503, {"errors": [{"code": "serverBusy", "message": "busy"}]})
    with FakeRunware(submit=lambda tasks: busy, poll=poll) as fake:
        runtime = make_runtime(api_key=TEST_KEY, api_url=fake.api)
        task = video_task()
        runtime.submit(task, workspace=WS, api_url=fake.api, kid=KID)
        wait_for(lambda: runtime.store.get(task["taskUUID"]).error, 15, "the first send to fail")
        sends = len(fake.posts("videoInference"))
        _abandon(runtime, task["taskUUID"])
        job = finished(runtime.store, task["taskUUID"])
        assert job.status == js.CANCELLED and job.error["code"] == "abandoned" and words in job.error["message"]
        assert 1 <= len(fake.posts("getResponse")) <= 3  # one call (retries=2): no more
        assert len(fake.posts("videoInference")) == sends  # nothing sent once abandoned


def test_abandoning_with_the_api_unreachable_says_runware_may_still_have_the_job(make_runtime):
    runtime = make_runtime(api_key=TEST_KEY)
    task = video_task()
    runtime.submit(task, workspace=WS, api_url=runtime.settings.api_url, kid=KID)
    wait_for(lambda: runtime.store.get(task["taskUUID"]).error, 15, "the first send to fail")
    _abandon(runtime, task["taskUUID"])
    job = finished(runtime.store, task["taskUUID"])
    assert job.status == js.CANCELLED and "may still have the job" in job.error["message"]


def test_an_abandon_that_arrives_while_a_resend_is_accepted_leaves_the_job_running(make_runtime, mp4_bytes):
    """Runware took the job after all: it runs (and is charged), so it must be followed to the end."""
    accepting = threading.Event()

    def submit(tasks):
        accepting.set()
        time.sleep(1.0)  # the answer is on its way while the user clicks Abandon
        return 200, {"data": [{"taskType": "videoInference", "taskUUID": tasks[0]["taskUUID"]}]}

    def poll(uuids):
        return 200, {"data": [success_item(uuids[0], fake.video_url("v.mp4"))]}

    with FakeRunware(submit=submit, poll=poll, videos={"v.mp4": mp4_bytes}) as fake:
        runtime = make_runtime(api_key=TEST_KEY, api_url=fake.api)
        task = video_task()
        runtime.submit(task, workspace=WS, api_url=fake.api, kid=KID)
        assert accepting.wait(10)
        _abandon(runtime, task["taskUUID"])
        job = finished(runtime.store, task["taskUUID"])
        assert job.status == "success" and job.intent is None


@pytest.mark.parametrize("status", sorted(REFUSALS))
def test_a_key_problem_while_polling_never_writes_off_an_accepted_job(make_engine, mp4_bytes, monkeypatch,
                                                                      status):
    monkeypatch.setattr(engine_module, "KEY_REST_SECONDS", 0.3)  # the key rests 0.3 s, not a minute
    state = {"refuse": True}

    def poll(uuids):
        if state["refuse"]:
            return status, {"errors": [{"code": "refused", "message": "no"}]}
        return 200, {"data": [success_item(uuids[0], fake.video_url("v.mp4"))]}

    with FakeRunware(poll=poll, videos={"v.mp4": mp4_bytes}) as fake:
        engine = make_engine(fake.api)
        task = add(engine.store, fake.api)
        engine.wake()
        job = wait_for(lambda: (j := engine.store.get(task["taskUUID"])).error and j, 10, "a note")
        assert job.status == js.PROCESSING and job.error["code"] == REFUSALS[status][0]
        assert "resumes" in job.error["message"]
        time.sleep(0.7)  # a few rests: still waiting, never written off
        assert engine.store.get(task["taskUUID"]).status == js.PROCESSING
        state["refuse"] = False  # the key works again (topped up, re-enabled)
        job = finished(engine.store, task["taskUUID"])
        assert job.status == "success" and job.error is None
        assert len(fake.posts("videoInference")) == 1


def test_pasting_the_key_again_resumes_a_resting_job_at_once(make_runtime, mp4_bytes):
    state = {"refuse": True}

    def poll(uuids):
        if state["refuse"]:
            return 401, {"errors": [{"code": "invalidApiKey", "message": "no"}]}
        return 200, {"data": [success_item(uuids[0], fake.video_url("v.mp4"))]}

    with FakeRunware(poll=poll, videos={"v.mp4": mp4_bytes}) as fake:
        runtime = make_runtime(api_key=SERVER_KEY, api_url=fake.api)
        studio = open_studio(runtime, session_key=TEST_KEY)
        task = video_task()
        studio.submit(task)
        job = wait_for(lambda: (j := runtime.store.get(task["taskUUID"])).error and j, 10, "a note")
        assert "resumes" in studio.waiting_reason(job)
        state["refuse"] = False
        runtime.hold_key(TEST_KEY)  # the user pastes the key again (the key rests a minute otherwise)
        job = finished(runtime.store, task["taskUUID"], timeout=5)
        assert job.status == "success"


# == double submit ========================================================================================

def test_the_same_request_twice_in_one_workspace_is_a_double_submit(make_runtime):
    runtime = make_runtime(start=False)
    tab1, tab2 = open_studio(runtime, workspace="w1"), open_studio(runtime, workspace="w1")
    first = video_task(positivePrompt="twice")
    tab1.submit(first)
    with pytest.raises(DuplicateSubmit) as twin:
        tab2.submit({**first, "taskUUID": video_task()["taskUUID"]})  # same body, new taskUUID
    assert twin.value.job.task_uuid == first["taskUUID"] and runtime.store.count() == 1


def test_the_same_request_in_another_workspace_is_not_a_double_submit(make_runtime):
    runtime = make_runtime(start=False)
    first = video_task(positivePrompt="twice")
    open_studio(runtime, workspace="w1").submit(first)
    open_studio(runtime, workspace="w2").submit({**first, "taskUUID": video_task()["taskUUID"]})
    assert runtime.store.count() == 2


def test_the_same_request_again_after_the_double_submit_window_is_a_new_job(make_runtime):
    runtime = make_runtime(start=False)
    studio = open_studio(runtime, workspace="w1")
    first = video_task(positivePrompt="again")
    studio.submit(first)
    force(runtime.store, first["taskUUID"], created_at=time.time() - 3)  # 3 s ago
    studio.submit({**first, "taskUUID": video_task()["taskUUID"]})
    assert runtime.store.count() == 2


# -- issue 9: what a hostile or flaky server must not do ----------------------------------------------------

def test_one_task_not_found_never_writes_an_accepted_job_off(make_engine, mp4_bytes, tmp_path):
    answers = iter(["gone", "ready"])

    def poll(uuids):
        u = uuids[0]
        if next(answers, "ready") == "gone":
            return 400, {"errors": [{"code": "taskNotFound", "taskUUID": u, "message": "No such task."}]}
        return 200, {"data": [success_item(u, fake.video_url("v.mp4"), "v-1")]}

    with FakeRunware(poll=poll, videos={"v.mp4": mp4_bytes}) as fake:
        engine = make_engine(fake.api)
        task = add(engine.store, fake.api)
        job = settled(engine.store, task["taskUUID"])
    assert job.status == "success", job.error


def test_a_task_runware_never_knows_again_fails_as_gone_and_offers_recheck(make_engine, tmp_path):
    def poll(uuids):
        return 400, {"errors": [{"code": "taskNotFound", "taskUUID": uuids[0], "message": "No such task."}]}

    with FakeRunware(poll=poll) as fake:
        engine = make_engine(fake.api)
        task = add(engine.store, fake.api)
        job = settled(engine.store, task["taskUUID"])
        asked_details = len(fake.posts("getTaskDetails"))
    assert job.status == "error" and job.error["code"] == "resultGone"
    assert asked_details >= 1  # getTaskDetails was asked before giving up
    from lib.studio import RECHECKABLE
    assert job.error["code"] in RECHECKABLE


def test_a_half_download_left_by_a_killed_process_is_removed_at_start(make_engine, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    leftover = media / ".part-abc123.mp4"
    leftover.write_bytes(b"\x00" * 1000)
    make_engine("http://127.0.0.1:9/v1")
    assert not leftover.exists()
