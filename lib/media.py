"""The local media cache: every result video is copied into STUDIO_DATA_DIR/media, so it keeps
playing after Runware's URL expires, and for viewers on other machines.

Videos are served from disk by a small route mounted on Streamlit's own server (st.App routes), with
HTTP range support, instead of st.video(bytes), which would hold every video in server memory.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

ROUTE_PREFIX = "/videos"
_NAME = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-[0-9]{1,2}\.(mp4|webm|mov|jpg)$")
_MIME = {"mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime", "jpg": "image/jpeg"}


def file_name(task_uuid: str, index: int, output_format: str = "MP4") -> str:
    return f"{task_uuid}-{index}.{output_format.lower()}"


def local_path(media_dir: Path, task_uuid: str, index: int, output_format: str = "MP4") -> Path:
    return Path(media_dir) / file_name(task_uuid, index, output_format)


_DOWNLOAD_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}\.(mp4|webm|mov)$")


def download_name(prompt: str, seed, index: int, count: int, suffix: str) -> str:
    """A file name people recognise: the prompt's first words, the seed, and which video of several."""
    words = re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:48].strip("-") or "video"
    parts = [words] + ([f"seed-{seed}"] if isinstance(seed, int) and not isinstance(seed, bool) else [])
    parts += [f"{index + 1}-of-{count}"] if count > 1 else []
    return "-".join(parts)[:80].strip("-") + suffix


def find(media_dir: Path, name: str) -> Path | None:
    """The file a /videos/<name> request may serve: only names the studio writes (videos and their
    posters), only in its folder."""
    if not _NAME.match(name):
        return None
    path = Path(media_dir) / name
    return path if path.is_file() else None


def video_routes(media_dir_of: Callable[[], Path]) -> list[Route]:
    """The /videos/<name> route; `media_dir_of()` says which folder to serve (the runtime's)."""

    async def endpoint(request: Request) -> Response:
        name = request.path_params["name"]
        path = find(media_dir_of(), name)
        if path is None:
            return PlainTextResponse("Not found", status_code=404)
        # Names are taskUUIDs: random, so a link is a capability; the bytes never change once written.
        headers = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
        if request.query_params.get("download"):
            wanted = request.query_params.get("as", "")
            label = wanted if _DOWNLOAD_NAME.match(wanted) and wanted.endswith(path.suffix) else name
            headers["Content-Disposition"] = f'attachment; filename="{label}"'
        return FileResponse(path, media_type=_MIME[path.suffix[1:]], headers=headers)

    return [Route(ROUTE_PREFIX + "/{name}", endpoint, methods=["GET", "HEAD"])]


def video_url(app_url: str | None, base_path: str, name: str) -> str | None:
    """Absolute URL of a served video as the browser sees the app (st.context.url), or None."""
    if not app_url:
        return None
    match = re.match(r"^(https?://[^/]+)", app_url)
    if not match:
        return None
    base = "/" + base_path.strip("/") if base_path.strip("/") else ""
    return f"{match.group(1)}{base}{ROUTE_PREFIX}/{name}"
