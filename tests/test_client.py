"""lib/client.py against real HTTP servers: the sim, or a small stand-in written here when a
test needs an exact answer the sim does not give (partial results, odd statuses, HTML 404).

Also: the API key never reaches a log record, and the client-side request budget (lib/budget.py).
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import pytest

from conftest import TEST_KEY, StandIn, video_task
from lib import logs
from lib.budget import RateLimiter
from lib.client import RunwareClient, TaskUpdate, looks_like_video
from lib.errors import ApiError, DownloadError
from lib.settings import load_settings
from lib.simulator.server import Simulator

RETRIES = 2


@pytest.fixture
def sim(simulator):
    return simulator


def client_for(sim, **kw) -> RunwareClient:
    kw = {"retries": RETRIES, "backoff": 0.01, "read_timeout": 10.0, **kw}
    return RunwareClient(TEST_KEY, sim.url, **kw)


def wait_for(client: RunwareClient, task_uuid: str, *, results: int = 1, timeout: float = 20.0) -> TaskUpdate:
    """Poll until the task has `results` results or ends in an error."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        update = client.poll([task_uuid])[task_uuid]
        assert update.status in ("processing", "success", "error")
        if update.status == "error" or len(update.results) >= results:
            return update
        time.sleep(0.05)
    raise AssertionError(f"task {task_uuid} did not finish in {timeout} s")


def finished_video_url(client, task=None) -> str:
    task = task or video_task()
    client.submit(task)
    update = wait_for(client, task["taskUUID"])
    assert update.status == "success", update
    return update.results[0]["videoURL"]


def json_answer(payload: dict, status: int = 200):
    return status, "application/json", json.dumps(payload).encode()


# -- submit / poll ----------------------------------------------------------------------------------------


def test_submit_poll_success(sim):
    client = client_for(sim)
    task = video_task(seed=1234)
    client.submit(task)
    assert sim.stats.snapshot()["submitted"] == [task["taskUUID"]]
    update = wait_for(client, task["taskUUID"])
    assert update.status == "success" and update.error is None
    (result,) = update.results
    assert result["seed"] == 1234
    uuid.UUID(result["videoUUID"])
    assert result["videoURL"].startswith(sim.base_url + "/video/")
    # What went on the wire: arrays of tasks, the submit first.
    types = sim.stats.snapshot()["post_task_types"]
    assert types[0] == ["videoInference"] and all(t == ["getResponse"] for t in types[1:])


def test_resubmitting_the_same_task_uuid_counts_as_accepted(sim):
    client = client_for(sim)
    task = video_task()
    client.submit(task)
    client.submit(task)  # e.g. a retry after a lost answer: conflictTaskUUID is not an error
    stats = sim.stats.snapshot()
    assert stats["submitted"] == [task["taskUUID"]]
    assert stats["post_task_types"] == [["videoInference"], ["videoInference"]]
    assert wait_for(client, task["taskUUID"]).status == "success"


def test_submit_of_an_invalid_task_raises_with_runware_errors(sim):
    client = client_for(sim)
    with pytest.raises(ApiError) as info:
        client.submit(video_task(model="klingai:5@3", width=320, height=256, fps=None))
    err = info.value
    assert err.status == 400 and not err.retryable
    assert err.code == "unsupportedDimensions" and err.errors[0]["parameter"] == "width"
    assert sim.stats.snapshot()["submitted"] == []


def test_poll_of_many_tasks_is_one_request(sim):
    client = client_for(sim)
    tasks = [video_task(seed=i + 1) for i in range(4)]
    for t in tasks:
        client.submit(t)
    unknown = str(uuid.uuid4())
    ids = [t["taskUUID"] for t in tasks] + [unknown]
    before = sim.stats.snapshot()["posts"]
    updates = client.poll(ids)
    stats = sim.stats.snapshot()
    assert stats["posts"] == before + 1
    assert stats["post_task_types"][-1] == ["getResponse"] * 5
    assert set(updates) == set(ids)
    assert updates[unknown].status == "error"
    assert all(updates[t["taskUUID"]].status in ("processing", "success") for t in tasks)
    assert client.poll([]) == {}
    assert sim.stats.snapshot()["posts"] == before + 1  # nothing to poll, nothing sent


