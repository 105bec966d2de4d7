"""Poster thumbnails: a video's first frame as a small JPEG, made once when the video is downloaded, so
a gallery of many videos shows still images instead of loading a player per tile."""
from __future__ import annotations

import logging
from pathlib import Path

import av

log = logging.getLogger(__name__)

MAX_WIDTH = 480
QUALITY = 80


def poster_name(video_name: str) -> str:
    """`<task_uuid>-<i>.mp4` -> `<task_uuid>-<i>.jpg`."""
    return video_name.rsplit(".", 1)[0] + ".jpg"


def make_poster(video: Path, max_width: int = MAX_WIDTH) -> Path | None:
    """Write the first frame of `video` beside it as a JPEG at most `max_width` wide; its path, or None
    when that fails (a poster is a nicety: a bad video must not fail a download)."""
    dest = video.with_name(poster_name(video.name))
    part = dest.with_name(dest.name + ".part")
    try:
        with av.open(str(video)) as container:
            image = next(container.decode(video=0)).to_image()
        if image.width > max_width:
            image = image.resize((max_width, max(1, round(image.height * max_width / image.width))))
        image.convert("RGB").save(part, "JPEG", quality=QUALITY)
        part.replace(dest)
    # The video came from a server: whatever decoding or writing its frame raises, the download stands.
    except Exception as exc:  # noqa: BLE001
        log.info("no poster for %s: %s", video.name, exc)
        part.unlink(missing_ok=True)
        return None
    return dest
