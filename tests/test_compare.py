"""lib/compare.py: what 2-6 jobs share, what differs, and how each video is labelled."""
from __future__ import annotations

import pytest

from lib.compare import MAX_JOBS, compare, display, flatten, jobs_param, parse_job_ids

PNG_A = "data:image/png;base64," + "A" * 400
PNG_B = "data:image/png;base64," + "B" * 400


def task(uuid: str = "00000000-0000-4000-8000-000000000001", **fields) -> dict:
    base = {"taskType": "videoInference", "taskUUID": uuid, "model": "runware:108@22",
            "positivePrompt": "A fox", "width": 320, "height": 256, "duration": 5}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize("given, expected", [
    ({"a": 1}, {"a": 1}),
    ({"a": {"b": {"c": True}}}, {"a.b.c": True}),
    ({"frameImages": [{"inputImage": "x", "frame": "first"}]},
     {"frameImages.0.inputImage": "x", "frameImages.0.frame": "first"}),
    ({"referenceImages": ["u", "v"]}, {"referenceImages.0": "u", "referenceImages.1": "v"}),
    ({"settings": {}}, {"settings": {}}),
    ({"taskUUID": "x", "seed": 3}, {"seed": 3}),
])
def test_flatten(given, expected):
    assert flatten(given) == expected


@pytest.mark.parametrize("value, shown", [
    (True, "true"), (False, "false"), (None, "null"), (5.0, "5"), (2.5, "2.5"), (7, "7"), ("text", "text"),
    (PNG_A, "image"), ("data:video/mp4;base64,AAAA", "video"), ("data:audio/mpeg;base64,AAAA", "audio"),
    ("https://example.com/a.png", "https://example.com/a.png"), ({}, "{}"), ([], "[]"),
])
def test_display(value, shown):
    assert display(value) == shown


@pytest.mark.parametrize("tasks, differing, labels", [
    # a 2 x 2 sweep: two parameters differ, everything else is said once
    ([task(seed=1, width=320), task(seed=2, width=320), task(seed=1, width=512), task(seed=2, width=512)],
     ["width", "seed"], ["width: 320 · seed: 1", "width: 320 · seed: 2", "width: 512 · seed: 1",
                         "width: 512 · seed: 2"]),
    # a parameter one job sets and the other does not
    ([task(seed=7), task()], ["seed"], ["seed: 7", "seed: not set"]),
    # deep inside a settings object
    ([task(providerSettings={"google": {"generateAudio": True}}),
      task(providerSettings={"google": {"generateAudio": False}})],
     ["providerSettings.google.generateAudio"],
     ["providerSettings.google.generateAudio: true", "providerSettings.google.generateAudio: false"]),
    # inline images: compared by their bytes, shown as "image" with a letter per distinct one
    ([task(frameImages=[{"inputImage": PNG_A, "frame": "first"}]),
      task(frameImages=[{"inputImage": PNG_B, "frame": "first"}]),
      task(frameImages=[{"inputImage": PNG_A, "frame": "first"}])],
     ["frameImages.0.inputImage"],
     ["frameImages.0.inputImage: image A", "frameImages.0.inputImage: image B", "frameImages.0.inputImage: image A"]),
    # 1 and True are different settings
    ([task(audio=True), task(audio=1)], ["audio"], ["audio: true", "audio: 1"]),
    # 5 and 5.0 are the same
    ([task(duration=5), task(duration=5.0)], [], ["", ""]),
])
def test_compare_differing_and_labels(tasks, differing, labels):
    result = compare(tasks)
    assert result.differing == differing
    assert [result.label(i) for i in range(len(tasks))] == labels


def test_shared_parameters_are_listed_once_without_the_task_uuid():
    result = compare([task("00000000-0000-4000-8000-00000000000a", seed=1),
                      task("00000000-0000-4000-8000-00000000000b", seed=2)])
    assert result.shared == {"taskType": "videoInference", "model": "runware:108@22", "positivePrompt": "A fox",
                             "width": "320", "height": "256", "duration": "5"}
    assert "taskUUID" not in result.differing


def test_a_shared_inline_image_is_shown_as_image():
    result = compare([task(frameImages=[{"inputImage": PNG_A}], seed=1),
                      task(frameImages=[{"inputImage": PNG_A}], seed=2)])
    assert result.shared["frameImages.0.inputImage"] == "image"


def test_long_values_are_cut_in_labels():
    result = compare([task(positivePrompt="x" * 200), task(positivePrompt="y")])
    assert result.label(0, limit=10) == "positivePrompt: xxxxxxxxx…"


@pytest.mark.parametrize("text, expected", [
    ("", []),
    (None, []),
    ("00000000-0000-4000-8000-000000000001,00000000-0000-4000-8000-000000000002",
     ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"]),
    # spaces, upper case, repeats and junk
    (" 00000000-0000-4000-8000-00000000000A , nonsense,00000000-0000-4000-8000-00000000000a,'; drop",
     ["00000000-0000-4000-8000-00000000000a"]),
])
def test_parse_job_ids(text, expected):
    assert parse_job_ids(text) == expected


def test_parse_job_ids_keeps_at_most_six():
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(9)]
    assert parse_job_ids(jobs_param(ids)) == ids[:MAX_JOBS]
