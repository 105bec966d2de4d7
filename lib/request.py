"""From what a person filled in to the exact `videoInference` task that goes on the wire.

`prepare()` is the only way the studio makes a task: it builds it, leaves out what is unset, turns
uploaded images into data URIs, and validates the result; any problem raises InvalidRequest with one
Runware-shaped item per field, so nothing half-checked is ever sent.
"""
from __future__ import annotations

import base64
import json
import uuid
from dataclasses import asdict, dataclass, field

from .catalog import Catalog, load_catalog
from .errors import InvalidRequest, problem
from .images import ImageRejected, decode_image_ref, to_data_uri
from .labels import label
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
    # The newer request shape: `resolution` instead of width/height, `settings` (newer models' name for
    # provider settings), `safety`, the model's audio switch, and media for `inputs`.
    resolution: str | None = None
    settings: dict | str | None = None
    safety: dict | str | None = None
    audio: bool | None = None
    input_video: bytes | str | None = field(default=None, repr=False)  # URL, data URI, or raw bytes
    input_audio: bytes | str | None = field(default=None, repr=False)
    input_image: bytes | str | None = field(default=None, repr=False)  # inputs.image (avatars)
    # Any other top-level parameter the model's schema lists (steps, lora, speech, ...), by wire name.
    extra: dict = field(default_factory=dict)

    def as_form(self) -> dict:
        """The request's plain values (no image bytes), e.g. to prefill the form for a re-run."""
        values = asdict(self)
        for name in ("first_frame", "last_frame", "reference_images", "input_video", "input_audio", "input_image"):
            values.pop(name)
        return values


# Wire name for each plain field, in the order the spec documents them.
_WIRE = {
    "positive_prompt": "positivePrompt", "negative_prompt": "negativePrompt", "model": "model",
    "duration": "duration", "width": "width", "height": "height", "fps": "fps", "seed": "seed",
    "cfg_scale": "CFGScale", "number_results": "numberResults", "output_type": "outputType",
    "output_format": "outputFormat", "output_quality": "outputQuality",
    "delivery_method": "deliveryMethod", "webhook_url": "webhookURL", "ttl": "ttl",
    "include_cost": "includeCost", "upload_endpoint": "uploadEndpoint", "resolution": "resolution",
}
_OBJECTS = (("provider_settings", "providerSettings"), ("advanced_features", "advancedFeatures"),
            ("settings", "settings"), ("safety", "safety"))


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
                                f"{label(parameter)} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."))
        return None
    # Non-objects are passed on so the validator reports them in its own words.
    return parsed


def _media(value, mime: str) -> str:
    """URLs and data URIs pass as they are; raw bytes become a data URI (audio/video are not sniffed)."""
    if isinstance(value, bytes):
        return f"data:{mime};base64,{base64.b64encode(value).decode('ascii')}"
    return value.strip()


def _set_path(task: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    node = task
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):  # a typed-in settings value that is no object: validation says so
            return
    node[leaf] = value


def build_task(req: VideoRequest, task_uuid: str, *, max_image_bytes: int,
               catalog: Catalog | None = None) -> tuple[dict, list[dict]]:
    """The task in the wire form its model takes, and the problems found while building it (bad JSON,
    bad images). Models of the newer shape get `inputs.*`; the first catalog's models keep the older
    top-level frameImages / referenceImages that their History entries and re-runs use."""
    model = (catalog or load_catalog()).get(req.model) if isinstance(req.model, str) else None
    modern = model is not None and not model.custom and not model.takes_legacy_images
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
    frames_at = "inputs.frameImages" if modern else "frameImages"
    for position, data in (("first", req.first_frame), ("last", req.last_frame)):
        if data is None:
            continue
        try:
            uri = to_data_uri(data, max_image_bytes)
            frames.append({"image": uri, "frame": position} if modern else {"inputImage": uri, "frame": position})
        except ImageRejected as exc:
            problems.append(problem("invalidFrameImages", frames_at, f"{position.capitalize()} frame image: {exc}",
                                    frame=position))
    inputs = {}
    if frames:
        if modern:
            inputs["frameImages"] = frames
        else:
            task["frameImages"] = frames
    refs = []
    refs_at = "inputs.referenceImages" if modern else "referenceImages"
    for i, ref in enumerate(req.reference_images or []):
        try:
            refs.append(ref if isinstance(ref, str) else to_data_uri(ref, max_image_bytes))
        except ImageRejected as exc:
            problems.append(problem("invalidReferenceImages", refs_at, f"Reference image {i + 1}: {exc}"))
    if refs:
        if modern:
            inputs["referenceImages"] = refs
        else:
            task["referenceImages"] = refs
    for name, key, mime in (("input_video", "video", "video/mp4"), ("input_audio", "audio", "audio/mpeg")):
        value = getattr(req, name)
        if value not in (None, "", b""):
            inputs[key] = _media(value, mime)
    if isinstance(req.input_image, bytes):
        try:
            inputs["image"] = to_data_uri(req.input_image, max_image_bytes)
        except ImageRejected as exc:
            problems.append(problem("invalidImage", "inputs.image", f"Input image: {exc}"))
    elif req.input_image not in (None, ""):
        inputs["image"] = req.input_image.strip()
    if inputs:
        task["inputs"] = inputs
    for wire, value in (req.extra or {}).items():
        if value is not None and wire not in task:
            task[wire] = value
    for name, wire in _OBJECTS:
        obj = _json_object(getattr(req, name), wire, problems)
        if obj is None:
            continue
        if wire == "providerSettings" and model is not None and model.settings_field == "settings" \
                and "providerSettings" not in model.fields and req.settings in (None, ""):
            # Newer models call the same object `settings`; a person may still type it as providerSettings.
            wire = "settings"
        task[wire] = obj
    if req.audio is not None and model is not None and model.audio:
        _set_path(task, model.audio, bool(req.audio))
    return normalize_task(task), problems


