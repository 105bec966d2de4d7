"""Catalog rules in lib/validation.py: every rule, per model, with Runware-shaped error items.

These are pure-function tests of `validate_task(task, catalog)` (the same rules serve the studio and
the simulator); building a task from a form, and images, are in test_requests_build.py.
"""
from __future__ import annotations

import base64
import io
import uuid

import pytest
from PIL import Image

from lib.validation import SEED_MAX, normalize_task, validate_task


def _png_uri() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 20, 30)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


IMG = _png_uri()
FIRST = {"inputImage": IMG, "frame": "first"}
LAST = {"inputImage": IMG, "frame": "last"}
DROP = object()  # marks a key to remove from the base task

# One valid task per catalog model (public-docs sizes/durations; image-only models get a first frame).
VALID_BASE = {
    "klingai:5@3": dict(width=1920, height=1080, duration=5),
    "klingai:5@1": dict(width=1280, height=720, duration=5, frameImages=[FIRST]),
    "klingai:5@2": dict(width=1920, height=1080, duration=5, frameImages=[FIRST]),
    "google:3@1": dict(width=1280, height=720, duration=8),
    "bytedance:2@1": dict(width=1920, height=1088, duration=5),
    "minimax:3@1": dict(width=1366, height=768, duration=6),
    "pixverse:1@3": dict(width=1920, height=1080, duration=5),
    "vidu:1@1": dict(width=1920, height=1080, duration=5),
    "runware:108@22": dict(width=320, height=256, duration=5, fps=8),
    "acme:7@1": dict(width=640, height=360, duration=4),  # a well-formed custom AIR id: generic rules
}


def make(air: str = "runware:108@22", /, **overrides) -> dict:
    task = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "positivePrompt": "A test video",
            "model": air, "deliveryMethod": "async", **VALID_BASE.get(air, {})}
    for k, v in overrides.items():
        if v is DROP:
            task.pop(k, None)
        else:
            task[k] = v
    return task


def codes(problems: list[dict]) -> list[str]:
    return [p["code"] for p in problems]


# -- everything valid is accepted ---------------------------------------------------------------------


def test_catalog_lists_the_documented_models(catalog):
    airs = {m.air for m in catalog}
    assert {"klingai:5@3", "klingai:5@1", "klingai:5@2", "google:3@1", "bytedance:2@1", "minimax:3@1",
            "pixverse:1@3", "vidu:1@1", "runware:108@22"} <= airs


@pytest.mark.parametrize("model", sorted(VALID_BASE))
def test_valid_base_task_per_model(catalog, model):
    assert validate_task(make(model), catalog) == []


@pytest.mark.parametrize("air", ["klingai:5@3", "klingai:5@1", "klingai:5@2", "google:3@1", "bytedance:2@1",
                                 "minimax:3@1", "pixverse:1@3", "vidu:1@1", "runware:108@22"])
def test_every_listed_size_duration_and_fps_is_accepted(catalog, air):
    model = catalog.get(air)
    for w, h in model.sizes:
        for d in model.allowed_durations(w, h) or (5, 30):
            for fps in model.fps or (6, 30):
                task = make(air, width=w, height=h, duration=d, fps=fps)
                assert validate_task(task, catalog) == [], (w, h, d, fps)


def test_spec_document_examples_are_accepted(catalog):
    basic = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()),
             "positivePrompt": "A beautiful sunset over mountains", "model": "klingai:5@3",
             "duration": 5, "width": 1920, "height": 1080, "deliveryMethod": "async"}
    advanced = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()),
                "positivePrompt": "A serene beach with gentle waves", "negativePrompt": "dark, scary, violent",
                "model": "klingai:5@3", "duration": 10, "width": 1920, "height": 1080,
                "deliveryMethod": "async", "outputFormat": "mp4", "outputQuality": 95,
                "webhookURL": "https://your-webhook-url.com/callback", "ttl": 1800}
    assert validate_task(basic, catalog) == []
    assert validate_task(advanced, catalog) == []
    # The wire form upper-cases the format as Runware documents it; nothing else changes.
    wire = normalize_task(advanced)
    assert wire["outputFormat"] == "MP4"
    assert {k: v for k, v in wire.items() if k != "outputFormat"} == \
        {k: v for k, v in advanced.items() if k != "outputFormat"}


