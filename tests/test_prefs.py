"""lib/prefs.py: the Generate draft kept in the URL and the user's defaults kept in a cookie. Both come
back from the browser, so every value is checked; what does not fit is dropped, field by field."""
from __future__ import annotations

import base64
import json
import random
import zlib

import pytest

from lib import prefs
from lib.catalog import load_catalog

CATALOG = load_catalog()


def packed(value) -> str:
    """A word in the draft/cookie envelope holding any JSON, as a hand-made link or cookie would."""
    data = zlib.compress(json.dumps(value).encode())
    return "1." + base64.urlsafe_b64encode(data).decode().rstrip("=")


# -- the draft ------------------------------------------------------------------------------------------

def test_a_draft_round_trips_the_forms_values():
    state = {"f_model": "klingai:5@3", "f_prompt": "A fox in the snow", "f_negative": "blur",
             "f_size": (1920, 1080), "f_duration": 10, "f_seed_on": True, "f_seed": "42", "f_results": 2,
             "f_format": "WEBM", "f_quality": 80, "f_cost": False, "f_ttl": 3600, "f_provider": '{"a": 1}',
             "f_in_video": "https://example.com/clip.mp4"}
    assert prefs.decode_draft(prefs.encode_draft(state), CATALOG) == state


def test_a_link_draft_leaves_out_where_results_are_sent():
    state = {"f_model": "klingai:5@3", "f_webhook": "https://example.com/h?secret=1",
             "f_upload": "https://bucket.example.com/put?sig=2"}
    assert prefs.decode_draft(prefs.encode_draft(state), CATALOG, session_copy=True) == {"f_model": "klingai:5@3"}


def test_the_sessions_own_copy_keeps_where_results_are_sent():
    state = {"f_model": "klingai:5@3", "f_webhook": "https://example.com/h", "f_upload": "https://b.example.com/p"}
    word = prefs.encode_draft(state, session_copy=True)
    assert prefs.decode_draft(word, CATALOG, session_copy=True) == state


def test_a_crafted_link_cannot_set_where_results_are_sent():
    crafted = packed({"f_model": "klingai:5@3", "f_webhook": "https://attacker.example/h",
                      "f_upload": "https://attacker.example/put"})
    assert prefs.decode_draft(crafted, CATALOG) == {"f_model": "klingai:5@3"}


def test_a_draft_is_one_url_safe_word():
    word = prefs.encode_draft({"f_model": "klingai:5@3", "f_prompt": "ünïcode & spaces / ? = #"})
    assert all(c.isalnum() or c in "-_." for c in word)


def test_a_draft_leaves_out_files_and_picker_filters():
    state = {"f_model": "klingai:5@3", "f_prompt": "x", "f_first_frame": object(), "f_refs": [object()],
             "f_model_search": "kling", "f_caps": ["image"], "prefill_frames": {"first": b"png"}}
    assert set(prefs.decode_draft(prefs.encode_draft(state), CATALOG)) == {"f_model", "f_prompt"}


def test_an_empty_form_makes_no_draft():
    assert prefs.encode_draft({"f_first_frame": object(), "f_prompt": None}) is None


def test_a_draft_too_long_for_a_url_is_not_made():
    noise = base64.b64encode(random.Random(1).randbytes(8_000)).decode()  # does not compress
    assert prefs.encode_draft({"f_prompt": noise}) is None


def test_a_rerun_object_setting_is_kept_as_its_json_text():
    decoded = prefs.decode_draft(prefs.encode_draft({"f_model": "klingai:5@3", "f_provider": {"k": [1]}}), CATALOG)
    assert json.loads(decoded["f_provider"]) == {"k": [1]}


@pytest.mark.parametrize("text", [None, 5, "", "garbage", "1.", "1.!!!!", "2." + packed({})[2:],
                                  packed(["a list"]), packed("text"), "1." + "A" * 9000,
                                  "1." + base64.urlsafe_b64encode(b"not zlib").decode()])
def test_an_unreadable_draft_gives_nothing(text):
    assert prefs.decode_draft(text, CATALOG) == {}


def test_a_zip_bomb_draft_gives_nothing():
    bomb = "1." + base64.urlsafe_b64encode(zlib.compress(b'{"f_prompt":"' + b"a" * 5_000_000 + b'"}', 9)).decode()
    assert len(bomb) < prefs.MAX_DRAFT_CHARS
    assert prefs.decode_draft(bomb, CATALOG) == {}


def test_an_unknown_model_is_dropped_and_the_rest_kept():
    assert prefs.decode_draft(packed({"f_model": "nobody:1@1", "f_prompt": "kept"}), CATALOG) == {"f_prompt": "kept"}


def test_a_custom_model_is_kept_with_a_well_formed_air():
    draft = {"f_model": "custom", "f_custom_air": "someone:7@2"}
    assert prefs.decode_draft(packed(draft), CATALOG) == draft


