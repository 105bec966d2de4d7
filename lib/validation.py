"""Validate one `videoInference` task (the wire form) against the catalog.

The same rules serve the studio (before anything is sent) and the simulator (for payloads from any
Runware client), so both refuse the same things with the same Runware-shaped errors.
"""
from __future__ import annotations

import json
import re
import uuid
from urllib.parse import urlsplit

from .catalog import Catalog, Model, is_air
from .catalog_schema import rule_problems, schema_problems
from .errors import problem
from .labels import label

SEED_MIN, SEED_MAX = 1, 2**63 - 1
TTL_MAX = 7 * 24 * 3600  # a client-side sanity bound: Runware documents only the minimum
JSON_FIELD_MAX_BYTES = 16 * 1024
URL_MAX = 2048
MAX_REFERENCE_IMAGES = 4
GENERIC_AIR = "custom:0@0"  # Catalog.generic_model(): rules for a request whose model is unknown
# Control characters other than tab and newlines: invisible, and NUL breaks many back ends.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and v.is_integer()


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _sizes(model: Model) -> list[str]:
    return [f"{w}x{h}" for w, h in model.sizes]


def _who(model: Model) -> str:
    """The model as a person knows it: its name, as the model picker shows it first."""
    return "this model" if model.air == GENERIC_AIR else model.name


def _frames_text(allowed) -> str:
    if not allowed:
        return "no frame images"
    return f"a frame image only for the {' and '.join(allowed)} frame" + ("s" if len(allowed) > 1 else "")


def _model_message(air) -> str:
    if air is None or (isinstance(air, str) and not air.strip()):
        return "Choose a model, or type a custom model's AIR id (like klingai:5@3)."
    if not is_air(air):
        return (f"\"{air}\" is not a model AIR id: an AIR id looks like provider:id@version, "
                "for example klingai:5@3.")
    return f"\"{air}\" is not a model Runware knows."


def check_http_url(value, parameter: str) -> dict | None:
    code = "invalid" + parameter[0].upper() + parameter[1:]
    name = label(parameter)
    if not isinstance(value, str) or not value.strip():
        return problem(code, parameter, f"{name} must be a web address starting with http:// or https://.")
    if len(value) > URL_MAX or _CONTROL.search(value) or any(c.isspace() for c in value):
        return problem(code, parameter, f"{name} is not a valid web address (no spaces, at most {URL_MAX} characters).")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed or bad [IPv6] host
        return problem(code, parameter, f"{name} is not a valid web address.")
    if parts.scheme not in ("http", "https"):
        return problem(code, parameter, f"{name} must start with http:// or https://.")
    if not host:
        return problem(code, parameter, f"{name} has no host name (like example.com).")
    return None


def _check_prompt(task: dict, name: str, model: Model, required: bool) -> list[dict]:
    code = "invalid" + name[0].upper() + name[1:]
    the = "The " + label(name).lower()
    value = task.get(name)
    if value is None:
        return [problem(code, name, "Write a prompt describing the video.", min=model.prompt_min)] if required else []
    if not isinstance(value, str):
        return [problem(code, name, f"{the} must be text.")]
    if _CONTROL.search(value):
        return [problem(code, name, f"{the} contains invisible control characters (such as NUL); remove them.")]
    length = len(value.strip())
    if required and length < model.prompt_min:
        return [problem(code, name, f"The prompt needs at least {model.prompt_min} characters.",
                        min=model.prompt_min, max=model.prompt_max)]
    if len(value) > model.prompt_max:
        return [problem(code, name, f"{the} is {len(value):,} characters long; {_who(model)} takes at "
                                    f"most {model.prompt_max:,}.", min=model.prompt_min, max=model.prompt_max)]
    return []


