"""The Generate form as pure code: which controls a model gets, how values carry over when the model
changes, and how the form's values become a `VideoRequest` (and then a validated task).

The page (pages/generate.py) only draws what `layout(model)` lists and hands its session state here
as a plain mapping of widget key -> value, so every rule of the form is testable without Streamlit.
Common settings have hand-made controls; every other parameter a model's schema lists is a
`Control` drawn from its type (enum, boolean, number, text, JSON object or list).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from . import pricing
from .catalog import Catalog, Model, Range, SizeRange
from .catalog_schema import PLATFORM
from .labels import label as field_label
from .errors import InvalidRequest, problem
from .request import VideoRequest, build_task, prepare
from .validation import SEED_MAX, SEED_MIN

CUSTOM = "custom"
DEFAULT_MODEL = "klingai:5@3"
# Parameters the form draws by hand (they need more than their JSON type to be pleasant: sizes that
# go together, uploads, a seed beyond a browser's number range, ...).
HAND_MADE = frozenset({
    "positivePrompt", "negativePrompt", "width", "height", "resolution", "duration", "fps", "seed",
    "CFGScale", "inputs", "frameImages", "referenceImages",
})
# Object parameters keep the widget keys they always had (tests, re-runs and habits use them).
OBJECT_KEYS = {"providerSettings": "f_provider", "advancedFeatures": "f_advanced"}
JSON_KINDS = ("json_object", "json_list")  # controls whose value is typed as JSON text
# Objects VideoRequest carries by name (lib/request.py parses their JSON and reports it at the field).
REQUEST_OBJECTS = {"providerSettings": "provider_settings", "advancedFeatures": "advanced_features",
                   "settings": "settings", "safety": "safety"}
MEDIA = ("image", "video", "audio")  # the order they are shown: a face or a clip, then the voice
CAPABILITIES = ("text", "image", "video", "audio", "avatar")
# Capability word in the picker -> the catalog's capability names.
_CAPABILITY_NAMES = {"text": ("text-to-video",), "image": ("image-to-video",),
                     "video": ("video-to-video", "lip-sync"), "audio": ("audio",), "avatar": ("avatar",)}
# Retirement dates where lib/catalog_facts.toml or the curated catalog states them (none do today:
# e.g. Sora 2, retired 2026-09-24, is not in the catalog). Keyed by AIR -> a short note.
DEPRECATED: dict[str, str] = {}
FALLBACK_DURATION = 5  # for a model that takes any length: a usual clip, not the range's 1 s


@dataclass(frozen=True)
class Control:
    """One schema-drawn control: `kind` is select, toggle, slider, number, text, json_object or json_list."""
    name: str
    key: str
    kind: str
    label: str
    options: tuple = ()
    min: float | None = None
    max: float | None = None
    integer: bool = False
    required: bool = False


@dataclass(frozen=True)
class Layout:
    """Everything the page needs to draw one model's form; derived once per model."""
    sizes: tuple[tuple[int, int], ...]  # the size select; empty when the model takes no size
    size_range: SizeRange | None  # width and height typed in (a custom model): any size in the range
    resolutions: tuple[str, ...]  # the resolution select (only when there is no size select)
    durations: tuple[int, ...]  # listed durations (the first size's); empty: a range or none
    duration_range: Range | None  # when the model takes any whole number of seconds in a range
    fps: tuple[int, ...]
    fps_range: Range | None
    send_fps: bool
    prompt: bool
    negative: bool
    seed: bool
    cfg: Range | None
    cfg_default: float
    frames: tuple[str, ...]  # frame images offered: "first", "last"
    frame_required: bool
    references: bool
    media: tuple[str, ...]  # inputs offered as a URL or an upload: video, audio, image
    media_required: tuple[str, ...]
    audio: bool  # the model has an audio on/off switch
    controls: tuple[Control, ...]

    @property
    def takes_duration(self) -> bool:
        return bool(self.durations) or self.duration_range is not None


class _ByModel:
    """Hashable handle for caching by model: its AIR, and the object itself so a refreshed catalog's
    model (same AIR, new facts) is derived afresh instead of served stale."""
    __slots__ = ("model",)

    def __init__(self, model: Model):
        self.model = model

    def __hash__(self):
        return hash(self.model.air)

    def __eq__(self, other):
        return isinstance(other, _ByModel) and other.model is self.model


