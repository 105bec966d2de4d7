"""The Generate form's messages, uploads, thumbnails, prompt counter and custom size (issue 13 items 7,
8, 13, 14), run headless with AppTest in demo mode. One behaviour per test."""
from __future__ import annotations

import base64
import io
import json
import os

import pytest
from PIL import Image

from lib.request import redact_images
from test_pages import captions, click, data_dir, errors, new_app, run, sim_posts, unescape  # noqa: F401

NEEDS_FIRST_FRAME = "klingai:5@1"  # image-to-video only: Generate asks for a first frame image
FIRST_AND_LAST = "klingai:5@2"
WITH_INPUT_IMAGE = "bytedance:5@1"
PROMPT = "A lighthouse on a cliff at dusk"


def png(size=(32, 32), noise: bool = False) -> bytes:
    img = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise else Image.new("RGB", size, "red")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def page_with(model: str, prompt: str = PROMPT):
    at = run(new_app())
    at.selectbox(key="f_model").set_value(model)
    run(at)
    if prompt is not None:
        at.text_area(key="f_prompt").set_value(prompt)
        run(at)
    return at


def uploader(at, key: str):
    [found] = [u for u in at.file_uploader if u.key == key]
    return found


def upload(at, key: str, data: bytes, name: str = "frame.png"):
    uploader(at, key).set_value((name, data, "image/png"))
    return run(at)


def thumbnails(at) -> int:
    return sum(len(node.value) for node in at.get("image"))


def shown(at) -> list[str]:
    """The error messages as a person reads them (no escapes, no invisible word joiners)."""
    return [e.replace("\u2060", "") for e in errors(at)]


def preview(at) -> dict:
    return json.loads(at.code[0].value)[0]


def rerun_of(task_fields: dict):
    """The Generate page as History's Re-run leaves it: a job's task waiting to fill the form."""
    at = run(new_app())
    at.session_state["prefill_task"] = {"taskType": "videoInference",
                                        "taskUUID": "00000000-0000-4000-8000-000000000001", **task_fields}
    return run(at)


def data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


# -- item 7: messages clear when their field changes ------------------------------------------------------

def test_first_frame_message_goes_once_a_frame_is_uploaded(data_dir):
    at = page_with(NEEDS_FIRST_FRAME)
    click(at, "Generate")
    assert any("add a first frame image" in e for e in errors(at)), errors(at)
    upload(at, "f_first_frame", png())
    assert not any("first frame" in e for e in errors(at)), errors(at)


def test_the_nothing_was_sent_summary_goes_with_the_last_message(data_dir):
    at = page_with(NEEDS_FIRST_FRAME)
    click(at, "Generate")
    upload(at, "f_first_frame", png())
    assert not any("Nothing was sent" in e for e in errors(at)), errors(at)


def test_prompt_message_goes_once_the_prompt_changes(data_dir):
    at = page_with("klingai:5@3", prompt=None)
    click(at, "Generate")
    at.text_area(key="f_prompt").set_value("A")
    run(at)
    assert not any("Write a prompt" in e for e in errors(at)), errors(at)


def test_a_message_stays_while_its_own_field_is_unchanged(data_dir):
    at = page_with("klingai:5@3", prompt=None)
    click(at, "Generate")
    at.text_input(key="f_negative").set_value("blurry")
    run(at)
    assert any("Write a prompt" in e for e in errors(at)), errors(at)


def test_image_uploaders_take_only_png_jpeg_and_webp(data_dir):
    at = page_with("klingai:5@2")
    image_uploaders = [u for u in at.file_uploader if u.key in ("f_first_frame", "f_last_frame", "f_refs")]
    assert len(image_uploaders) == 3
    assert all(sorted(u.allowed_type) == [".jpeg", ".jpg", ".png", ".webp"] for u in image_uploaders), \
        [u.allowed_type for u in image_uploaders]


def test_input_image_uploader_takes_only_png_jpeg_and_webp(data_dir):
    at = page_with(WITH_INPUT_IMAGE, prompt=None)
    assert sorted(uploader(at, "f_in_image_file").allowed_type) == [".jpeg", ".jpg", ".png", ".webp"]