ACCEPTED = [
    ("minimax 1366x768 10s", "minimax:3@1", dict(width=1366, height=768, duration=10)),
    ("minimax 1920x1080 6s", "minimax:3@1", dict(width=1920, height=1080, duration=6)),
    ("minimax no size, 10s", "minimax:3@1", dict(width=DROP, height=DROP, duration=10)),
    ("no size, no duration", "klingai:5@3", dict(width=DROP, height=DROP, duration=DROP)),
    ("runware free size 328x264", "runware:108@22", dict(width=328, height=264)),
    ("runware max size 1920x1920", "runware:108@22", dict(width=1920, height=1920)),
    ("runware duration 30", "runware:108@22", dict(duration=30)),
    ("runware duration 5.0 float", "runware:108@22", dict(duration=5.0)),
    ("runware fps range ends", "runware:108@22", dict(fps=30)),
    ("runware fps 6", "runware:108@22", dict(fps=6)),
    ("pixverse fps 16", "pixverse:1@3", dict(fps=16)),
    ("runware seed min", "runware:108@22", dict(seed=1)),
    ("runware seed max", "runware:108@22", dict(seed=SEED_MAX)),
    ("spec example seed", "google:3@1", dict(seed=9121768170631298021)),
    ("kling negativePrompt", "klingai:5@3", dict(negativePrompt="blurry")),
    ("pixverse negativePrompt", "pixverse:1@3", dict(negativePrompt="blurry")),
    ("kling CFGScale 0..1", "klingai:5@3", dict(CFGScale=0.5)),
    ("kling CFGScale 1", "klingai:5@3", dict(CFGScale=1)),
    ("runware CFGScale 20", "runware:108@22", dict(CFGScale=20.0)),
    ("custom CFGScale 50", "acme:7@1", dict(CFGScale=50)),
    ("kling first frame", "klingai:5@3", dict(frameImages=[FIRST])),
    ("klingai:5@2 first+last", "klingai:5@2", dict(frameImages=[FIRST, LAST])),
    ("two images, frames implied", "vidu:1@1", dict(frameImages=[{"inputImage": IMG}, {"inputImage": IMG}])),
    ("newer inputs form 'image'", "vidu:1@1", dict(frameImages=[{"image": IMG, "frame": "first"}])),
    ("custom frame number", "acme:7@1", dict(frameImages=[{"inputImage": IMG, "frame": 12}])),
    ("prompt 2 chars", "runware:108@22", dict(positivePrompt="ab")),
    ("kling prompt 2500", "klingai:5@3", dict(positivePrompt="x" * 2500)),
    ("minimax prompt 2000", "minimax:3@1", dict(positivePrompt="x" * 2000)),
    ("pixverse prompt 2048", "pixverse:1@3", dict(positivePrompt="x" * 2048)),
    ("runware prompt 3000", "runware:108@22", dict(positivePrompt="x" * 3000)),
    ("prompt with newline and tab", "runware:108@22", dict(positivePrompt="line one\n\tline two")),
    ("numberResults 1", "runware:108@22", dict(numberResults=1)),
    ("numberResults 4", "runware:108@22", dict(numberResults=4)),
    ("outputQuality 20", "runware:108@22", dict(outputQuality=20)),
    ("outputQuality 99", "runware:108@22", dict(outputQuality=99)),
    ("outputFormat mp4", "runware:108@22", dict(outputFormat="mp4")),
    ("outputFormat Mp4", "runware:108@22", dict(outputFormat="Mp4")),
    ("outputFormat webm", "runware:108@22", dict(outputFormat="webm")),
    ("outputFormat MOV", "runware:108@22", dict(outputFormat="MOV")),
    ("outputType URL", "runware:108@22", dict(outputType="URL")),
    ("ttl 60", "runware:108@22", dict(ttl=60)),
    ("ttl 1800", "runware:108@22", dict(ttl=1800)),
    ("includeCost", "runware:108@22", dict(includeCost=True)),
    ("webhook https", "runware:108@22", dict(webhookURL="https://example.com/hook?x=1")),
    ("webhook http loopback with port", "runware:108@22", dict(webhookURL="http://127.0.0.1:8080/cb")),
    ("uploadEndpoint https", "runware:108@22", dict(uploadEndpoint="https://bucket.example.com/put?sig=abc")),
    ("providerSettings for own provider", "klingai:5@3", dict(providerSettings={"klingai": {"cameraControl": {}}})),
    ("providerSettings minimax", "minimax:3@1", dict(providerSettings={"minimax": {"promptOptimizer": True}})),
    ("providerSettings empty", "klingai:5@3", dict(providerSettings={})),
    ("custom model any provider", "acme:7@1", dict(providerSettings={"google": {"generateAudio": True}})),
    ("advancedFeatures object", "runware:108@22", dict(advancedFeatures={"watermark": {"enabled": False}})),
    ("referenceImages", "runware:108@22", dict(referenceImages=[IMG, "https://example.com/a.png"])),
    ("unknown fields ignored", "runware:108@22", dict(fooBar=1, someFutureField={"x": [1, 2]}, lora=[])),
    ("custom size 2048", "acme:7@1", dict(width=2048, height=256)),
    ("custom duration 1", "acme:7@1", dict(duration=1)),
    ("custom fps 60", "acme:7@1", dict(fps=60)),
]