def _check_size(task: dict, model: Model) -> list[dict]:
    w, h = task.get("width"), task.get("height")
    if w is None and h is None:
        return []
    for name, v in (("width", w), ("height", h)):
        if not _is_int(v):
            code = "invalid" + name.capitalize()
            return [problem(code, name, "Width and height must be whole numbers of pixels, given together.")]
    w, h = int(w), int(h)
    if model.allows_size(w, h):
        return []
    if model.size_range:
        # Any size in the range is valid (the listed sizes are only presets): say which side is off.
        r = model.size_range
        bad = "width" if not (r.min <= w <= r.max and w % r.multiple == 0) else "height"
        return [problem("invalid" + bad.capitalize(), bad,
                        f"{label(bad)} must be from {r.min} to {r.max} pixels and a multiple of {r.multiple}.",
                        min=r.min, max=r.max, multiple=r.multiple)]
    return [problem("unsupportedDimensions", "width",
                    f"{_who(model)} does not make {w}x{h} videos; choose one of {', '.join(_sizes(model))}.",
                    allowedValues=_sizes(model))]


def _check_duration(task: dict, model: Model) -> list[dict]:
    d = task.get("duration")
    if d is None:
        return []
    if not _is_number(d) or d <= 0:
        return [problem("invalidDuration", "duration", "Duration must be a positive number of seconds.")]
    w, h = task.get("width"), task.get("height")
    size = (int(w), int(h)) if _is_int(w) and _is_int(h) else (None, None)
    if model.allows_duration(d, *size):
        return []
    listed = model.allowed_durations(*size)
    if listed:
        where = f" at {size[0]}x{size[1]}" if size[0] and size in model.size_durations else ""
        return [problem("unsupportedDuration", "duration",
                        f"{_who(model)} makes videos of {', '.join(map(str, listed))} s{where}; {d:g} s is not one.",
                        allowedValues=list(listed))]
    r = model.duration_range
    return [problem("unsupportedDuration", "duration",
                    f"Duration must be whole seconds from {r.min:g} to {r.max:g}.", min=r.min, max=r.max)]


def _check_fps(task: dict, model: Model) -> list[dict]:
    fps = task.get("fps")
    if fps is None:
        return []
    if not _is_int(fps) or fps <= 0:
        return [problem("invalidFPS", "fps", "FPS must be a whole number of frames per second.")]
    if model.allows_fps(int(fps)):
        return []
    if model.fps:
        return [problem("unsupportedFPS", "fps", f"{_who(model)} runs at {' or '.join(map(str, model.fps))} FPS.",
                        allowedValues=list(model.fps))]
    r = model.fps_range
    return [problem("invalidFPS", "fps", f"FPS must be from {r.min:g} to {r.max:g}.", min=r.min, max=r.max)]


def _check_options(task: dict, model: Model) -> list[dict]:
    out = []
    if "seed" in task:
        seed = task["seed"]
        if not model.seed:
            out.append(problem("unsupportedParameter", "seed", f"{_who(model)} does not take a seed."))
        elif not _is_int(seed) or not SEED_MIN <= seed <= SEED_MAX:
            out.append(problem("invalidSeed", "seed", f"The seed must be a whole number from {SEED_MIN} to {SEED_MAX}.",
                               min=SEED_MIN, max=SEED_MAX))
    if "negativePrompt" in task and not model.negative_prompt:
        out.append(problem("unsupportedParameter", "negativePrompt", f"{_who(model)} does not take a negative prompt."))
    else:
        out += _check_prompt(task, "negativePrompt", model, required=False)
    if "CFGScale" in task:
        cfg, r = task["CFGScale"], model.cfg_scale
        if r is None:
            out.append(problem("unsupportedArchitectureCFGScale", "CFGScale", f"{_who(model)} does not take a CFG scale (guidance)."))
        elif not _is_number(cfg) or not r.min <= cfg <= r.max:
            out.append(problem("invalidCFGScale", "CFGScale", f"The CFG scale for {_who(model)} must be from {r.min:g} to {r.max:g}.",
                               min=r.min, max=r.max))
    return out


