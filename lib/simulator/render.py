"""Render placeholder MP4s for the local Runware video simulator.

The simulator has to hand out real, browser-playable H.264 files quickly, so
the expensive work (Pillow compositing, RGB->YUV conversion, image scaling) is
done once per video, and each frame only does cheap numpy slicing on YUV
planes before it goes to libx264.
"""

from __future__ import annotations

import colorsys
import io
import os
import random
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, ContextManager

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

__all__ = ["render_mp4"]

# x264 settings: ultrafast keeps 1080p well under the speed budget on two cores
# and the mostly static pictures still compress to a few hundred KB at crf 28.
# A fixed thread count keeps the output byte-identical across runs.
_X264_OPTIONS = {"preset": "ultrafast", "crf": "28"}
_X264_THREADS = 2
# Frames prepared ahead of the encoder (each 1080p frame is ~3 MB).
_PREFETCH = 4

# How much larger than the frame the first image is scaled, to leave room to pan.
_PAN_ZOOM = 1.08
# Cross-fade to the last image over at most this many seconds.
_FADE_SECONDS = 1.0

# BT.709 RGB -> (Y, Cb, Cr) before range scaling. The stream is tagged BT.709
# limited range so players do not have to guess the matrix.
_RGB_TO_YCC = np.array(
    [
        [0.2126, 0.7152, 0.0722],
        [-0.114572, -0.385428, 0.5],
        [0.5, -0.454153, -0.045847],
    ],
    dtype=np.float32,
)

_WHITE = (255, 255, 255)
_BLACK = (0, 0, 0)