def test_number_results_each_result_is_its_own_item(sim):
    client = client_for(sim)
    task = video_task(numberResults=3, seed=10)
    client.submit(task)
    counts = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        update = client.poll([task["taskUUID"]])[task["taskUUID"]]
        counts.append(len(update.results))
        if len(update.results) == 3:
            break
        time.sleep(0.1)
    assert counts[-1] == 3 and counts == sorted(counts)
    assert len({r["videoUUID"] for r in update.results}) == 3
    assert len({r["videoURL"] for r in update.results}) == 3
    assert sorted(r["seed"] for r in update.results) == [10, 11, 12]


def test_partial_results_arrive_over_polls():
    task_uuid = str(uuid.uuid4())

    def item(n):
        return {"taskType": "videoInference", "taskUUID": task_uuid, "status": "success",
                "videoUUID": f"v{n}", "videoURL": f"https://example.com/v{n}.mp4", "seed": n, "cost": 0.1}

    processing = {"taskType": "videoInference", "taskUUID": task_uuid, "status": "processing"}
    answers = [[processing], [item(1), processing], [item(1), item(1), item(2), processing],
               [item(1), item(2), item(3)]]

    def respond(method, path, body, n):
        return json_answer({"data": answers[min(n, len(answers)) - 1]})

    with StandIn(respond) as server:
        client = RunwareClient(TEST_KEY, server.url + "/v1", retries=0)
        seen = [client.poll([task_uuid])[task_uuid] for _ in answers]
    assert [len(u.results) for u in seen] == [0, 1, 2, 3]
    assert seen[0].status == "processing"
    assert [r["videoUUID"] for r in seen[-1].results] == ["v1", "v2", "v3"]
    assert seen[-1].results[0] == {"videoUUID": "v1", "videoURL": "https://example.com/v1.mp4", "seed": 1,
                                   "cost": 0.1}
    # Every poll was one array of getResponse tasks with the Bearer key.
    for method, path, headers, body in server.requests:
        assert method == "POST" and path == "/v1"
        assert headers["Authorization"] == f"Bearer {TEST_KEY}"
        assert json.loads(body) == [{"taskType": "getResponse", "taskUUID": task_uuid}]


@pytest.mark.parametrize("item, expected", [
    ({"status": "processing"}, "processing"),
    ({"status": "pending"}, "processing"),  # an older doc revision
    ({"status": "success", "videoUUID": "v", "videoURL": "https://example.com/v.mp4"}, "success"),
    ({"status": "failed", "message": "no"}, "error"),  # the spec document's word
    ({"status": "error", "code": "timeoutProvider"}, "error"),
    ({"status": "ERROR"}, "error"),
])
def test_status_words(item, expected):
    task_uuid = str(uuid.uuid4())
    payload = {"data": [{"taskType": "videoInference", "taskUUID": task_uuid, **item}]}
    with StandIn(lambda *a: json_answer(payload)) as server:
        update = RunwareClient(TEST_KEY, server.url, retries=0).poll([task_uuid])[task_uuid]
    assert update.status == expected
    if expected == "error":
        assert update.error["taskUUID"] == task_uuid


def test_errors_item_for_a_task_is_its_update():
    ok, bad = str(uuid.uuid4()), str(uuid.uuid4())
    payload = {"data": [{"taskType": "videoInference", "taskUUID": ok, "status": "processing"}],
               "errors": [{"code": "timeoutProvider", "status": "error", "taskUUID": bad, "message": "late"},
                          {"code": "somethingElse", "message": "about no task"}]}
    with StandIn(lambda *a: json_answer(payload)) as server:
        updates = RunwareClient(TEST_KEY, server.url, retries=0).poll([ok, bad])
    assert updates[ok].status == "processing"
    assert updates[bad].status == "error" and updates[bad].error["code"] == "timeoutProvider"


