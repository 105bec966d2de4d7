"""lib/form.py and lib/pricing.py: the Generate form as pure code, table by table."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from lib import form as F
from lib import pricing
from lib.catalog import load_catalog
from lib.errors import InvalidRequest
from lib.request import VideoRequest, build_task

CATALOG = load_catalog()
get = CATALOG.get
PROMPT = "A lighthouse on a cliff at dusk"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


def defaults(air: str, **state) -> dict:
    """The form's state right after choosing the model in an empty form, plus `state`."""
    updates, _ = F.fit(get(air), {})
    return {**updates, "f_model": air, "f_prompt": PROMPT, **state}


def task_for(air: str, uploads=None, **state) -> dict:
    return F.prepare_state(get(air), defaults(air, **state), CATALOG, max_image_bytes=10**7, uploads=uploads)


# -- seed ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("12", 12), (" 12 ", 12), ("+7", 7), ("1", 1), ("9223372036854775807", 2**63 - 1), ("007", 7),
])
def test_seed_values(text, value):
    assert F.parse_seed(text) == (value, None)


@pytest.mark.parametrize("text, words", [
    ("", "Type a seed"), ("   ", "Type a seed"), (None, "Type a seed"),
    ("--5", "whole number"), ("-5", "from 1"), ("0", "from 1"), ("²", "whole number"), ("١٢", "whole number"),
    ("1.5", "whole number"), ("1e3", "whole number"), ("twelve", "whole number"),
    ("9223372036854775808", "from 1"), ("1 2", "whole number"),
])
def test_seed_problems_are_messages(text, words):
    value, message = F.parse_seed(text)
    assert value is None and words in message and "seed" in message.lower()


def test_a_bad_seed_is_reported_at_the_seed_field():
    with pytest.raises(InvalidRequest) as exc:
        task_for("runware:108@22", f_seed_on=True, f_seed="²")
    assert [p["parameter"] for p in exc.value.problems] == ["seed"]


def test_seed_is_sent_only_when_fixed():
    assert "seed" not in task_for("runware:108@22", f_seed="5")
    assert task_for("runware:108@22", f_seed_on=True, f_seed=" 12 ")["seed"] == 12


# -- JSON fields ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, kind, value, words", [
    ("", "object", None, None), ("  ", "object", None, None), ('{"a": 1}', "object", {"a": 1}, None),
    ("[1]", "object", None, "must be a JSON object"), ("3", "object", None, "must be a JSON object"),
    ("{", "object", None, "not valid JSON"), ('[{"a": 1}]', "list", [{"a": 1}], None),
    ('{"a": 1}', "list", None, "must be a JSON list"),
])
def test_parse_json(text, kind, value, words):
    parsed, message = F.parse_json(text, "speech", kind)
    assert parsed == value
    assert (message is None) if words is None else (words in message and "Speech" in message)


# -- controls from the schema -------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, kind", [
    ({"type": "string", "enum": ["none", "low"]}, "select"), ({"type": "boolean"}, "toggle"),
    ({"type": "integer", "minimum": 1, "maximum": 50}, "slider"), ({"type": "integer"}, "number"),
    ({"type": "number"}, "number"), ({"type": "string"}, "text"), ({"type": "object"}, "json_object"),
    ({}, "json_object"), ({"type": "array"}, "json_list"),
])
def test_control_kind_follows_the_schema_type(spec, kind):
    assert F._control("someField", spec).kind == kind


def test_common_settings_are_hand_made_not_schema_drawn():
    names = {c.name for c in F.schema_controls(get("lightricks:ltx@2.3"))}
    assert names == {"lora", "safety", "settings", "steps"}


def test_object_controls_keep_their_old_keys():
    keys = {c.name: c.key for c in F.schema_controls(get("klingai:5@3"))}
    assert keys["providerSettings"] == "f_provider" and keys["advancedFeatures"] == "f_advanced"


def test_enum_setting_is_sent_when_chosen():
    air = next(m.air for m in CATALOG if "acceleration" in m.fields)
    assert "acceleration" not in task_for(air, **media_for(air))
    assert task_for(air, f_x_acceleration="high", **media_for(air))["acceleration"] == "high"


def media_for(air: str) -> dict:
    lay = F.layout(get(air))
    return {f"f_in_{k}": f"https://example.com/in.{ {'video': 'mp4', 'audio': 'mp3', 'image': 'png'}[k]}"
            for k in lay.media_required}


def test_layout_is_cached_per_model():
    assert F.layout(get("google:3@3")) is F.layout(get("google:3@3"))


# -- switching models -------------------------------------------------------------------------------------

def test_switch_keeps_what_the_new_model_allows():
    state = defaults("runware:108@22", f_size=(1920, 1080), f_duration=5, f_negative="blurry")
    updates, notes = F.fit(get("klingai:5@3"), state, switching=True)
    assert "f_size" not in updates and "f_duration" not in updates
    assert notes == []  # Kling 2.1 Master takes a negative prompt too


