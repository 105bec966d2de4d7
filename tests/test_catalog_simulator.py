"""The simulator runs every catalog model with the same validation (dry runs keep it fast), and renders
the newer shapes: resolution sizes, inputs.frameImages, the first frame of an input video."""
import base64
import io
import json
import time

import av
import pytest
import requests
from PIL import Image

from conftest import TEST_KEY
from lib.catalog import load_catalog
from lib.catalog_schema import example_task
from lib.simulator.render import render_mp4

HEADERS = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
DRY = {**HEADERS, "X-Runware-Dry-Run": "1"}
MODELS = sorted(load_catalog().models)


def post(sim, body, headers=HEADERS):
    return requests.post(sim.url, data=json.dumps(body), headers=headers, timeout=10)


def finished(sim, task_uuid: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = post(sim, [{"taskType": "getResponse", "taskUUID": task_uuid}]).json().get("data", [])
        if data and data[0].get("status") == "success":
            return data[0]
        time.sleep(0.1)
    raise AssertionError("task did not finish")


def video_size(sim, url: str) -> tuple[int, int]:
    body = requests.get(url, timeout=10).content
    with av.open(io.BytesIO(body)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height


def png_uri(color=(200, 40, 40), size=(64, 36)) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.mark.parametrize("air", MODELS)
def test_dry_run_accepts_minimal_task(simulator, catalog, air):
    resp = post(simulator, [example_task(catalog.get(air))], headers=DRY)
    assert resp.status_code == 200, resp.json()
    assert resp.json()["data"][0]["cost"] > 0


@pytest.mark.parametrize("air", MODELS)
def test_dry_run_refuses_bad_task_at_parameter(simulator, catalog, air):
    resp = post(simulator, [{**example_task(catalog.get(air)), "duration": -3}], headers=DRY)
    assert resp.status_code == 400
    assert {e.get("parameter") for e in resp.json()["errors"]} == {"duration"}


def test_renders_resolution_at_short_side_16_9(simulator, catalog):
    task = {**example_task(catalog.get("pixverse:1@8")), "resolution": "360p"}
    assert post(simulator, [task]).status_code == 200
    assert video_size(simulator, finished(simulator, task["taskUUID"])["videoURL"]) == (640, 360)


def test_renders_requested_width_and_height(simulator, catalog):
    task = {**example_task(catalog.get("vidu:4@1")), "width": 480, "height": 480, "resolution": None}
    task = {k: v for k, v in task.items() if v is not None}
    assert post(simulator, [task]).status_code == 200
    assert video_size(simulator, finished(simulator, task["taskUUID"])["videoURL"]) == (480, 480)


def test_renders_from_inputs_frame_image(simulator, catalog):
    task = example_task(catalog.get("vidu:3@2"), media={"image": png_uri()})
    assert post(simulator, [task]).status_code == 200
    assert finished(simulator, task["taskUUID"])["videoURL"]


def test_renders_from_first_frame_of_input_video(simulator, catalog, tmp_path):
    clip = tmp_path / "in.mp4"
    render_mp4(clip, prompt="input", width=64, height=64, duration=0.5, fps=8, seed=1)
    uri = "data:video/mp4;base64," + base64.b64encode(clip.read_bytes()).decode()
    task = example_task(catalog.get("runway:aleph@2.0"), media={"video": uri})
    assert post(simulator, [task]).status_code == 200
    assert finished(simulator, task["taskUUID"])["videoURL"]


def test_first_video_frame_reads_a_video_and_refuses_other_bytes(tmp_path):
    from lib.images import first_video_frame
    clip = tmp_path / "in.mp4"
    render_mp4(clip, prompt="input", width=64, height=48, duration=0.25, fps=8, seed=2)
    assert Image.open(io.BytesIO(first_video_frame(clip.read_bytes()))).size == (64, 48)
    assert first_video_frame(b"not a video at all") is None