def prepare(req: VideoRequest, catalog: Catalog, *, max_image_bytes: int, task_uuid: str | None = None) -> dict:
    """A validated task ready to store and send, or InvalidRequest listing every problem."""
    task, problems = build_task(req, task_uuid or str(uuid.uuid4()), max_image_bytes=max_image_bytes,
                                catalog=catalog)
    # Fields that failed to build are absent from the task; don't report them twice.
    failed = {p.get("parameter") for p in problems}
    problems += [p for p in validate_task(task, catalog) if p.get("parameter") not in failed]
    if problems:
        raise InvalidRequest(problems)
    return task


def _short(ref):
    if isinstance(ref, str) and ref.startswith("data:") and "," in ref:
        head, body = ref.split(",", 1)
        return f"{head},<{len(body) * 3 // 4} bytes>"
    return ref


def redact_images(task: dict) -> dict:
    """A copy fit for showing or storing in a table: data URIs shortened to their type and size."""
    out = dict(task)
    if isinstance(out.get("frameImages"), list):
        out["frameImages"] = [{**f, "inputImage": _short(f.get("inputImage"))} if isinstance(f, dict) else f
                              for f in out["frameImages"]]
    if isinstance(out.get("referenceImages"), list):
        out["referenceImages"] = [_short(r) for r in out["referenceImages"]]
    if isinstance(out.get("inputs"), dict):
        out["inputs"] = {key: _redact_input(value) for key, value in out["inputs"].items()}
    return out


def _redact_input(value):
    if isinstance(value, list):
        return [_redact_input(v) for v in value]
    if isinstance(value, dict):
        return {k: _short(v) if k in ("image", "video", "audio") else v for k, v in value.items()}
    return _short(value)


def form_from_task(task: dict) -> tuple[VideoRequest, dict[str, bytes]]:
    """The inverse of build_task, to re-run a job: its plain values and its inline frame images."""
    values = {name: task[wire] for name, wire in _WIRE.items() if wire in task}
    for name, wire in _OBJECTS:
        if wire in task:
            values[name] = json.dumps(task[wire], indent=2)
    inputs = task.get("inputs") if isinstance(task.get("inputs"), dict) else {}
    for name, key in (("input_video", "video"), ("input_audio", "audio"), ("input_image", "image")):
        if isinstance(inputs.get(key), str):
            values[name] = inputs[key]
    refs = inputs.get("referenceImages") or task.get("referenceImages")
    if isinstance(refs, list):
        values["reference_images"] = [r.get("image") if isinstance(r, dict) else r for r in refs]
    frames = {}
    items = [(f.get("inputImage", f.get("image", "")) if isinstance(f, dict) else None, f)
             for f in (task.get("frameImages") or []) + (inputs.get("frameImages") or [])]
    for i, (ref, item) in enumerate(items):
        data = decode_image_ref(ref) if isinstance(ref, str) else None
        if data:
            frames[item.get("frame", "first" if i == 0 else "last")] = data
    known = set(_WIRE.values()) | {wire for _, wire in _OBJECTS} | {
        "taskType", "taskUUID", "inputs", "frameImages", "referenceImages"}
    extra = {k: v for k, v in task.items() if k not in known}
    if extra:
        values["extra"] = extra
    return VideoRequest(**values), frames