def test_a_custom_model_with_a_malformed_air_is_dropped():
    assert prefs.decode_draft(packed({"f_model": "custom", "f_custom_air": "<script>"}), CATALOG) == {}


@pytest.mark.parametrize("key, value", [
    ("f_prompt", 5), ("f_prompt", "x" * (prefs.MAX_TEXT + 1)), ("f_prompt", ["a"]),
    ("f_size", [1920]), ("f_size", "1920x1080"), ("f_size", [0, 1080]), ("f_size", [1e9, 1]),
    ("f_duration", "5"), ("f_duration", 2.5), ("f_duration", True), ("f_duration", -1),
    ("f_fps", 1000), ("f_seed_on", "yes"), ("f_seed", 42), ("f_cfg", "high"), ("f_cfg", 1e308 * 10),
    ("f_results", 5), ("f_results", 0), ("f_quality", 100), ("f_quality", 19), ("f_quality", True),
    ("f_format", "GIF"), ("f_format", 1), ("f_ttl", -5), ("f_cost", 1), ("f_in_video", {"u": 1}),
    ("f_in_video", "h" * (prefs.MAX_SHORT + 1)), ("f_in_image", "data:" + "A" * 3000),
])
def test_a_value_of_the_wrong_type_or_size_is_dropped(key, value):
    assert prefs.decode_draft(packed({"f_model": "klingai:5@3", key: value}), CATALOG) == {"f_model": "klingai:5@3"}


def test_keys_that_are_not_form_fields_are_ignored():
    draft = {"f_model": "klingai:5@3", "session_api_key": "k", "workspace": "w", "f_first_frame": "x",
             "problems": [], "f_x_nothing": 1}
    assert prefs.decode_draft(packed(draft), CATALOG) == {"f_model": "klingai:5@3"}


def test_a_models_own_settings_are_checked_against_its_controls():
    draft = {"f_model": "veed:fabric@1.0-hosted", "f_x_acceleration": "high"}
    assert prefs.decode_draft(packed(draft), CATALOG) == draft


@pytest.mark.parametrize("value", ["warp", 3, True])
def test_a_select_setting_outside_its_options_is_dropped(value):
    draft = {"f_model": "veed:fabric@1.0-hosted", "f_x_acceleration": value}
    assert prefs.decode_draft(packed(draft), CATALOG) == {"f_model": "veed:fabric@1.0-hosted"}


@pytest.mark.parametrize("value, kept", [(30, 30), (2.5, None), ("30", None), (False, None)])
def test_an_integer_setting_must_be_a_whole_number(value, kept):
    decoded = prefs.decode_draft(packed({"f_model": "lightricks:ltx@2", "f_x_steps": value}), CATALOG)
    assert decoded.get("f_x_steps") == kept


def test_a_setting_of_another_model_is_dropped():
    decoded = prefs.decode_draft(packed({"f_model": "klingai:5@3", "f_x_acceleration": "high"}), CATALOG)
    assert "f_x_acceleration" not in decoded


# -- the defaults ---------------------------------------------------------------------------------------

def test_defaults_round_trip():
    defaults = prefs.check_defaults(CATALOG, model="runware:108@22", format="MOV", quality=70)
    assert prefs.decode_defaults(prefs.encode_defaults(defaults), CATALOG) == defaults


def test_defaults_are_a_cookie_safe_word():
    word = prefs.encode_defaults(prefs.check_defaults(CATALOG, model="runware:108@22", format="MOV", quality=70))
    assert all(c.isalnum() or c in "-_." for c in word)


def test_defaults_become_the_forms_values():
    defaults = prefs.Defaults(model="runware:108@22", format="MOV", quality=70)
    assert defaults.form_values() == {"f_model": "runware:108@22", "f_format": "MOV", "f_quality": 70}


def test_no_defaults_make_no_cookie():
    assert prefs.encode_defaults(prefs.Defaults()) is None and not prefs.Defaults()


@pytest.mark.parametrize("raw, expected", [
    ({"model": "nobody:1@1", "format": "MOV", "quality": 70}, prefs.Defaults(format="MOV", quality=70)),
    ({"model": "custom", "format": "MOV"}, prefs.Defaults(format="MOV")),
    ({"model": "runware:108@22", "format": "mp4"}, prefs.Defaults(model="runware:108@22")),
    ({"quality": 100}, prefs.Defaults()), ({"quality": "70"}, prefs.Defaults()),
    ({"quality": 70.0}, prefs.Defaults(quality=70)), ({"model": ["runware:108@22"]}, prefs.Defaults()),
])
def test_each_default_is_checked_on_its_own(raw, expected):
    assert prefs.decode_defaults(packed(raw), CATALOG) == expected


@pytest.mark.parametrize("text", [None, "", "junk", packed([1, 2]), "1." + "A" * 600])
def test_an_unreadable_cookie_gives_no_defaults(text):
    assert prefs.decode_defaults(text, CATALOG) == prefs.Defaults()