def test_task_failure_is_an_error_update(sim):
    client = client_for(sim)
    sim.faults.script("task_failure")
    task = video_task()
    client.submit(task)
    update = wait_for(client, task["taskUUID"])
    assert update.status == "error" and update.results == []
    assert update.error["code"] == "timeoutProvider"
    assert update.error["taskUUID"] == task["taskUUID"]


def test_unknown_task_uuid_is_an_error_update(sim):
    client = client_for(sim)
    unknown = str(uuid.uuid4())
    update = client.poll([unknown])[unknown]
    assert update.status == "error" and update.error["taskUUID"] == unknown
    assert update.error["code"]
    assert sim.stats.snapshot()["posts"] == 1  # a 400 about a task is an answer, not retried


# -- retries --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["429", "500", "502", "503", "504", "html", "truncate", "reset"])
def test_fault_then_success(sim, fault):
    sim.faults.retry_after = 0
    client = client_for(sim)
    sim.faults.script(fault, RETRIES)
    task = video_task()
    client.submit(task)
    types = sim.stats.snapshot()["post_task_types"]
    assert types == [[f"fault:{fault}"]] * RETRIES + [["videoInference"]]
    assert sim.stats.snapshot()["submitted"] == [task["taskUUID"]]
    sim.faults.script(fault, RETRIES)
    assert wait_for(client, task["taskUUID"]).status == "success"


def test_429_retry_after_is_honoured(sim):
    sim.faults.retry_after = 1
    client = client_for(sim, backoff=0.01)
    sim.faults.script("429")
    unknown = str(uuid.uuid4())
    assert client.poll([unknown])[unknown].status == "error"
    times = sim.stats.snapshot()["post_times"]
    assert len(times) == 2
    assert times[1] - times[0] >= 0.9  # waited as asked, not the 0.01 s backoff


@pytest.mark.parametrize("fault, status", [("429", 429), ("500", 500), ("502", 502), ("503", 503), ("504", 504),
                                           ("html", 502), ("truncate", None), ("reset", None)])
def test_persistent_fault_raises_retryable_api_error(sim, fault, status):
    sim.faults.retry_after = 0
    client = client_for(sim)
    sim.faults.script(fault, (RETRIES + 1) ** 2)  # enough for any retry scheme
    with pytest.raises(ApiError) as info:
        client.poll([str(uuid.uuid4())])
    assert info.value.retryable is True
    assert info.value.status == status
    assert str(info.value)


@pytest.mark.parametrize("fault", ["429", "500", "503", "504", "html", "truncate", "reset", "slow"])
def test_attempts_are_bounded_by_retries(sim, fault):
    """`retries` bounds the attempts whatever fails (no retry loop nested in another)."""
    sim.faults.retry_after = 0
    sim.faults.slow_seconds = 0.6
    client = client_for(sim, read_timeout=0.2)
    sim.faults.script(fault, (RETRIES + 1) ** 2)
    with pytest.raises(ApiError) as info:
        client.poll([str(uuid.uuid4())])
    assert info.value.retryable
    types = sim.stats.snapshot()["post_task_types"]
    assert types.count([f"fault:{fault}"]) == RETRIES + 1
    if fault != "slow":  # a slow answer is still answered, late, after the client gave up
        assert len(types) == RETRIES + 1


def test_read_timeout_is_retried(sim):
    sim.faults.slow_seconds = 3.0
    client = client_for(sim, read_timeout=0.5)
    sim.faults.script("slow")
    unknown = str(uuid.uuid4())
    assert client.poll([unknown])[unknown].status == "error"  # the second attempt answered


def test_persistent_read_timeout_raises(sim):
    sim.faults.slow_seconds = 1.0
    client = client_for(sim, read_timeout=0.3, retries=1)
    sim.faults.script("slow", 4)
    with pytest.raises(ApiError) as info:
        client.poll([str(uuid.uuid4())])
    assert info.value.retryable and info.value.status is None


