"""A JSON Schema per catalog model, its cross-field rules, and Runware-shaped errors for both.

The schema comes from the model's request shape in the snapshot (the SDK's types: fields, JSON types,
enums, required) and is checked with `jsonschema`, which reports every error, not just the first. What a
schema cannot say well (allowed width x height pairs, "exactly one of", "not with") is in the model's
`rules` and in lib/validation.py. Compiled validators are cached per model: building one costs far
more than using it.
"""
from __future__ import annotations

import base64
import binascii
import re
import uuid
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker

from .catalog import Model
from .errors import problem
from .labels import label

_TYPE_WORDS = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "object": "a JSON object", "array": "a list"}
# Fields the validator checks by hand for every model (lib/validation.py), listed so the schema knows them.
PLATFORM = ("taskType", "taskUUID", "model", "webhookURL", "includeCost", "routing", "numberResults",
            "uploadEndpoint", "ttl", "outputType", "outputFormat", "outputQuality", "deliveryMethod")
# Every task parameter a Runware video model takes (the SDK's types and the older shape).
KNOWN_FIELDS = frozenset({
    "positivePrompt", "negativePrompt", "duration", "width", "height", "resolution", "fps", "seed", "CFGScale",
    "steps", "lora", "inputs", "settings", "providerSettings", "safety", "speech", "acceleration",
    "acceleratorOptions", "frameImages", "referenceImages", "advancedFeatures", "scheduler", "audioSettings",
})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MEDIA_FORMAT = "runware-media"
FORMATS = FormatChecker()


@FORMATS.checks(MEDIA_FORMAT)
def is_media(value) -> bool:
    """What Runware takes wherever it takes media: an http(s) URL, a data URI, base64 text or a UUID."""
    if not isinstance(value, str):
        return True  # the type keyword reports non-strings
    if value.startswith(("http://", "https://")):
        parts = urlsplit(value)
        return bool(parts.hostname) and not any(c.isspace() for c in value)
    if value.startswith("data:"):
        head, sep, body = value.partition(",")
        return bool(sep) and ";base64" in head and _is_base64(body)
    return bool(_UUID.match(value)) or (len(value) >= 16 and _is_base64(value))


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return bool(text)


MEDIA = {"type": "string", "minLength": 1, "format": MEDIA_FORMAT}


def _items_of(key: str) -> dict:
    """A list of media, each a string or {key: media}."""
    return {"type": "array", "minItems": 1,
            "items": {"anyOf": [MEDIA, {"type": "object", "properties": {key: MEDIA}, "required": [key]}]}}


def _inputs_schema(model: Model) -> dict:
    newer = model.shape == "inputs" or model.custom
    frames = ["first", "last"] if newer else list(model.frame_images)
    # Newer models may pin a frame by number; the first catalog's models only "first"/"last".
    frame = {"anyOf": [{"enum": frames}, {"type": "integer", "minimum": 0}]} if newer else {"enum": frames}
    props = {
        "frameImages": {"type": "array", "minItems": 1, "items": {
            "type": "object", "properties": {"image": MEDIA, "frame": frame},
            "required": ["image"], "additionalProperties": False}},
        "referenceImages": _items_of("image"),
        "referenceVideos": _items_of("video"),
        "image": MEDIA, "video": MEDIA, "audio": MEDIA, "mask": MEDIA,
        "speech": {"type": "object"}, "elements": {"type": "array"}, "videoId": {"type": "string"},
    }
    # Runware adds inputs over time; unknown ones pass here and are Runware's to judge.
    return {"type": "object", "properties": props, "required": list(model.inputs_required)}


def _property(name: str, spec: dict, model: Model) -> dict:
    if name == "inputs":
        return _inputs_schema(model)
    if name == "frameImages":  # the older top-level shape; lib/validation.py checks its items
        return {"type": "array"}
    out = {"type": spec.get("type", "string")} if spec.get("type") else {}
    if "enum" in spec:
        out["enum"] = spec["enum"]
    if name == "seed":
        out.update(minimum=1, maximum=2**63 - 1)
    return out


