"""From what a person filled in to the exact `videoInference` task that goes on the wire.

`prepare()` is the only way the studio makes a task: it builds it, leaves out what is unset, turns
uploaded images into data URIs, and validates the result; any problem raises InvalidRequest with one
Runware-shaped item per field, so nothing half-checked is ever sent.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field

from .catalog import Catalog
from .errors import InvalidRequest, problem
from .images import ImageRejected, decode_image_ref, to_data_uri
from .validation import normalize_task, validate_task


@dataclass
class VideoRequest:
    positive_prompt: str = ""
    model: str = ""
    negative_prompt: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fps: int | None = None
    seed: int | None = None
    cfg_scale: float | None = None
    number_results: int | None = None
    output_type: str | None = "URL"
    output_format: str | None = "MP4"
    output_quality: int | None = None
    delivery_method: str = "async"
    webhook_url: str | None = None
    ttl: int | None = None
    include_cost: bool | None = None
    # Image bytes as uploaded; they become data URIs in the task.
    first_frame: bytes | None = field(default=None, repr=False)
    last_frame: bytes | None = field(default=None, repr=False)
    reference_images: list = field(default_factory=list, repr=False)
    # Objects, as a dict or as the JSON text a person typed.
    provider_settings: dict | str | None = None
    advanced_features: dict | str | None = None
    upload_endpoint: str | None = None

    def as_form(self) -> dict:
        """The request's plain values (no image bytes), e.g. to prefill the form for a re-run."""
        values = asdict(self)
        for name in ("first_frame", "last_frame", "reference_images"):
            values.pop(name)
        return values


# Wire name for each plain field, in the order the spec documents them.
_WIRE = {
    "positive_prompt": "positivePrompt", "negative_prompt": "negativePrompt", "model": "model",
    "duration": "duration", "width": "width", "height": "height", "fps": "fps", "seed": "seed",
    "cfg_scale": "CFGScale", "number_results": "numberResults", "output_type": "outputType",
    "output_format": "outputFormat", "output_quality": "outputQuality",
    "delivery_method": "deliveryMethod", "webhook_url": "webhookURL", "ttl": "ttl",
    "include_cost": "includeCost", "upload_endpoint": "uploadEndpoint",
}


def _json_object(value, parameter: str, problems: list) -> dict | None:
    if value is None or isinstance(value, dict):
        return value or None
    text = str(value).strip()
    if not text:
        return None
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        problems.append(problem("invalid" + parameter[0].upper() + parameter[1:], parameter,
                                f"{parameter} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."))
        return None
    # Non-objects are passed on so the validator reports them in its own words.
    return parsed


def build_task(req: VideoRequest, task_uuid: str, *, max_image_bytes: int) -> tuple[dict, list[dict]]:
    """The task and the problems found while building it (bad JSON, bad images)."""
    problems: list[dict] = []
    task = {"taskType": "videoInference", "taskUUID": task_uuid}
    for name, wire in _WIRE.items():
        value = getattr(req, name)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            continue
        task[wire] = value
    frames = []
    for position, data in (("first", req.first_frame), ("last", req.last_frame)):
        if data is None:
            continue
        try:
            frames.append({"inputImage": to_data_uri(data, max_image_bytes), "frame": position})
        except ImageRejected as exc:
            problems.append(problem("invalidFrameImages", "frameImages", f"{position.capitalize()} frame: {exc}",
                                    frame=position))
    if frames:
        task["frameImages"] = frames
    refs = []
    for i, ref in enumerate(req.reference_images or []):
        try:
            refs.append(ref if isinstance(ref, str) else to_data_uri(ref, max_image_bytes))
        except ImageRejected as exc:
            problems.append(problem("invalidReferenceImages", "referenceImages", f"Reference image {i + 1}: {exc}"))
    if refs:
        task["referenceImages"] = refs
    for name, wire in (("provider_settings", "providerSettings"), ("advanced_features", "advancedFeatures")):
        obj = _json_object(getattr(req, name), wire, problems)
        if obj is not None:
            task[wire] = obj
    return normalize_task(task), problems


def prepare(req: VideoRequest, catalog: Catalog, *, max_image_bytes: int, task_uuid: str | None = None) -> dict:
    """A validated task ready to store and send, or InvalidRequest listing every problem."""
    task, problems = build_task(req, task_uuid or str(uuid.uuid4()), max_image_bytes=max_image_bytes)
    # Fields that failed to build are absent from the task; don't report them twice.
    failed = {p.get("parameter") for p in problems}
    problems += [p for p in validate_task(task, catalog) if p.get("parameter") not in failed]
    if problems:
        raise InvalidRequest(problems)
    return task


def redact_images(task: dict) -> dict:
    """A copy fit for showing or storing in a table: data URIs shortened to their type and size."""
    def short(ref):
        if isinstance(ref, str) and ref.startswith("data:") and "," in ref:
            head, body = ref.split(",", 1)
            return f"{head},<{len(body) * 3 // 4} bytes>"
        return ref
    out = dict(task)
    if "frameImages" in out:
        out["frameImages"] = [{**f, "inputImage": short(f.get("inputImage"))} if isinstance(f, dict) else f
                              for f in out["frameImages"]]
    if "referenceImages" in out and isinstance(out["referenceImages"], list):
        out["referenceImages"] = [short(r) for r in out["referenceImages"]]
    return out


def form_from_task(task: dict) -> tuple[VideoRequest, dict[str, bytes]]:
    """The inverse of build_task, to re-run a job: its plain values and its inline frame images."""
    values = {name: task[wire] for name, wire in _WIRE.items() if wire in task}
    for name, wire in (("provider_settings", "providerSettings"), ("advanced_features", "advancedFeatures")):
        if wire in task:
            values[name] = json.dumps(task[wire], indent=2)
    frames = {}
    for i, item in enumerate(task.get("frameImages") or []):
        data = decode_image_ref(item.get("inputImage", "")) if isinstance(item, dict) else None
        if data:
            frames[item.get("frame", "first" if i == 0 else "last")] = data
    return VideoRequest(**values), frames