def test_html_404_is_not_retryable():
    page = b"<html><body><h1>404 Not Found</h1></body></html>"
    with StandIn(lambda *a: (404, "text/html", page)) as server:
        client = RunwareClient(TEST_KEY, server.url + "/wrong", retries=RETRIES, backoff=0.01)
        with pytest.raises(ApiError) as info:
            client.poll([str(uuid.uuid4())])
        assert info.value.status == 404
        assert info.value.retryable is False
        assert len(server.requests) == 1


def test_wrong_key_is_401_not_retried(tmp_path):
    with Simulator(api_key="the-right-key-abcdefghijkl", latency=0.3, media_dir=tmp_path / "m") as sim:
        client = client_for(sim)
        with pytest.raises(ApiError) as info:
            client.submit(video_task())
        with pytest.raises(ApiError) as info2:
            client.poll([str(uuid.uuid4())])
        assert sim.stats.snapshot()["posts"] == 2  # one each: nothing retried
        assert sim.stats.snapshot()["submitted"] == []
    for err in (info.value, info2.value):
        assert err.status == 401 and err.retryable is False and err.code == "invalidApiKey"


def test_request_budget_is_drawn_before_sending(sim):
    client = client_for(sim, limiter=RateLimiter(2), budget_wait=0)
    client.poll([str(uuid.uuid4())])
    client.poll([str(uuid.uuid4())])
    with pytest.raises(ApiError) as info:
        client.poll([str(uuid.uuid4())])
    assert info.value.retryable and info.value.status is None
    assert sim.stats.snapshot()["posts"] == 2


# -- download -------------------------------------------------------------------------------------------


def test_download_whole_file(sim, tmp_path):
    import requests

    client = client_for(sim)
    url = finished_video_url(client)
    dest = tmp_path / "out" / "video.mp4"
    assert client.download(url, dest, max_bytes=50 * 2**20) == dest
    assert dest.read_bytes() == requests.get(url, timeout=10).content
    assert looks_like_video(dest.read_bytes()[:12])
    with av.open(str(dest)) as c:
        stream = c.streams.video[0]
        assert (stream.width, stream.height) == (320, 256)
        assert abs(c.duration / 1e6 - 5) < 0.3
    assert sorted(p.name for p in dest.parent.iterdir()) == ["video.mp4"]


@pytest.mark.parametrize("fault, permanent", [("video404", True), ("video_truncate", False)])
def test_download_failures_leave_no_file(sim, tmp_path, fault, permanent):
    client = client_for(sim)
    url = finished_video_url(client)
    folder = tmp_path / "media"
    sim.faults.script(fault)
    with pytest.raises(DownloadError) as info:
        client.download(url, folder / "video.mp4", max_bytes=50 * 2**20)
    assert info.value.permanent is permanent
    assert list(folder.iterdir()) == []
    # The next try succeeds and is whole.
    assert client.download(url, folder / "video.mp4", max_bytes=50 * 2**20).stat().st_size > 1000


def test_download_of_an_unknown_video_is_permanent(sim, tmp_path):
    client = client_for(sim)
    folder = tmp_path / "dl"
    with pytest.raises(DownloadError) as info:
        client.download(f"{sim.base_url}/video/{uuid.uuid4()}.mp4", folder / "v.mp4", max_bytes=2**20)
    assert info.value.permanent
    assert list(folder.iterdir()) == []


def test_download_refuses_non_video_bytes(tmp_path):
    with StandIn(lambda *a: (200, "video/mp4", b"<html>not a video</html>" * 10)) as server:
        client = RunwareClient(TEST_KEY, server.url, retries=0)
        with pytest.raises(DownloadError) as info:
            client.download(server.url + "/video/x.mp4", tmp_path / "v.mp4", max_bytes=2**20)
    assert info.value.permanent
    assert list(tmp_path.iterdir()) == []


def test_download_size_cap(sim, tmp_path):
    client = client_for(sim)
    url = finished_video_url(client)
    folder = tmp_path / "dl"
    with pytest.raises(DownloadError) as info:
        client.download(url, folder / "v.mp4", max_bytes=1000)
    assert info.value.permanent and "limit" in str(info.value)
    assert list(folder.iterdir()) == []


