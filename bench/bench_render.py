"""Benchmark the simulator's MP4 renderer at 1080p.

Usage (from the repo root):  python bench/bench_render.py [--reps N]

The speed target is <= ~2 s for 1920x1080, 5 s at 24 fps (hard limit 3 s),
and roughly double that for 10 s.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.simulator.render import render_mp4  # noqa: E402

WIDTH, HEIGHT, FPS = 1920, 1080, 24
PROMPT = ("A majestic red fox trotting through a snowy birch forest at golden hour, "
          "cinematic lighting, shallow depth of field, 35mm film grain")


def _photo_like_jpeg(width: int, height: int, seed: int) -> bytes:
    """A busy synthetic 'photo' (colour bands plus grain): a hard case for the encoder."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    rgb = np.stack(
        [x * 255 + 0 * y, y * 255 + 0 * x, (0.5 + 0.5 * np.sin(20 * x + 10 * y)) * 255], axis=-1
    )
    rgb += rng.normal(0.0, 12.0, rgb.shape).astype(np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions per case (default 3)")
    args = parser.parse_args()

    first = _photo_like_jpeg(2400, 1600, seed=1)
    last = _photo_like_jpeg(1600, 1200, seed=2)
    cases = [
        ("text only", {}),
        ("first frame", {"first_frame": first}),
        ("first+last", {"first_frame": first, "last_frame": last}),
    ]

    print(f"{WIDTH}x{HEIGHT} @ {FPS} fps, {args.reps} reps, {os.cpu_count()} CPUs")
    print(f"{'case':<12} {'duration':>8} {'frames':>6} {'median s':>9} {'min s':>7} {'size KB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, images in cases:
            for duration in (5.0, 10.0):
                out = Path(tmp) / "bench.mp4"
                times = []
                for _ in range(args.reps):
                    start = time.perf_counter()
                    render_mp4(out, prompt=PROMPT, width=WIDTH, height=HEIGHT, duration=duration,
                               fps=FPS, seed=42, **images)
                    times.append(time.perf_counter() - start)
                print(f"{name:<12} {duration:>7.0f}s {round(duration * FPS):>6} "
                      f"{statistics.median(times):>9.2f} {min(times):>7.2f} {out.stat().st_size / 1024:>8.0f}")


if __name__ == "__main__":
    main()