def _check_output(task: dict, catalog: Catalog) -> list[dict]:
    g, out = catalog.generic, []
    n = task.get("numberResults")
    if n is not None and (not _is_int(n) or not g.number_results.min <= n <= g.number_results.max):
        out.append(problem("invalidNumberResults", "numberResults",
                           f"The number of videos must be from {g.number_results.min:g} to {g.number_results.max:g}.",
                           min=int(g.number_results.min), max=int(g.number_results.max)))
    if task.get("outputType", "URL") != "URL":
        out.append(problem("invalidOutputType", "outputType", "Video results are delivered as a URL.",
                           allowedValues=["URL"]))
    fmt = task.get("outputFormat")
    if fmt is not None and (not isinstance(fmt, str) or fmt.upper() not in g.output_formats):
        out.append(problem("invalidOutputFormat", "outputFormat", f"The format must be one of {', '.join(g.output_formats)}.",
                           allowedValues=list(g.output_formats)))
    q = task.get("outputQuality")
    if q is not None and (not _is_int(q) or not g.output_quality.min <= q <= g.output_quality.max):
        out.append(problem("invalidOutputQuality", "outputQuality",
                           f"Quality must be from {g.output_quality.min:g} to {g.output_quality.max:g}.",
                           min=int(g.output_quality.min), max=int(g.output_quality.max)))
    if task.get("deliveryMethod", "async") != "async":
        out.append(problem("invalidDeliveryMethod", "deliveryMethod",
                           "Videos are always delivered asynchronously.", allowedValues=["async"]))
    ttl = task.get("ttl")
    if ttl is not None and (not _is_int(ttl) or not g.ttl_min <= ttl <= TTL_MAX):
        out.append(problem("invalidTtl", "ttl", f"The result URL lifetime must be whole seconds from {g.ttl_min} to {TTL_MAX:,} (7 days).",
                           min=g.ttl_min, max=TTL_MAX))
    if "includeCost" in task and not isinstance(task["includeCost"], bool):
        out.append(problem("invalidIncludeCost", "includeCost", "Include cost must be on or off."))
    for name in ("webhookURL", "uploadEndpoint"):
        if name in task:
            p = check_http_url(task[name], name)
            out += [p] if p else []
    return out


def _check_images(task: dict, model: Model) -> list[dict]:
    out = []
    frames = task.get("frameImages")
    if frames is None:
        if model.needs_first_frame:
            out.append(problem("invalidFrameImages", "frameImages",
                               f"{_who(model)} makes videos from an image: add a first frame image."))
    elif not isinstance(frames, list) or not 1 <= len(frames) <= 2:
        out.append(problem("invalidFrameImages", "frameImages", "Give one or two frame images (a first and a last)."))
    else:
        positions = []
        for i, item in enumerate(frames):
            image = item.get("inputImage", item.get("image")) if isinstance(item, dict) else None
            if not isinstance(image, str) or not image:
                out.append(problem("invalidFrameImages", "frameImages", f"Frame image {i + 1} has no image."))
                continue
            frame = item.get("frame", "first" if i == 0 else "last")
            positions.append(frame)
            allowed = model.frame_images
            # A frame number is only for custom models; catalog models pin "first"/"last".
            if isinstance(frame, int) and not isinstance(frame, bool):
                supported = model.custom and frame >= 0
            else:
                supported = isinstance(frame, str) and frame in allowed
            if not supported:
                out.append(problem("unsupportedParameter", "frameImages",
                                   f"{_who(model)} takes {_frames_text(allowed)}.",
                                   allowedValues=list(allowed), frame=str(frame)))
        if len(positions) != len(set(map(str, positions))):
            out.append(problem("invalidFrameImages", "frameImages", "Two frame images are for the same frame; keep one."))
        if model.needs_first_frame and "first" not in positions:
            out.append(problem("invalidFrameImages", "frameImages",
                               f"{_who(model)} makes videos from an image: add a first frame image."))
    refs = task.get("referenceImages")
    if refs is not None and (not isinstance(refs, list) or len(refs) > MAX_REFERENCE_IMAGES
                             or not all(isinstance(r, str) and r for r in refs)):
        out.append(problem("invalidReferenceImages", "referenceImages",
                           f"Give at most {MAX_REFERENCE_IMAGES} reference images."))
    return out


