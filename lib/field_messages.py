"""Which of the Generate form's messages still hold. A message found on Generate is about the values
the form had then: once its field changes, it is stale and goes (Generate checks everything again).
Uploaded images are checked the moment they arrive, with the same words Generate would use.

Pure code over the page's session state (a mapping of widget key -> value), like lib/form.py.
"""
from __future__ import annotations

import re
from typing import Mapping

from .catalog import Catalog
from .request import VideoRequest, build_task

_FRAMES = ("f_first_frame", "f_last_frame", "prefill_frames")
_REFS = ("f_refs", "prefill_refs")
_SIZE = ("f_size", "f_width", "f_height")
_MEDIA = {kind: (f"f_in_{kind}", f"f_in_{kind}_file") for kind in ("image", "video", "audio")}
# Request parameter -> the widget keys whose values make it. A parameter not listed here is a
# schema-drawn control's (`f_x_<name>`, lib/form.py).
WIDGET_KEYS: dict[str, tuple[str, ...]] = {
    "model": ("f_model", "f_custom_air"),
    "positivePrompt": ("f_prompt",), "negativePrompt": ("f_negative",),
    "width": _SIZE, "height": _SIZE, "resolution": ("f_resolution",),
    "duration": ("f_duration",) + _SIZE + ("f_resolution",), "fps": ("f_fps",),
    "seed": ("f_seed", "f_seed_on"), "CFGScale": ("f_cfg", "f_cfg_on"),
    "numberResults": ("f_results",), "outputFormat": ("f_format",), "outputQuality": ("f_quality",),
    "webhookURL": ("f_webhook",), "ttl": ("f_ttl",), "includeCost": ("f_cost",), "uploadEndpoint": ("f_upload",),
    "providerSettings": ("f_provider",), "advancedFeatures": ("f_advanced",),
    "frameImages": _FRAMES, "inputs.frameImages": _FRAMES,
    "referenceImages": _REFS, "inputs.referenceImages": _REFS,
    **{f"inputs.{kind}": keys for kind, keys in _MEDIA.items()},
    "inputs": _FRAMES + _REFS + tuple(k for keys in _MEDIA.values() for k in keys),
}
_INDEX = re.compile(r"\[\d+\]")


def widget_keys(parameter: str | None) -> tuple[str, ...]:
    """The widget keys behind a parameter; a nested one ("inputs.frameImages[0].image") is its
    nearest listed parent's. Nothing for a message about the whole request."""
    if not parameter:
        return ()
    path = _INDEX.sub("", parameter)
    while True:
        if path in WIDGET_KEYS:
            return WIDGET_KEYS[path]
        if "." not in path:
            return (f"f_x_{path}",)
        path = path.rsplit(".", 1)[0]


def _fingerprint(value):
    """Something to compare a widget's value by: an upload by its file id (the same file uploaded
    again is a change too), image bytes by size and hash, containers item by item."""
    if hasattr(value, "file_id"):
        return ("upload", value.file_id)
    if isinstance(value, (bytes, bytearray)):
        return ("bytes", len(value), hash(bytes(value)))
    if isinstance(value, (list, tuple)):
        return tuple(_fingerprint(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _fingerprint(v)) for k, v in value.items()))
    return repr(value)


def snapshot(state: Mapping) -> dict:
    """What each form widget holds now, to tell later whether it changed."""
    return {str(k): _fingerprint(v) for k, v in state.items()
            if str(k).startswith("f_") or k in ("prefill_frames", "prefill_refs")}


def still_current(problems: list[dict], then: Mapping, now: Mapping) -> list[dict]:
    """The problems whose fields hold what they held when the problems were found (`then`, a
    snapshot); a problem about a field that changed since is dropped."""
    return [p for p in problems if all(then.get(k) == now.get(k) for k in widget_keys(p.get("parameter")))]


def upload_problems(air: str, *, first: bytes | None = None, last: bytes | None = None,
                    references=(), image: bytes | None = None, catalog: Catalog, max_image_bytes: int) -> list[dict]:
    """What is wrong with the uploaded images (not an image, too big, corrupt), in the words and at the
    parameters Generate would report, so a message shown at upload and one from Generate are the same."""
    req = VideoRequest(model=air, first_frame=first, last_frame=last, reference_images=list(references),
                       input_image=image)
    _, problems = build_task(req, "upload-check", max_image_bytes=max_image_bytes, catalog=catalog)
    return [p for p in problems if str(p.get("parameter", "")).split(".")[-1]
            in ("frameImages", "referenceImages", "image")]
