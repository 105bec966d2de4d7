"""The simulator's limits: what one request, one key/workspace ("owner") and the whole simulator may
ask of it. A hosted demo shares one simulator among anonymous visitors, so every bound here exists to
keep one visitor from starving, crashing or flooding the others. Defaults fit the catalog's models at
their normal sizes; tests and `python -m lib.simulator` flags can change them."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

# The header the app sends to name the workspace a request comes from. In demo mode every workspace
# shares one API key, so the key alone cannot tell visitors apart.
WORKSPACE_HEADER = "X-Studio-Workspace"
MAX_WORKSPACE_LENGTH = 128

# VP8 (WEBM) takes about twice the CPU of H.264 per pixel here (bench/bench_render.py).
FORMAT_WEIGHT = {"MP4": 1.0, "MOV": 1.0, "WEBM": 2.0}


@dataclass
class Limits:
    # -- one request ----------------------------------------------------------------------------------
    max_body_bytes: int = 32 * 2**20        # two 10 MB frame images travel inline as base64
    max_json_items: int = 100_000          # JSON containers + commas: bounds parse memory and depth
    max_tasks_per_request: int = 256       # any task type (one poll may ask for every pending task)
    max_submits_per_request: int = 10      # videoInference tasks in one request
    max_request_cost: float = 8_000.0      # render cost of one request, in megapixel-frames
    max_errors_per_answer: int = 100
    max_answer_bytes: int = 4 * 2**20
    # -- one owner (API key + workspace) --------------------------------------------------------------
    max_pending_tasks: int = 100           # accepted and not yet finished
    max_pending_cost: float = 20_000.0     # render cost of those, megapixel-frames
    # -- the whole simulator --------------------------------------------------------------------------
    max_total_pending_tasks: int = 2_000
    max_total_pending_cost: float = 100_000.0
    max_tasks_kept: int = 20_000           # tasks remembered (and journalled); the oldest are dropped
    task_retention: float = 7 * 24 * 3600.0  # seconds a task is remembered, across restarts too
    # -- connections ----------------------------------------------------------------------------------
    max_connections: int = 64
    header_timeout: float = 10.0           # request line and headers, including keep-alive idle time
    body_timeout: float = 30.0             # the whole body
    large_body_bytes: int = 2**20          # bodies above this size...
    max_large_bodies: int = 4              # ...are read and parsed at most this many at once
    # -- rendering ------------------------------------------------------------------------------------
    render_slots: int = 16                 # renders started at once (they take turns frame by frame)
    renders_per_owner: int = 2             # of which one owner may hold

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def render_cost(task: dict, default_size: tuple[int, int], default_duration: float, default_fps: int) -> float:
    """Megapixel-frames a task asks to render: width x height x duration x fps x results x format weight."""
    width = task.get("width") or default_size[0]
    height = task.get("height") or default_size[1]
    duration = task.get("duration") or default_duration
    fps = task.get("fps") or default_fps
    results = task.get("numberResults") or 1
    weight = FORMAT_WEIGHT.get(str(task.get("outputFormat", "MP4")).upper(), 2.0)
    return width * height * duration * fps * results * weight / 1e6


def owner_id(key: str, workspace: str | None) -> str:
    """Who a task belongs to for limits and fair turns: a digest, so neither key nor workspace is kept."""
    return hashlib.sha256(f"{key}\0{workspace or ''}".encode()).hexdigest()[:16]


def workspace_hint(value: str | None) -> str | None:
    """The workspace header, if it is a sane label (anything else counts as no hint)."""
    if not value or len(value) > MAX_WORKSPACE_LENGTH or not value.isprintable():
        return None
    return value
