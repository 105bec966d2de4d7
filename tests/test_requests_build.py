"""From the form (VideoRequest) to the exact wire task: lib/request.py and lib/images.py.

`prepare()` is the only way the studio makes a task, so these tests check what it puts on the wire,
what it leaves out, how images become data URIs, and that it refuses (InvalidRequest, Runware-shaped
problems) whatever the validator or the image checks refuse.
"""
from __future__ import annotations

import base64
import io
import json
import uuid

import pytest
from PIL import Image

from lib.errors import InvalidRequest
from lib.images import ImageRejected, check_image, decode_image_ref, sniff_format, to_data_uri
from lib.request import VideoRequest, build_task, form_from_task, prepare, redact_images

MB = 10 * 2**20


def image_bytes(fmt: str, color=(200, 40, 40), size=(64, 48), **save) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt, **save)
    return buf.getvalue()


PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")
WEBP = image_bytes("WEBP")
GIF = image_bytes("GIF")


def small(**kw) -> VideoRequest:
    base = dict(positive_prompt="A test video", model="runware:108@22", duration=5, width=320, height=256, fps=8)
    return VideoRequest(**{**base, **kw})


def refused(req: VideoRequest, catalog, max_image_bytes=MB) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        prepare(req, catalog, max_image_bytes=max_image_bytes)
    for p in info.value.problems:
        assert p["code"] and p["message"]
    return info.value


# -- the task on the wire ---------------------------------------------------------------------------------


def test_minimal_request_wire_form(catalog):
    task_uuid = str(uuid.uuid4())
    task = prepare(small(), catalog, max_image_bytes=MB, task_uuid=task_uuid)
    assert task == {"taskType": "videoInference", "taskUUID": task_uuid, "positivePrompt": "A test video",
                    "model": "runware:108@22", "duration": 5, "width": 320, "height": 256, "fps": 8,
                    "outputType": "URL", "outputFormat": "MP4", "deliveryMethod": "async"}
    json.dumps(task)  # plain JSON, nothing else


def test_every_field_maps_to_its_wire_name(catalog):
    req = small(negative_prompt="blurry", seed=42, cfg_scale=7.5, number_results=2, output_format="webm",
                output_quality=80, webhook_url="https://example.com/hook", ttl=600, include_cost=True,
                upload_endpoint="https://bucket.example.com/put", provider_settings={"runware": {"x": 1}},
                advanced_features='{"watermark": {"enabled": false}}')
    task = prepare(req, catalog, max_image_bytes=MB)
    expected = {"negativePrompt": "blurry", "seed": 42, "CFGScale": 7.5, "numberResults": 2,
                "outputFormat": "WEBM", "outputQuality": 80, "webhookURL": "https://example.com/hook", "ttl": 600,
                "includeCost": True, "uploadEndpoint": "https://bucket.example.com/put",
                "providerSettings": {"runware": {"x": 1}}, "advancedFeatures": {"watermark": {"enabled": False}}}
    for key, value in expected.items():
        assert task[key] == value, key
    uuid.UUID(task["taskUUID"])  # a fresh UUID when none is given


def test_spec_basic_example_from_the_form(catalog):
    req = VideoRequest(positive_prompt="A beautiful sunset over mountains", model="klingai:5@3", duration=5,
                       width=1920, height=1080, delivery_method="async")
    task = prepare(req, catalog, max_image_bytes=MB)
    assert {k: task[k] for k in ("taskType", "positivePrompt", "model", "duration", "width", "height",
                                 "deliveryMethod")} == {
        "taskType": "videoInference", "positivePrompt": "A beautiful sunset over mountains",
        "model": "klingai:5@3", "duration": 5, "width": 1920, "height": 1080, "deliveryMethod": "async"}


def test_unset_and_blank_values_are_left_out(catalog):
    req = small(negative_prompt="   ", webhook_url="", seed=None, provider_settings="  ", advanced_features={},
                upload_endpoint=None, output_quality=None)
    task = prepare(req, catalog, max_image_bytes=MB)
    for key in ("negativePrompt", "webhookURL", "seed", "providerSettings", "advancedFeatures", "uploadEndpoint",
                "outputQuality", "frameImages", "referenceImages", "CFGScale", "ttl"):
        assert key not in task, key


def test_text_is_trimmed(catalog):
    task = prepare(small(positive_prompt="  a fox in snow \n", model=" runware:108@22 "), catalog,
                   max_image_bytes=MB)
    assert task["positivePrompt"] == "a fox in snow"
    assert task["model"] == "runware:108@22"