def test_download_size_cap_without_content_length(tmp_path):
    """A server that streams without Content-Length is still cut off at the cap."""
    body = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 300_000

    class Chunked(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 65536):
                chunk = body[i:i + 65536]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Chunked)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v.mp4"
        client = RunwareClient(TEST_KEY, url, retries=0)
        with pytest.raises(DownloadError) as info:
            client.download(url, tmp_path / "v.mp4", max_bytes=100_000)
        assert info.value.permanent
        assert list(tmp_path.iterdir()) == []
        assert client.download(url, tmp_path / "v.mp4", max_bytes=1_000_000).read_bytes() == body
    finally:
        server.shutdown()
        server.server_close()


# -- dry run ------------------------------------------------------------------------------------------------


def test_dry_run_cost_creates_no_task(sim):
    client = client_for(sim)
    task = video_task(duration=6)
    cost = client.dry_run_cost(task)
    assert cost == pytest.approx(0.05 * 6)  # the sim's price for a model without a published one
    assert sim.stats.snapshot()["submitted"] == []
    assert client.poll([task["taskUUID"]])[task["taskUUID"]].status == "error"  # no such task
    kling = video_task(model="klingai:5@3", width=1920, height=1080, fps=None, duration=10)
    assert client.dry_run_cost(kling) == pytest.approx(0.184 * 10)
    # The same task can then really be sent.
    client.submit(task)
    assert sim.stats.snapshot()["submitted"] == [task["taskUUID"]]


def test_dry_run_of_an_invalid_task_raises(sim):
    client = client_for(sim)
    with pytest.raises(ApiError) as info:
        client.dry_run_cost(video_task(duration=99))
    assert info.value.code == "unsupportedDuration"


# -- the key never reaches a log ---------------------------------------------------------------------------


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.texts: list[str] = []

    def emit(self, record):
        self.records.append(record)
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            text += record.exc_text
        self.texts.append(text)


@pytest.fixture
def debug_logs():
    root = logging.getLogger()
    capture = Capture()
    saved = {name: logging.getLogger(name).level for name in ("studio", "urllib3")}
    root.addHandler(capture)
    logs.configure("DEBUG")
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def test_key_is_never_logged(sim, tmp_path, debug_logs):
    client = client_for(sim)
    errors: list[Exception] = []
    # Success path: submit, poll, download.
    url = finished_video_url(client)
    client.download(url, tmp_path / "v.mp4", max_bytes=50 * 2**20)
    client.submit(video_task())
    # Failures: retries, a retryable ApiError, a failed download, a refused task.
    sim.faults.script("503", 1)
    sim.faults.script("reset", 1)
    client.poll([str(uuid.uuid4())])
    sim.faults.retry_after = 0
    sim.faults.script("500", (RETRIES + 1) ** 2)
    with pytest.raises(ApiError) as info:
        client.poll([str(uuid.uuid4())])
    errors.append(info.value)
    sim.faults.clear()
    sim.faults.script("video404")
    with pytest.raises(DownloadError) as info:
        client.download(url, tmp_path / "w.mp4", max_bytes=2**30)
    errors.append(info.value)
    with pytest.raises(ApiError) as info:
        client.submit(video_task(duration=99))
    errors.append(info.value)
    # A 401.
    with Simulator(api_key="another-key-0123456789", latency=0.3, media_dir=tmp_path / "m2") as other:
        with pytest.raises(ApiError) as info:
            client_for(other).poll([str(uuid.uuid4())])
        errors.append(info.value)
    # Some other code carelessly logging credentials (a header, a body), with and without a traceback:
    # the handlers' filter scrubs what looks like a credential.
    elsewhere = logging.getLogger("studio.elsewhere")
    elsewhere.warning("sent headers %s", {"Authorization": f"Bearer {TEST_KEY}"})
    elsewhere.warning("sent body %s", json.dumps([{"taskType": "authentication", "apiKey": TEST_KEY}]))
    elsewhere.warning("config api_key=%s", TEST_KEY)
    try:
        raise RuntimeError(f"Authorization: Bearer {TEST_KEY}")
    except RuntimeError:
        elsewhere.exception("failed")

    texts = debug_logs.texts
    assert any("POST" in t for t in texts) and any("downloaded" in t for t in texts)
    assert any(logs.REDACTED in t for t in texts)
    for text in texts:
        assert TEST_KEY not in text
    for err in errors:
        assert TEST_KEY not in str(err) and TEST_KEY not in repr(err)
    assert TEST_KEY not in repr(client)
    settings = load_settings(environ={"RUNWARE_API_KEY": TEST_KEY}, dotenv_path=None)
    assert settings.api_key == TEST_KEY and TEST_KEY not in repr(settings) and TEST_KEY not in str(settings)


