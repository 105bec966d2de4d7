"""The Generate page for every catalog model (AppTest, demo mode, data in a temporary folder): it renders
without an exception, and the form's own values (with placeholder media where the model requires
media) make a request that validates against the catalog. Nothing is submitted, so no job runs."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from lib import form as F
from lib.catalog import load_catalog
from lib.catalog_schema import PLACEHOLDER_MEDIA
from lib.errors import InvalidRequest

REPO = Path(__file__).resolve().parents[1]
CATALOG = load_catalog()
AIRS = [m.air for m in CATALOG]


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "teal").save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app session for the module: each test switches it to another model, as a person would."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        for name in ("RUNWARE_API_KEY", "RUNWARE_API_URL", "STUDIO_WORKSPACES"):
            mp.delenv(name, raising=False)
        mp.setenv("STUDIO_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=30)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        yield at


def show(at: AppTest, air: str) -> AppTest:
    at.selectbox(key="f_model").set_value(air)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("Something went wrong" in e.value for e in at.error)
    return at


@pytest.mark.parametrize("air", AIRS)
def test_page_renders_and_defaults_make_a_valid_request(app, air):
    model = CATALOG.get(air)
    at = show(app, air)
    preview = json.loads(at.code[0].value)[0]
    assert preview["model"] == air
    state = at.session_state.to_dict()
    assert state["f_last_air"] == air
    lay = F.layout(model)
    if lay.prompt:
        state["f_prompt"] = "A lighthouse on a cliff at dusk, slow aerial pan"
    for kind in lay.media_required:
        state[f"f_in_{kind}"] = PLACEHOLDER_MEDIA[kind]
    uploads = F.Uploads(first=PNG if lay.frame_required else None)
    try:
        task = F.prepare_state(model, state, CATALOG, max_image_bytes=10**7, uploads=uploads)
    except InvalidRequest as exc:
        pytest.fail(f"{air}: {exc.problems}")
    assert task["model"] == air


@pytest.mark.parametrize("air", ["klingai:5@3", "google:3@3", "lightricks:ltx@2.3", "minimax:4@1"])
def test_priced_models_show_a_simulated_price_in_demo_mode(app, air):
    at = show(app, air)
    [price] = [c.value for c in at.caption if c.value.startswith("Price")]
    assert "$" in price or "Price unknown" in price
    assert "the demo charges nothing" in price


def test_an_unpriced_model_says_price_unknown(app):
    at = show(app, "klingai:avatar@2.0-standard")
    [price] = [c.value for c in at.caption if c.value.startswith("Price")]
    assert price.startswith("Price unknown (the demo charges nothing)")


def test_default_model_is_kling_2_1_master(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=30)
    at.run()
    assert at.selectbox(key="f_model").value == "klingai:5@3"
    [price] = [c.value for c in at.caption if c.value.startswith("Price:")]
    assert "about $0.92 (simulated: the demo charges nothing)" in price


def test_switching_models_says_what_was_dropped(app):
    at = show(app, "runware:108@22")
    at.toggle(key="f_seed_on").set_value(True)
    at.run()
    at = show(at, "klingai:5@3")
    [note] = [i.value for i in at.info if "Switched to" in i.value]
    assert "fixed seed" in note


def test_a_value_survives_its_control_changing_kind(app):
    at = show(app, "klingai:5@3")
    at.selectbox(key="f_duration").set_value(10)
    at.run()
    at = show(at, "lightricks:ltx@2.3")  # a list of durations there, a number box here
    assert at.number_input(key="f_duration").value == 10
    assert json.loads(at.code[0].value)[0]["duration"] == 10


def test_search_narrows_the_picker_but_keeps_the_choice(app):
    at = show(app, "klingai:5@3")
    at.text_input(key="f_model_search").set_value("veo")
    at.run()
    options = at.selectbox(key="f_model").options
    assert at.selectbox(key="f_model").value == "klingai:5@3"
    assert any("Veo 3.1 Fast" in o for o in options) and not any("Hailuo" in o for o in options)
    at.text_input(key="f_model_search").set_value("")
    at.run()


def test_capability_filter(app):
    at = show(app, "klingai:5@3")
    at.multiselect(key="f_caps").set_value(["avatar"])
    at.run()
    options = at.selectbox(key="f_model").options
    assert any("HeyGen" in o for o in options)
    assert not any("Veo 3.1 Fast" in o for o in options)
    at.multiselect(key="f_caps").set_value([])
    at.run()


def test_schema_settings_are_drawn(app):
    at = show(app, "lightricks:ltx@2.3")  # takes steps (a number) and lora (a list)
    assert at.number_input(key="f_x_steps").value is None
    assert at.text_area(key="f_x_lora") is not None
    at.text_area(key="f_x_lora").set_value('{"not": "a list"}')
    at.text_area(key="f_prompt").set_value("A valid prompt for a video")
    at.run()
    [generate] = [b for b in at.button if b.label == "Generate"]
    generate.click()
    at.run()
    assert any("LoRA must be a JSON list" in e.value for e in at.error), [e.value for e in at.error]
    at.text_area(key="f_x_lora").set_value("")
    at.run()


def test_rerun_of_a_newer_model_fills_its_own_controls(app):
    show(app, "klingai:5@3")
    app.session_state["prefill_task"] = {
        "taskType": "videoInference", "taskUUID": "00000000-0000-4000-8000-000000000001",
        "model": "lightricks:ltx@2.3", "positivePrompt": "A re-run", "width": 2560, "height": 1440,
        "duration": 8, "steps": 20, "settings": {"audio": True}}
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="f_model").value == "lightricks:ltx@2.3"
    assert app.toggle(key="f_audio").value is True
    assert app.number_input(key="f_x_steps").value == 20
    assert not [i.value for i in app.info if "Switched to" in i.value]  # a re-run drops nothing
    task = json.loads(app.code[0].value)[0]
    assert (task["width"], task["duration"], task["steps"], task["settings"]) == (2560, 8, 20, {"audio": True})