@pytest.mark.parametrize("given", ["mp4", "Mp4", "MP4"])
def test_output_format_goes_upper_case(catalog, given):
    assert prepare(small(output_format=given), catalog, max_image_bytes=MB)["outputFormat"] == "MP4"


def test_every_problem_is_raised_together(catalog):
    err = refused(small(model="klingai:5@3", width=1280, height=720, duration=7, seed=1, positive_prompt="x",
                        output_quality=5, fps=None), catalog)
    assert {p["parameter"] for p in err.problems} == {"width", "duration", "seed", "positivePrompt",
                                                      "outputQuality"}
    assert err.for_parameter("duration")[0]["allowedValues"] == [5, 10]
    assert str(err)  # one readable message


@pytest.mark.parametrize("kw, parameter, code", [
    (dict(model="minimax:3@1", width=1920, height=1080, duration=10, fps=None), "duration", "unsupportedDuration"),
    (dict(model="google:3@1", width=1280, height=720, duration=8, fps=None, cfg_scale=5), "CFGScale",
     "unsupportedArchitectureCFGScale"),
    (dict(model="klingai:5@1", width=1280, height=720, fps=None), "frameImages", "invalidFrameImages"),
    (dict(output_type="base64Data"), "outputType", "invalidOutputType"),
    (dict(delivery_method="sync"), "deliveryMethod", "invalidDeliveryMethod"),
    (dict(ttl=30), "ttl", "invalidTtl"),
    (dict(number_results=5), "numberResults", "invalidNumberResults"),
    (dict(webhook_url="javascript:alert(1)"), "webhookURL", "invalidWebhookURL"),
    (dict(upload_endpoint="file:///etc/passwd"), "uploadEndpoint", "invalidUploadEndpoint"),
    (dict(model="klingai:5@3", width=1920, height=1080, fps=None, provider_settings={"google": {}}),
     "providerSettings", "unsupportedParameter"),
    (dict(provider_settings="[1, 2]"), "providerSettings", "invalidProviderSettings"),
    (dict(model="not an air"), "model", "invalidModel"),
])
def test_prepare_refuses_what_the_catalog_refuses(catalog, kw, parameter, code):
    err = refused(small(**kw), catalog)
    assert [p["code"] for p in err.for_parameter(parameter)] == [code]


def test_provider_settings_typed_as_json_text(catalog):
    task = prepare(small(provider_settings='{"runware": {"style": "anime"}}'), catalog, max_image_bytes=MB)
    assert task["providerSettings"] == {"runware": {"style": "anime"}}
    err = refused(small(provider_settings='{"runware": '), catalog)
    (item,) = err.for_parameter("providerSettings")
    assert item["code"] == "invalidProviderSettings" and "not valid JSON" in item["message"]


# -- images --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data, mime", [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")],
                         ids=["png", "jpeg", "webp"])
def test_images_accepted_by_content_become_data_uris(catalog, data, mime):
    task = prepare(small(first_frame=data, last_frame=data), catalog, max_image_bytes=MB)
    frames = task["frameImages"]
    assert [f["frame"] for f in frames] == ["first", "last"]
    for f in frames:
        assert f["inputImage"].startswith(f"data:{mime};base64,")
        assert base64.b64decode(f["inputImage"].split(",", 1)[1]) == data
        assert decode_image_ref(f["inputImage"]) == data


def test_last_frame_alone_pins_last(catalog):
    task = prepare(small(last_frame=PNG), catalog, max_image_bytes=MB)
    assert [f["frame"] for f in task["frameImages"]] == ["last"]


def test_image_only_model_with_first_frame(catalog):
    req = small(model="klingai:5@1", width=1280, height=720, fps=None, first_frame=JPEG)
    task = prepare(req, catalog, max_image_bytes=MB)
    assert task["frameImages"][0]["frame"] == "first"
    # klingai:5@1 pins only the first frame.
    err = refused(small(model="klingai:5@1", width=1280, height=720, fps=None, first_frame=JPEG, last_frame=JPEG),
                  catalog)
    assert err.for_parameter("frameImages")[0]["code"] == "unsupportedParameter"


def _truncated_png() -> bytes:
    import numpy as np
    noise = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PNG")
    data = buf.getvalue()
    return data[: len(data) - 200]


def _corrupt_png() -> bytes:
    data = bytearray(PNG)
    start = data.find(b"IDAT") + 8
    for i in range(start, start + 12):
        data[i] ^= 0xFF
    return bytes(data)