def request_schema(model: Model) -> dict:
    """The JSON Schema of one videoInference task for this model."""
    props = {name: {} for name in PLATFORM}
    if model.custom:
        props["inputs"] = _inputs_schema(model)
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                "properties": props, "required": ["taskType", "taskUUID", "model"]}
    for name, spec in model.fields.items():
        props[name] = _property(name, spec, model)
    if model.shape == "inputs":
        # A Runware parameter this model does not take is refused; names Runware does not use (yet) pass,
        # so a task written for a newer API is not refused here for that alone.
        for name in KNOWN_FIELDS - set(model.fields):
            props[name] = {"not": {}}
    required = ["taskType", "taskUUID", "model"] + [n for n, s in model.fields.items() if s.get("required")]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": props, "required": required}


_validators: dict[str, Draft202012Validator] = {}


def validator_for(model: Model) -> Draft202012Validator:
    key = model.air
    if key not in _validators:
        _validators[key] = Draft202012Validator(request_schema(model), format_checker=FORMATS)
    return _validators[key]


def parameter_path(parts) -> str:
    """Runware names nested parameters like inputs.frameImages[0].image."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _leaf(parameter: str) -> str:
    return re.sub(r"\[\d+\]", "", parameter).rsplit(".", 1)[-1]


def _code(prefix: str, parameter: str) -> str:
    leaf = _leaf(parameter)
    return prefix + (leaf[0].upper() + leaf[1:] if leaf else "Task")


def _from_error(error, model: Model) -> list[dict]:
    path = list(error.absolute_path)
    parameter = parameter_path(path)
    what = error.validator
    if what == "required":
        missing = [r for r in error.validator_value if isinstance(error.instance, dict) and r not in error.instance]
        return [problem(_code("invalid", p), p, f"{label(p)} is required for {model.name}.")
                for p in (parameter_path(path + [m]) for m in missing)]
    if what == "not":
        return [problem("unsupportedParameter", parameter, f"{label(parameter)} is not a parameter {model.name} takes.")]
    name = label(parameter)
    if what == "enum":
        code = {"duration": "unsupportedDuration", "fps": "unsupportedFPS"}.get(_leaf(parameter))
        allowed = list(error.validator_value)
        return [problem(code or _code("invalid", parameter), parameter,
                        f"{name} for {model.name} must be one of {', '.join(map(str, allowed))}.",
                        allowedValues=allowed)]
    if what == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return [problem(_code("invalid", parameter), parameter,
                        f"{name} must be {' or '.join(_TYPE_WORDS.get(k, k) for k in kinds)}.")]
    if what in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        low, high = error.schema.get("minimum"), error.schema.get("maximum")
        span = f"from {low} to {high}" if low is not None and high is not None else (
            f"at least {low}" if low is not None else f"at most {high}")
        return [problem(_code("invalid", parameter), parameter, f"{name} must be {span}.", min=low, max=high)]
    if what in ("minItems", "maxItems", "minLength", "maxLength"):
        key = "min" if what.startswith("min") else "max"
        unit = "item" if what.endswith("Items") else "character"
        return [problem(_code("invalid", parameter), parameter,
                        f"{name} needs {'at least' if key == 'min' else 'at most'} {error.validator_value} {unit}(s).",
                        **{key: error.validator_value})]
    if what == "format" or (what == "anyOf" and any(s.get("format") == MEDIA_FORMAT for s in error.validator_value)):
        return [problem(_code("invalid", parameter), parameter,
                        f"{name} must be an http(s) URL, a data URI, base64 text or a UUID.")]
    if what == "anyOf" and _leaf(parameter) == "frame":
        return [problem("invalidFrameImages", parameter, "A frame image's frame must be \"first\", \"last\" or a frame number.",
                        allowedValues=["first", "last"])]
    return [problem(_code("invalid", parameter), parameter, f"{name} is not valid for {model.name}: {error.message}")]


def schema_problems(task: dict, model: Model) -> list[dict]:
    """Every schema error in the task, each at its parameter, in a stable order."""
    errors = sorted(validator_for(model).iter_errors(task), key=lambda e: [str(p) for p in e.absolute_path])
    return [p for e in errors for p in _from_error(e, model)]


# -- cross-field rules ------------------------------------------------------------------------------------

_ABSENT = object()


def lookup(task: dict, dotted: str):
    value = task
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return _ABSENT
        value = value[key]
    return value


def present(task: dict, dotted: str) -> bool:
    value = lookup(task, dotted)
    return value is not _ABSENT and value is not None and value != [] and value != ""


def _names(fields) -> str:
    return " and ".join(label(f) for f in fields)


def rule_problems(task: dict, model: Model) -> list[dict]:
    """The cross-field rules Runware's docs state for the model ("Compatibility & Validation")."""
    out = []
    for rule in model.rules:
        kind = rule["kind"]
        if rule.get("unless") and present(task, rule["unless"]):
            continue
        if kind == "one_of":
            groups = rule["groups"]
            given = [g for g in groups if any(present(task, f) for f in g)]
            options = " or ".join(_names(g) for g in groups)
            if not given:
                first = groups[0][0]
                out.append(problem(_code("invalid", first), first, f"{model.name} needs {options}."))
            elif rule.get("exactly") and len(given) > 1:
                second = given[1][0]
                out.append(problem("unsupportedParameter", second,
                                   f"{model.name} takes exactly one of {options}, not both."))
        elif kind == "not_with":
            field = rule["field"]
            clash = [o for o in rule["others"] if present(task, o)]
            if present(task, field) and clash:
                out.append(problem("unsupportedParameter", field,
                                   f"{label(field)} cannot be used with {_names(clash)} on {model.name}."))
        elif kind == "when" and present(task, rule["if_present"]):
            cause = label(rule["if_present"])
            for f in rule.get("absent", []):
                if present(task, f):
                    out.append(problem("unsupportedParameter", f,
                                       f"{label(f)} cannot be used when {cause} is given ({model.name})."))
            for f in rule.get("present", []):
                if not present(task, f):
                    out.append(problem(_code("invalid", f), f, f"{label(f)} is required when {cause} is given."))
            for f, allowed in rule.get("values", {}).items():
                if lookup(task, f) not in allowed:
                    out.append(problem(_code("unsupported" if f == "duration" else "invalid", f), f,
                                       f"With {cause}, {label(f)} must be {' or '.join(map(str, allowed))}.",
                                       allowedValues=list(allowed)))
    return out


