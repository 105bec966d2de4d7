"""The local Runware-compatible simulator (lib/simulator), spoken to with raw `requests` over HTTP.

Starts with the spec document's own example flow as written (submit, poll, download), then the REST
protocol rules, delivery (webhook POST, uploadEndpoint PUT), ttl, determinism, frame images and the CLI.
"""
from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import threading
import time
import types
import uuid
from pathlib import Path

import av
import numpy as np
import pytest
import requests
from PIL import Image

import lib.simulator.engine as engine_module
from conftest import TEST_KEY, StandIn, free_port, video_task
from lib.simulator.server import Simulator

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}


@pytest.fixture
def sim(simulator):
    return simulator


def post(sim, body, headers=HEADERS, **kw) -> requests.Response:
    return requests.post(sim.url, data=json.dumps(body), headers=headers, timeout=10, **kw)


def poll_until_done(sim, task_uuid: str, results: int = 1, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = post(sim, [{"taskType": "getResponse", "taskUUID": task_uuid}]).json()
        done = [d for d in body.get("data", []) if d.get("status") == "success"]
        if body.get("errors") or len(done) >= results:
            return body
        time.sleep(0.05)
    raise AssertionError("task did not finish")


def run(sim, *tasks: dict) -> list[dict]:
    """Submit (in one request) and wait; the success items, in task order."""
    assert post(sim, list(tasks)).status_code == 200
    items = []
    for task in tasks:
        body = poll_until_done(sim, task["taskUUID"], task.get("numberResults", 1))
        assert "errors" not in body, body
        items += body["data"]
    return items


def png(color, size=(320, 256)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def decoded_frames(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


# -- the spec document's example flow, as written ---------------------------------------------------------


def spec_flow(api_base_url: str, api_token: str, request_data: list[dict], out: Path) -> Path:
    """The spec document's Usage Examples, verbatim apart from the URL and the polling delay."""
    headers = {
        "Authorization": f"Bearer {api_token}",
        "Content-Type": "application/json"
    }
    response = requests.post(api_base_url, json=request_data, headers=headers)
    assert response.status_code == 200, response.text
    submitted = response.json()["data"][0]
    assert submitted == {"taskType": "videoInference", "taskUUID": request_data[0]["taskUUID"]}

    def poll_task_status(task_uuid, max_attempts=150, delay=0.2):
        for attempt in range(max_attempts):
            request_data = [{
                "taskType": "getResponse",
                "taskUUID": task_uuid
            }]
            response = requests.post(api_base_url, json=request_data, headers=headers)
            result = response.json()
            if result['data'][0]['status'] == 'success':
                return result['data'][0]['videoURL']
            elif result['data'][0]['status'] in ['failed', 'error']:
                raise Exception(f"Task failed: {result['data'][0]}")
            time.sleep(delay)
        raise Exception("Task timeout")

    def download_video(video_url, output_path):
        response = requests.get(video_url, stream=True)
        response.raise_for_status()
        with open(output_path, 'wb') as f:
            for chunk in response.iter_content(chunk_size=8192):
                f.write(chunk)
        return output_path

    video_url = poll_task_status(request_data[0]["taskUUID"])
    return download_video(video_url, out)


def assert_video(path: Path, width: int, height: int, seconds: float) -> None:
    data = path.read_bytes()
    assert data[4:8] == b"ftyp"
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        assert (stream.width, stream.height) == (width, height)
        assert c.duration / 1e6 == pytest.approx(seconds, abs=0.2)


def test_spec_basic_example(sim, tmp_path):
    task_uuid = str(uuid.uuid4())
    request_data = [{
        "taskType": "videoInference",
        "taskUUID": task_uuid,
        "positivePrompt": "A beautiful sunset over mountains",
        "model": "klingai:5@3",
        "duration": 5,
        "width": 1920,
        "height": 1080,
        "deliveryMethod": "async"
    }]
    path = spec_flow(sim.url, TEST_KEY, request_data, tmp_path / "basic.mp4")
    assert_video(path, 1920, 1080, 5)


def test_spec_advanced_example(sim, tmp_path):
    request_data = [{
        "taskType": "videoInference",
        "taskUUID": str(uuid.uuid4()),
        "positivePrompt": "A serene beach with gentle waves",
        "negativePrompt": "dark, scary, violent",
        "model": "klingai:5@3",
        "duration": 10,
        "width": 1920,
        "height": 1080,
        "deliveryMethod": "async",
        "outputFormat": "mp4",
        "outputQuality": 95,
        # This host does not resolve here: a failing webhook never fails the task.
        "webhookURL": "https://your-webhook-url.com/callback",
        "ttl": 1800
    }]
    path = spec_flow(sim.url, TEST_KEY, request_data, tmp_path / "advanced.mp4")
    assert_video(path, 1920, 1080, 10)


# -- auth and body shapes ------------------------------------------------------------------------------------


def test_no_key_is_401_missing_api_key(sim):
    for headers in ({"Content-Type": "application/json"}, {"Authorization": "Bearer "}, {"Authorization": "Basic x"}):
        resp = post(sim, [video_task()], headers=headers)
        assert resp.status_code == 401
        assert resp.json()["errors"][0]["code"] == "missingApiKey"
    assert sim.stats.snapshot()["submitted"] == []


def test_configured_key_must_match(tmp_path):
    with Simulator(api_key="the-right-key-0123456789", latency=0.3, media_dir=tmp_path / "m") as s:
        resp = post(s, [video_task()])
        assert resp.status_code == 401 and resp.json()["errors"][0]["code"] == "invalidApiKey"
        good = {**HEADERS, "Authorization": "Bearer the-right-key-0123456789"}
        assert post(s, [video_task()], headers=good).status_code == 200
        # The authentication task, first in the array, works instead of the header.
        body = [{"taskType": "authentication", "apiKey": "the-right-key-0123456789"}, video_task()]
        resp = post(s, body, headers={"Content-Type": "application/json"})
        assert resp.status_code == 200
        assert [d["taskType"] for d in resp.json()["data"]] == ["videoInference"]
        bad = [{"taskType": "authentication", "apiKey": "wrong-key-0123456789"}, video_task()]
        assert post(s, bad, headers={"Content-Type": "application/json"}).status_code == 401
        assert len(s.stats.snapshot()["submitted"]) == 2


def test_authentication_task_works_without_configured_key(sim):
    task = video_task()
    body = [{"taskType": "authentication", "apiKey": TEST_KEY}, task]
    resp = post(sim, body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 200
    assert resp.json() == {"data": [{"taskType": "videoInference", "taskUUID": task["taskUUID"]}]}


def test_lone_object_body_is_an_array_of_one(sim):
    task = video_task()
    resp = post(sim, task)
    assert resp.status_code == 200 and resp.json()["data"][0]["taskUUID"] == task["taskUUID"]
    assert sim.stats.snapshot()["submitted"] == [task["taskUUID"]]


def test_body_that_is_not_json(sim):
    resp = requests.post(sim.url, data=b"{not json", headers=HEADERS, timeout=10)
    assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "invalidJSON"


def test_unknown_task_type(sim):
    resp = post(sim, [{"taskType": "imageInference", "taskUUID": str(uuid.uuid4())}])
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["code"] == "invalidTaskType"


# -- validation on the wire -------------------------------------------------------------------------------


def test_invalid_task_is_400_with_runware_errors(sim):
    task = video_task(model="klingai:5@3", width=1280, height=720, duration=7, fps=None, seed=3)
    resp = post(sim, [task])
    assert resp.status_code == 400
    body = resp.json()
    assert body["data"] == []
    by_param = {e["parameter"]: e for e in body["errors"]}
    assert set(by_param) == {"width", "duration", "seed"}
    assert by_param["duration"]["code"] == "unsupportedDuration" and by_param["duration"]["allowedValues"] == [5, 10]
    assert by_param["width"]["allowedValues"] == ["1920x1080", "1080x1080", "1080x1920"]
    for e in body["errors"]:
        assert e["message"] and e["taskUUID"] == task["taskUUID"] and e["taskType"] == "videoInference"
    assert sim.stats.snapshot()["submitted"] == []


def test_malformed_webhook_host_is_a_400_not_a_dropped_connection(sim):
    resp = post(sim, [video_task(webhookURL="http://[::1/callback")])
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["code"] == "invalidWebhookURL"


@pytest.mark.parametrize("air", ["acme:7@1", "klingai:9@9", "klingai5@3"])
def test_unknown_model_refused(sim, air):
    resp = post(sim, [video_task(model=air)])
    assert resp.status_code == 400
    (err,) = resp.json()["errors"]
    assert err["code"] == "invalidModel" and err["parameter"] == "model"


def test_mixed_batch_answers_each_task(sim):
    good, bad = video_task(), video_task(numberResults=9)
    resp = post(sim, [good, bad])
    assert resp.status_code == 200
    body = resp.json()
    assert body["data"] == [{"taskType": "videoInference", "taskUUID": good["taskUUID"]}]
    (err,) = body["errors"]
    assert err["code"] == "invalidNumberResults" and err["taskUUID"] == bad["taskUUID"]
    assert (err["min"], err["max"]) == (1, 4)
    assert sim.stats.snapshot()["submitted"] == [good["taskUUID"]]


def test_resubmit_is_conflict(sim):
    task = video_task()
    assert post(sim, [task]).status_code == 200
    resp = post(sim, [task])
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["code"] == "conflictTaskUUID"
    assert resp.json()["errors"][0]["taskUUID"] == task["taskUUID"]
    assert sim.stats.snapshot()["submitted"] == [task["taskUUID"]]


def test_get_response_for_unknown_task(sim):
    unknown = str(uuid.uuid4())
    resp = post(sim, [{"taskType": "getResponse", "taskUUID": unknown}])
    assert resp.status_code == 400
    (err,) = resp.json()["errors"]
    assert err["taskUUID"] == unknown and err["code"]


def test_spec_lowercase_mp4_is_normalised(sim):
    (item,) = run(sim, video_task(outputFormat="mp4"))
    assert item["videoURL"].endswith(".mp4")


# -- cost --------------------------------------------------------------------------------------------------


def test_dry_run_returns_cost_and_creates_no_task(sim):
    task = video_task(duration=6)
    resp = post(sim, [task], headers={**HEADERS, "X-Runware-Dry-Run": "1"})
    assert resp.status_code == 200
    (item,) = resp.json()["data"]
    assert item["taskUUID"] == task["taskUUID"] and item["cost"] == pytest.approx(0.3)
    assert sim.stats.snapshot()["submitted"] == []
    assert post(sim, [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]).status_code == 400
    kling = video_task(model="klingai:5@3", width=1920, height=1080, fps=None, duration=5)
    resp = post(sim, [kling], headers={**HEADERS, "X-Runware-Dry-Run": "1"})
    assert resp.json()["data"][0]["cost"] == pytest.approx(0.92)  # about $0.92 per 5 s, as published
    # A dry run still validates.
    resp = post(sim, [video_task(duration=99)], headers={**HEADERS, "X-Runware-Dry-Run": "1"})
    assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "unsupportedDuration"


def test_include_cost_adds_cost_to_results(sim):
    items = run(sim, video_task(includeCost=True, numberResults=2))
    assert len(items) == 2
    assert sum(i["cost"] for i in items) == pytest.approx(0.05 * 5 * 2)
    (plain,) = run(sim, video_task())
    assert "cost" not in plain


# -- results ------------------------------------------------------------------------------------------------


def test_success_item_shape(sim):
    task = video_task(seed=4242)
    (item,) = run(sim, task)
    assert item["taskType"] == "videoInference" and item["taskUUID"] == task["taskUUID"]
    assert item["status"] == "success" and item["seed"] == 4242
    uuid.UUID(item["videoUUID"])
    assert item["videoURL"] == f"{sim.base_url}/video/{item['videoUUID']}.mp4"
    resp = requests.get(item["videoURL"], timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "video/mp4"
    assert resp.content[4:8] == b"ftyp"


def test_processing_before_latency(tmp_path):
    with Simulator(latency=5.0, media_dir=tmp_path / "m") as s:
        task = video_task()
        post(s, [task])
        body = post(s, [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]).json()
        assert body == {"data": [{"taskType": "videoInference", "taskUUID": task["taskUUID"],
                                  "status": "processing"}]}


def test_number_results_are_separate_items(sim):
    items = run(sim, video_task(numberResults=3, seed=100))
    assert len(items) == 3
    assert sorted(i["seed"] for i in items) == [100, 101, 102]
    assert len({i["videoUUID"] for i in items}) == 3
    bodies = [requests.get(i["videoURL"], timeout=10).content for i in items]
    assert len(set(bodies)) == 3


def test_many_get_responses_in_one_request(sim):
    tasks = [video_task(seed=i + 1) for i in range(3)]
    assert post(sim, tasks).status_code == 200  # several tasks in one submit, too
    for t in tasks:
        poll_until_done(sim, t["taskUUID"])
    before = sim.stats.snapshot()["posts"]
    body = post(sim, [{"taskType": "getResponse", "taskUUID": t["taskUUID"]} for t in tasks]).json()
    assert [d["taskUUID"] for d in body["data"]] == [t["taskUUID"] for t in tasks]
    assert sim.stats.snapshot()["posts"] == before + 1


def test_task_failure_comes_back_in_errors(sim):
    sim.faults.script("task_failure")
    task = video_task()
    post(sim, [task])
    body = poll_until_done(sim, task["taskUUID"])
    (err,) = body["errors"]
    assert err == {**err, "code": "timeoutProvider", "status": "error", "taskUUID": task["taskUUID"]}
    assert err["message"]


@pytest.mark.parametrize("fmt, magic", [("WEBM", b"\x1a\x45\xdf\xa3"), ("MOV", b"ftyp")])
def test_output_format_container(sim, fmt, magic):
    (item,) = run(sim, video_task(outputFormat=fmt.lower(), fps=6))
    assert item["videoURL"].endswith("." + fmt.lower())
    data = requests.get(item["videoURL"], timeout=10).content
    assert magic in data[:12]
    with av.open(io.BytesIO(data)) as c:
        assert (c.streams.video[0].width, c.streams.video[0].height) == (320, 256)


def test_video_route(sim):
    assert requests.get(f"{sim.base_url}/video/{uuid.uuid4()}.mp4", timeout=10).status_code == 404
    (item,) = run(sim, video_task())
    whole = requests.get(item["videoURL"], timeout=10).content
    part = requests.get(item["videoURL"], headers={"Range": "bytes=0-99"}, timeout=10)
    assert part.status_code == 206 and part.content == whole[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(whole)}"


def test_scripted_api_faults_on_the_wire(sim):
    sim.faults.retry_after = 3
    sim.faults.script("429")
    sim.faults.script("html")
    first = post(sim, [video_task()])
    assert first.status_code == 429 and first.headers["Retry-After"] == "3"
    second = post(sim, [video_task()])
    assert second.status_code == 502 and second.headers["Content-Type"].startswith("text/html")
    assert post(sim, [video_task()]).status_code == 200
    assert sim.stats.snapshot()["post_task_types"][:2] == [["fault:429"], ["fault:html"]]


# -- delivery -----------------------------------------------------------------------------------------------


def test_webhook_receives_the_success_item(sim):
    with StandIn() as hook:
        task = video_task(webhookURL=hook.url + "/callback?job=1")
        (item,) = run(sim, task)
        ((method, path, headers, body),) = hook.wait(1)
    assert method == "POST" and path == "/callback?job=1"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == item


def test_webhook_is_retried_until_2xx(sim):
    with StandIn(lambda m, p, b, n: (500 if n == 1 else 200, "application/json", b"{}")) as hook:
        task = video_task(webhookURL=hook.url + "/cb")
        run(sim, task)
        first, second = hook.wait(2)
    assert first[3] == second[3] and json.loads(second[3])["status"] == "success"


def test_webhook_receives_a_task_failure(sim):
    sim.faults.script("task_failure")
    with StandIn() as hook:
        task = video_task(webhookURL=hook.url + "/cb")
        post(sim, [task])
        ((_, _, _, body),) = hook.wait(1)
    item = json.loads(body)
    assert item["code"] == "timeoutProvider" and item["taskUUID"] == task["taskUUID"]


def test_upload_endpoint_receives_the_video(sim):
    with StandIn() as bucket:
        task = video_task(uploadEndpoint=bucket.url + "/bucket/video.mp4?signature=abc")
        (item,) = run(sim, task)
        ((method, path, _, body),) = bucket.wait(1)
    assert method == "PUT" and path == "/bucket/video.mp4?signature=abc"
    assert body[4:8] == b"ftyp"
    assert body == requests.get(item["videoURL"], timeout=10).content


def test_unreachable_webhook_does_not_fail_the_task(sim):
    port = free_port()  # nothing listens there
    (item,) = run(sim, video_task(webhookURL=f"http://127.0.0.1:{port}/cb"))
    assert item["status"] == "success"


# -- ttl ----------------------------------------------------------------------------------------------------


def test_video_is_served_before_ttl_and_gone_after(sim, monkeypatch):
    with_ttl, without = run(sim, video_task(ttl=60), video_task(seed=5))
    assert requests.get(with_ttl["videoURL"], timeout=10).status_code == 200
    # 61 s later, as the simulator's clock sees it.
    real = time.monotonic
    fake = types.SimpleNamespace(monotonic=lambda: real() + 61, time=lambda: time.time() + 61, sleep=time.sleep)
    monkeypatch.setattr(engine_module, "time", fake)
    assert sim.engine.video(with_ttl["videoUUID"]) is None
    assert requests.get(with_ttl["videoURL"], timeout=10).status_code == 404
    assert requests.get(without["videoURL"], timeout=10).status_code == 200  # no ttl: kept


# -- determinism and frame images -------------------------------------------------------------------------


def test_same_seed_same_bytes(sim, tmp_path):
    task = video_task(seed=777, positivePrompt="Determinism check")
    a, c = run(sim, task, {**task, "taskUUID": str(uuid.uuid4()), "seed": 778})
    with Simulator(latency=0.3, media_dir=tmp_path / "other") as other:
        (b,) = run(other, {**task, "taskUUID": str(uuid.uuid4())})
        bytes_b = requests.get(b["videoURL"], timeout=10).content
    bytes_a = requests.get(a["videoURL"], timeout=10).content
    assert a["seed"] == b["seed"] == 777
    assert bytes_a == bytes_b and bytes_a[4:8] == b"ftyp"
    assert requests.get(c["videoURL"], timeout=10).content != bytes_a


def test_without_seed_a_seed_is_chosen_and_returned(sim):
    (item,) = run(sim, video_task())
    assert isinstance(item["seed"], int) and 1 <= item["seed"] <= 2**63 - 1


def test_first_and_last_frame_images(sim):
    red, blue = (200, 30, 30), (20, 40, 220)
    frames_spec = [{"inputImage": data_uri(png(red)), "frame": "first"},
                   {"inputImage": data_uri(png(blue)), "frame": "last"}]
    item, plain = run(sim, video_task(frameImages=frames_spec), video_task(seed=3))
    frames = decoded_frames(requests.get(item["videoURL"], timeout=10).content)
    first = np.median(frames[0].reshape(-1, 3), axis=0)
    last = np.median(frames[-1].reshape(-1, 3), axis=0)
    assert np.abs(first - red).max() <= 15, first
    assert np.abs(last - blue).max() <= 15, last
    # Without images the video does not start from that colour.
    plain_first = np.median(decoded_frames(requests.get(plain["videoURL"], timeout=10).content)[0].reshape(-1, 3),
                            axis=0)
    assert np.abs(plain_first - red).max() > 40


def test_image_only_model_with_first_frame(sim):
    task = video_task(model="klingai:5@1", width=1280, height=720, fps=None,
                      frameImages=[{"inputImage": data_uri(png((30, 200, 30), (160, 90)))}])
    resp = post(sim, [task], headers={**HEADERS, "X-Runware-Dry-Run": "1"})
    assert resp.status_code == 200
    resp = post(sim, [{**task, "frameImages": None}], headers={**HEADERS, "X-Runware-Dry-Run": "1"})
    assert resp.status_code == 400 and resp.json()["errors"][0]["parameter"] == "frameImages"


# -- restart ------------------------------------------------------------------------------------------------


def test_restarted_simulator_still_answers_for_its_tasks(tmp_path):
    media = tmp_path / "media"
    task = video_task(seed=31)
    with Simulator(latency=0.2, media_dir=media) as first:
        (before,) = run(first, task)
    with Simulator(latency=0.2, media_dir=media) as second:
        body = poll_until_done(second, task["taskUUID"])
        (after,) = body["data"]
        assert after["videoUUID"] == before["videoUUID"] and after["seed"] == 31
        assert requests.get(after["videoURL"], timeout=10).content[4:8] == b"ftyp"
        assert post(second, [task]).json()["errors"][0]["code"] == "conflictTaskUUID"


# -- the command line ---------------------------------------------------------------------------------------


def test_cli_serves_post_v1(tmp_path):
    port = free_port()
    key = "cli-key-0123456789abcdef"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lib.simulator", "--port", str(port), "--api-key", key, "--latency", "0.2",
         "--media-dir", str(tmp_path / "media"), "--log-level", "WARNING"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(iter_until_listening(proc)), daemon=True)
        reader.start()
        reader.join(20)
        assert any("listening" in line for line in lines), lines
        url = f"http://127.0.0.1:{port}/v1"
        assert f"listening on {url}" in lines[-1]
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        task = video_task()
        resp = requests.post(url, json=[task], headers={**headers, "X-Runware-Dry-Run": "1"}, timeout=10)
        assert resp.status_code == 200 and resp.json()["data"][0]["cost"] == pytest.approx(0.25)
        resp = requests.post(url, json=[task], headers={**headers, "Authorization": "Bearer wrong-key-000000"},
                             timeout=10)
        assert resp.status_code == 401 and resp.json()["errors"][0]["code"] == "invalidApiKey"
        resp = requests.post(url, json=[task], headers=headers, timeout=10)
        assert resp.status_code == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


def iter_until_listening(proc):
    for line in proc.stdout:
        yield line.strip()
        if "listening" in line:
            return


def test_a_hosted_demo_simulator_never_delivers_to_private_addresses(tmp_path):
    """The app's own simulator refuses to POST/PUT into the server's network (no SSRF via webhooks)."""
    from lib.simulator.engine import _public

    assert not _public("http://127.0.0.1:9/hook") and not _public("http://10.0.0.5/x")
    assert not _public("http://[::1]/x") and not _public("http://no-such-host.invalid/x")
    hits = []
    with StandIn() as hook, Simulator(latency=0.1, media_dir=tmp_path / "m", deliver_to_private=False) as sim:
        task = video_task(webhookURL=hook.url + "/hook")
        requests.post(sim.url, json=[task], headers=HEADERS, timeout=10).raise_for_status()
        time.sleep(2.0)
        hits = hook.requests
    assert hits == []