def layout(model: Model) -> Layout:
    return _layout(_ByModel(model))


@lru_cache(maxsize=512)
def _layout(handle: _ByModel) -> Layout:
    m = handle.model
    takes_size = m.takes("width") and m.takes("height")
    size_range = m.size_range if m.custom and takes_size else None
    if m.sizes and takes_size:
        sizes = m.sizes
    elif size_range:
        sizes = ()  # nothing is known of a custom model's sizes: any the API allows, typed in
    elif takes_size and not m.resolutions and (m.fields.get("width", {}).get("required") or any(
            r["kind"] == "one_of" and ["width", "height"] in r["groups"] for r in m.rules)):
        # The model needs a size (or a frame image) but the docs list none: the catalog's default.
        sizes = (m.default_size,)
    else:
        sizes = ()
    resolutions = m.resolutions if not sizes and not size_range and m.takes("resolution") else ()
    takes_duration = m.takes("duration")
    durations = m.allowed_durations(*sizes[0]) if takes_duration and sizes else (m.durations if takes_duration else ())
    fps = m.fps if m.takes("fps") else ()
    media_required = tuple(k for k in MEDIA if k in m.inputs_required)
    media = media_required
    if m.takes_inputs and not m.takes_legacy_images and "video-to-video" in m.capabilities and "video" not in media:
        media += ("video",)
    frames = m.frame_images if (m.takes("frameImages") or m.takes_inputs) and (
        "image-to-video" in m.capabilities or m.custom or "frameImages" in m.inputs_required) else ()
    cfg = m.cfg_scale if m.takes("CFGScale") else None
    return Layout(
        sizes=tuple(sizes), size_range=size_range, resolutions=tuple(resolutions),
        durations=tuple(durations),
        duration_range=m.duration_range if takes_duration and not durations else None,
        fps=tuple(fps), fps_range=m.fps_range if m.takes("fps") and not fps else None,
        send_fps=m.takes("fps") and len(m.fps) != 1,
        prompt=m.takes("positivePrompt"), negative=m.negative_prompt and m.takes("negativePrompt"),
        seed=m.seed and m.takes("seed"), cfg=cfg,
        cfg_default=float(m.cfg_default if m.cfg_default is not None else (cfg.min if cfg else 0)),
        frames=tuple(frames), frame_required=m.needs_first_frame and bool(frames),
        references=m.takes("referenceImages") and not m.custom,
        media=media, media_required=media_required, audio=bool(m.audio) and not m.custom,
        controls=schema_controls(m),
    )


def schema_controls(model: Model) -> tuple[Control, ...]:
    """A control for every parameter the model's schema lists that the form does not draw by hand."""
    if model.custom:
        # Nothing is known about a custom model: its objects are free JSON, as before.
        return tuple(_control(name, {"type": "object"}) for name in ("providerSettings", "advancedFeatures"))
    out = []
    for name, spec in sorted(model.fields.items()):
        if name in HAND_MADE or name in PLATFORM:
            continue
        out.append(_control(name, spec))
    return tuple(out)


def _control(name: str, spec: dict) -> Control:
    key = OBJECT_KEYS.get(name, f"f_x_{name}")
    kind_of = spec.get("type")
    types = kind_of if isinstance(kind_of, list) else [kind_of]
    required = bool(spec.get("required"))
    text = field_label(name)
    if "enum" in spec:
        return Control(name, key, "select", text, tuple(spec["enum"]), required=required)
    if "boolean" in types:
        return Control(name, key, "toggle", text, required=required)
    if "integer" in types or "number" in types:
        low, high = spec.get("minimum"), spec.get("maximum")
        bounded = low is not None and high is not None
        return Control(name, key, "slider" if bounded else "number", text, min=low, max=high,
                       integer="integer" in types, required=required)
    if "array" in types:
        return Control(name, key, "json_list", f"{text} (JSON list)", required=required)
    if "object" in types or kind_of is None:
        return Control(name, key, "json_object", f"{text} (JSON)", required=required)
    return Control(name, key, "text", text, required=required)


