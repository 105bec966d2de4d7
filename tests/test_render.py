"""Tests for the simulator's MP4 renderer (small sizes only, to stay fast)."""

from __future__ import annotations

import io
import os
import struct
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.simulator.render import render_mp4  # noqa: E402

PROMPT = "A red fox trotting through a snowy birch forest at golden hour"
SMALL = dict(prompt=PROMPT, width=320, height=180, duration=1.0, fps=24, seed=7)


def _png(color: tuple[int, int, int], size: tuple[int, int] = (400, 300)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def _render(path: Path, **overrides) -> Path:
    render_mp4(path, **{**SMALL, **overrides})
    return path


def _top_level_boxes(data: bytes) -> list[str]:
    """Types of the top-level ISO-BMFF boxes, in file order."""
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8:offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        boxes.append(kind.decode("latin-1"))
        assert size >= 8, f"corrupt box {kind!r} at {offset}"
        offset += size
    assert offset == len(data), "boxes do not tile the file"
    return boxes


@pytest.mark.parametrize(
    "width, height, duration, fps",
    [(320, 180, 1.0, 24), (180, 320, 0.5, 30), (256, 144, 1.3, 12)],
)
def test_stream_properties(tmp_path, width, height, duration, fps):
    path = _render(tmp_path / "out.mp4", width=width, height=height, duration=duration, fps=fps)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (width, height)
        assert stream.average_rate == fps
        frames = list(container.decode(stream))
    assert len(frames) == round(duration * fps)
    assert all((f.width, f.height) == (width, height) for f in frames)


def test_moov_before_mdat(tmp_path):
    boxes = _top_level_boxes(_render(tmp_path / "out.mp4").read_bytes())
    assert boxes[0] == "ftyp"
    assert "moov" in boxes and "mdat" in boxes
    assert boxes.index("moov") < boxes.index("mdat")


def test_deterministic_and_seed_dependent(tmp_path):
    a = _render(tmp_path / "a.mp4").read_bytes()
    b = _render(tmp_path / "b.mp4").read_bytes()
    c = _render(tmp_path / "c.mp4", seed=8).read_bytes()
    assert a == b
    assert a != c


def test_deterministic_with_images(tmp_path):
    images = dict(first_frame=_png((200, 30, 30)), last_frame=_png((30, 30, 200)))
    a = _render(tmp_path / "a.mp4", **images).read_bytes()
    b = _render(tmp_path / "b.mp4", **images).read_bytes()
    assert a == b


def test_prompt_changes_output(tmp_path):
    a = _render(tmp_path / "a.mp4").read_bytes()
    b = _render(tmp_path / "b.mp4", prompt="A blue whale").read_bytes()
    assert a != b


def test_frames_move(tmp_path):
    path = _render(tmp_path / "out.mp4")
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)]
    assert np.abs(frames[0] - frames[-1]).mean() > 0.5


def _decoded_rgb(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(np.float32) for f in container.decode(video=0)]


def test_first_frame_dominates_start(tmp_path):
    path = _render(tmp_path / "out.mp4", first_frame=_png((220, 20, 20)))
    frame = _decoded_rgb(path)[0]
    # The top half is clear of the caption band; the badge is small.
    r, g, b = frame[: frame.shape[0] // 2].reshape(-1, 3).mean(axis=0)
    assert r > 170 and g < 70 and b < 70, (r, g, b)


def test_last_frame_ends_video(tmp_path):
    path = _render(tmp_path / "out.mp4", first_frame=_png((220, 20, 20)), last_frame=_png((20, 20, 220)))
    frames = _decoded_rgb(path)
    r, g, b = frames[-1][: frames[-1].shape[0] // 2].reshape(-1, 3).mean(axis=0)
    assert b > 170 and r < 70 and g < 70, (r, g, b)


def test_jpeg_first_frame_with_odd_size_and_alpha(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (333, 777), (20, 200, 20)).save(buf, format="JPEG")
    _render(tmp_path / "jpeg.mp4", first_frame=buf.getvalue())
    buf = io.BytesIO()
    Image.new("RGBA", (101, 51), (20, 200, 20, 128)).save(buf, format="WEBP")
    _render(tmp_path / "webp.mp4", first_frame=buf.getvalue())


def test_long_and_empty_prompts_render(tmp_path):
    _render(tmp_path / "long.mp4", prompt="word " * 400 + "x" * 300, duration=0.25)
    _render(tmp_path / "empty.mp4", prompt="   ", duration=0.25)


@pytest.mark.parametrize("width, height", [(321, 180), (320, 181)])
def test_odd_size_raises(tmp_path, width, height):
    with pytest.raises(ValueError):
        _render(tmp_path / "out.mp4", width=width, height=height)
    assert list(tmp_path.iterdir()) == []


def test_bad_image_raises_value_error(tmp_path):
    with pytest.raises(ValueError):
        _render(tmp_path / "out.mp4", first_frame=b"not an image")
    assert list(tmp_path.iterdir()) == []


def test_replaces_existing_file_without_leftovers(tmp_path):
    path = tmp_path / "out.mp4"
    path.write_bytes(b"old")
    _render(path)
    assert path.read_bytes()[4:8] == b"ftyp"
    assert os.listdir(tmp_path) == ["out.mp4"]