@pytest.mark.parametrize("change, note", [
    ({"f_seed_on": True}, "fixed seed"),
    ({"f_duration": 30}, "duration 30 s (now 5 s)"),
    ({"f_size": (640, 360)}, "size 640x360 (now 1920x1080)"),
    ({"f_cfg_on": True, "f_cfg": 7.0}, "CFG scale 7 (now 0.5)"),
    ({"f_x_steps": 30}, "steps"),
])
def test_switch_says_what_was_dropped(change, note):
    state = {**defaults("runware:108@22"), **change}
    _, notes = F.fit(get("klingai:5@3"), state, switching=True)
    assert note in notes


def test_switch_to_a_resolution_model_carries_the_size_over():
    state = defaults("runware:108@22", f_size=(1920, 1080))
    updates, _ = F.fit(get("pixverse:1@5"), state, switching=True)
    assert updates["f_resolution"] == "1080p"


def test_fit_without_a_switch_reports_nothing():
    _, notes = F.fit(get("klingai:5@3"), {**defaults("runware:108@22"), "f_seed_on": True})
    assert notes == []


def test_duration_follows_the_size():
    # LTX-2.3 Fast: 4K takes 6-10 s only.
    state = defaults("lightricks:ltx@2.3-fast", f_size=(3840, 2160), f_duration=20)
    updates, _ = F.fit(get("lightricks:ltx@2.3-fast"), state)
    assert updates["f_duration"] == 6


# -- form -> request --------------------------------------------------------------------------------------

def test_only_what_the_model_takes_is_sent():
    task = task_for("minimax:4@1", f_fps=30, f_negative="blurry")
    assert "fps" not in task and "negativePrompt" not in task  # fps fixed at 25; no negative prompt
    assert (task["width"], task["height"]) == (1366, 768)


def test_resolution_models_send_a_resolution():
    task = task_for("pixverse:1@5")
    assert task["resolution"] == "720p" and "width" not in task


def test_a_frame_image_replaces_the_size_where_the_docs_say_exactly_one():
    task = task_for("google:3@3", uploads=F.Uploads(first=PNG), f_size=(1920, 1080))
    assert "width" not in task and task["resolution"] == "1080p"
    assert task["inputs"]["frameImages"][0]["frame"] == "first"


def test_audio_switch_goes_where_the_model_keeps_it():
    assert task_for("google:3@3", f_audio=True)["providerSettings"]["google"]["generateAudio"] is True
    assert task_for("lightricks:ltx@2.3", f_audio=False)["settings"]["audio"] is False


def test_audio_switch_left_out_with_an_input_audio():
    # Wan2.6's docs: an input audio track and the audio switch do not go together.
    model = get("alibaba:wan@2.6")
    req = VideoRequest(model=model.air, input_audio="https://example.com/a.mp3")
    assert F._audio(model, F.layout(model), {"f_audio": True}, req) is None
    assert F._audio(model, F.layout(model), {"f_audio": True}, VideoRequest(model=model.air)) is True


def test_required_media_by_url():
    task = task_for("klingai:avatar@2.0-standard", f_in_image="https://example.com/face.png",
                    f_in_audio="https://example.com/voice.mp3")
    assert task["inputs"] == {"image": "https://example.com/face.png", "audio": "https://example.com/voice.mp3"}


def test_missing_required_media_is_refused_at_its_field():
    with pytest.raises(InvalidRequest) as exc:
        task_for("klingai:avatar@2.0-standard")
    assert {p["parameter"] for p in exc.value.problems} >= {"inputs.image", "inputs.audio"}


def test_schema_number_is_sent_as_its_type():
    assert task_for("lightricks:ltx@2.3", f_x_steps=30.0)["steps"] == 30


def test_bad_list_json_is_a_form_problem():
    with pytest.raises(InvalidRequest) as exc:
        task_for("lightricks:ltx@2.3", f_x_lora="{}")
    assert exc.value.problems[0]["parameter"] == "lora"


def test_custom_model_air_is_used():
    model = get("acme:1@1")
    req, _ = F.request_from_state(model, {**F.fit(model, {})[0], "f_model": F.CUSTOM,
                                          "f_custom_air": " acme:1@1 ", "f_prompt": PROMPT})
    assert req.model == "acme:1@1"


def test_extras_round_trip_through_a_rerun():
    from lib.request import form_from_task
    task, _ = build_task(VideoRequest(positive_prompt=PROMPT, model="lightricks:ltx@2.3",
                                      extra={"steps": 20}), "u", max_image_bytes=10**7)
    assert task["steps"] == 20
    assert form_from_task(task)[0].extra == {"steps": 20}


# -- picker ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, caps, air, hit", [
    ("veo", (), "google:3@3", True), ("GOOGLE fast", (), "google:3@3", True), ("kling", (), "google:3@3", False),
    ("", ("audio",), "google:3@3", True), ("", ("avatar",), "google:3@3", False),
    ("", ("avatar",), "heygen:avatar@4", True), ("", ("video",), "sync:3@0", True),
    ("", ("text", "image"), "klingai:5@3", True), ("3@3", (), "google:3@3", True),
])
def test_picker_search(query, caps, air, hit):
    assert F.matches(get(air), query, caps) is hit