def test_client_needs_a_key():
    with pytest.raises(ValueError):
        RunwareClient("", "http://127.0.0.1:9/v1")


# -- request budget (lib/budget.py) ------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_window():
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock)
    assert [limiter.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.used() == 3
    assert limiter.try_acquire() == pytest.approx(60.0)
    clock.now += 20
    assert limiter.try_acquire() == pytest.approx(40.0)
    assert limiter.used() == 3  # refusals take nothing
    clock.now += 40  # the first three are now 60 s old
    assert limiter.try_acquire() == 0.0
    assert limiter.used() == 1


def test_rate_limiter_is_a_sliding_window():
    clock = FakeClock()
    limiter = RateLimiter(2, clock=clock)
    assert limiter.try_acquire() == 0.0
    clock.now += 30
    assert limiter.try_acquire() == 0.0
    clock.now += 29
    assert limiter.try_acquire() == pytest.approx(1.0)
    clock.now += 1
    assert limiter.try_acquire() == 0.0  # the first slot freed; the second still counts
    assert limiter.try_acquire() == pytest.approx(30.0)


def test_rate_limiter_never_exceeds_n_in_any_window():
    clock = FakeClock(0.0)
    limiter = RateLimiter(5, clock=clock)
    granted = []
    for step in range(400):  # one attempt every 0.5 s for 200 s
        clock.now = step * 0.5
        if limiter.try_acquire() == 0.0:
            granted.append(clock.now)
    for t in granted:
        assert sum(1 for g in granted if t <= g < t + 60) <= 5
    assert len(granted) >= 5 * 3


def test_rate_limiter_acquire_does_not_wait_past_max_wait():
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    assert limiter.acquire(0) is not None
    assert limiter.acquire(0) is None
    assert limiter.acquire(5) is None  # 60 s needed, 5 s allowed: refused at once
    assert limiter.used() == 1


def test_rate_limiter_window_runs_from_release():
    """A slot counts from when its request completed, so a slow request cannot let the server see
    more than N in a window."""
    clock = FakeClock(0.0)
    limiter = RateLimiter(1, clock=clock)
    slot = limiter.acquire(0)
    clock.now = 10.0
    limiter.release(slot)
    clock.now = 60.0
    assert limiter.try_acquire() == pytest.approx(10.0)
    clock.now = 70.0
    assert limiter.try_acquire() == 0.0
    limiter.release(None)  # harmless


def test_rate_limiter_window_is_configurable():
    clock = FakeClock(0.0)
    limiter = RateLimiter(2, clock=clock, window=1.0)
    assert limiter.try_acquire() == limiter.try_acquire() == 0.0
    assert limiter.try_acquire() == pytest.approx(1.0)
    clock.now = 1.0
    assert limiter.try_acquire() == 0.0


def test_limiter_is_thread_safe():
    limiter = RateLimiter(50, clock=FakeClock())
    results = []
    lock = threading.Lock()

    def worker():
        for _ in range(20):
            got = limiter.try_acquire() == 0.0
            with lock:
                results.append(got)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 50 and limiter.used() == 50