def test_image_uploader_states_the_studios_image_cap(data_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_IMAGE_MB", "3")
    at = page_with("klingai:5@3")
    first = uploader(at, "f_first_frame")
    # The proto's size is what the uploader's "Limit 3MB per file" line says.
    assert first.proto.max_upload_size_mb == 3 and "3 MB" in first.help


def test_a_non_image_upload_is_flagged_at_once(data_dir):
    at = page_with("klingai:5@3")
    posts = sim_posts()
    upload(at, "f_first_frame", b"this is text, not a picture", name="notes.png")
    assert any("First frame image: This file is not a PNG, JPEG or WEBP image" in e for e in errors(at)), errors(at)
    assert sim_posts() == posts


def test_an_oversized_upload_is_flagged_at_once(data_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_IMAGE_MB", "1")
    at = page_with("klingai:5@3")
    big = png((800, 800), noise=True)  # about 1.9 MB of incompressible pixels
    assert len(big) > 1_000_000
    upload(at, "f_first_frame", big)
    assert any("the limit is 1 MB" in e for e in errors(at)), errors(at)


def test_a_bad_upload_is_reported_once_after_generate(data_dir):
    at = page_with("klingai:5@3")
    upload(at, "f_first_frame", b"this is text, not a picture", name="notes.png")
    click(at, "Generate")
    assert sum("This file is not a PNG" in e for e in errors(at)) == 1, errors(at)


def test_replacing_a_bad_upload_clears_its_message(data_dir):
    at = page_with("klingai:5@3")
    upload(at, "f_first_frame", b"this is text, not a picture", name="notes.png")
    click(at, "Generate")
    upload(at, "f_first_frame", png())
    assert not any("This file is not a PNG" in e for e in errors(at)), errors(at)


# -- item 8: plain words, the wire name in a detail ------------------------------------------------------

def test_too_long_prompt_message_names_the_field_and_model_in_plain_words(data_dir):
    at = page_with("klingai:5@3", prompt="x" * 2600)
    click(at, "Generate")
    assert "The prompt is 2,600 characters long; Kling 2.1 Master takes at most 2,500." in errors(at), errors(at)


def test_the_wire_name_is_a_detail_under_the_message(data_dir):
    at = page_with("klingai:5@3", prompt="x" * 2600)
    click(at, "Generate")
    assert not any("positivePrompt" in e for e in errors(at)), errors(at)
    assert any("Runware parameter: positivePrompt" in unescape(c) for c in captions(at)), captions(at)


def test_webhook_message_says_webhook_url(data_dir):
    at = page_with("klingai:5@3")
    at.text_input(key="f_webhook").set_value("file:///etc/passwd")
    run(at)
    click(at, "Generate")
    assert "Webhook URL must start with http:// or https://." in shown(at), shown(at)


def test_an_empty_custom_model_id_asks_for_a_model(data_dir):
    at = page_with("custom")
    click(at, "Generate")
    assert any("Choose a model, or type a custom model's AIR id" in e for e in errors(at)), errors(at)
    assert not any("None" in e for e in errors(at)), errors(at)


def test_model_caption_has_no_source_notes(data_dir):
    at = page_with("klingai:5@3")
    assert not any("source:" in c for c in captions(at)), captions(at)


# -- the prompt counter --------------------------------------------------------------------------------------

def test_prompt_counter_counts_against_the_models_limit(data_dir):
    at = page_with("klingai:5@3", prompt="x" * 12)
    assert "12 / 2,500 characters" in captions(at), captions(at)


def test_a_rerun_prompt_too_long_for_the_model_stays_whole(data_dir):
    at = rerun_of({"model": "klingai:5@3", "positivePrompt": "y" * 2600, "width": 1920, "height": 1080,
                   "duration": 5})
    assert len(at.text_area(key="f_prompt").value) == 2600


def test_the_counter_says_how_far_over_the_limit_a_prompt_is(data_dir):
    at = rerun_of({"model": "klingai:5@3", "positivePrompt": "y" * 2600, "width": 1920, "height": 1080,
                   "duration": 5})
    assert any("2,600 / 2,500 characters: 100 too many" in c for c in captions(at)), captions(at)


# -- item 13: a custom model takes any size the API allows -----------------------------------------------------

def test_custom_model_offers_width_and_height_in_the_generic_range(data_dir):
    at = page_with("custom")
    width, height = at.number_input(key="f_width"), at.number_input(key="f_height")
    assert (width.min, width.max, width.step) == (height.min, height.max, height.step) == (256, 2048, 8)


def test_custom_model_sends_the_typed_size(data_dir):
    at = page_with("custom")
    at.text_input(key="f_custom_air").set_value("acme:1@1")
    at.number_input(key="f_width").set_value(1024)
    at.number_input(key="f_height").set_value(1536)
    run(at)
    assert (preview(at)["width"], preview(at)["height"]) == (1024, 1536)


def test_custom_model_size_off_the_grid_is_refused_at_the_field(data_dir):
    at = page_with("custom")
    at.text_input(key="f_custom_air").set_value("acme:1@1")
    at.number_input(key="f_width").set_value(1030)
    run(at)
    click(at, "Generate")
    assert "Width must be from 256 to 2048 pixels and a multiple of 8." in errors(at), errors(at)


def test_a_rerun_of_a_custom_model_keeps_its_size(data_dir):
    at = rerun_of({"model": "acme:1@1", "positivePrompt": PROMPT, "width": 1024, "height": 1536, "duration": 5})
    assert (at.number_input(key="f_width").value, at.number_input(key="f_height").value) == (1024, 1536)


# -- item 14: thumbnails, and a re-run's frame image can be removed ------------------------------------------

def test_an_uploaded_frame_shows_a_thumbnail(data_dir):
    at = page_with(FIRST_AND_LAST)
    upload(at, "f_first_frame", png())
    assert thumbnails(at) == 1


def test_every_uploaded_image_shows_a_thumbnail(data_dir):
    at = page_with(FIRST_AND_LAST)
    upload(at, "f_first_frame", png())
    upload(at, "f_last_frame", png())
    uploader(at, "f_refs").set_value([("a.png", png(), "image/png"), ("b.png", png(), "image/png")])
    run(at)
    assert thumbnails(at) == 4


def test_an_uploaded_input_image_shows_a_thumbnail(data_dir):
    at = page_with(WITH_INPUT_IMAGE, prompt=None)
    upload(at, "f_in_image_file", png())
    assert thumbnails(at) == 1


def test_a_non_image_upload_shows_no_thumbnail(data_dir):
    at = page_with("klingai:5@3")
    upload(at, "f_first_frame", b"this is text, not a picture", name="notes.png")
    assert thumbnails(at) == 0


def test_a_reruns_frame_image_shows_a_thumbnail_and_a_remove_button(data_dir):
    at = rerun_of({"model": "klingai:5@3", "positivePrompt": PROMPT, "width": 1920, "height": 1080,
                   "duration": 5, "frameImages": [{"inputImage": data_uri(png()), "frame": "first"}]})
    assert thumbnails(at) == 1
    assert "Remove" in [b.label for b in at.button]


def test_removing_a_reruns_frame_image_leaves_it_out_of_the_request(data_dir):
    at = rerun_of({"model": "klingai:5@3", "positivePrompt": PROMPT, "width": 1920, "height": 1080,
                   "duration": 5, "frameImages": [{"inputImage": data_uri(png()), "frame": "first"}]})
    assert "frameImages" in preview(at)
    click(at, "Remove")
    assert "frameImages" not in preview(at) and thumbnails(at) == 0


def as_previewed(*refs) -> list:
    """References as the request preview shows them (inline images shortened to their size)."""
    return redact_images({"referenceImages": list(refs)})["referenceImages"]


def test_a_rerun_with_numbers_beyond_a_browsers_range_still_draws_the_form(data_dir):
    # A sweep can queue steps=1e18; a default that large is refused by Streamlit (browsers lose digits).
    at = rerun_of({"model": "lightricks:ltx@2.3", "positivePrompt": PROMPT, "width": 1920, "height": 1080,
                   "duration": 6, "steps": 10**18, "ttl": 2**60})
    assert not at.exception
    assert at.session_state["f_x_steps"] == 10**18 and at.session_state["f_ttl"] == 2**60


def rerun_with_references(*refs):
    return rerun_of({"model": "klingai:5@3", "positivePrompt": PROMPT, "width": 1920, "height": 1080,
                     "duration": 5, "referenceImages": list(refs)})


def test_a_reruns_reference_images_come_back_with_thumbnails(data_dir):
    first, second = data_uri(png()), data_uri(png((48, 48)))
    at = rerun_with_references(first, second)
    assert thumbnails(at) == 2
    assert any("Using the 2 reference image(s) of the job being re-run" in c for c in captions(at))
    assert preview(at)["referenceImages"] == as_previewed(first, second)


def test_a_reruns_reference_image_given_by_link_is_sent_again_as_it_was(data_dir):
    at = rerun_with_references("https://images.example/ref.png")
    assert thumbnails(at) == 0
    assert any("1 without a preview: given by link or id" in c for c in captions(at))
    assert preview(at)["referenceImages"] == ["https://images.example/ref.png"]


def test_removing_a_reruns_reference_images_leaves_them_out_of_the_request(data_dir):
    at = rerun_with_references(data_uri(png()))
    click(at, "Remove")
    assert "referenceImages" not in preview(at) and thumbnails(at) == 0


def test_uploaded_reference_images_replace_a_reruns(data_dir):
    at = rerun_with_references(data_uri(png()))
    uploaded = png((64, 64))
    uploader(at, "f_refs").set_value([("a.png", uploaded, "image/png")])
    at = run(at)
    assert preview(at)["referenceImages"] == as_previewed(data_uri(uploaded))
    assert not any("of the job being re-run" in c for c in captions(at))