def test_picker_groups_by_provider():
    providers = [get(a).provider for a in F.picker_order(CATALOG)]
    assert providers == sorted(providers)


def test_default_model_and_no_invented_deprecations():
    assert F.default_model(CATALOG) == "klingai:5@3"
    # The catalog states no retirement for any of its models (Sora 2's is for a model not in it).
    assert not [m.air for m in CATALOG if F.deprecation(m)]


def test_a_deprecated_default_gives_way(monkeypatch):
    monkeypatch.setitem(F.DEPRECATED, "klingai:5@3", "off 2026-09-24")
    assert F.default_model(CATALOG) != "klingai:5@3"


# -- prices (Runware's published prices, lib/catalog_facts.toml) -------------------------------------------

@pytest.mark.parametrize("air, duration, size, audio, results, usd", [
    ("google:3@3", 8, (1920, 1080), False, 1, 0.80),  # Veo 3.1 Fast $0.10/s at 1080p
    ("google:3@3", 4, (1920, 1080), False, 1, 0.40),
    ("google:3@3", 8, (1920, 1080), True, 1, 1.20),  # $0.15/s with audio
    ("google:3@3", 6, (1080, 1920), True, 2, 1.80),
    ("klingai:kling-video@3-standard", 5, (1280, 720), False, 1, 0.42),  # $0.084/s
    ("klingai:kling-video@3-standard", 5, (960, 960), True, 1, 0.63),  # $0.126/s with audio
    ("klingai:kling-video@3-pro", 10, None, False, 1, 1.12),  # $0.112/s
    ("klingai:kling-video@3-pro", 10, None, True, 1, 1.68),  # $0.168/s with audio
    ("minimax:4@1", 6, (1366, 768), False, 1, 0.28),  # Hailuo 2.3 768p 6 s
    ("minimax:4@1", 10, (1366, 768), False, 1, 0.56),
    ("minimax:4@1", 6, (1920, 1080), False, 1, 0.49),
    ("lightricks:ltx@2.3", 5, (1920, 1080), False, 1, 0.40),  # LTX-2.3 $0.08/s at 1080p
    ("lightricks:ltx@2.3", 5, (1440, 2560), False, 1, 0.80),  # $0.16/s at 1440p
    ("lightricks:ltx@2.3", 5, (3840, 2160), False, 1, 1.60),  # $0.32/s at 4K
    ("klingai:5@3", 5, (1920, 1080), False, 1, 0.92),  # Kling 2.1 Master about $0.92 per 5 s
    ("klingai:5@3", 10, (1920, 1080), False, 3, 5.52),
])
def test_published_prices(air, duration, size, audio, results, usd):
    est = pricing.estimate(get(air), duration=duration, pixels=size[0] * size[1] if size else None,
                           audio=audio, number_results=results)
    assert est.usd == pytest.approx(usd)


@pytest.mark.parametrize("air, duration, size", [
    ("google:3@3", 8, (1280, 720)),  # no published 720p price: not guessed from 1080p
    ("heygen:avatar@4", None, None),  # no price at all
    ("runware:108@22", 5, (1920, 1080)),
])
def test_price_unknown(air, duration, size):
    est = pricing.estimate(get(air), duration=duration, pixels=size[0] * size[1] if size else None)
    assert est.usd is None
    assert pricing.price_text(est, demo=False) == "price unknown"


@pytest.mark.parametrize("configuration, parsed", [
    ("1080p, 8 s, with audio", (1920 * 1080, 8.0, True, None)),
    ("4K, 8 s", (3840 * 2160, 8.0, False, None)),
    ("1 s", (None, 1.0, False, None)),
    ("2560x1440 or 1440x2560, 1 s", (2560 * 1440, 1.0, False, None)),
    ("768p, 6 s (February 2026 discount)", (1366 * 768, 6.0, False, None)),
    ("720p, 1 s, video input, no audio", (1280 * 720, 1.0, False, "video")),
])
def test_price_configurations_are_read(configuration, parsed):
    t = pricing.parse_configuration(configuration, 1.0)
    assert (t.pixels, t.seconds, t.audio, t.input) == parsed


def test_an_unknown_price_says_which_are_published():
    est = pricing.estimate(get("google:3@3"), duration=8, pixels=1280 * 720)
    assert "1080p, 8 s" in est.basis and "4K, 8 s" in est.basis


def test_an_unreadable_configuration_is_skipped_not_guessed():
    assert pricing.parse_configuration("per generation, priority queue", 1.0) is None


@pytest.mark.parametrize("usd, demo, text", [
    (0.92, False, "about $0.92"), (0.92, True, "about $0.92 (simulated: the demo charges nothing)"),
    (0.042, False, "about $0.042"), (None, False, "price unknown"),
])
def test_price_text(usd, demo, text):
    assert pricing.price_text(pricing.Estimate(usd, ""), demo=demo) == text


def test_form_price_counts_videos_and_audio():
    model = get("google:3@3")
    req, _ = F.request_from_state(model, defaults("google:3@3", f_size=(1920, 1080), f_duration=8,
                                                  f_audio=True, f_results=2))
    assert F.estimate(model, req).usd == pytest.approx(2.40)
