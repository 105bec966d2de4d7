"""Requests in the wire form each model takes, and History re-runs of both shapes."""
import io

import pytest
from PIL import Image

from lib.errors import InvalidRequest
from lib.request import VideoRequest, build_task, form_from_task, prepare, redact_images

MAX = 10_000_000


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def build(catalog, **fields):
    task, problems = build_task(VideoRequest(**fields), "5b1c4b4e-2f7e-4d0e-9a59-0b8c8d1f3e21",
                                max_image_bytes=MAX, catalog=catalog)
    assert problems == []
    return task


def test_newer_model_gets_inputs_frame_images(catalog):
    task = build(catalog, model="klingai:kling-video@3-pro", positive_prompt="A cat", first_frame=png())
    assert "frameImages" not in task
    (frame,) = task["inputs"]["frameImages"]
    assert frame["frame"] == "first" and frame["image"].startswith("data:image/png;base64,")


def test_first_catalog_model_keeps_top_level_frame_images(catalog):
    task = build(catalog, model="klingai:5@3", positive_prompt="A cat", first_frame=png())
    assert task["frameImages"][0]["inputImage"].startswith("data:image/png") and "inputs" not in task


def test_provider_settings_become_settings_on_newer_models(catalog):
    task = build(catalog, model="bytedance:seedance@2.0", positive_prompt="A cat", provider_settings='{"cameraFixed": true}')
    assert task["settings"] == {"cameraFixed": True} and "providerSettings" not in task


@pytest.mark.parametrize("air, path", [("google:3@3", ("providerSettings", "google", "generateAudio")),
                                       ("lightricks:ltx@2.3", ("settings", "audio"))])
def test_audio_switch_where_the_model_keeps_it(catalog, air, path):
    node = build(catalog, model=air, positive_prompt="A cat", audio=True)
    for key in path:
        node = node[key]
    assert node is True


def test_resolution_safety_and_media_inputs(catalog):
    task = build(catalog, model="klingai:7@1", input_video="https://example.com/a.mp4", input_audio=b"ID3\x04",
                 safety='{"checkContent": true}', output_format="mp4")
    assert task["inputs"]["video"] == "https://example.com/a.mp4"
    assert task["inputs"]["audio"].startswith("data:audio/mpeg;base64,")
    assert task["safety"] == {"checkContent": True} and task["outputFormat"] == "MP4"


def test_prepare_validates_newer_shape(catalog):
    req = VideoRequest(model="google:3@3", positive_prompt="A fox", resolution="720p", width=1280, height=720)
    with pytest.raises(InvalidRequest) as err:
        prepare(req, catalog, max_image_bytes=MAX)
    assert err.value.for_parameter("resolution")


def test_rerun_of_newer_shape_keeps_frames_and_fields(catalog):
    task = build(catalog, model="alibaba:wan@2.6", positive_prompt="A cat", first_frame=png(), resolution="720p",
                 provider_settings='{"alibaba": {"promptExtend": true}}')
    req, frames = form_from_task(task)
    assert req.model == "alibaba:wan@2.6" and req.resolution == "720p" and frames["first"] == png()
    again = build(catalog, **{k: v for k, v in vars(req).items() if k != "first_frame"}, first_frame=frames["first"])
    assert again == task


def test_redaction_shortens_inputs_media(catalog):
    task = build(catalog, model="klingai:kling-video@3-pro", positive_prompt="A cat", first_frame=png(),
                 input_video=b"\x00\x00\x00\x18ftypmp42")
    shown = redact_images(task)
    assert shown["inputs"]["frameImages"][0]["image"].endswith("bytes>")
    assert shown["inputs"]["video"].endswith("bytes>")