@pytest.mark.parametrize("model, overrides", [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_accepted(catalog, model, overrides):
    assert validate_task(make(model, **overrides), catalog) == []


# -- the rejection table ---------------------------------------------------------------------------------
# (id, model, overrides, code, parameter, context that must be on the error item)

KLING_SIZES = ["1920x1080", "1080x1080", "1080x1920"]
U64 = 2**63
REJECTED = [
    # sizes
    ("kling 1280x720", "klingai:5@3", dict(width=1280, height=720), "unsupportedDimensions", "width",
     {"allowedValues": KLING_SIZES}),
    ("kling swapped 1080x1920 ok but 1080x1000 not", "klingai:5@3", dict(width=1080, height=1000),
     "unsupportedDimensions", "width", {"allowedValues": KLING_SIZES}),
    ("klingai:5@1 refuses 1080p (docs win)", "klingai:5@1", dict(width=1920, height=1080), "unsupportedDimensions",
     "width", {"allowedValues": ["1280x720", "720x720", "720x1280"]}),
    ("bytedance 1920x1080", "bytedance:2@1", dict(width=1920, height=1080), "unsupportedDimensions", "width",
     {"allowedValues": ["1920x1088", "1088x1920", "1440x1440", "864x480"]}),
    ("google 1080x1080", "google:3@1", dict(width=1080, height=1080), "unsupportedDimensions", "width", {}),
    ("minimax 1280x720", "minimax:3@1", dict(width=1280, height=720), "unsupportedDimensions", "width",
     {"allowedValues": ["1366x768", "1920x1080"]}),
    ("runware above cap", "runware:108@22", dict(width=2048, height=1080), "invalidWidth", "width",
     {"min": 256, "max": 1920, "multiple": 8}),
    ("runware below min", "runware:108@22", dict(width=248, height=256), "invalidWidth", "width",
     {"min": 256, "max": 1920, "multiple": 8}),
    ("runware not multiple of 8", "runware:108@22", dict(width=322, height=256), "invalidWidth", "width",
     {"min": 256, "max": 1920, "multiple": 8}),
    ("custom width above cap", "acme:7@1", dict(width=2056, height=256), "invalidWidth", "width",
     {"min": 256, "max": 2048, "multiple": 8}),
    ("custom height below min", "acme:7@1", dict(width=256, height=248), "invalidHeight", "height",
     {"min": 256, "max": 2048, "multiple": 8}),
    ("width without height", "runware:108@22", dict(height=DROP), "invalidHeight", "height", {}),
    ("width as text", "runware:108@22", dict(width="320"), "invalidWidth", "width", {}),
    ("width fractional", "runware:108@22", dict(width=320.5), "invalidWidth", "width", {}),
    # durations
    ("kling 7 s", "klingai:5@3", dict(duration=7), "unsupportedDuration", "duration", {"allowedValues": [5, 10]}),
    ("google 5 s", "google:3@1", dict(duration=5), "unsupportedDuration", "duration", {"allowedValues": [8]}),
    ("vidu 10 s", "vidu:1@1", dict(duration=10), "unsupportedDuration", "duration", {"allowedValues": [5]}),
    ("pixverse 10 s", "pixverse:1@3", dict(duration=10), "unsupportedDuration", "duration",
     {"allowedValues": [5, 8]}),
    ("minimax 1920x1080 only 6 s", "minimax:3@1", dict(width=1920, height=1080, duration=10), "unsupportedDuration",
     "duration", {"allowedValues": [6]}),
    ("minimax 5 s", "minimax:3@1", dict(duration=5), "unsupportedDuration", "duration", {"allowedValues": [6, 10]}),
    ("runware 31 s", "runware:108@22", dict(duration=31), "unsupportedDuration", "duration", {"min": 5, "max": 30}),
    ("runware 4 s", "runware:108@22", dict(duration=4), "unsupportedDuration", "duration", {"min": 5, "max": 30}),
    ("runware 5.5 s", "runware:108@22", dict(duration=5.5), "unsupportedDuration", "duration",
     {"min": 5, "max": 30}),
    ("duration 0", "runware:108@22", dict(duration=0), "invalidDuration", "duration", {}),
    ("duration text", "runware:108@22", dict(duration="5"), "invalidDuration", "duration", {}),
    ("duration bool", "runware:108@22", dict(duration=True), "invalidDuration", "duration", {}),
    # fps
    ("kling fps 30", "klingai:5@3", dict(fps=30), "unsupportedFPS", "fps", {"allowedValues": [24]}),
    ("minimax fps 24", "minimax:3@1", dict(fps=24), "unsupportedFPS", "fps", {"allowedValues": [25]}),
    ("pixverse fps 20", "pixverse:1@3", dict(fps=20), "unsupportedFPS", "fps", {"allowedValues": [16, 24]}),
    ("runware fps 31", "runware:108@22", dict(fps=31), "invalidFPS", "fps", {"min": 6, "max": 30}),
    ("runware fps 5", "runware:108@22", dict(fps=5), "invalidFPS", "fps", {"min": 6, "max": 30}),
    ("fps fractional", "runware:108@22", dict(fps=8.5), "invalidFPS", "fps", {}),
    ("custom fps 61", "acme:7@1", dict(fps=61), "invalidFPS", "fps", {"min": 6, "max": 60}),
    # seed
    ("kling has no seed", "klingai:5@3", dict(seed=42), "unsupportedParameter", "seed", {}),
    ("minimax has no seed", "minimax:3@1", dict(seed=42), "unsupportedParameter", "seed", {}),
    ("seed 0", "runware:108@22", dict(seed=0), "invalidSeed", "seed", {"min": 1, "max": SEED_MAX}),
    ("seed negative", "google:3@1", dict(seed=-5), "invalidSeed", "seed", {"min": 1, "max": SEED_MAX}),
    ("seed 2**63", "runware:108@22", dict(seed=U64), "invalidSeed", "seed", {"min": 1, "max": SEED_MAX}),
    ("seed text", "runware:108@22", dict(seed="42"), "invalidSeed", "seed", {}),
    # negativePrompt
    ("google no negativePrompt", "google:3@1", dict(negativePrompt="x"), "unsupportedParameter", "negativePrompt", {}),
    ("minimax no negativePrompt", "minimax:3@1", dict(negativePrompt="x"), "unsupportedParameter",
     "negativePrompt", {}),
    ("bytedance no negativePrompt", "bytedance:2@1", dict(negativePrompt="x"), "unsupportedParameter",
     "negativePrompt", {}),
    ("vidu no negativePrompt", "vidu:1@1", dict(negativePrompt="x"), "unsupportedParameter", "negativePrompt", {}),
    ("kling negativePrompt too long", "klingai:5@3", dict(negativePrompt="x" * 2501), "invalidNegativePrompt",
     "negativePrompt", {"max": 2500}),
    ("negativePrompt not text", "klingai:5@3", dict(negativePrompt=["x"]), "invalidNegativePrompt",
     "negativePrompt", {}),
    # CFGScale
    ("google refuses CFGScale", "google:3@1", dict(CFGScale=7), "unsupportedArchitectureCFGScale", "CFGScale", {}),
    ("minimax refuses CFGScale", "minimax:3@1", dict(CFGScale=7), "unsupportedArchitectureCFGScale", "CFGScale",
     {}),
    ("kling CFGScale 1.5", "klingai:5@3", dict(CFGScale=1.5), "invalidCFGScale", "CFGScale", {"min": 0, "max": 1}),
    ("kling CFGScale -0.1", "klingai:5@3", dict(CFGScale=-0.1), "invalidCFGScale", "CFGScale", {"min": 0, "max": 1}),
    ("runware CFGScale 0.5", "runware:108@22", dict(CFGScale=0.5), "invalidCFGScale", "CFGScale",
     {"min": 1, "max": 20}),
    ("runware CFGScale 21", "runware:108@22", dict(CFGScale=21), "invalidCFGScale", "CFGScale",
     {"min": 1, "max": 20}),
    ("custom CFGScale 51", "acme:7@1", dict(CFGScale=51), "invalidCFGScale", "CFGScale", {"min": 0, "max": 50}),
    ("CFGScale text", "runware:108@22", dict(CFGScale="7"), "invalidCFGScale", "CFGScale", {}),
    # frame images
    ("kling 5@3 no last frame", "klingai:5@3", dict(frameImages=[FIRST, LAST]), "unsupportedParameter",
     "frameImages", {"allowedValues": ["first"], "frame": "last"}),
    ("minimax no last frame", "minimax:3@1", dict(frameImages=[LAST]), "unsupportedParameter", "frameImages",
     {"allowedValues": ["first"]}),
    ("google implied last frame", "google:3@1", dict(frameImages=[{"inputImage": IMG}, {"inputImage": IMG}]),
     "unsupportedParameter", "frameImages", {"allowedValues": ["first"], "frame": "last"}),
    ("frame number on catalog model", "runware:108@22", dict(frameImages=[{"inputImage": IMG, "frame": 3}]),
     "unsupportedParameter", "frameImages", {"allowedValues": ["first", "last"]}),
    ("unknown frame name", "runware:108@22", dict(frameImages=[{"inputImage": IMG, "frame": "middle"}]),
     "unsupportedParameter", "frameImages", {}),
    ("klingai:5@1 is image-only", "klingai:5@1", dict(frameImages=DROP), "invalidFrameImages", "frameImages", {}),
    ("klingai:5@2 is image-only", "klingai:5@2", dict(frameImages=DROP), "invalidFrameImages", "frameImages", {}),
    ("empty frameImages", "runware:108@22", dict(frameImages=[]), "invalidFrameImages", "frameImages", {}),
    ("three frame images", "runware:108@22", dict(frameImages=[FIRST, LAST, FIRST]), "invalidFrameImages",
     "frameImages", {}),
    ("frameImages not a list", "runware:108@22", dict(frameImages=IMG), "invalidFrameImages", "frameImages", {}),
    ("frame image without inputImage", "runware:108@22", dict(frameImages=[{"frame": "first"}]),
     "invalidFrameImages", "frameImages", {}),
    ("two images pin the same frame", "runware:108@22", dict(frameImages=[FIRST, FIRST]), "invalidFrameImages",
     "frameImages", {}),
    ("too many reference images", "runware:108@22", dict(referenceImages=[IMG] * 5), "invalidReferenceImages",
     "referenceImages", {}),
    # prompt
    ("prompt 1 char", "runware:108@22", dict(positivePrompt="a"), "invalidPositivePrompt", "positivePrompt",
     {"min": 2}),
    ("prompt blank", "runware:108@22", dict(positivePrompt="   a   "), "invalidPositivePrompt", "positivePrompt",
     {"min": 2}),
    ("prompt missing", "runware:108@22", dict(positivePrompt=DROP), "invalidPositivePrompt", "positivePrompt",
     {"min": 2}),
    ("prompt not text", "runware:108@22", dict(positivePrompt=42), "invalidPositivePrompt", "positivePrompt", {}),
    ("prompt with NUL", "runware:108@22", dict(positivePrompt="a\x00b c"), "invalidPositivePrompt",
     "positivePrompt", {}),
    ("kling prompt 2501", "klingai:5@3", dict(positivePrompt="x" * 2501), "invalidPositivePrompt",
     "positivePrompt", {"min": 2, "max": 2500}),
    ("minimax prompt 2001", "minimax:3@1", dict(positivePrompt="x" * 2001), "invalidPositivePrompt",
     "positivePrompt", {"max": 2000}),
    ("pixverse prompt 2049", "pixverse:1@3", dict(positivePrompt="x" * 2049), "invalidPositivePrompt",
     "positivePrompt", {"max": 2048}),
    ("google prompt 3001", "google:3@1", dict(positivePrompt="x" * 3001), "invalidPositivePrompt",
     "positivePrompt", {"max": 3000}),
    # output
    ("numberResults 0", "runware:108@22", dict(numberResults=0), "invalidNumberResults", "numberResults",
     {"min": 1, "max": 4}),
    ("numberResults 5", "runware:108@22", dict(numberResults=5), "invalidNumberResults", "numberResults",
     {"min": 1, "max": 4}),
    ("numberResults text", "runware:108@22", dict(numberResults="2"), "invalidNumberResults", "numberResults", {}),
    ("outputQuality 19", "runware:108@22", dict(outputQuality=19), "invalidOutputQuality", "outputQuality",
     {"min": 20, "max": 99}),
    ("outputQuality 100", "runware:108@22", dict(outputQuality=100), "invalidOutputQuality", "outputQuality",
     {"min": 20, "max": 99}),
    ("outputFormat gif", "runware:108@22", dict(outputFormat="gif"), "invalidOutputFormat", "outputFormat",
     {"allowedValues": ["MP4", "WEBM", "MOV"]}),
    ("outputFormat not text", "runware:108@22", dict(outputFormat=4), "invalidOutputFormat", "outputFormat", {}),
    ("outputType base64Data", "runware:108@22", dict(outputType="base64Data"), "invalidOutputType", "outputType",
     {"allowedValues": ["URL"]}),
    ("outputType dataURI", "runware:108@22", dict(outputType="dataURI"), "invalidOutputType", "outputType",
     {"allowedValues": ["URL"]}),
    ("deliveryMethod sync", "runware:108@22", dict(deliveryMethod="sync"), "invalidDeliveryMethod",
     "deliveryMethod", {"allowedValues": ["async"]}),
    ("ttl 59", "runware:108@22", dict(ttl=59), "invalidTtl", "ttl", {"min": 60}),
    ("ttl text", "runware:108@22", dict(ttl="1800"), "invalidTtl", "ttl", {"min": 60}),
    ("includeCost text", "runware:108@22", dict(includeCost="yes"), "invalidIncludeCost", "includeCost", {}),
    # URLs
    ("webhook file:", "runware:108@22", dict(webhookURL="file:///etc/passwd"), "invalidWebhookURL", "webhookURL", {}),
    ("webhook javascript:", "runware:108@22", dict(webhookURL="javascript:alert(1)"), "invalidWebhookURL",
     "webhookURL", {}),
    ("webhook empty host", "runware:108@22", dict(webhookURL="https://"), "invalidWebhookURL", "webhookURL", {}),
    ("webhook empty host with path", "runware:108@22", dict(webhookURL="http:///callback"), "invalidWebhookURL",
     "webhookURL", {}),
    ("webhook ftp", "runware:108@22", dict(webhookURL="ftp://example.com/x"), "invalidWebhookURL", "webhookURL", {}),
    ("webhook empty", "runware:108@22", dict(webhookURL=""), "invalidWebhookURL", "webhookURL", {}),
    ("webhook no scheme", "runware:108@22", dict(webhookURL="example.com/hook"), "invalidWebhookURL",
     "webhookURL", {}),
    ("webhook with space", "runware:108@22", dict(webhookURL="https://exa mple.com/"), "invalidWebhookURL",
     "webhookURL", {}),
    ("webhook not text", "runware:108@22", dict(webhookURL=5), "invalidWebhookURL", "webhookURL", {}),
    ("upload file:", "runware:108@22", dict(uploadEndpoint="file:///tmp/x"), "invalidUploadEndpoint",
     "uploadEndpoint", {}),
    ("upload javascript:", "runware:108@22", dict(uploadEndpoint="javascript:void(0)"), "invalidUploadEndpoint",
     "uploadEndpoint", {}),
    ("upload empty host", "runware:108@22", dict(uploadEndpoint="https:///bucket"), "invalidUploadEndpoint",
     "uploadEndpoint", {}),
    # providerSettings / advancedFeatures
    ("providerSettings list", "klingai:5@3", dict(providerSettings=[{"klingai": {}}]), "invalidProviderSettings",
     "providerSettings", {}),
    ("providerSettings text", "klingai:5@3", dict(providerSettings='{"klingai": {}}'), "invalidProviderSettings",
     "providerSettings", {}),
    ("providerSettings other provider", "klingai:5@3", dict(providerSettings={"google": {"generateAudio": True}}),
     "unsupportedParameter", "providerSettings", {"allowedValues": ["klingai"]}),
    ("providerSettings value not object", "minimax:3@1", dict(providerSettings={"minimax": True}),
     "invalidProviderSettings", "providerSettings", {}),
    ("advancedFeatures list", "runware:108@22", dict(advancedFeatures=[1]), "invalidAdvancedFeatures",
     "advancedFeatures", {}),
    # ids
    ("taskUUID not a UUID", "runware:108@22", dict(taskUUID="task-1"), "invalidTaskUUID", "taskUUID", {}),
    ("taskUUID missing", "runware:108@22", dict(taskUUID=DROP), "invalidTaskUUID", "taskUUID", {}),
]


@pytest.mark.parametrize("model, overrides, code, parameter, context", [r[1:] for r in REJECTED],
                         ids=[r[0] for r in REJECTED])
def test_rejected(catalog, model, overrides, code, parameter, context):
    task = make(model, **overrides)
    problems = validate_task(task, catalog)
    matching = [p for p in problems if p["code"] == code and p.get("parameter") == parameter]
    assert matching, f"expected {code}/{parameter}, got {problems}"
    item = matching[0]
    # Runware's error shape.
    assert isinstance(item["message"], str) and item["message"].strip()
    assert item["taskType"] == "videoInference"
    if isinstance(task.get("taskUUID"), str):
        assert item["taskUUID"] == task["taskUUID"]
    for key, value in context.items():
        assert item.get(key) == value, f"{key}: {item}"
    # Only this one thing is wrong with the task.
    assert {p.get("parameter") for p in problems} == {parameter}, problems


@pytest.mark.parametrize("air", ["klingai5@3", "KlingAI:5@3", "klingai:5", "klingai:five@", "klingai:_5@3", ":5@3", "",
                                 "klingai:5@3 ", 42, None])
def test_malformed_model_refused(catalog, air):
    task = make("runware:108@22", model=air) if air is not None else make("runware:108@22", model=DROP)
    problems = validate_task(task, catalog)
    assert codes(problems) == ["invalidModel"]
    assert problems[0]["parameter"] == "model" and problems[0]["message"]


def test_malformed_model_still_checks_prompt(catalog):
    problems = validate_task(make("runware:108@22", model="nope", positivePrompt="x"), catalog)
    assert sorted(codes(problems)) == ["invalidModel", "invalidPositivePrompt"]


def test_custom_model_uses_generic_rules(catalog):
    model = catalog.get("acme:7@1")
    assert model.custom and model.provider == "acme"
    assert validate_task(make("acme:7@1"), catalog) == []
    # ...but the generic rules still apply, and a service may refuse custom ids altogether.
    assert codes(validate_task(make("acme:7@1", duration=31), catalog)) == ["unsupportedDuration"]
    refused = validate_task(make("acme:7@1"), catalog, allow_custom=False)
    assert codes(refused) == ["invalidModel"]
    assert "klingai:5@3" in refused[0]["allowedValues"]


@pytest.mark.parametrize("allow_custom, air", [(True, "not-an-air"), (False, "acme:7@1")])
def test_model_errors_name_their_task(catalog, allow_custom, air):
    task = make("runware:108@22", model=air)
    problems = validate_task(task, catalog, allow_custom=allow_custom)
    assert problems and all(p.get("taskUUID") == task["taskUUID"] for p in problems)


def test_image_only_model_needs_a_first_frame_not_just_a_last_one(catalog):
    problems = validate_task(make("klingai:5@2", frameImages=[LAST]), catalog)
    assert "invalidFrameImages" in codes(problems)


@pytest.mark.parametrize("url", ["http://[::1", "https://[not-an-ip]/hook"])
def test_malformed_ipv6_url_is_a_problem_not_a_crash(catalog, url):
    problems = validate_task(make("runware:108@22", webhookURL=url), catalog)
    assert codes(problems) == ["invalidWebhookURL"]


def test_flexible_size_error_carries_its_range(catalog):
    problems = validate_task(make("runware:108@22", width=2048, height=1080), catalog)
    assert problems[0]["parameter"] == "width"
    assert (problems[0].get("min"), problems[0].get("max"), problems[0].get("multiple")) == (256, 1920, 8)


def test_every_problem_is_reported_at_once(catalog):
    task = make("klingai:5@3", width=1280, height=720, duration=7, fps=30, seed=1, CFGScale=3,
                numberResults=9, outputQuality=5, outputFormat="avi", deliveryMethod="sync", ttl=10,
                webhookURL="file:///x", positivePrompt="a")
    params = {p["parameter"] for p in validate_task(task, catalog)}
    assert params == {"width", "duration", "fps", "seed", "CFGScale", "numberResults", "outputQuality",
                      "outputFormat", "deliveryMethod", "ttl", "webhookURL", "positivePrompt"}


def test_non_object_task(catalog):
    problems = validate_task(["not", "a", "task"], catalog)
    assert codes(problems) == ["invalidTask"] and problems[0]["message"]
