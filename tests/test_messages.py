"""Messages a person reads (lib/labels.py, lib/validation.py, lib/field_messages.py): plain words and
the field's label, with Runware's wire name kept for the detail line; and which messages go stale."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from conftest import video_task
from lib import field_messages as FM
from lib.catalog import load_catalog
from lib.labels import label, wire_detail
from lib.validation import validate_task

CATALOG = load_catalog()
KLING = dict(model="klingai:5@3", width=1920, height=1080, duration=5, fps=None)


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(buf, "PNG")
    return buf.getvalue()


def message_for(parameter: str, **overrides) -> str:
    [item] = [p for p in validate_task(video_task(**overrides), CATALOG) if p.get("parameter") == parameter]
    return item["message"]


# -- labels ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("parameter, expected", [
    ("positivePrompt", "Prompt"), ("webhookURL", "Webhook URL"), ("numberResults", "Number of videos"),
    ("ttl", "Result URL lifetime"), ("inputs.frameImages", "Frame images"),
    ("inputs.frameImages[0].image", "Frame images"), ("providerSettings.klingai", "Provider settings"),
    ("someNewField", "someNewField"), (None, "The request"),
])
def test_label(parameter, expected):
    assert label(parameter) == expected


def test_wire_detail_names_the_parameter_and_code():
    assert wire_detail({"code": "invalidWebhookURL", "parameter": "webhookURL", "message": "m"}) == \
        "Runware parameter: webhookURL · code invalidWebhookURL"


def test_wire_detail_of_a_message_without_parameter_or_code_is_none():
    assert wire_detail({"message": "m"}) is None


# -- validation speaks plain words ------------------------------------------------------------------------

@pytest.mark.parametrize("parameter, overrides, expected", [
    ("positivePrompt", dict(KLING, positivePrompt="x" * 4999),
     "The prompt is 4,999 characters long; Kling 2.1 Master takes at most 2,500."),
    ("negativePrompt", dict(KLING, negativePrompt="n" * 2501),
     "The negative prompt is 2,501 characters long; Kling 2.1 Master takes at most 2,500."),
    ("model", dict(model=None), "Choose a model, or type a custom model's AIR id (like klingai:5@3)."),
    ("model", dict(model="not a model"),
     "\"not a model\" is not a model AIR id: an AIR id looks like provider:id@version, for example klingai:5@3."),
    ("webhookURL", dict(webhookURL="ftp://example.com/hook"), "Webhook URL must start with http:// or https://."),
    ("webhookURL", dict(webhookURL="https://exa mple.com"),
     "Webhook URL is not a valid web address (no spaces, at most 2048 characters)."),
    ("uploadEndpoint", dict(uploadEndpoint="https://"), "Upload endpoint has no host name (like example.com)."),
    ("width", dict(KLING, width=1280, height=720),
     "Kling 2.1 Master does not make 1280x720 videos; choose one of 1920x1080, 1080x1080, 1080x1920."),
    ("width", dict(model="acme:1@1", width=1030, height=720, fps=24),
     "Width must be from 256 to 2048 pixels and a multiple of 8."),
    ("duration", dict(KLING, duration=7), "Kling 2.1 Master makes videos of 5, 10 s; 7 s is not one."),
    ("fps", dict(KLING, fps=30), "Kling 2.1 Master runs at 24 FPS."),
    ("seed", dict(KLING, seed=5), "Kling 2.1 Master does not take a seed."),
    ("CFGScale", dict(KLING, CFGScale=3), "The CFG scale for Kling 2.1 Master must be from 0 to 1."),
    ("numberResults", dict(numberResults=9), "The number of videos must be from 1 to 4."),
    ("outputFormat", dict(outputFormat="GIF"), "The format must be one of MP4, WEBM, MOV."),
    ("outputQuality", dict(outputQuality=5), "Quality must be from 20 to 99."),
    ("ttl", dict(ttl=5), "The result URL lifetime must be whole seconds from 60 to 604,800 (7 days)."),
    ("frameImages", dict(KLING, model="klingai:5@1", width=1280, height=720),
     "Kling 2.1 Standard makes videos from an image: add a first frame image."),
    ("providerSettings", dict(KLING, providerSettings={"google": {"x": 1}}),
     "Provider settings for \"google\" do not apply to Kling 2.1 Master; use \"klingai\"."),
    ("advancedFeatures", dict(advancedFeatures=[1]), "Advanced features must be a JSON object, like {\"key\": \"value\"}."),
])
def test_message(parameter, overrides, expected):
    assert message_for(parameter, **overrides) == expected


WIRE_WORDS = ("positivePrompt", "negativePrompt", "webhookURL", "uploadEndpoint", "numberResults", "outputFormat",
              "outputQuality", "CFGScale", "frameImages", "providerSettings", "inputImage", "None", "klingai:5@")


@pytest.mark.parametrize("overrides", [
    dict(KLING, positivePrompt="x" * 4999), dict(KLING, duration=7), dict(webhookURL="nope"), dict(uploadEndpoint=""),
    dict(numberResults=0), dict(outputFormat="GIF"), dict(outputQuality=100), dict(KLING, CFGScale=9),
    dict(KLING, model="klingai:5@1", width=1280, height=720), dict(frameImages=[{"frame": "first"}]),
    dict(KLING, providerSettings={"klingai": 3}),
])
def test_messages_name_no_wire_parameter(overrides):
    messages = [p["message"] for p in validate_task(video_task(**overrides), CATALOG)]
    assert messages and not [m for m in messages if any(w in m for w in WIRE_WORDS)], messages


# -- which messages go stale --------------------------------------------------------------------------------

@pytest.mark.parametrize("parameter, keys", [
    ("positivePrompt", ("f_prompt",)),
    ("inputs.frameImages[0].image", ("f_first_frame", "f_last_frame", "prefill_frames")),
    ("frameImages", ("f_first_frame", "f_last_frame", "prefill_frames")),
    ("inputs.video", ("f_in_video", "f_in_video_file")),
    ("lora", ("f_x_lora",)), ("settings.audio", ("f_x_settings",)), (None, ()),
])
def test_widget_keys(parameter, keys):
    assert FM.widget_keys(parameter) == keys


PROMPT_PROBLEM = {"code": "invalidPositivePrompt", "parameter": "positivePrompt", "message": "Write a prompt"}
FRAME_PROBLEM = {"code": "invalidFrameImages", "parameter": "frameImages", "message": "add a first frame image"}


def test_a_problem_stays_while_its_field_is_unchanged():
    then = FM.snapshot({"f_prompt": "", "f_negative": ""})
    now = FM.snapshot({"f_prompt": "", "f_negative": "blurry"})
    assert FM.still_current([PROMPT_PROBLEM], then, now) == [PROMPT_PROBLEM]


def test_a_problem_goes_once_its_field_changes():
    then, now = FM.snapshot({"f_prompt": ""}), FM.snapshot({"f_prompt": "A"})
    assert FM.still_current([PROMPT_PROBLEM], then, now) == []


class _Upload:
    """What the snapshot reads of a Streamlit UploadedFile: its file id."""

    def __init__(self, file_id: str):
        self.file_id = file_id


def test_a_frame_problem_goes_once_a_file_is_uploaded():
    then, now = FM.snapshot({"f_first_frame": None}), FM.snapshot({"f_first_frame": _Upload("a")})
    assert FM.still_current([FRAME_PROBLEM], then, now) == []


def test_a_frame_problem_goes_when_a_file_is_uploaded_again():
    then, now = FM.snapshot({"f_first_frame": _Upload("a")}), FM.snapshot({"f_first_frame": _Upload("b")})
    assert FM.still_current([FRAME_PROBLEM], then, now) == []


def test_a_frame_problem_goes_when_a_reruns_frame_is_removed():
    then = FM.snapshot({"prefill_frames": {"first": b"\x89PNG..."}})
    now = FM.snapshot({"prefill_frames": {}})
    assert FM.still_current([FRAME_PROBLEM], then, now) == []


# -- uploads checked at once ------------------------------------------------------------------------------------

def test_upload_problems_of_a_text_file_say_what_generate_would():
    [item] = FM.upload_problems("klingai:5@3", first=b"not an image at all", catalog=CATALOG, max_image_bytes=10**7)
    assert item["parameter"] == "frameImages"
    assert item["message"] == "First frame image: This file is not a PNG, JPEG or WEBP image (checked by its content)."


def test_upload_problems_of_a_too_big_image_give_the_limit():
    [item] = FM.upload_problems("klingai:5@3", first=_png(), catalog=CATALOG, max_image_bytes=10)
    assert item["message"].endswith("the limit is 1 KB.") and "0 MB" not in item["message"], item["message"]


def test_upload_problems_of_good_images_are_none():
    assert FM.upload_problems("klingai:5@2", first=_png(), last=_png(), references=(_png(),), catalog=CATALOG,
                              max_image_bytes=10**7) == []


def test_upload_problems_name_each_reference_image():
    [item] = FM.upload_problems("klingai:5@2", references=(_png(), b"junk junk junk"), catalog=CATALOG,
                                max_image_bytes=10**7)
    assert item["message"].startswith("Reference image 2:")
