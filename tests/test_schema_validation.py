"""Validation from each model's JSON Schema and its docs' cross-field rules: every catalog model takes a
small task in the shape Runware documents, refuses a bad one at the right parameter, and reports every
problem in Runware's error shape."""
import uuid

import pytest

from lib.catalog import load_catalog
from lib.catalog_schema import example_task, request_schema
from lib.validation import validate_task

MODELS = sorted(load_catalog().models)
IMG = "https://example.com/frame.png"


def params(problems):
    return sorted(p.get("parameter") for p in problems)


def veo(**fields):
    task = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "model": "google:3@3",
            "positivePrompt": "A fox runs through snow"}
    task.update(fields)
    return {k: v for k, v in task.items() if v is not None}


@pytest.mark.parametrize("air", MODELS)
def test_minimal_task_accepted(catalog, air):
    assert validate_task(example_task(catalog.get(air)), catalog, allow_custom=False) == []


@pytest.mark.parametrize("air", MODELS)
def test_bad_duration_refused_at_duration(catalog, air):
    task = {**example_task(catalog.get(air)), "duration": -3}
    problems = validate_task(task, catalog)
    assert params(problems) == ["duration"]
    assert problems[0]["code"] in ("invalidDuration", "unsupportedDuration", "unsupportedParameter")


def test_error_shape_has_code_label_parameter_and_allowed_values(catalog):
    (p,) = validate_task(veo(inputs={"frameImages": [{"image": IMG}]}, resolution="8K"), catalog)
    assert p["code"] == "invalidResolution" and p["parameter"] == "resolution"
    assert p["allowedValues"] == ["720p", "1080p", "4K"] and "Resolution" in p["message"]
    assert p["taskType"] == "videoInference" and p["taskUUID"]


def test_every_error_is_reported_not_just_the_first(catalog):
    task = veo(width=1280, height=720, duration=5, fps=30, inputs={"frameImages": "x"}, safety=[])
    assert params(validate_task(task, catalog)) == ["duration", "fps", "inputs.frameImages", "safety", "width"]


@pytest.mark.parametrize("fields, parameter", [
    (dict(), "inputs.frameImages"),  # needs frame images or a size
    (dict(width=1280, height=720, inputs={"frameImages": [{"image": IMG}]}), "width"),  # not both
    (dict(inputs={"frameImages": [{"image": IMG}]}, resolution="720p", width=1280, height=720), "resolution"),
    (dict(width=1280, height=720, inputs={"video": IMG}), "height"),  # no size with an input video
    (dict(inputs={"video": IMG}, duration=8), "duration"),  # an input video makes 7 s
], ids=["neither", "both", "resolution with size", "video with size", "video duration"])
def test_veo_fast_cross_field_rules(catalog, fields, parameter):
    assert parameter in params(validate_task(veo(**fields), catalog))


def test_veo_fast_video_with_duration_7_accepted(catalog):
    assert validate_task(veo(inputs={"video": IMG}, duration=7), catalog) == []


def test_veo_fast_resolution_with_frame_image_accepted(catalog):
    assert validate_task(veo(inputs={"frameImages": [{"image": IMG, "frame": "first"}]}, resolution="4K"), catalog) == []


@pytest.mark.parametrize("air, fields, parameter, code", [
    ("minimax:4@1", dict(width=1920, height=1080, duration=10), "duration", "unsupportedDuration"),
    ("klingai:kling-video@3-pro", dict(seed=5, width=1280, height=720), "seed", "unsupportedParameter"),
    ("klingai:kling-video@3-standard", dict(width=1920, height=1080), "width", "unsupportedDimensions"),
    ("bytedance:seedance@2.0", dict(providerSettings={"bytedance": {}}), "providerSettings", "unsupportedParameter"),
    ("bytedance:seedance@2.0", dict(frameImages=[{"inputImage": IMG}]), "frameImages", "unsupportedParameter"),
    ("klingai:7@1", dict(inputs={"video": IMG}), "inputs.audio", "invalidAudio"),
    ("lightricks:ltx@2.3", dict(inputs={"frameImages": [{"image": "not media"}]}), "inputs.frameImages[0].image", "invalidImage"),
    ("lightricks:ltx@2.3", dict(inputs={"frameImages": [{"image": IMG, "frame": "middle"}]}), "inputs.frameImages[0].frame", "invalidFrameImages"),
    ("alibaba:wan@2.6", dict(resolution="720p", width=1280, height=720), "resolution", "unsupportedParameter"),
    ("runway:1@2", dict(positivePrompt=None), "inputs.frameImages", "invalidFrameImages"),  # a prompt or an image
    ("pixverse:1@8", dict(resolution="2K"), "resolution", "invalidResolution"),
    ("vidu:4@1", dict(audio=True), "audio", None),
])
def test_refused_at_parameter(catalog, air, fields, parameter, code):
    task = {**example_task(catalog.get(air)), **fields}
    task = {k: v for k, v in task.items() if v is not None}
    problems = [p for p in validate_task(task, catalog) if p.get("parameter") == parameter]
    if code is None:  # a name Runware does not use passes untouched (forward compatible)
        assert problems == []
    else:
        assert [p["code"] for p in problems][:1] == [code]


@pytest.mark.parametrize("air", ["lightricks:ltx@2.3", "google:veo@3.1-lite", "acme:v-2.1@beta-3", "a:b@c"])
def test_modern_air_ids_accepted(catalog, air):
    task = example_task(catalog.get(air))
    task.setdefault("positivePrompt", "A small test prompt")
    assert validate_task(task, catalog) == []


def test_custom_model_takes_inputs_shape(catalog):
    task = example_task(catalog.get("acme:clip@2.0"))
    task["inputs"] = {"frameImages": [{"image": IMG, "frame": 12}], "audio": "data:audio/mpeg;base64,SUQzBAAAAAAAI1RTU0U="}
    assert validate_task(task, catalog) == []


def test_legacy_payload_still_accepted(catalog):
    task = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "model": "pixverse:1@3",
            "positivePrompt": "A sunset", "width": 1920, "height": 1080, "duration": 5, "outputFormat": "mp4",
            "frameImages": [{"inputImage": IMG, "frame": "first"}], "referenceImages": [IMG]}
    assert validate_task(task, catalog) == []


def test_legacy_model_in_sdk_also_takes_newer_fields(catalog):
    task = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "model": "pixverse:1@3",
            "positivePrompt": "A sunset", "resolution": "720p", "inputs": {"frameImages": [{"image": IMG}]}}
    assert validate_task(task, catalog) == []


def test_schema_is_a_json_schema_with_required_fields(catalog):
    schema = request_schema(catalog.get("klingai:avatar@2.0-pro"))
    assert schema["$schema"].endswith("2020-12/schema")
    assert "inputs" in schema["required"] and schema["properties"]["inputs"]["required"] == ["image", "audio"]
