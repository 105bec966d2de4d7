"""Issue 12, hostile users: the demo simulator as a hosted backend. Each test replays one attack on
the simulator over real HTTP (loopback only) and checks that it is refused or contained, with an
answer in Runware's error shape. Hosts that must look public are stand-ins on 127.0.0.2, made
"public" by the simulator's injectable is_public check; names resolve through an injected resolver."""
from __future__ import annotations

import base64
import json
import socket
import time
import uuid

import pytest
import requests

import lib.simulator.server as server_module
from conftest import TEST_KEY, StandIn, video_task
from lib.simulator.limits import Limits
from lib.simulator.server import Simulator

HEADERS = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
DRY = {**HEADERS, "X-Runware-Dry-Run": "1"}
PUBLIC_STAND_IN = "127.0.0.2"  # counts as public in these tests; 127.0.0.1 does not


def post(sim, body, headers=HEADERS, timeout=10) -> requests.Response:
    return requests.post(sim.url, data=json.dumps(body), headers=headers, timeout=timeout)


def poll(sim, task_uuid) -> dict:
    return post(sim, [{"taskType": "getResponse", "taskUUID": task_uuid}]).json()


def wait_done(sim, task_uuid, results=1, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = poll(sim, task_uuid)
        if body.get("errors") or sum(d.get("status") == "success" for d in body["data"]) >= results:
            return body
        time.sleep(0.05)
    raise AssertionError(f"task {task_uuid} did not finish")


def big_task(**overrides) -> dict:
    """The flood's task: the largest render a catalog model accepts."""
    return video_task(width=1920, height=1920, duration=30, fps=30, numberResults=4, outputFormat="WEBM",
                      **overrides)


@pytest.fixture
def make_sim(tmp_path):
    started = []

    def make(**kwargs) -> Simulator:
        kwargs.setdefault("latency", 0.2)
        kwargs.setdefault("media_dir", tmp_path / f"sim{len(started)}")
        sim = Simulator(**kwargs).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


def recorder(host: str = "127.0.0.1", port: int = 0, status: int = 200, location: str | None = None) -> StandIn:
    """A StandIn on a chosen loopback address that answers `status` (with a Location for redirects)."""
    headers = {"Location": location} if location else {}
    return StandIn(lambda *request: (status, "text/plain", b"", headers), host=host, port=port)


def only_stand_in_is_public(ip: str) -> bool:
    return ip == PUBLIC_STAND_IN


def wait_for(condition, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# -- 1. SSRF: redirects and DNS rebinding ----------------------------------------------------------------


def same_port_pair() -> tuple[StandIn, StandIn]:
    """A "public" and a loopback recorder on the same port, as one name pointing at two hosts."""
    for _ in range(20):
        public = recorder(PUBLIC_STAND_IN)
        try:
            return public, recorder("127.0.0.1", port=public.port)
        except OSError:
            public.server.server_close()
    raise AssertionError("no port free on both addresses")


@pytest.mark.parametrize("field, method", [("webhookURL", "POST"), ("uploadEndpoint", "PUT")])
def test_delivery_does_not_follow_a_redirect_to_loopback(make_sim, field, method):
    with recorder() as private, recorder(PUBLIC_STAND_IN, status=307, location=private.url + "/steal") as public:
        sim = make_sim(deliver_to_private=False, is_public=only_stand_in_is_public)
        post(sim, [video_task(fps=6, **{field: public.url + "/hook"})]).raise_for_status()
        assert wait_for(lambda: public.requests), "the public stand-in was never called"
        time.sleep(1.5)  # time for a followed redirect (or a retry) to arrive
        assert public.requests[0][0] == method
        assert private.requests == []


def test_delivery_connects_to_the_address_it_checked(make_sim):
    """DNS rebinding: the name is public when checked, loopback when resolved again to connect."""
    public, private = same_port_pair()
    answers = iter([[PUBLIC_STAND_IN]])

    def rebinding_resolver(host, port):
        assert host == "hooks.example.test"
        return next(answers, ["127.0.0.1"])  # public once, loopback from then on

    with public, private:
        sim = make_sim(deliver_to_private=False, is_public=only_stand_in_is_public, resolve=rebinding_resolver)
        post(sim, [video_task(fps=6, webhookURL=f"http://hooks.example.test:{public.port}/cb")]).raise_for_status()
        assert wait_for(lambda: public.requests)
        time.sleep(0.5)
        assert private.requests == []
        assert public.requests[0][2]["Host"] == f"hooks.example.test:{public.port}"  # the name travels as Host


def test_a_name_with_any_private_address_is_refused(make_sim):
    with recorder(PUBLIC_STAND_IN) as public:
        sim = make_sim(deliver_to_private=False, is_public=only_stand_in_is_public,
                       resolve=lambda host, port: [PUBLIC_STAND_IN, "127.0.0.1"])
        post(sim, [video_task(fps=6, webhookURL=f"http://mixed.example.test:{public.port}/cb")])
        time.sleep(1.5)
        assert public.requests == []


def test_https_delivery_pins_the_checked_ip_and_verifies_the_name():
    """No traffic: the adapter https deliveries use connects to the IP but does SNI and the certificate
    check for the name (so pinning never weakens TLS)."""
    from lib.simulator.delivery import Delivery, _PinnedAdapter

    delivery = Delivery(private_allowed=False, resolve=lambda host, port: [PUBLIC_STAND_IN],
                        is_public=only_stand_in_is_public)
    url, host = delivery.pinned_target("https://hooks.example.test/cb?secret=1")
    assert (url, host) == (f"https://{PUBLIC_STAND_IN}:443/cb?secret=1", "hooks.example.test")
    conn = _PinnedAdapter(host).poolmanager.connection_from_url(url)._new_conn()
    assert conn.host == PUBLIC_STAND_IN
    assert conn.server_hostname == conn.assert_hostname == "hooks.example.test"


# -- 2. floods ---------------------------------------------------------------------------------------------


def test_one_request_cannot_queue_thousands_of_tasks(make_sim):
    sim = make_sim()
    body = [big_task() for _ in range(2000)]
    resp = post(sim, body, timeout=60)
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["code"] == "tooManyTasks"
    assert sim.stats.snapshot()["submitted"] == []


def test_render_cost_of_one_request_is_bounded(make_sim):
    sim = make_sim()
    resp = post(sim, [big_task()], DRY)
    assert resp.status_code == 400
    (err,) = resp.json()["errors"]
    assert err["code"] == "requestTooLarge" and "megapixel-frames" in err["message"]


def test_pending_tasks_per_owner_are_bounded(make_sim):
    sim = make_sim(latency=30, limits=Limits(max_pending_tasks=3))
    for _ in range(3):
        assert post(sim, [video_task(fps=6)]).status_code == 200
    resp = post(sim, [video_task(fps=6)])
    assert resp.status_code == 429
    (err,) = resp.json()["errors"]
    assert err["code"] == "queueCapacityExceeded" and "3 tasks in progress" in err["message"]


def test_pending_render_cost_per_owner_is_bounded(make_sim):
    one = 1920 * 1080 * 10 * 24 / 1e6  # megapixel-frames of one 1080p 10 s video
    sim = make_sim(latency=30, limits=Limits(max_pending_cost=one * 1.5))
    kling = dict(model="klingai:5@3", width=1920, height=1080, duration=10, fps=None)
    assert post(sim, [video_task(**kling)]).status_code == 200
    resp = post(sim, [video_task(**kling)])
    assert resp.status_code == 429 and "render budget" in resp.json()["errors"][0]["message"]


def write_journal(path, records):
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "tasks.jsonl", "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec) + "\n")


def journal_record(task, created):
    return {"task": task, "created": created, "latency": 0.1, "fails": False, "videos": [str(uuid.uuid4())]}


def test_a_flood_in_the_journal_is_not_replayed_in_full(make_sim, tmp_path):
    media = tmp_path / "flooded"
    big = dict(model="klingai:5@3", width=1920, height=1080, duration=10, fps=None, numberResults=1)
    write_journal(media, [journal_record(video_task(seed=None, **big), time.time()) for _ in range(50)])
    one = 1920 * 1080 * 10 * 24 / 1e6
    sim = make_sim(media_dir=media, limits=Limits(max_pending_cost=one * 2.5))
    rendering = [t for t in sim.engine.tasks.values() if t.results]
    assert len(rendering) == 2
    assert len((media / "tasks.jsonl").read_text().splitlines()) == 2  # compacted


def test_tasks_past_retention_are_dropped_from_the_journal(make_sim, tmp_path):
    media = tmp_path / "old"
    eight_days_ago = time.time() - 8 * 24 * 3600
    write_journal(media, [journal_record(video_task(fps=6), eight_days_ago) for _ in range(5)])
    sim = make_sim(media_dir=media)
    assert sim.engine.tasks == {}
    assert (media / "tasks.jsonl").read_text() == ""


# -- 3. amplification --------------------------------------------------------------------------------------


def test_errors_do_not_echo_large_input(make_sim):
    sim = make_sim()
    resp = post(sim, [{"taskType": "x" * 1_000_000, "taskUUID": "y" * 1_000_000}])
    assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "invalidTaskType"
    assert len(resp.content) < 4096


def test_many_invalid_tasks_get_a_small_answer(make_sim):
    sim = make_sim()
    bad = {"taskType": "videoInference", "taskUUID": "not-a-uuid", "model": "m" * 100, "positivePrompt": ""}
    body = json.dumps([bad] * 20_000).encode()  # about 3.8 MB
    resp = requests.post(sim.url, data=body, headers=HEADERS, timeout=60)
    assert resp.status_code == 400
    assert len(resp.content) < 65536


def test_task_details_do_not_echo_inline_images(make_sim):
    sim = make_sim()
    image = "data:image/png;base64," + base64.b64encode(b"\x89PNG" + bytes(300_000)).decode()
    task = video_task(fps=6, frameImages=[{"inputImage": image, "frame": "first"}])
    assert post(sim, [task]).status_code == 200
    resp = post(sim, [{"taskType": "getTaskDetails", "taskUUID": task["taskUUID"]}])
    assert resp.status_code == 200 and resp.json()["data"][0]["request"]["positivePrompt"] == task["positivePrompt"]
    assert len(resp.content) < 16384


def png_data_uri(color, size=(320, 256)) -> str:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    # Noise-free PNGs are tiny; padding after IEND makes it as large as a photo without changing it.
    return "data:image/png;base64," + base64.b64encode(buf.getvalue() + bytes(200_000)).decode()


def test_inline_images_are_not_kept_once_rendered(make_sim, tmp_path):
    sim = make_sim(media_dir=tmp_path / "m")
    task = video_task(fps=6, frameImages=[{"inputImage": png_data_uri((200, 30, 30)), "frame": "first"}])
    assert post(sim, [task]).status_code == 200
    wait_done(sim, task["taskUUID"])
    assert wait_for(lambda: not any((tmp_path / "m" / "spool").iterdir()), 5)
    assert (tmp_path / "m" / "tasks.jsonl").stat().st_size < 8192
    assert len(json.dumps(sim.engine.tasks[task["taskUUID"]].task)) < 8192


def test_an_unfinished_task_renders_with_its_image_after_a_restart(tmp_path):
    import io

    import av
    import numpy as np

    media, red = tmp_path / "m", (200, 30, 30)
    task = video_task(fps=6, frameImages=[{"inputImage": png_data_uri(red), "frame": "first"}])
    with Simulator(latency=0.1, media_dir=media, limits=Limits(render_slots=0)) as first:  # renders nothing
        assert post(first, [task]).status_code == 200
    with Simulator(latency=0.1, media_dir=media) as second:
        (item,) = wait_done(second, task["taskUUID"])["data"]
        data = requests.get(item["videoURL"], timeout=10).content
    with av.open(io.BytesIO(data)) as c:
        first_frame = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert np.abs(np.median(first_frame.reshape(-1, 3), axis=0) - red).max() <= 15


def test_body_over_the_limit_is_413_without_reading_it(make_sim):
    sim = make_sim(limits=Limits(max_body_bytes=10_000))
    resp = requests.post(sim.url, data=b"[" + b" " * 20_000 + b"]", headers=HEADERS, timeout=10)
    assert resp.status_code == 413
    assert resp.json()["errors"][0]["code"] == "payloadTooLarge"


# -- 4. slow and broken connections ------------------------------------------------------------------------


def connect(sim) -> socket.socket:
    return socket.create_connection((sim.host, sim.port), timeout=10)


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """(whether the server closed the connection in time, what it sent)."""
    sock.settimeout(seconds)
    got = b""
    try:
        while chunk := sock.recv(65536):
            got += chunk
        return True, got
    except (TimeoutError, socket.timeout):
        return False, got
    except ConnectionError:
        return True, got


def test_headers_sent_one_byte_at_a_time_are_cut_off(make_sim):
    sim = make_sim(limits=Limits(header_timeout=1.0))
    sock = connect(sim)
    started = time.monotonic()
    request = b"POST /v1 HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40
    try:
        for byte in request:
            sock.sendall(bytes([byte]))
            time.sleep(0.1)
    except OSError:
        pass  # closed on us: what should happen
    closed, _ = closed_within(sock, 3.0)
    sock.close()
    assert closed and time.monotonic() - started < 5.0


def test_a_half_sent_body_gets_408_and_is_closed(make_sim):
    sim = make_sim(limits=Limits(body_timeout=1.0))
    sock = connect(sim)
    sock.sendall(b"POST /v1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TEST_KEY.encode()
                 + b"\r\nContent-Length: 1000\r\n\r\n[{\"taskType\"")
    closed, answer = closed_within(sock, 4.0)
    sock.close()
    assert closed and answer.startswith(b"HTTP/1.1 408")
    assert b"requestTimeout" in answer


def test_idle_connections_beyond_the_cap_get_503(make_sim):
    sim = make_sim(limits=Limits(max_connections=4))
    idle = [connect(sim) for _ in range(4)]
    try:
        assert wait_for(lambda: sim.server.connections == 4, 5)
        resp = requests.get(sim.base_url + "/health", timeout=5)
        assert resp.status_code == 503 and resp.json()["errors"][0]["code"] == "serverBusy"
    finally:
        for s in idle:
            s.close()
    assert wait_for(lambda: sim.server.connections == 0, 5)
    assert requests.get(sim.base_url + "/health", timeout=5).status_code == 200


# -- 5. malformed requests get a 400, never a dropped connection ------------------------------------------


def raw_request(sim, head: bytes, body: bytes = b"") -> bytes:
    sock = connect(sim)
    sock.sendall(head + body)
    _, answer = closed_within(sock, 5.0)
    sock.close()
    return answer


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1e3"])
def test_bad_content_length_is_400(make_sim, length):
    sim = make_sim()
    answer = raw_request(sim, b"POST /v1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " + length
                         + b"\r\n\r\n", b"[]")
    assert answer.startswith(b"HTTP/1.1 400") and b"invalidContentLength" in answer


def test_a_garbled_request_line_gets_a_runware_shaped_error(make_sim):
    sim = make_sim()
    answer = raw_request(sim, b"GARBAGE\r\n\r\n")  # read as HTTP/0.9: the answer has no status line
    assert json.loads(answer.split(b"\r\n\r\n", 1)[-1])["errors"][0]["code"] == "invalidRequest"


def test_a_request_line_too_long_is_a_runware_shaped_414(make_sim):
    sim = make_sim()
    answer = raw_request(sim, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 414")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["errors"][0]["code"] == "uriTooLong"


def test_deeply_nested_json_is_400(make_sim):
    sim = make_sim()
    resp = requests.post(sim.url, data=b"[" * 200_000 + b"]" * 200_000, headers=HEADERS, timeout=10)
    assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "invalidJSON"


def test_deeply_nested_json_within_the_item_budget_is_400(make_sim):
    sim = make_sim(limits=Limits(max_json_items=10**7))
    resp = requests.post(sim.url, data=b"[" * 100_000 + b"]" * 100_000, headers=HEADERS, timeout=10)
    assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "invalidJSON"


def test_null_duration_is_400_and_creates_no_task(make_sim):
    sim = make_sim()
    task = video_task()
    task["duration"] = None
    resp = post(sim, [task])
    assert resp.status_code == 400
    (err,) = resp.json()["errors"]
    assert err["parameter"] == "duration" and err["code"] == "invalidDuration"
    assert poll(sim, task["taskUUID"])["errors"][0]["code"] == "taskNotFound"


def test_whole_number_float_results_render(make_sim):
    sim = make_sim()
    task = video_task(fps=6, numberResults=2.0)
    assert post(sim, [task]).status_code == 200
    body = wait_done(sim, task["taskUUID"], results=2)
    assert [d["status"] for d in body["data"]] == ["success", "success"]


# -- 6. open switches and leaks ----------------------------------------------------------------------------


def test_fault_switch_is_off_in_a_hosted_simulator(make_sim):
    sim = make_sim(control_endpoints=False)
    resp = requests.post(sim.base_url + "/_sim/faults", json={"kind": "429", "times": 100}, timeout=5)
    assert resp.status_code == 404
    assert post(sim, [video_task()], DRY).status_code == 200


def test_request_statistics_are_bounded(make_sim, monkeypatch):
    monkeypatch.setattr(server_module, "STATS_MAX", 20)
    sim = make_sim()
    with requests.Session() as s:
        for _ in range(30):
            s.post(sim.url, json=[{"taskType": "getResponse", "taskUUID": str(uuid.uuid4())}], headers=HEADERS)
    snap = sim.stats.snapshot()
    assert snap["posts"] == 30 and len(snap["post_times"]) == 20


# -- 7. fairness -------------------------------------------------------------------------------------------


def test_the_workspace_header_keeps_limits_apart(make_sim):
    sim = make_sim(latency=30, limits=Limits(max_pending_tasks=1))
    ws = lambda name: {**HEADERS, "X-Studio-Workspace": name}  # noqa: E731
    assert post(sim, [video_task(fps=6)], ws("alice")).status_code == 200
    assert post(sim, [video_task(fps=6)], ws("alice")).status_code == 429
    assert post(sim, [video_task(fps=6)], ws("bob")).status_code == 200


def test_a_small_job_is_not_stuck_behind_big_ones(make_sim):
    sim = make_sim(latency=0.1)
    bigs = [video_task(width=1920, height=1080, duration=10, fps=24, outputFormat="WEBM", numberResults=2,
                       seed=i + 1) for i in range(3)]
    for i, big in enumerate(bigs):  # three hostile workspaces, several seconds of rendering each
        assert post(sim, [big], {**HEADERS, "X-Studio-Workspace": f"hostile-{i}"}).status_code == 200
    time.sleep(0.5)
    small = video_task(width=640, height=360, fps=24, seed=99)  # 120 small frames
    started = time.monotonic()
    assert post(sim, [small], {**HEADERS, "X-Studio-Workspace": "someone"}).status_code == 200
    wait_done(sim, small["taskUUID"], timeout=30)
    took = time.monotonic() - started
    still_rendering = [b for b in bigs if any(d.get("status") == "processing" for d in poll(sim, b["taskUUID"])["data"])]
    # Alone it takes about 0.5 s; behind the big ones (first come, first served) well over 30 s.
    assert took < 6.0 and still_rendering, took


# -- settings ----------------------------------------------------------------------------------------------


def test_limits_and_switches_are_command_line_flags(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from conftest import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "lib.simulator", "--port", str(port), "--media-dir",
                             str(tmp_path / "m"), "--log-level", "WARNING", "--max-submits-per-request", "1",
                             "--no-control-endpoints"],
                            cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE, text=True)
    try:
        assert "listening" in proc.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        resp = requests.post(url + "/v1", json=[video_task(), video_task()], headers=DRY, timeout=10)
        assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "tooManyTasks"
        assert requests.post(url + "/_sim/faults", json={"kind": "429"}, timeout=10).status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)