def _animated_png() -> bytes:
    buf = io.BytesIO()
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:])
    return buf.getvalue()


BAD_IMAGES = [
    ("text file named .png", b"This is a plain text file, not an image at all.\n" * 3),
    ("gif", GIF),
    ("truncated png", _truncated_png()),
    ("corrupt png", _corrupt_png()),
    ("png header only", PNG[:16]),
    ("jpeg magic then junk", b"\xff\xd8\xff\xe0" + b"junk" * 50),
    ("animated png", _animated_png()),
    ("empty", b""),
]


@pytest.mark.parametrize("data", [b[1] for b in BAD_IMAGES], ids=[b[0] for b in BAD_IMAGES])
@pytest.mark.parametrize("position", ["first", "last"])
def test_bad_images_refused(catalog, data, position):
    kw = {f"{position}_frame": data}
    err = refused(small(**kw), catalog)
    (item,) = err.for_parameter("frameImages")
    assert item["code"] == "invalidFrameImages" and item["frame"] == position
    with pytest.raises(ImageRejected):
        check_image(data, MB)


def test_oversize_image_refused(catalog):
    err = refused(small(first_frame=PNG), catalog, max_image_bytes=len(PNG) - 1)
    (item,) = err.for_parameter("frameImages")
    assert item["code"] == "invalidFrameImages" and "limit" in item["message"]
    # at the limit it is fine
    assert prepare(small(first_frame=PNG), catalog, max_image_bytes=len(PNG))["frameImages"]


def test_bad_first_frame_on_image_only_model_is_reported_once(catalog):
    err = refused(small(model="klingai:5@2", width=1920, height=1080, fps=None, first_frame=GIF), catalog)
    items = err.for_parameter("frameImages")
    assert len(items) == 1 and "GIF" in items[0]["message"]


def test_sniffing_ignores_names_and_reads_content():
    assert sniff_format(PNG) == "PNG" and sniff_format(JPEG) == "JPEG" and sniff_format(WEBP) == "WEBP"
    assert sniff_format(GIF) == "GIF" and sniff_format(b"hello") is None
    assert to_data_uri(WEBP, MB).startswith("data:image/webp;base64,")


def test_reference_images(catalog):
    task = prepare(small(reference_images=[PNG, "https://example.com/style.png"]), catalog, max_image_bytes=MB)
    assert task["referenceImages"][0].startswith("data:image/png;base64,")
    assert task["referenceImages"][1] == "https://example.com/style.png"
    err = refused(small(reference_images=[GIF]), catalog)
    assert err.for_parameter("referenceImages")[0]["code"] == "invalidReferenceImages"


# -- showing and re-running a task -----------------------------------------------------------------------


def test_redact_images_shortens_data_uris(catalog):
    task = prepare(small(first_frame=PNG, reference_images=[JPEG, "https://example.com/r.png"]), catalog,
                   max_image_bytes=MB)
    shown = redact_images(task)
    short = shown["frameImages"][0]["inputImage"]
    assert short.startswith("data:image/png;base64,<") and short.endswith(" bytes>")
    assert abs(int(short.split("<")[1].split()[0]) - len(PNG)) <= 2
    assert shown["referenceImages"][1] == "https://example.com/r.png"
    assert "base64,<" in shown["referenceImages"][0]
    assert task["frameImages"][0]["inputImage"].startswith("data:image/png;base64,iVBOR")  # original untouched


def test_form_round_trip_rebuilds_the_same_task(catalog):
    req = small(negative_prompt="blurry", seed=7, cfg_scale=3.0, number_results=2, output_quality=70, ttl=300,
                provider_settings={"runware": {"a": [1, 2]}}, first_frame=PNG, last_frame=JPEG)
    task = prepare(req, catalog, max_image_bytes=MB)
    again, frames = form_from_task(task)
    assert frames == {"first": PNG, "last": JPEG}
    again.first_frame, again.last_frame = frames["first"], frames["last"]
    assert prepare(again, catalog, max_image_bytes=MB, task_uuid=task["taskUUID"]) == task
    assert "first_frame" not in again.as_form()


def test_build_task_reports_problems_without_raising():
    task, problems = build_task(small(first_frame=b"not an image"), str(uuid.uuid4()), max_image_bytes=MB)
    assert "frameImages" not in task
    assert [p["code"] for p in problems] == ["invalidFrameImages"]
