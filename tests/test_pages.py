"""The pages, run headless with Streamlit's AppTest: demo mode on the bundled simulator (or API mode on
the `simulator` fixture), the real store in a temporary STUDIO_DATA_DIR."""
from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from conftest import StandIn, force, video_task
from lib import demo
from lib.store import JobStore
from lib.keys import key_id

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "streamlit_app.py"
FAKE_KEY = "rw-test-SECRET-" + "k3y" * 12  # long and unmistakable


# -- helpers ---------------------------------------------------------------------------------------

@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """Demo mode (no key) with its data in a temporary folder; fast polling, a roomy request budget."""
    monkeypatch.chdir(REPO)
    for name in ("RUNWARE_API_KEY", "RUNWARE_API_URL", "STUDIO_WORKSPACES", "STUDIO_JOB_TIMEOUT",
                 "STUDIO_MAX_IN_FLIGHT", "STUDIO_POLL_INTERVAL_MAX"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "data"
    monkeypatch.setenv("STUDIO_DATA_DIR", str(path))
    monkeypatch.setenv("STUDIO_POLL_INTERVAL_MIN", "0.5")
    monkeypatch.setenv("STUDIO_REQUESTS_PER_MINUTE", "100000")
    return path


def new_app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=30)


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # The app's own catch-all message would mean a swallowed exception.
    assert not any("Something went wrong" in e.value for e in at.error)
    return at


def open_page(page: str | None = None, **query) -> AppTest:
    at = run(new_app())
    if page or query:
        for k, v in query.items():
            at.query_params[k] = v
        if page:
            at.switch_page(page)
        run(at)
    return at


def unescape(text: str) -> str:
    """Markdown text as a person reads it (the app escapes punctuation in messages)."""
    return re.sub(r"\\(.)", r"\1", text)


def errors(at) -> list[str]:
    return [unescape(e.value) for e in at.error]


def click(at, label: str) -> AppTest:
    [button] = [b for b in at.button if b.label == label]
    button.click()
    return run(at)


def captions(at) -> list[str]:
    return [c.value for c in at.caption]


def all_rendered_text(at) -> str:
    """Every element of the page (main and sidebar) as its full protobuf text: labels, values,
    placeholders, help, code, table cells."""
    parts = [str(at)]
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        value = getattr(node, "value", None)
        if hasattr(value, "to_csv"):  # tables and dataframes: every cell, untruncated
            parts.append(value.to_csv())
        elif value is not None:
            parts.append(str(value))
    return "\n".join(parts)


def store_for(data_dir: Path) -> JobStore:
    return JobStore(data_dir / "studio.sqlite3")


def demo_job(store: JobStore, status: str, *, model: str = "runware:108@22", prompt: str = "A test video",
             results=None, error=None, **task_fields) -> str:
    """A job filed the way demo mode files them, in a finished state (so no tick touches it)."""
    task = video_task(model=model, positivePrompt=prompt, **task_fields)
    store.add(task, workspace="local", api_url=demo.DEMO_LABEL, key_id=key_id(demo.DEMO_KEY))
    changes = {"status": status, "submitted_at": time.time()}
    if status in ("success", "error", "timeout"):
        changes["finished_at"] = time.time()
    if results is not None:
        changes["results"] = results
    if error is not None:
        changes["error"] = error
    force(store, task["taskUUID"], **changes)
    time.sleep(0.002)
    return task["taskUUID"]