# -- defaults and switching models ---------------------------------------------------------------------

# Widget keys holding plain values (file uploads are not: Streamlit lets no code set those).
VALUE_KEYS = ("f_prompt", "f_negative", "f_size", "f_width", "f_height", "f_resolution", "f_duration", "f_fps", "f_seed_on", "f_seed",
              "f_cfg_on", "f_cfg", "f_results", "f_format", "f_quality", "f_audio", "f_webhook", "f_ttl",
              "f_cost", "f_provider", "f_advanced", "f_upload", "f_in_video", "f_in_audio", "f_in_image")


def value_keys(state: Mapping) -> list[str]:
    return [k for k in state if k in VALUE_KEYS or str(k).startswith("f_x_")]


GENERIC_DEFAULTS = {"f_results": 1, "f_quality": 95, "f_ttl": 0, "f_cost": True, "f_seed": "1",
                    "f_format": "MP4", "f_seed_on": False, "f_cfg_on": False, "f_audio": False}


def default_duration(model: Model, lay: Layout) -> int:
    if lay.durations:
        return lay.durations[0]
    r = lay.duration_range or model.duration_range
    if r and r.min <= FALLBACK_DURATION <= r.max:
        return FALLBACK_DURATION
    return model.default_duration


def default_resolution(lay: Layout) -> str:
    """720p where offered (quick and cheap, yet a real video), else the model's first."""
    return next((r for r in ("720p", "1080p") if r in lay.resolutions), lay.resolutions[0])


def fit(model: Model, state: Mapping, *, switching: bool = False) -> tuple[dict, list[str]]:
    """Values to put in the form so every widget holds one the model allows, and (when `switching`
    from another model) what was dropped or changed, in words. A value the model allows is kept."""
    lay = layout(model)
    updates = {k: v for k, v in GENERIC_DEFAULTS.items() if k not in state}
    notes: list[str] = []

    def change(key, value, note):
        if switching and key in state and state[key] not in (None, "") and note:
            notes.append(note)
        updates[key] = value

    size = state.get("f_size")
    if lay.sizes:
        if size not in lay.sizes:
            change("f_size", lay.sizes[0], size and f"size {_size_text(size)} (now {_size_text(lay.sizes[0])})")
        size = updates.get("f_size", size)
    elif lay.size_range:
        _fit_size_range(model, lay.size_range, state, size, updates)
    elif switching and size and not lay.resolutions:
        notes.append(f"size {_size_text(size)} (this model picks its own)")
    if lay.resolutions:
        res = state.get("f_resolution")
        if res not in lay.resolutions:
            # Carry a size over as its resolution where the model has it (1920x1080 -> 1080p).
            wanted = f"{min(size)}p" if isinstance(size, tuple) else None
            pick = wanted if wanted in lay.resolutions else default_resolution(lay)
            change("f_resolution", pick, res and f"resolution {res} (now {pick})")
    duration = state.get("f_duration")
    if lay.takes_duration:
        allowed = model.allowed_durations(*size) if isinstance(size, tuple) and lay.sizes else lay.durations
        ok = duration in allowed if allowed else (
            isinstance(duration, (int, float)) and lay.duration_range.min <= duration <= lay.duration_range.max)
        if not ok:
            pick = allowed[0] if allowed else default_duration(model, lay)
            change("f_duration", pick, duration and f"duration {duration:g} s (now {pick} s)")
    elif switching and duration:
        notes.append("duration (this model sets its own length)")
    fps = state.get("f_fps")
    if lay.fps or lay.fps_range:
        if not model.allows_fps(fps or 0):
            change("f_fps", model.default_fps, fps and f"{fps} fps (now {model.default_fps})")
    if lay.cfg:
        cfg = state.get("f_cfg")
        if not isinstance(cfg, (int, float)) or not lay.cfg.min <= cfg <= lay.cfg.max:
            change("f_cfg", lay.cfg_default,
                   state.get("f_cfg_on") and cfg is not None and f"CFG scale {cfg:g} (now {lay.cfg_default:g})")
    if switching:
        notes += _dropped(lay, state)
    return updates, notes


