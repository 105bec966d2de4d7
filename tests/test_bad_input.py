"""Bad input, table-driven: every case gets a clear message at its field, and nothing is sent.

The table runs through `prepare()`, the only way the studio makes a task; a few cases also run
through the real Generate page (AppTest) to show the message at the field with nothing stored or sent.
"""
from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from lib.errors import InvalidRequest
from lib.request import VideoRequest, prepare

MAX_IMAGE = 200_000


def png(size=(64, 64), color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def noisy_png(min_bytes: int) -> bytes:
    side = 64
    while True:
        img = Image.effect_noise((side, side), 100).convert("RGB")
        buf = io.BytesIO()
        img.save(buf, "PNG")
        if buf.tell() > min_bytes:
            return buf.getvalue()
        side *= 2


KLING = dict(model="klingai:5@3", duration=5, width=1920, height=1080)
FLEX = dict(model="runware:108@22", duration=5, width=640, height=360)
OK_PROMPT = "A calm lake at dawn"

# (case id, request fields, the parameter whose message must appear)
CASES = [
    ("empty prompt", dict(KLING, positive_prompt=""), "positivePrompt"),
    ("blank prompt", dict(KLING, positive_prompt="   \n "), "positivePrompt"),
    ("1-character prompt", dict(KLING, positive_prompt="a"), "positivePrompt"),
    ("over-limit prompt", dict(KLING, positive_prompt="x" * 2501), "positivePrompt"),
    ("control character", dict(KLING, positive_prompt="bell \x07 rings"), "positivePrompt"),
    ("NUL in prompt", dict(KLING, positive_prompt="null\x00byte"), "positivePrompt"),
    ("NUL in negative prompt", dict(KLING, positive_prompt=OK_PROMPT, negative_prompt="dark\x00"), "negativePrompt"),
    ("negative prompt unsupported", dict(model="google:3@1", duration=8, width=1280, height=720,
                                         positive_prompt=OK_PROMPT, negative_prompt="dark"), "negativePrompt"),
    ("size not offered", dict(KLING, positive_prompt=OK_PROMPT, width=1280, height=720), "width"),
    ("odd size on flexible model", dict(FLEX, positive_prompt=OK_PROMPT, width=641), "width"),
    ("huge size", dict(FLEX, positive_prompt=OK_PROMPT, width=100_000, height=100_000), "width"),
    ("negative width", dict(FLEX, positive_prompt=OK_PROMPT, width=-640), "width"),
    ("duration not offered", dict(KLING, positive_prompt=OK_PROMPT, duration=7), "duration"),
    ("zero duration", dict(KLING, positive_prompt=OK_PROMPT, duration=0), "duration"),
    ("negative duration", dict(FLEX, positive_prompt=OK_PROMPT, duration=-5), "duration"),
    ("duration over range", dict(FLEX, positive_prompt=OK_PROMPT, duration=31), "duration"),
    ("fractional duration", dict(FLEX, positive_prompt=OK_PROMPT, duration=5.5), "duration"),
    ("fps not offered", dict(KLING, positive_prompt=OK_PROMPT, fps=30), "fps"),
    ("zero fps", dict(FLEX, positive_prompt=OK_PROMPT, fps=0), "fps"),
    ("fps over range", dict(FLEX, positive_prompt=OK_PROMPT, fps=61), "fps"),
    ("seed unsupported", dict(KLING, positive_prompt=OK_PROMPT, seed=42), "seed"),
    ("zero seed", dict(FLEX, positive_prompt=OK_PROMPT, seed=0), "seed"),
    ("negative seed", dict(FLEX, positive_prompt=OK_PROMPT, seed=-1), "seed"),
    ("huge seed", dict(FLEX, positive_prompt=OK_PROMPT, seed=2**64), "seed"),
    ("CFG over model range", dict(KLING, positive_prompt=OK_PROMPT, cfg_scale=2.0), "CFGScale"),
    ("CFG unsupported", dict(model="vidu:1@1", duration=5, width=1920, height=1080,
                             positive_prompt=OK_PROMPT, cfg_scale=5.0), "CFGScale"),
    ("negative CFG", dict(FLEX, positive_prompt=OK_PROMPT, cfg_scale=-1.0), "CFGScale"),
    ("numberResults 0", dict(KLING, positive_prompt=OK_PROMPT, number_results=0), "numberResults"),
    ("numberResults 5", dict(KLING, positive_prompt=OK_PROMPT, number_results=5), "numberResults"),
    ("quality too low", dict(KLING, positive_prompt=OK_PROMPT, output_quality=10), "outputQuality"),
    ("quality too high", dict(KLING, positive_prompt=OK_PROMPT, output_quality=100), "outputQuality"),
    ("unknown output format", dict(KLING, positive_prompt=OK_PROMPT, output_format="AVI"), "outputFormat"),
    ("non-image named .png", dict(KLING, positive_prompt=OK_PROMPT, first_frame=b"just some text, not a PNG"),
     "frameImages"),
    ("oversized image", dict(KLING, positive_prompt=OK_PROMPT, first_frame=noisy_png(MAX_IMAGE)), "frameImages"),
    ("corrupt PNG", dict(KLING, positive_prompt=OK_PROMPT, first_frame=png()[:60]), "frameImages"),
    ("animated GIF", dict(KLING, positive_prompt=OK_PROMPT, first_frame=animated_gif()), "frameImages"),
    ("last frame unsupported", dict(KLING, positive_prompt=OK_PROMPT, first_frame=png(), last_frame=png()),
     "frameImages"),
    ("image-only model without image", dict(model="klingai:5@1", duration=5, width=1280, height=720,
                                            positive_prompt=OK_PROMPT), "frameImages"),
    ("webhook file:", dict(KLING, positive_prompt=OK_PROMPT, webhook_url="file:///etc/passwd"), "webhookURL"),
    ("webhook javascript:", dict(KLING, positive_prompt=OK_PROMPT, webhook_url="javascript:alert(1)"), "webhookURL"),
    ("webhook empty host", dict(KLING, positive_prompt=OK_PROMPT, webhook_url="https://"), "webhookURL"),
    ("webhook with spaces", dict(KLING, positive_prompt=OK_PROMPT, webhook_url="https://a b.com/x"), "webhookURL"),
    ("upload endpoint file:", dict(KLING, positive_prompt=OK_PROMPT, upload_endpoint="file:///tmp/x"),
     "uploadEndpoint"),
    ("upload endpoint ftp:", dict(KLING, positive_prompt=OK_PROMPT, upload_endpoint="ftp://files.example.com/x"),
     "uploadEndpoint"),
    ("providerSettings not JSON", dict(KLING, positive_prompt=OK_PROMPT, provider_settings="{not json"),
     "providerSettings"),
    ("providerSettings a list", dict(KLING, positive_prompt=OK_PROMPT, provider_settings="[1, 2]"),
     "providerSettings"),
    ("providerSettings wrong type", dict(KLING, positive_prompt=OK_PROMPT, provider_settings='{"klingai": 5}'),
     "providerSettings"),
    ("providerSettings other provider", dict(KLING, positive_prompt=OK_PROMPT,
                                             provider_settings='{"google": {"generateAudio": true}}'),
     "providerSettings"),
    ("providerSettings huge", dict(KLING, positive_prompt=OK_PROMPT,
                                   provider_settings=json.dumps({"klingai": {"x": "y" * 20_000}})),
     "providerSettings"),
    ("advancedFeatures not an object", dict(KLING, positive_prompt=OK_PROMPT, advanced_features='"watermark"'),
     "advancedFeatures"),
    ("ttl below 60", dict(KLING, positive_prompt=OK_PROMPT, ttl=59), "ttl"),
    ("negative ttl", dict(KLING, positive_prompt=OK_PROMPT, ttl=-1), "ttl"),
    ("huge ttl", dict(KLING, positive_prompt=OK_PROMPT, ttl=10**12), "ttl"),
    ("custom model not an AIR", dict(FLEX, positive_prompt=OK_PROMPT, model="not-an-air"), "model"),
    ("custom model without version", dict(FLEX, positive_prompt=OK_PROMPT, model="acme:5"), "model"),
    ("custom model with upper case", dict(FLEX, positive_prompt=OK_PROMPT, model="Acme:5@1"), "model"),
    ("custom model with injection", dict(FLEX, positive_prompt=OK_PROMPT, model="acme:1@1; DROP TABLE jobs"), "model"),
    ("empty model", dict(FLEX, positive_prompt=OK_PROMPT, model=""), "model"),
]


@pytest.mark.parametrize("fields, parameter", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_at_its_field(catalog, fields, parameter):
    with pytest.raises(InvalidRequest) as refused:
        prepare(VideoRequest(**fields), catalog, max_image_bytes=MAX_IMAGE)
    at_field = refused.value.for_parameter(parameter)
    assert at_field, f"no message for {parameter}: {refused.value.problems}"
    for problem in at_field:
        assert problem["code"] and len(problem["message"]) > 10
        assert "Traceback" not in problem["message"]


def test_the_table_is_large_enough():
    assert len(CASES) >= 30


# Unusual but valid prompts are accepted as they are; the UI shows them as text.
ODD_BUT_VALID = [
    "שקיעה מעל הרים — sunset, right-to-left",
    "🦊🌨️ a fox in the snow 🎬",
    "<script>alert('x')</script> on a beach",
    "<b>bold</b> <img src=x onerror=alert(1)>",
    "**bold** _italic_ [link](javascript:alert(1)) :smile:",
    "line one\nline two\ttabbed",
]


@pytest.mark.parametrize("prompt", ODD_BUT_VALID)
def test_unusual_prompts_are_accepted_verbatim(catalog, prompt):
    task = prepare(VideoRequest(positive_prompt=prompt, **KLING), catalog, max_image_bytes=MAX_IMAGE)
    assert task["positivePrompt"] == prompt.strip()