def _check_objects(task: dict, model: Model) -> list[dict]:
    out = []
    for name in ("providerSettings", "advancedFeatures", "settings", "safety", "inputs"):
        if name not in task:
            continue
        code = "invalid" + name[0].upper() + name[1:]
        value = task[name]
        if not isinstance(value, dict):
            out.append(problem(code, name, f"{label(name)} must be a JSON object, like {{\"key\": \"value\"}}."))
        elif name != "inputs" and len(json.dumps(value)) > JSON_FIELD_MAX_BYTES:
            out.append(problem(code, name, f"{label(name)} is larger than {JSON_FIELD_MAX_BYTES // 1024} KB."))
        elif name == "providerSettings":
            for key, sub in value.items():
                if not isinstance(sub, dict):
                    out.append(problem(code, name, f"Provider settings: \"{key}\" must hold a JSON object of settings."))
                elif key != model.provider and not model.custom:
                    out.append(problem("unsupportedParameter", name,
                                       f"Provider settings for \"{key}\" do not apply to {_who(model)}; use \"{model.provider}\".",
                                       allowedValues=[model.provider]))
    return out


def _check_model(task: dict, model: Model, catalog: Catalog) -> list[dict]:
    """The hand-written checks (their messages name sizes, durations and limits), then the model's JSON
    Schema and cross-field rules for everything else. A parameter the hand checks already reported is
    not reported again by the schema."""
    out = _check_prompt(task, "positivePrompt", model, required=model.prompt_required)
    out += _check_size(task, model) + _check_duration(task, model) + _check_fps(task, model)
    out += _check_options(task, model) + _check_output(task, catalog) + _check_objects(task, model)
    if model.takes_legacy_images or "frameImages" in task or "referenceImages" in task:
        out += _check_images(task, model)
    seen = {p.get("parameter") for p in out}
    more = [p for p in schema_problems(task, model) + rule_problems(task, model) if p.get("parameter") not in seen]
    # One report per parameter and message: a rule may restate what the schema found.
    unique = {(p.get("parameter"), p["message"]): p for p in more}
    return out + list(unique.values())


def validate_task(task: dict, catalog: Catalog, *, allow_custom: bool = True) -> list[dict]:
    """Every problem with the task, one Runware-shaped item each; empty when it may be sent."""
    if not isinstance(task, dict):
        return [problem("invalidTask", None, "Each task must be a JSON object.")]
    out = []
    task_uuid = task.get("taskUUID")
    try:
        uuid.UUID(str(task_uuid))
    except ValueError:
        out.append(problem("invalidTaskUUID", "taskUUID", "The task id must be a UUID."))
    air = task.get("model")
    model = catalog.get(air) if isinstance(air, str) else None
    if model is None:
        out.append(problem("invalidModel", "model", _model_message(air)))
    elif model.custom and not allow_custom:
        out.append(problem("invalidModel", "model", f"The model {air} is not offered here; choose one from the list.",
                           allowedValues=[m.air for m in catalog]))
        model = None
    if model is None:
        # Without a model the per-model rules cannot run; the prompt can still be checked generically.
        out += _check_prompt(task, "positivePrompt", catalog.generic_model(), required=True)
    else:
        out += _check_model(task, model, catalog)
    for item in out:  # so each error in a batch answer names its task
        item.setdefault("taskType", "videoInference")
        if isinstance(task_uuid, str):
            item.setdefault("taskUUID", task_uuid)
    return out


def normalize_task(task: dict) -> dict:
    """The wire form Runware documents, from the forms the spec's examples use (e.g. "mp4")."""
    out = dict(task)
    if isinstance(out.get("outputFormat"), str):
        out["outputFormat"] = out["outputFormat"].upper()
    return out