def _fit_size_range(model: Model, r: SizeRange, state: Mapping, size, updates: dict) -> None:
    """Typed-in width and height: kept when within the range (one off the grid is kept too, for
    validation to explain), else the size the form had (from a size list) when it fits the range, else
    the model's default size."""
    def fits(v):
        return isinstance(v, int) and not isinstance(v, bool) and r.min <= v <= r.max
    if fits(state.get("f_width")) and fits(state.get("f_height")):
        return
    w, h = size if isinstance(size, tuple) and all(map(fits, size)) else model.default_size
    updates["f_width"], updates["f_height"] = w, h


def _dropped(lay: Layout, state: Mapping) -> list[str]:
    """Values set for the previous model that this one does not take at all."""
    out = []
    if state.get("f_negative") and not lay.negative:
        out.append("negative prompt")
    if state.get("f_seed_on") and not lay.seed:
        out.append("fixed seed")
    if state.get("f_cfg_on") and not lay.cfg:
        out.append("CFG scale")
    if state.get("f_audio") and not lay.audio:
        out.append("audio")
    for position in ("first", "last"):
        if state.get(f"f_{position}_frame") is not None and position not in lay.frames:
            out.append(f"{position} frame image")
    for kind in MEDIA:
        if state.get(f"f_in_{kind}") and kind not in lay.media:
            out.append(f"input {kind}")
    taken = {c.key for c in lay.controls}
    for key, value in state.items():
        if key.startswith("f_x_") and key not in taken and value not in (None, "", False):
            out.append(key[4:])
    for name, key in OBJECT_KEYS.items():
        if state.get(key) and key not in taken:
            out.append(name)
    return out


def _size_text(size) -> str:
    return f"{size[0]}x{size[1]}" if isinstance(size, (tuple, list)) and len(size) == 2 else str(size)


# -- parsing what people type ---------------------------------------------------------------------------

def parse_seed(text) -> tuple[int | None, str | None]:
    """A seed typed as text (seeds reach 2^63-1, beyond a browser's numbers): the number, or a message
    saying what is wrong. Only ASCII digits count: "²" is a digit to Python, not to Runware."""
    raw = "" if text is None else str(text)
    value = raw.strip()
    if not value:
        return None, "Type a seed (a whole number), or turn off Fixed seed."
    digits = value[1:] if value[0] in "+-" else value
    if not (digits.isascii() and digits.isdigit()):
        return None, f"The seed must be a whole number from {SEED_MIN} to {SEED_MAX}; {value!r} is not."
    number = int(value)
    if not SEED_MIN <= number <= SEED_MAX:
        return None, f"The seed must be from {SEED_MIN} to {SEED_MAX}; {number} is not."
    return number, None


def parse_json(text, name: str, kind: str = "object") -> tuple[object, str | None]:
    """JSON typed in a text area: the object (or list) or a message. Empty means "not given"."""
    if text is None or isinstance(text, (dict, list)):
        return text or None, None
    value = str(text).strip()
    if not value:
        return None, None
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        return None, f"{field_label(name)} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
    want = dict if kind == "object" else list
    if not isinstance(parsed, want):
        return None, f"{field_label(name)} must be a JSON {'object' if want is dict else 'list'}, like " + (
            '{"key": "value"}.' if want is dict else '[{"key": "value"}].')
    return parsed, None


# -- form -> request ------------------------------------------------------------------------------------

@dataclass
class Uploads:
    """Bytes from the file widgets (or a re-run's frames): kept apart from the plain state. A video or
    audio may also be a short text naming the upload, for a preview that need not read it."""
    first: bytes | None = None
    last: bytes | None = None
    references: tuple = ()
    video: bytes | str | None = None
    audio: bytes | str | None = None
    image: bytes | None = None


def model_air(model: Model, state: Mapping) -> str:
    if state.get("f_model") == CUSTOM:
        return str(state.get("f_custom_air") or "").strip()
    return model.air