def render_mp4(
    out_path: str | os.PathLike,
    *,
    prompt: str,
    width: int,
    height: int,
    duration: float,
    fps: int,
    seed: int,
    first_frame: bytes | None = None,
    last_frame: bytes | None = None,
    output_format: str = "MP4",
    progress: Callable[[int], None] | None = None,
    turn: Callable[[], ContextManager] | None = None,
) -> None:
    """Write a deterministic placeholder video to ``out_path``: H.264 in MP4 (default) or MOV, or
    VP8 in WEBM, as Runware's outputFormat asks.

    Without images the video is a seed-coloured card showing the prompt; with
    ``first_frame`` it pans slowly over that image under a prompt caption, and
    with ``last_frame`` it cross-fades to that image at the end. A progress bar
    and a time badge move in every video. The file appears atomically.
    ``progress(frames_done)`` is called after each frame is encoded; ``turn()``, if given, is a
    context manager each frame is encoded inside (a scheduler uses it to take turns between renders).
    """
    n_frames = _validate(width, height, duration, fps)
    rng = random.Random(seed)
    palette = _Palette.from_rng(rng)
    uses_images = first_frame is not None or last_frame is not None

    if first_frame is not None:
        image = _load_cover(first_frame, width, height, _PAN_ZOOM)
        background = _PanBackground(image, width, height, n_frames, rng)
    else:
        card = _draw_card(prompt, width, height, fps, duration, seed, palette, show_prompt=not uses_images)
        background = _StaticBackground(_rgb_to_yuv420(np.asarray(card)))

    fade = None
    if last_frame is not None:
        fade_frames = max(1, min(round(fps * _FADE_SECONDS), n_frames // 3))
        target = _rgb_to_yuv420(np.asarray(_load_cover(last_frame, width, height, 1.0)))
        fade = _Fade(target, n_frames, fade_frames)

    # Over images the prompt goes in a caption band; cards show it large instead.
    caption = None
    if uses_images:
        caption = _Overlay.from_rgba(_draw_caption(prompt, width, height), 0, _caption_top(width, height))
    # Cards get a sliding block as motion; it sits above the caption band if there is one.
    block_floor = _caption_top(width, height) if uses_images else height - _bar_height(width, height)
    decorations = _Decorations(width, height, fps, n_frames, palette,
                               block_floor=block_floor if first_frame is None else None)

    def make_frame(index: int) -> av.VideoFrame:
        buf = background.frame(index)
        planes = _planes(buf, width, height)
        if fade is not None:
            fade.apply(planes, index)
        if caption is not None:
            caption.apply(planes)
        decorations.apply(planes, index)
        frame = av.VideoFrame.from_ndarray(buf, format="yuv420p")
        frame.pts = index
        frame.time_base = Fraction(1, fps)
        return frame

    if output_format.upper() not in _CONTAINERS:
        raise ValueError(f"output_format must be one of {', '.join(_CONTAINERS)}")
    _write_atomically(out_path, width, height, fps, n_frames, make_frame, output_format.upper(), progress, turn)


def _validate(width: int, height: int, duration: float, fps: int) -> int:
    if width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive, got {width}x{height}")
    if width % 2 or height % 2:
        raise ValueError(f"width and height must be even for yuv420p, got {width}x{height}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    n_frames = round(duration * fps)
    if n_frames < 1:
        raise ValueError(f"duration {duration}s at {fps} fps gives no frames")
    return n_frames


# ---------------------------------------------------------------------------
# Encoding


def _write_atomically(out_path: str | os.PathLike, width: int, height: int, fps: int, n_frames: int,
                      make_frame: Callable[[int], av.VideoFrame], output_format: str = "MP4",
                      progress: Callable[[int], None] | None = None,
                      turn: Callable[[], ContextManager] | None = None) -> None:
    # The temp file sits next to the target so os.replace is an atomic rename;
    # it is created by the muxer (not mkstemp) so it gets normal permissions.
    out_path = os.fspath(out_path)
    directory, name = os.path.split(os.path.abspath(out_path))
    tmp_path = os.path.join(directory, f".{name}.{uuid.uuid4().hex}.tmp")
    try:
        _encode(tmp_path, width, height, fps, n_frames, make_frame, output_format, progress, turn)
        os.replace(tmp_path, out_path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise


# outputFormat -> (muxer, muxer options, encoder, encoder options). faststart puts the moov atom
# first so browsers can start playing before the whole file is downloaded. VP8 in realtime mode
# keeps WEBM renders within a few times the H.264 cost.
_CONTAINERS = {
    "MP4": ("mp4", {"movflags": "+faststart"}, "libx264", _X264_OPTIONS),
    "MOV": ("mov", {"movflags": "+faststart"}, "libx264", _X264_OPTIONS),
    "WEBM": ("webm", {}, "libvpx", {"deadline": "realtime", "cpu-used": "8", "b": "2M"}),
}


def _encode(path: str, width: int, height: int, fps: int, n_frames: int,
            make_frame: Callable[[int], av.VideoFrame], output_format: str = "MP4",
            progress: Callable[[int], None] | None = None,
            turn: Callable[[], ContextManager] | None = None) -> None:
    # No creation_time is set, so runs are identical.
    muxer, muxer_options, encoder, encoder_options = _CONTAINERS[output_format]
    with av.open(path, "w", format=muxer, options=muxer_options) as container:
        stream = container.add_stream(encoder, rate=fps, options=encoder_options)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        ctx = stream.codec_context
        ctx.thread_count = _X264_THREADS
        ctx.colorspace = Colorspace.ITU709
        ctx.color_range = ColorRange.MPEG
        ctx.color_primaries = 1  # AVCOL_PRI_BT709
        ctx.color_trc = 1  # AVCOL_TRC_BT709
        # Frames are prepared a few ahead on a worker thread: numpy and x264
        # both release the GIL, so preparation overlaps with encoding. Each
        # frame depends only on its index, so the output stays deterministic.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = deque(pool.submit(make_frame, i) for i in range(min(_PREFETCH, n_frames)))
            for index in range(n_frames):
                frame = pending.popleft().result()
                if index + _PREFETCH < n_frames:
                    pending.append(pool.submit(make_frame, index + _PREFETCH))
                with turn() if turn else nullcontext():
                    container.mux(stream.encode(frame))
                if progress is not None:
                    progress(index + 1)
        container.mux(stream.encode(None))


# ---------------------------------------------------------------------------
# YUV plane helpers


@dataclass
class _Planes:
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray


def _planes(buf: np.ndarray, width: int, height: int) -> _Planes:
    """Views of Y, U and V inside a packed (height*3/2, width) yuv420p buffer."""
    flat = buf.reshape(-1)
    luma = width * height
    chroma = luma // 4
    return _Planes(
        flat[:luma].reshape(height, width),
        flat[luma:luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma:].reshape(height // 2, width // 2),
    )


def _new_buffer(width: int, height: int) -> np.ndarray:
    # A fresh buffer per frame: from_ndarray wraps it without copying, so
    # reusing one buffer would alias frames the encoder may still hold.
    return np.empty((height * 3 // 2, width), dtype=np.uint8)


def _rgb_to_ycc(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Full-resolution Y and 2x2-averaged CbCr, as unclipped float32."""
    f = rgb.astype(np.float32)
    y = 16.0 + (f @ _RGB_TO_YCC[0]) * (219.0 / 255.0)
    # The matrix is linear, so averaging RGB over 2x2 blocks first gives the
    # same chroma for a quarter of the work.
    cbcr = 128.0 + (_quad_mean(f) @ _RGB_TO_YCC[1:].T) * (224.0 / 255.0)
    return y, cbcr


def _quad_mean(a: np.ndarray) -> np.ndarray:
    """Average over 2x2 pixel blocks (strided sums are much faster than mean(axis=...))."""
    return (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]) * 0.25


def _to_u8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def _rgb_to_yuv420(rgb: np.ndarray) -> _Planes:
    y, cbcr = _rgb_to_ycc(rgb)
    return _Planes(_to_u8(y), _to_u8(cbcr[..., 0]), _to_u8(cbcr[..., 1]))


def _rgb_color_to_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    y, cbcr = _rgb_to_ycc(np.full((2, 2, 3), rgb, dtype=np.uint8))
    return int(_to_u8(y[0, 0])), int(_to_u8(cbcr[0, 0, 0])), int(_to_u8(cbcr[0, 0, 1]))


def _fill_rect(planes: _Planes, x0: int, y0: int, x1: int, y1: int, yuv: tuple[int, int, int]) -> None:
    """Fill a rectangle; coordinates must be even so chroma lines up."""
    planes.y[y0:y1, x0:x1] = yuv[0]
    planes.u[y0 // 2:y1 // 2, x0 // 2:x1 // 2] = yuv[1]
    planes.v[y0 // 2:y1 // 2, x0 // 2:x1 // 2] = yuv[2]


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


# ---------------------------------------------------------------------------
# Per-frame layers


@dataclass
class _Palette:
    top: tuple[int, int, int]
    bottom: tuple[int, int, int]
    accent: tuple[int, int, int]

    @classmethod
    def from_rng(cls, rng: random.Random) -> "_Palette":
        hue = rng.random()
        shift = rng.uniform(0.08, 0.25)

        def rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
            return tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(h % 1.0, s, v))

        # Dark backgrounds keep white text readable; the accent is the complement.
        return cls(
            top=rgb(hue, rng.uniform(0.45, 0.75), rng.uniform(0.35, 0.5)),
            bottom=rgb(hue + shift, rng.uniform(0.55, 0.85), rng.uniform(0.12, 0.22)),
            accent=rgb(hue + 0.5, 0.7, 0.95),
        )


class _StaticBackground:
    def __init__(self, planes: _Planes):
        self._packed = np.concatenate([planes.y.ravel(), planes.u.ravel(), planes.v.ravel()])
        self._shape = (planes.y.shape[0] * 3 // 2, planes.y.shape[1])

    def frame(self, index: int) -> np.ndarray:
        return self._packed.reshape(self._shape).copy()


class _PanBackground:
    """Slides a frame-sized window across a slightly larger image.

    Panning is pure slicing, which is what makes 1080p cheap; a per-frame zoom
    would need a resize per frame and blow the time budget.
    """

    def __init__(self, image: Image.Image, width: int, height: int, n_frames: int, rng: random.Random):
        self._big = _rgb_to_yuv420(np.asarray(image))
        self._width, self._height, self._n = width, height, n_frames
        span_x, span_y = image.width - width, image.height - height
        # The seed picks which corner to start from, so pans vary between jobs.
        start_x, start_y = rng.choice([0, span_x]), rng.choice([0, span_y])
        self._start = (start_x, start_y)
        self._end = (span_x - start_x, span_y - start_y)

    def frame(self, index: int) -> np.ndarray:
        t = index / (self._n - 1) if self._n > 1 else 0.0
        t = t * t * (3 - 2 * t)  # ease in and out
        # Even offsets keep the chroma window aligned with the luma window.
        x = int(round((self._start[0] + (self._end[0] - self._start[0]) * t) / 2)) * 2
        y = int(round((self._start[1] + (self._end[1] - self._start[1]) * t) / 2)) * 2
        w, h = self._width, self._height
        buf = _new_buffer(w, h)
        out = _planes(buf, w, h)
        out.y[:] = self._big.y[y:y + h, x:x + w]
        out.u[:] = self._big.u[y // 2:(y + h) // 2, x // 2:(x + w) // 2]
        out.v[:] = self._big.v[y // 2:(y + h) // 2, x // 2:(x + w) // 2]
        return buf


class _Fade:
    """Cross-fades the frame towards the last image over the final frames."""

    def __init__(self, target: _Planes, n_frames: int, fade_frames: int):
        self._target = target
        self._first = n_frames - fade_frames
        self._length = fade_frames

    def apply(self, planes: _Planes, index: int) -> None:
        if index < self._first:
            return
        # Integer weights out of 256; the final frame is exactly the last image.
        weight = round(256 * (index - self._first + 1) / self._length)
        for dst, src in ((planes.y, self._target.y), (planes.u, self._target.u), (planes.v, self._target.v)):
            mixed = dst.astype(np.uint16) * (256 - weight)
            mixed += src.astype(np.uint16) * weight
            dst[:] = mixed >> 8


class _Overlay:
    """A premultiplied RGBA layer converted to YUV, blended with integer maths."""

    def __init__(self, x: int, y: int, alpha: _Planes, premul: _Planes):
        self._x, self._y = x, y
        self._alpha = alpha
        self._premul = premul

    @classmethod
    def from_rgba(cls, image: Image.Image, x: int, y: int) -> "_Overlay":
        rgba = np.asarray(image)
        yf, cbcr = _rgb_to_ycc(rgba[..., :3])
        # Alpha on a 0..256 scale so blending is a shift; the sum
        # value*(256-a) + value*a stays below 2**16.
        a = rgba[..., 3].astype(np.float32) * (256.0 / 255.0)
        a_c = _quad_mean(a)
        a_c = np.rint(a_c).astype(np.uint16)
        alpha = _Planes(np.rint(a).astype(np.uint16), a_c, a_c)
        premul = _Planes(
            np.rint(np.clip(yf, 0, 255) * alpha.y).astype(np.uint16),
            np.rint(np.clip(cbcr[..., 0], 0, 255) * alpha.u).astype(np.uint16),
            np.rint(np.clip(cbcr[..., 1], 0, 255) * alpha.v).astype(np.uint16),
        )
        return cls(x, y, alpha, premul)

    def apply(self, planes: _Planes) -> None:
        for name, div in (("y", 1), ("u", 2), ("v", 2)):
            a = getattr(self._alpha, name)
            x, y = self._x // div, self._y // div
            region = getattr(planes, name)[y:y + a.shape[0], x:x + a.shape[1]]
            mixed = region * (256 - a)
            mixed += getattr(self._premul, name)
            region[:] = mixed >> 8


class _Decorations:
    """The moving parts: progress bar, time badge and (on cards) a sliding block."""

    def __init__(self, width: int, height: int, fps: int, n_frames: int, palette: _Palette,
                 block_floor: int | None):
        self._width, self._height, self._fps, self._n = width, height, fps, n_frames
        unit = _unit(width, height)
        self._accent = _rgb_color_to_yuv(palette.accent)
        self._bar_h = _bar_height(width, height)
        self._block = _even(unit / 18) if block_floor is not None else 0
        self._block_top = (block_floor or 0) - self._block * 2
        self._font = ImageFont.load_default(size=max(10, round(unit / 30)))
        labels = [self._label(i) for i in (0, n_frames - 1)]
        pad = _even(self._font.size * 0.4)
        text_w = max(self._font.getlength(label) for label in labels)
        self._badge_w = min(width, _even(text_w + 2 * pad))
        self._badge_h = min(height, _even(self._font.size * 1.2 + pad))
        self._badge_x = max(0, width - self._badge_w - _even(unit / 40))
        self._badge_y = min(height - self._badge_h, _even(unit / 40))
        self._pad = pad

    def _label(self, index: int) -> str:
        return f"{index / self._fps:5.2f}s  {index + 1}/{self._n}"

    def apply(self, planes: _Planes, index: int) -> None:
        w, h = self._width, self._height
        progress = (index + 1) / self._n
        _fill_rect(planes, 0, h - self._bar_h, _even(w * progress), h, self._accent)

        if self._block:
            # Slide left to right and back once per two seconds.
            phase = (index / self._fps) % 2.0
            travel = 1.0 - abs(1.0 - phase)
            x = int(round(travel * (w - self._block) / 2)) * 2
            top = self._block_top
            _fill_rect(planes, x, top, x + self._block, top + self._block, self._accent)

        badge = Image.new("RGB", (self._badge_w, self._badge_h), _BLACK)
        ImageDraw.Draw(badge).text(
            (self._pad, self._badge_h // 2), self._label(index), font=self._font, fill=_WHITE, anchor="lm"
        )
        yuv = _rgb_to_yuv420(np.asarray(badge))
        bx, by = self._badge_x, self._badge_y
        planes.y[by:by + self._badge_h, bx:bx + self._badge_w] = yuv.y
        planes.u[by // 2:(by + self._badge_h) // 2, bx // 2:(bx + self._badge_w) // 2] = yuv.u
        planes.v[by // 2:(by + self._badge_h) // 2, bx // 2:(bx + self._badge_w) // 2] = yuv.v


# ---------------------------------------------------------------------------
# Pillow drawing (done once per video)


def _load_cover(data: bytes, width: int, height: int, zoom: float) -> Image.Image:
    """Decode image bytes and cover-fit them to (width, height) * zoom, even-sized."""
    target = (_even(width * zoom), _even(height * zoom))
    try:
        image = Image.open(io.BytesIO(data))
        # JPEG can decode at reduced size, which is far cheaper for big photos.
        image.draft("RGB", target)
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError("frame image is not a readable PNG/JPEG/WEBP") from exc
    return ImageOps.fit(image, target, method=Image.Resampling.LANCZOS)


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy word wrap; words wider than a line are split by character.

    Line widths are summed from word widths rather than re-measuring the whole
    line per word, which keeps long prompts cheap (kerning across the joining
    space is ignored; the error is a pixel or two).
    """
    space = font.getlength(" ")
    lines: list[str] = []
    line, line_w = "", 0.0
    for word in text.split():
        for piece in _split_long_word(word, font, max_width):
            piece_w = font.getlength(piece)
            if line and line_w + space + piece_w <= max_width:
                line, line_w = f"{line} {piece}", line_w + space + piece_w
            else:
                if line:
                    lines.append(line)
                line, line_w = piece, piece_w
    if line:
        lines.append(line)
    return lines


def _split_long_word(word: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    if font.getlength(word) <= max_width:
        return [word]
    pieces, piece, piece_w = [], "", 0.0
    for char in word:
        char_w = font.getlength(char)
        if piece and piece_w + char_w > max_width:
            pieces.append(piece)
            piece, piece_w = "", 0.0
        piece, piece_w = piece + char, piece_w + char_w
    return pieces + [piece]


def _fit_text(text: str, max_width: float, max_height: float, size: int, min_size: int,
              spacing: float = 1.25) -> tuple[ImageFont.FreeTypeFont, list[str], int]:
    """Largest font (from ``size`` down) whose wrapped text fits the box.

    If even ``min_size`` overflows, the text is cut and ends with an ellipsis.
    Returns the font, the lines and the line height.
    """
    text = " ".join(text.split()) or "(empty prompt)"
    # Wrapping costs grow with the text, so drop what could never fit even at
    # min_size (assuming glyphs are at least 0.2 em wide).
    lines_at_min = max(1, int(max_height // round(min_size * spacing)))
    text = text[: (int(max_width / (0.2 * min_size)) + 1) * lines_at_min + 1]
    while True:
        font = ImageFont.load_default(size=size)
        line_h = round(size * spacing)
        lines = _wrap(text, font, max_width)
        max_lines = max(1, int(max_height // line_h))
        if len(lines) <= max_lines:
            return font, lines, line_h
        if size <= min_size:
            break
        size = max(min_size, int(size * 0.9))
    lines = lines[:max_lines]
    last = lines[-1]
    while last and font.getlength(last + "…") > max_width:
        last = last[:-1]
    lines[-1] = last.rstrip() + "…"
    return font, lines, line_h


def _draw_lines(draw: ImageDraw.ImageDraw, lines: list[str], font: ImageFont.FreeTypeFont,
                center_x: float, top: float, line_h: int) -> None:
    stroke = max(1, round(font.size / 16))
    for i, line in enumerate(lines):
        draw.text((center_x, top + i * line_h + line_h / 2), line, font=font, fill=_WHITE,
                  anchor="mm", stroke_width=stroke, stroke_fill=_BLACK)


def _draw_card(prompt: str, width: int, height: int, fps: int, duration: float, seed: int,
               palette: _Palette, show_prompt: bool) -> Image.Image:
    """Seed-coloured gradient with a small header and (optionally) the prompt."""
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top = np.array(palette.top, dtype=np.float32)
    bottom = np.array(palette.bottom, dtype=np.float32)
    column = top + (bottom - top) * ramp
    card = Image.fromarray(np.broadcast_to(column, (height, width, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(card)

    unit = _unit(width, height)
    margin = unit / 20
    # The header shares the top row with the time badge, so it gets ~60% of it.
    header = f"Runware simulator · seed {seed} · {width}x{height} · {duration:g}s @ {fps} fps"
    size = max(10, round(unit / 30))
    font, lines, _ = _fit_text(header, width * 0.6, size * 1.25, size=size, min_size=max(8, size // 2))
    draw.text((margin, margin), lines[0], font=font, fill=(220, 220, 220))

    if show_prompt:
        # Leave the top band for header/badge and the bottom for the moving block.
        box_top, box_bottom = height * 0.16, height * 0.78
        font, lines, line_h = _fit_text(prompt, width - 2 * margin, box_bottom - box_top,
                                        size=max(12, round(unit / 13)), min_size=max(10, round(unit / 30)))
        block_h = line_h * len(lines)
        _draw_lines(draw, lines, font, width / 2, box_top + (box_bottom - box_top - block_h) / 2, line_h)
    return card


def _unit(width: int, height: int) -> int:
    # Text and decorations scale with the short side, so a portrait frame gets
    # the same proportions as the equivalent landscape one.
    return min(width, height)


def _bar_height(width: int, height: int) -> int:
    return _even(_unit(width, height) / 90)


def _caption_height(width: int, height: int) -> int:
    # Clamped so that degenerate tiny frames still render (with no band).
    return min(_even(_unit(width, height) * 0.24), height - _bar_height(width, height))


def _caption_top(width: int, height: int) -> int:
    return height - _caption_height(width, height) - _bar_height(width, height)


def _draw_caption(prompt: str, width: int, height: int) -> Image.Image:
    """Semi-transparent band with the prompt, placed just above the progress bar."""
    unit = _unit(width, height)
    band_h = _caption_height(width, height)
    band = Image.new("RGBA", (width, band_h), (0, 0, 0, 140))
    text = Image.new("RGBA", (width, band_h), (0, 0, 0, 0))
    pad = band_h * 0.1
    font, lines, line_h = _fit_text(prompt, width * 0.92, band_h - 2 * pad,
                                    size=max(10, round(unit / 18)), min_size=max(9, round(unit / 32)))
    _draw_lines(ImageDraw.Draw(text), lines, font, width / 2, (band_h - line_h * len(lines)) / 2, line_h)
    return Image.alpha_composite(band, text)