def wait_until(condition, timeout: float = 30.0):
    """The engine works in the background: wait for what it should do, with a deadline."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)
    return value


def runtime():
    """The runtime the pages use (st.cache_resource hands the test the same one for the same settings)."""
    import studio_ui
    return studio_ui.runtime_for(studio_ui.current_settings())


def simulator_of_the_app():
    return runtime().demo.simulator


def sim_posts() -> int:
    sim = simulator_of_the_app()
    return sim.stats.snapshot()["posts"] if sim else 0


def _widget(at, key):
    for kind in ("text_area", "text_input", "selectbox", "number_input", "toggle", "checkbox", "slider"):
        try:
            return getattr(at, kind)(key=key)
        except KeyError:
            continue
    raise KeyError(key)


def element_after(at, key: str):
    """The first element shown after the widget with this key (document order)."""
    nodes = [n for n in at.main if not isinstance(n, Block)]
    for i, node in enumerate(nodes):
        if getattr(node, "key", None) == key:
            return nodes[i + 1] if i + 1 < len(nodes) else None
    raise AssertionError(f"no widget {key!r} on the page")


# -- every page renders ------------------------------------------------------------------------------

def test_generate_page_renders_in_demo_mode(data_dir):
    at = open_page()
    assert at.title[0].value == "Generate a video"
    assert any("Demo mode" in i.value for i in at.info)
    assert any("Demo (simulator)" in c.value for c in at.sidebar.caption)
    for key in ("f_model", "f_prompt", "f_size", "f_duration", "f_results", "f_format", "f_quality",
                "f_webhook", "f_ttl", "f_cost", "f_provider", "f_advanced", "f_upload"):
        assert _widget(at, key) is not None
    preview = json.loads(at.code[0].value)
    assert preview[0]["taskType"] == "videoInference" and preview[0]["model"] == at.selectbox(key="f_model").value
    assert not errors(at)


@pytest.mark.parametrize("page, title", [("pages/history.py", "History"), ("pages/gallery.py", "Gallery"),
                                         ("pages/settings.py", "Settings & status")])
def test_other_pages_render_in_demo_mode(data_dir, page, title):
    at = open_page(page)
    assert at.title[0].value == title
    assert any("Demo mode" in i.value for i in at.info)


def test_history_without_jobs(data_dir):
    at = open_page("pages/history.py")
    assert any("No jobs yet" in i.value for i in at.info)
    assert not at.get("download_button")


def test_gallery_without_videos(data_dir):
    # A finished job without a video file is not a gallery item.
    demo_job(store_for(data_dir), "error", error={"code": "timeoutProvider", "message": "slow"})
    at = open_page("pages/gallery.py")
    assert any("Finished videos appear here" in i.value for i in at.info)
    assert not at.get("video")


# (The Gallery's tiles, filters, paging and selection: tests/test_gallery_page.py.)


def test_settings_page_in_demo_mode(data_dir):
    at = open_page("pages/settings.py")
    table = at.table[0].value.to_csv()
    assert "Demo (bundled simulator)" in table
    assert "not set (demo mode)" in table
    assert simulator_of_the_app().url in table


# -- API mode: the key is never shown ------------------------------------------------------------------

def test_api_mode_never_shows_the_key(data_dir, monkeypatch, simulator):
    monkeypatch.setenv("RUNWARE_API_KEY", FAKE_KEY)
    monkeypatch.setenv("RUNWARE_API_URL", simulator.url)
    at = open_page("pages/settings.py")
    assert not any("Demo mode" in i.value for i in at.info)
    table = at.table[0].value.to_csv()
    assert "Runware API" in table
    assert "set (environment, .env or secrets)" in table
    assert simulator.url in table
    assert FAKE_KEY not in all_rendered_text(at)

    # Nor on the other pages, a job's card, its details or the request preview.
    gen = open_page()
    assert any("Mode: **Runware API**" in c.value for c in gen.sidebar.caption)
    assert FAKE_KEY not in all_rendered_text(gen)
    gen.text_area(key="f_prompt").set_value("A lighthouse in a storm")
    gen.selectbox(key="f_model").set_value("runware:108@22")
    run(gen)
    gen.selectbox(key="f_size").set_value((640, 360))
    run(gen)
    click(gen, "Generate")
    assert not errors(gen), errors(gen)
    assert FAKE_KEY not in all_rendered_text(gen)
    deadline = time.monotonic() + 30
    while not any("done" in m.value for m in gen.markdown):
        assert time.monotonic() < deadline, "the API-mode job never finished"
        time.sleep(0.5)
        run(gen)
    assert FAKE_KEY not in all_rendered_text(gen)
    assert len(simulator.stats.snapshot()["submitted"]) == 1
    [job] = store_for(data_dir).jobs()
    assert job.key_id == key_id(FAKE_KEY) and job.api_url == simulator.url
    hist = open_page("pages/history.py", job=job.task_uuid)
    assert any(s.value == "Job details" for s in hist.subheader)
    assert FAKE_KEY not in all_rendered_text(hist)


# -- Generate: validation ----------------------------------------------------------------------------

def test_empty_prompt_is_refused_at_the_field(data_dir):
    at = open_page()
    posts = sim_posts()
    click(at, "Generate")
    assert any("Write a prompt" in e for e in errors(at))
    assert "Write a prompt" in unescape(element_after(at, "f_prompt").value)
    assert any("Nothing was sent" in e for e in errors(at))
    assert store_for(data_dir).count() == 0
    assert sim_posts() == posts


def test_one_character_prompt_is_refused(data_dir):
    at = open_page()
    at.text_area(key="f_prompt").set_value("a")
    run(at)
    posts = sim_posts()
    click(at, "Generate")
    assert any("at least 2 characters" in e for e in errors(at)), errors(at)
    assert "at least 2" in unescape(element_after(at, "f_prompt").value)
    assert store_for(data_dir).count() == 0
    assert sim_posts() == posts


def test_bad_provider_settings_json_is_refused(data_dir):
    at = open_page()
    at.text_area(key="f_prompt").set_value("A valid prompt for a video")
    at.text_area(key="f_provider").set_value('{"klingai": {')
    run(at)
    posts = sim_posts()
    click(at, "Generate")
    assert any("JSON" in e and "Provider settings" in e for e in errors(at)), errors(at)
    assert "JSON" in unescape(element_after(at, "f_provider").value)
    assert store_for(data_dir).count() == 0
    assert sim_posts() == posts


@pytest.mark.parametrize("text, message", [('["not", "an", "object"]', "must be a JSON object"),
                                           ('{"google": {"x": 1}}', 'use "klingai"')])
def test_provider_settings_must_be_an_object_for_the_models_provider(data_dir, text, message):
    at = open_page()  # the default model is a klingai one
    at.text_area(key="f_prompt").set_value("A valid prompt for a video")
    at.text_area(key="f_provider").set_value(text)
    run(at)
    click(at, "Generate")
    assert any(message in e for e in errors(at)), errors(at)
    assert store_for(data_dir).count() == 0


def test_file_webhook_is_refused(data_dir):
    at = open_page()
    at.text_area(key="f_prompt").set_value("A valid prompt for a video")
    at.text_input(key="f_webhook").set_value("file:///etc/passwd")
    run(at)
    posts = sim_posts()
    click(at, "Generate")
    assert any("Webhook URL" in e and "http" in e for e in errors(at)), errors(at)
    assert "Webhook URL" in unescape(element_after(at, "f_webhook").value)
    assert store_for(data_dir).count() == 0
    assert sim_posts() == posts


def test_fixing_the_problem_clears_the_errors(data_dir):
    at = open_page()
    click(at, "Generate")
    assert errors(at)
    at.text_area(key="f_prompt").set_value("Now a proper prompt")
    run(at)
    click(at, "Generate")
    assert not errors(at), errors(at)
    assert store_for(data_dir).count() == 1


# -- Generate: a job runs to the end -----------------------------------------------------------------------

def test_valid_prompt_runs_to_a_done_card(data_dir):
    at = open_page()
    at.selectbox(key="f_model").set_value("runware:108@22")
    run(at)
    at.selectbox(key="f_size").set_value((640, 360))
    at.text_area(key="f_prompt").set_value("A paper boat on a rainy street")
    run(at)
    posts = sim_posts()
    click(at, "Generate")
    assert not errors(at), errors(at)
    [job] = store_for(data_dir).jobs()
    assert job.prompt == "A paper boat on a rainy street"
    assert job.model == "runware:108@22" and (job.width, job.height) == (640, 360)
    assert job.key_id == key_id(demo.DEMO_KEY) and job.api_url == demo.DEMO_LABEL and job.workspace == "local"
    wait_until(lambda: sim_posts() > posts)  # sent to the bundled simulator by the engine, not the page

    deadline = time.monotonic() + 40
    while not any("done" in m.value for m in at.markdown):
        assert time.monotonic() < deadline, [m.value for m in at.markdown]
        time.sleep(0.5)
        run(at)
    card = next(m.value for m in at.markdown if "done" in m.value)
    assert "640x360" in card and "seed " in card
    job = store_for(data_dir).get(job.task_uuid)
    assert job.status == "success"
    assert (data_dir / "media" / f"{job.task_uuid}-0.mp4").is_file()
    assert at.get("video")
    assert simulator_of_the_app().stats.snapshot()["submitted"].count(job.task_uuid) == 1

    # Now it is in History and the Gallery too.
    at.switch_page("pages/history.py")
    run(at)
    assert "1 of 1 jobs" in captions(at)
    at.switch_page("pages/gallery.py")
    run(at)
    assert len(at.get("image")) == 1 and not at.get("video")  # its poster; the video plays on click


# -- Generate: the form follows the model ------------------------------------------------------------------

def test_seed_toggle_follows_the_model(data_dir):
    at = open_page()
    at.selectbox(key="f_model").set_value("runware:108@22")
    run(at)
    assert at.toggle(key="f_seed_on").label == "Fixed seed"
    at.selectbox(key="f_model").set_value("klingai:5@3")
    run(at)
    with pytest.raises(KeyError):
        at.toggle(key="f_seed_on")
    assert "seed" not in json.loads(at.code[0].value)[0]
    # Sizes follow the model too.
    assert at.selectbox(key="f_size").value == (1920, 1080)
    at.selectbox(key="f_model").set_value("runware:108@22")
    run(at)
    assert at.toggle(key="f_seed_on").value is False



def test_fixed_seed_can_be_set(data_dir):
    at = open_page()
    at.selectbox(key="f_model").set_value("runware:108@22")
    at.text_area(key="f_prompt").set_value("A seeded video")
    run(at)
    at.toggle(key="f_seed_on").set_value(True)
    run(at)
    # Seeds reach 2^63-1, beyond a browser number: the field is text, checked by validation.
    at.text_input(key="f_seed").set_value("9121768170631298021")
    run(at)
    assert json.loads(at.code[0].value)[0]["seed"] == 9121768170631298021
    click(at, "Generate")
    assert store_for(data_dir).jobs()[0].task["seed"] == 9121768170631298021
    at.text_input(key="f_seed").set_value("twelve")
    run(at)
    click(at, "Generate")
    assert any("seed" in e for e in errors(at)), errors(at)
    # Turning the toggle off again drops the seed from the request.
    at.toggle(key="f_seed_on").set_value(False)
    run(at)
    with pytest.raises(KeyError):
        at.text_input(key="f_seed")


def test_custom_model(data_dir):
    at = open_page()
    at.selectbox(key="f_model").set_value("custom")
    run(at)
    air = at.text_input(key="f_custom_air")
    assert air.label == "Custom model AIR id"
    air.set_value("not a model id")
    at.text_area(key="f_prompt").set_value("A valid prompt for a video")
    run(at)
    posts = sim_posts()
    click(at, "Generate")
    assert any("AIR" in e and "not a model id" in e for e in errors(at)), errors(at)
    # Shown at the model field, above the prompt.
    assert "AIR" in unescape(element_after(at, "f_custom_air").value)
    assert store_for(data_dir).count() == 0
    assert sim_posts() == posts
    # A well-formed custom id is accepted by the form (the simulator then refuses it: Runware's answer).
    at.text_input(key="f_custom_air").set_value("acme:1@1")
    run(at)
    click(at, "Generate")
    assert not any("Nothing was sent" in e for e in errors(at)), errors(at)
    assert element_after(at, "f_custom_air").type != "error"
    job = store_for(data_dir).jobs()[0]
    assert job.model == "acme:1@1"
    job = wait_until(lambda: (j := store_for(data_dir).get(job.task_uuid)).status == "error" and j)
    assert job.error["code"] == "invalidModel"
    run(at)
    assert any("invalidModel" in e for e in errors(at))  # on the job's card


# -- History ------------------------------------------------------------------------------------------------

@pytest.fixture
def history(data_dir):
    store = store_for(data_dir)
    jobs = {
        "fox": demo_job(store, "success", prompt="A red fox (golden hour)", results=[{"videoUUID": "v", "seed": 5}]),
        "whale": demo_job(store, "error", model="klingai:5@3", prompt="A blue whale",
                          error={"code": "timeoutProvider", "message": "The provider did not answer in time."}),
        "city": demo_job(store, "timeout", prompt="City lights",
                         error={"code": "studioTimeout", "message": "Still processing after 600 s."}),
        "cat": demo_job(store, "success", model="klingai:5@3", prompt="A sleeping CAT"),
        # Another workspace's job is never listed.
        "other": None,
    }
    task = video_task(positivePrompt="Someone else's job")
    store.add(task, workspace="someone-else", api_url=demo.DEMO_LABEL, key_id=key_id(demo.DEMO_KEY))
    jobs["other"] = task["taskUUID"]
    return jobs


def test_history_lists_and_filters(history):
    at = open_page("pages/history.py")
    assert "4 of 4 jobs" in captions(at)
    status = at.multiselect(key="h_status")
    assert sorted(status.options) == ["done", "failed", "timed out"]  # the words cards use
    status.set_value(["success"])
    run(at)
    assert "2 of 4 jobs" in captions(at)
    at.multiselect(key="h_model").set_value(["klingai:5@3"])
    run(at)
    assert "1 of 4 jobs" in captions(at)
    at.multiselect(key="h_status").set_value([])
    run(at)
    assert "2 of 4 jobs" in captions(at)  # both klingai jobs
    at.multiselect(key="h_model").set_value([])
    at.text_input(key="h_text").set_value("cat")
    run(at)
    assert "1 of 4 jobs" in captions(at)
    at.text_input(key="h_text").set_value("(")
    run(at)
    assert "1 of 4 jobs" in captions(at)
    at.text_input(key="h_text").set_value(history["city"][:8].upper())
    run(at)
    assert "1 of 4 jobs" in captions(at)
    at.text_input(key="h_text").set_value("no such thing")
    run(at)
    assert "0 of 4 jobs" in captions(at)


def test_history_exports(history):
    at = open_page("pages/history.py")
    # (What the files hold is tested in test_history.py; AppTest does not expose a download's bytes.)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Export CSV", "Export JSON"]
    at.multiselect(key="h_status").set_value(["timeout"])
    run(at)
    assert [b.label for b in at.get("download_button")] == ["Export CSV", "Export JSON"]


def test_job_query_param_opens_details(history):
    at = open_page("pages/history.py", job=history["whale"])
    assert any(s.value == "Job details" for s in at.subheader)
    assert any(history["whale"] in m.value for m in at.markdown)
    assert any("timeoutProvider" in e for e in errors(at))
    assert [t.value for t in at.text if t.value == "A blue whale"]
    [params] = [json.loads(c.value) for c in at.code if c.language == "json"]  # the Parameters expander
    assert params["taskUUID"] == history["whale"]
    labels = [b.label for b in at.button]
    assert "Re-run with these settings" in labels and "Delete" in labels
    assert "Re-check" not in labels  # a task failure is final


def test_job_link_on_another_page_opens_history(history):
    at = new_app()
    at.query_params["job"] = history["fox"]
    run(at)
    assert at.title[0].value == "History"
    assert any(s.value == "Job details" for s in at.subheader)


def test_timed_out_job_offers_recheck(history):
    at = open_page("pages/history.py", job=history["city"])
    assert "Re-check" in [b.label for b in at.button]


def test_job_of_another_workspace_is_not_shown(history):
    at = open_page("pages/history.py", job=history["other"])
    assert not any(s.value == "Job details" for s in at.subheader)
    assert any("not in this workspace" in w.value for w in at.warning)
    assert "4 of 4 jobs" in captions(at)


def test_unknown_job_link_warns(history):
    at = open_page("pages/history.py", job="00000000-0000-4000-8000-000000000000")
    assert any("not in this workspace" in w.value for w in at.warning)


def test_delete_asks_first_and_keep_it_keeps_the_job(history, data_dir):
    at = open_page("pages/history.py", job=history["whale"])
    click(at, "Delete")
    assert store_for(data_dir).get(history["whale"]) is not None  # only asked so far
    at.button(key=f"keep-{history['whale']}").click()
    run(at)
    assert store_for(data_dir).get(history["whale"]) is not None


def test_delete_a_job_after_confirming(history, data_dir):
    at = open_page("pages/history.py", job=history["whale"])
    click(at, "Delete")
    at.button(key=f"confirm-delete-{history['whale']}").click()
    run(at)
    assert store_for(data_dir).get(history["whale"]) is None
    assert "3 of 3 jobs" in captions(at)
    assert not any(s.value == "Job details" for s in at.subheader)
    assert any("Deleted the job" in t.value for t in at.toast)  # says what was deleted
    # Nothing else is selected in its place: no other job's Delete button under the pointer.
    assert "Delete" not in [b.label for b in at.button]


def test_rerun_of_a_seeded_job(data_dir):
    uuid = demo_job(store_for(data_dir), "success", prompt="Seeded", seed=77)
    at = open_page("pages/history.py", job=uuid)
    click(at, "Re-run with these settings")
    assert at.text_input(key="f_seed").value == "77"


def test_rerun_prefills_the_form(history):
    at = open_page("pages/history.py", job=history["cat"])
    click(at, "Re-run with these settings")
    assert at.title[0].value == "Generate a video"
    assert at.text_area(key="f_prompt").value == "A sleeping CAT"
    assert at.selectbox(key="f_model").value == "klingai:5@3"


# -- pages never wait on the network ---------------------------------------------------------------------

def test_generate_returns_while_the_api_is_still_answering(data_dir, monkeypatch):
    """The page only records the job: it is done rendering while the API has not answered the submit."""
    release = threading.Event()

    def slow_api(method, path, body, n):
        release.wait(20)
        return 200, "application/json", b'{"data": []}'

    with StandIn(slow_api) as api:
        monkeypatch.setenv("RUNWARE_API_KEY", FAKE_KEY)
        monkeypatch.setenv("RUNWARE_API_URL", api.url)
        at = open_page()
        at.selectbox(key="f_model").set_value("runware:108@22")
        at.text_area(key="f_prompt").set_value("A page that never waits")
        run(at)
        click(at, "Generate")
        api.wait(1)  # the engine's submit has reached the API, which holds its answer
        [job] = store_for(data_dir).jobs()
        assert job.status == "submitting"
        run(at)  # and a rerun does not wait either
        assert [c for c in captions(at) if "Your jobs" in c or "newest jobs" in c]
        release.set()
        wait_until(lambda: store_for(data_dir).get(job.task_uuid).status != "submitting")


def test_a_card_says_when_its_local_copy_was_removed_by_the_media_cap(data_dir):
    from lib.mediacap import EVICTED_NOTE
    uuid = demo_job(store_for(data_dir), "success", prompt="Evicted",
                    results=[{"videoUUID": "v-e", "seed": 3, "evicted": True}])
    at = open_page("pages/history.py", job=uuid)
    assert EVICTED_NOTE in captions(at)


def test_the_same_request_from_two_tabs_of_a_workspace_makes_one_job_and_says_so(data_dir):
    tabs = [open_page(), open_page()]
    for at in tabs:
        at.selectbox(key="f_model").set_value("runware:108@22")
        at.text_area(key="f_prompt").set_value("Two tabs, one wish")
        run(at)
    click(tabs[0], "Generate")
    click(tabs[1], "Generate")
    assert store_for(data_dir).count() == 1
    assert any("Already submitted" in t.value for t in tabs[1].toast)


# -- job cards (issue 13) ---------------------------------------------------------------------------------

def test_a_job_card_names_the_model_and_offers_details_rerun_seed_and_delete(data_dir):
    demo_job(store_for(data_dir), "success", model="klingai:5@3", prompt="A card with everything",
             results=[{"videoUUID": "v-c", "seed": 77, "cost": 0.92}], width=1920, height=1080)
    force(store_for(data_dir), store_for(data_dir).jobs()[0].task_uuid, cost=0.92)
    at = open_page()
    card = unescape(next(m.value for m in at.markdown if "done" in m.value))
    assert "Kling 2.1 Master" in card
    assert "(simulated)" in card  # a demo job's cost: nothing was charged
    labels = [b.label for b in at.button]
    assert {"Re-run", "Use this seed", "Delete"} <= set(labels)
    assert any(link.label == "Details" for link in at.get("page_link"))


def test_use_this_seed_fills_the_form_with_the_jobs_seed(data_dir):
    demo_job(store_for(data_dir), "success", prompt="Seed me", results=[{"videoUUID": "v-s", "seed": 4242}])
    at = open_page()
    click(at, "Use this seed")
    assert at.text_area(key="f_prompt").value == "Seed me"
    assert at.text_input(key="f_seed").value == "4242"


def test_the_tab_title_counts_running_and_finished_jobs(data_dir):
    import studio_ui
    demo_job(store_for(data_dir), "queued", prompt="Still waiting")
    at = open_page()
    assert "1 running" in studio_ui.tab_title(at.session_state["studio"])


def test_download_names_come_from_the_prompt_and_seed():
    from lib.media import download_name
    assert download_name("A red fox, at dusk!", 42, 0, 1, ".mp4") == "a-red-fox-at-dusk-seed-42.mp4"
    assert download_name("Two of them", None, 1, 2, ".webm") == "two-of-them-2-of-2.webm"
    assert download_name("¿¿??", 7, 0, 1, ".mov") == "video-seed-7.mov"


def test_a_running_job_without_progress_shows_time_against_the_models_typical_time(data_dir):
    store = store_for(data_dir)
    for took in (30, 40, 50):
        uuid = demo_job(store, "success", prompt=f"took {took}")
        force(store, uuid, submitted_at=time.time() - took - 100, finished_at=time.time() - 100)
    running = demo_job(store, "processing", prompt="Running now")
    force(store, running, submitted_at=time.time() - 10)
    at = open_page()
    bars = [p.proto.text for p in at.get("progress")]
    assert any("of about 40 s" in text for text in bars), bars