def request_from_state(model: Model, state: Mapping, uploads: Uploads | None = None
                       ) -> tuple[VideoRequest, list[dict]]:
    """The request the form describes, and the problems only the form can see (a seed that is no
    number, JSON that is no object); everything else is for validation to judge."""
    up = uploads or Uploads()
    lay = layout(model)
    problems: list[dict] = []
    size = state.get("f_size") if lay.sizes else None
    if size is not None and size not in lay.sizes:
        size = lay.sizes[0]
    if lay.size_range and state.get("f_width") is not None and state.get("f_height") is not None:
        size = (int(state["f_width"]), int(state["f_height"]))  # validation judges the range
    seed = None
    if lay.seed and state.get("f_seed_on"):
        seed, message = parse_seed(state.get("f_seed"))
        if message:
            problems.append(problem("invalidSeed", "seed", message))
    media = {}
    for kind in lay.media:
        data = getattr(up, kind)
        media[kind] = data if data else (str(state.get(f"f_in_{kind}") or "").strip() or None)
        if media[kind] is None and kind in lay.media_required:
            # Said at the input's own field, not as "inputs is required" for the whole object.
            problems.append(problem(f"invalid{kind.capitalize()}", f"inputs.{kind}",
                                    f"{model.name} needs an input {kind}: give its URL or upload it."))
    first = up.first if "first" in lay.frames else None
    last = up.last if "last" in lay.frames else None
    req = VideoRequest(
        positive_prompt=state.get("f_prompt", "") if lay.prompt else "",
        model=model_air(model, state),
        negative_prompt=state.get("f_negative") or None if lay.negative else None,
        duration=state.get("f_duration") if lay.takes_duration else None,
        width=size[0] if size else None, height=size[1] if size else None,
        resolution=state.get("f_resolution") if lay.resolutions else None,
        fps=state.get("f_fps") if lay.send_fps else None,
        seed=seed,
        cfg_scale=state.get("f_cfg") if lay.cfg and state.get("f_cfg_on") else None,
        number_results=state.get("f_results", 1), output_format=state.get("f_format", "MP4"),
        output_quality=state.get("f_quality"), webhook_url=state.get("f_webhook"),
        ttl=state.get("f_ttl") or None, include_cost=True if state.get("f_cost") else None,
        upload_endpoint=state.get("f_upload"),
        first_frame=first, last_frame=last,
        reference_images=list(up.references) if lay.references else [],
        input_video=media.get("video"), input_audio=media.get("audio"), input_image=media.get("image"),
    )
    extra = {}
    for control in lay.controls:
        value = state.get(control.key)
        if control.name in REQUEST_OBJECTS:
            # Passed as typed: lib/request.py reports bad JSON, validation a non-object, at the field.
            setattr(req, REQUEST_OBJECTS[control.name], value)
            continue
        value, message = _control_value(control, value)
        if message:
            problems.append(problem("invalid" + control.name[0].upper() + control.name[1:], control.name, message))
        elif value is not None:
            extra[control.name] = value
    req.extra = extra
    req.audio = _audio(model, lay, state, req)
    _apply_rules(model, req)
    return req, problems


def _control_value(control: Control, value):
    if control.kind in JSON_KINDS:
        return parse_json(value, control.name, "object" if control.kind == "json_object" else "list")
    if control.kind == "select":
        return (None if value in (None, "") else value), None
    if control.kind == "toggle":
        # Off is sent only where the schema requires the field: otherwise the model's default stands.
        return (True if value else (False if control.required else None)), None
    if control.kind in ("slider", "number"):
        if value is None:
            return None, None
        return (int(value) if control.integer else float(value)), None
    text = str(value or "").strip()
    return (text or None), None


def _audio(model: Model, lay: Layout, state: Mapping, req: VideoRequest) -> bool | None:
    """The audio switch: sent either way where the model has one (its price depends on it), except
    where the docs say the switch must not go with what the request has (an input audio track)."""
    if not lay.audio:
        return None
    for rule in model.rules:
        if rule["kind"] == "not_with" and model.audio in rule["others"] and _has(req, rule["field"]):
            return None
        if rule["kind"] == "not_with" and model.audio.startswith(rule["field"] + ".") and any(
                _has(req, o) for o in rule["others"]):
            return None
    return bool(state.get("f_audio"))


def _has(req: VideoRequest, dotted: str) -> bool:
    """Whether the request will carry a parameter the rules name."""
    if dotted in ("inputs.frameImages", "frameImages"):
        return req.first_frame is not None or req.last_frame is not None
    if dotted.startswith("inputs."):
        return getattr(req, "input_" + dotted[7:], None) not in (None, "", b"")
    attr = {"width": "width", "height": "height", "resolution": "resolution", "seed": "seed",
            "positivePrompt": "positive_prompt", "duration": "duration"}.get(dotted)
    return attr is not None and getattr(req, attr) not in (None, "")


