"""Copy as code: the Python and cURL snippets are run for real against the simulator."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import TEST_KEY, Received, video_task
from lib import snippets
from lib.simulator.server import Simulator

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SMALL_IMAGE = "data:image/png;base64," + "A" * 200


class Run:
    """One snippet run: what it printed, and every request body and header the simulator received."""

    def __init__(self, kind: str, task: dict, sim, folder):
        self.task, self.bodies, self.headers = task, [], []
        base = sim.server.RequestHandlerClass
        outer = self

        class Spy(base):
            def _read_body(self, *args, **kwargs):
                body = super()._read_body(*args, **kwargs)
                outer.bodies.append(body or b"")
                outer.headers.append(dict(self.headers))
                return body

        sim.server.RequestHandlerClass = Spy
        self.received = Received(sim)
        path = folder / ("snippet.py" if kind == "python" else "snippet.sh")
        path.write_text(snippets.for_task(task, "https://api.runware.ai/v1")[kind])
        env = {**os.environ, "RUNWARE_API_KEY": TEST_KEY, "RUNWARE_API_URL": sim.url,
               "RUNWARE_POLL_SECONDS": "0.2"}
        command = [sys.executable, str(path)] if kind == "python" else ["sh", str(path)]
        self.done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        sim.server.RequestHandlerClass = base
        assert self.done.returncode == 0, self.done.stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each snippet run once (module-wide: a run takes a second or two)."""
    folder = tmp_path_factory.mktemp("snippets")
    task = video_task(positivePrompt="It's a \"quoted\" $HOME `tick` \\ prompt", includeCost=True)
    with Simulator(latency=0.3, media_dir=folder / "sim-media") as sim:
        yield {kind: Run(kind, task, sim, folder) for kind in ("python", "curl")}


@pytest.fixture(params=["python", "curl"])
def ran(request, runs):
    return runs[request.param]


def test_the_snippet_sends_the_same_task_with_a_fresh_uuid(ran):
    [sent] = [t for p in ran.received.arrivals("videoInference") for t in p.tasks]
    assert {k: v for k, v in sent.items() if k != "taskUUID"} == {k: v for k, v in ran.task.items() if k != "taskUUID"}
    assert UUID.match(sent["taskUUID"]) and sent["taskUUID"] != ran.task["taskUUID"]


def test_the_snippet_polls_and_prints_the_video_url(ran):
    assert ran.received.polls()
    assert re.search(r"^https?://\S+/video/\S+$", ran.done.stdout.strip(), re.M), ran.done.stdout


def test_the_key_is_only_in_the_authorization_header(ran):
    assert ran.bodies and all(TEST_KEY.encode() not in b for b in ran.bodies)
    assert all(h.get("Authorization") == f"Bearer {TEST_KEY}" for h in ran.headers)


def test_no_snippet_holds_the_key_or_the_studio_webhook():
    task = video_task(webhookURL="https://studio.example/webhooks/runware/SECRET-TOKEN")
    code = snippets.for_task(task, "https://api.runware.ai/v1", public_url="https://studio.example")
    for text in code.values():
        assert "SECRET-TOKEN" not in text and "RUNWARE_API_KEY" in text and task["taskUUID"] not in text


def test_a_webhook_elsewhere_is_kept():
    task = video_task(webhookURL="https://mine.example/hook")
    assert snippets.clean_task(task, "https://studio.example")["webhookURL"] == "https://mine.example/hook"


def test_small_images_stay_inline_and_big_ones_become_a_placeholder():
    big = "data:image/png;base64," + "B" * 150_000
    task = video_task(frameImages=[{"inputImage": SMALL_IMAGE, "frame": "first"}],
                      inputs={"frameImages": [{"image": big, "frame": "last"}]})
    clean = snippets.clean_task(task)
    assert clean["frameImages"][0]["inputImage"] == SMALL_IMAGE
    assert clean["inputs"]["frameImages"][0]["image"].startswith("<IMAGE TOO LARGE TO INCLUDE (150 KB)")
    assert all(len(text) < 20_000 for text in snippets.for_task(task, "https://x.example/v1").values())


def test_the_snippets_default_to_the_given_api_url():
    code = snippets.for_task(video_task(), "https://api.runware.ai/v1")
    assert "'https://api.runware.ai/v1'" in code["python"] and "'https://api.runware.ai/v1'" in code["sdk"]
    assert "${RUNWARE_API_URL:-https://api.runware.ai/v1}" in code["curl"]


def test_the_sdk_snippet_uses_the_sdks_run_over_rest():
    code = snippets.for_task(video_task(), "https://api.runware.ai/v1")["sdk"]
    compile(code, "sdk.py", "exec")
    assert "transport=\"rest\"" in code and "await client.run(task)" in code


def test_the_generate_page_offers_the_current_form_as_code(tmp_path, monkeypatch):
    from pathlib import Path
    from streamlit.testing.v1 import AppTest
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "streamlit_app.py"), default_timeout=30)
    at.run()
    at.text_area(key="f_prompt").set_value("A prompt to take home")
    at.run()
    code = [c.value for c in at.code]
    assert any("RUNWARE_API_KEY" in c and "A prompt to take home" in c for c in code)
    assert not any("demo-mode-no-key" in c for c in code)