# -- examples ----------------------------------------------------------------------------------------------

PLACEHOLDER_MEDIA = {
    "image": "https://example.com/frame.png",
    "video": "https://example.com/clip.mp4",
    "audio": "https://example.com/voice.mp3",
}


def example_task(model: Model, media: dict | None = None) -> dict:
    """A small task the model takes: its required fields, placeholder media for required inputs, and a
    size or frame image where its rules ask for one. Used by tests, and handy as a starting point."""
    media = {**PLACEHOLDER_MEDIA, **(media or {})}
    task = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "model": model.air}
    if model.takes("positivePrompt"):
        task["positivePrompt"] = "A lighthouse on a cliff at dusk, waves below, slow aerial pan"
    inputs = {}
    for key in model.inputs_required:
        inputs[key] = [{"image": media["image"], "frame": "first"}] if key == "frameImages" else media.get(key, media["image"])
    if inputs:
        task["inputs"] = inputs
    if model.takes_legacy_images and model.needs_first_frame:
        task["frameImages"] = [{"inputImage": media["image"], "frame": "first"}]
    wants_size = model.sizes or model.fields.get("width", {}).get("required") or any(
        r["kind"] == "one_of" and not any(present(task, f) for g in r["groups"] for f in g) and ["width", "height"] in r["groups"]
        for r in model.rules)
    if model.takes("width") and wants_size and not ("frameImages" in inputs and _exactly_frames_or_size(model)):
        task["width"], task["height"] = model.default_size
    if model.takes("duration") and (model.durations or model.fields.get("duration", {}).get("required")):
        task["duration"] = model.default_duration
    for rule in model.rules:
        if rule["kind"] == "one_of" and not any(present(task, f) for g in rule["groups"] for f in g):
            if rule["groups"][0] == ["inputs.frameImages"]:
                task.setdefault("inputs", {})["frameImages"] = [{"image": media["image"], "frame": "first"}]
    return task


def _exactly_frames_or_size(model: Model) -> bool:
    return any(r["kind"] == "one_of" and r.get("exactly") and ["width", "height"] in r["groups"] for r in model.rules)