def _apply_rules(model: Model, req: VideoRequest) -> None:
    """The docs' cross-field rules the form can follow by itself: with a frame image, models that take
    "a frame image or a size" get the frame (and the size's resolution where they take one); with an
    input video, Veo leaves out what the video decides."""
    for rule in model.rules:
        if rule.get("unless") and _has(req, rule["unless"]):
            continue
        if rule["kind"] == "one_of" and rule.get("exactly") and ["width", "height"] in rule["groups"] \
                and any(_has(req, f) for g in rule["groups"] if g != ["width", "height"] for f in g):
            if req.width and model.takes("resolution") and f"{min(req.width, req.height)}p" in model.resolutions:
                req.resolution = f"{min(req.width, req.height)}p"
            req.width = req.height = None
        elif rule["kind"] == "when" and _has(req, rule["if_present"]):
            for name in rule.get("absent", []):
                if name in ("width", "height", "resolution", "seed"):
                    setattr(req, name, None)


def prepare_state(model: Model, state: Mapping, catalog: Catalog, *, max_image_bytes: int,
                  uploads: Uploads | None = None) -> dict:
    """The validated task the form describes, or InvalidRequest with the form's and validation's
    problems (one per field: a field the form already refused is not reported twice)."""
    req, problems = request_from_state(model, state, uploads)
    try:
        task = prepare(req, catalog, max_image_bytes=max_image_bytes)
    except InvalidRequest as exc:
        seen = {p.get("parameter") for p in problems}
        if any(str(p).startswith("inputs.") for p in seen):
            seen.add("inputs")
        raise InvalidRequest(problems + [p for p in exc.problems if p.get("parameter") not in seen]) from None
    if problems:
        raise InvalidRequest(problems)
    return task


# -- price ----------------------------------------------------------------------------------------------

def estimate(model: Model, req: VideoRequest) -> pricing.Estimate:
    """The list price of the request the form describes."""
    size = (req.width, req.height) if req.width and req.height else (
        model.resolution_size(req.resolution) if req.resolution else None)
    if size is None and len(model.sizes) == 1:
        size = model.sizes[0]
    duration = req.duration
    if duration is None and len(model.durations) == 1:
        duration = model.durations[0]  # a model with one length bills that length
    return pricing.estimate(model, duration=duration, pixels=size[0] * size[1] if size else None,
                            audio=bool(req.audio), input_video=req.input_video not in (None, "", b""),
                            number_results=req.number_results or 1)


# -- the model picker -----------------------------------------------------------------------------------

def capability_words(model: Model) -> tuple[str, ...]:
    """The picker's words for what a model takes: text, image, video, audio, avatar."""
    return tuple(w for w in CAPABILITIES if any(c in model.capabilities for c in _CAPABILITY_NAMES[w]))


def deprecation(model: Model) -> str | None:
    return DEPRECATED.get(model.air)


def matches(model: Model, query: str, capabilities=()) -> bool:
    """Search by name, provider and AIR (every word must match), and by capability (all must)."""
    words = str(query or "").lower().split()
    hay = f"{model.name} {model.provider} {model.air} {' '.join(capability_words(model))}".lower()
    return all(w in hay for w in words) and all(c in capability_words(model) for c in capabilities)


def picker_order(catalog: Catalog) -> tuple[str, ...]:
    """AIR ids grouped by provider (providers A-Z, models by name); deprecated ones last in a group."""
    return tuple(m.air for m in sorted(catalog, key=lambda m: (m.provider, bool(deprecation(m)), m.name.lower())))


def default_model(catalog: Catalog) -> str:
    """klingai:5@3 unless the catalog lacks it or marks it retired; then the first model offered."""
    if catalog.known(DEFAULT_MODEL) and not deprecation(catalog.get(DEFAULT_MODEL)):
        return DEFAULT_MODEL
    return next((m.air for m in catalog if not deprecation(m)), next(iter(catalog)).air)
