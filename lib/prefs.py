"""What a browser keeps for itself: the Generate form's draft (in the page's URL, `?draft=`) and the
user's defaults (model, format, quality; in a cookie). Both come back from the browser, so both are
user-controlled input: everything read back is checked against the catalog and plain types, and
whatever does not fit (an unknown model, a wrong type, an oversized value) is dropped, field by field.

Uploaded files are not part of a draft: they cannot live in a URL. Nor are the places results are
sent to (a webhook URL, an upload endpoint) part of a draft in a link: such URLs often carry a secret,
and a crafted link could quietly send someone's results elsewhere. Only the session's own copy keeps them.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import zlib
from dataclasses import dataclass
from typing import Mapping

from . import form as F
from .catalog import Catalog, Model, is_air

DRAFT_PARAM = "draft"
DEFAULTS_COOKIE = "studio_defaults"
_VERSION = "1"
# A draft rides in every request line of the page (servers refuse very long ones: Tornado's limit is
# 64 KB): past this, compressed, it is not kept in the URL.
MAX_DRAFT_CHARS = 8_000
MAX_DRAFT_JSON = 64_000  # decompressed; a bound against a crafted "zip bomb" in the link
MAX_COOKIE_CHARS = 512
MAX_TEXT = 20_000  # prompts and JSON settings
MAX_SHORT = 2_000  # URLs
# Where results go: kept in the session's own copy of a draft, never in (or taken from) a link.
DESTINATIONS = frozenset({"f_webhook", "f_upload"})
QUALITY = (20, 99)  # the Quality slider's range on Generate
RESULTS = (1, 4)  # the Number of videos box on Generate


# -- checks for one value ----------------------------------------------------------------------------

def _text(limit: int):
    def check(value):
        return value if isinstance(value, str) and len(value) <= limit else None
    return check


def _flag(value):
    return value if isinstance(value, bool) else None


def _whole(low: int, high: int):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return None
        if value != int(value) or not low <= value <= high:
            return None
        return int(value)
    return check


def _real(low: float, high: float):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return None
        return float(value) if low <= value <= high else None
    return check


def _size(value):
    if isinstance(value, (list, tuple)) and len(value) == 2:
        w, h = (_whole(1, 20_000)(v) for v in value)
        if w and h:
            return (w, h)
    return None


def _duration(value):
    """Whole seconds as the widgets hold them (a select of ints, or an int box)."""
    return _whole(1, 3_600)(value)


# Widget key -> check. Keys of model settings (f_x_<name>) are checked against the model's controls.
_FIELDS = {
    "f_custom_air": _text(200),
    "f_prompt": _text(MAX_TEXT), "f_negative": _text(MAX_TEXT),
    "f_size": _size, "f_width": _whole(1, 20_000), "f_height": _whole(1, 20_000), "f_resolution": _text(20),
    "f_duration": _duration, "f_fps": _whole(1, 240),
    "f_seed_on": _flag, "f_seed": _text(40), "f_cfg_on": _flag, "f_cfg": _real(-1_000, 1_000),
    "f_results": _whole(*RESULTS), "f_quality": _whole(*QUALITY), "f_audio": _flag,
    "f_webhook": _text(MAX_SHORT), "f_ttl": _whole(0, 10_000_000), "f_cost": _flag,
    "f_provider": _text(MAX_TEXT), "f_advanced": _text(MAX_TEXT), "f_upload": _text(MAX_SHORT),
    "f_in_video": _text(MAX_SHORT), "f_in_audio": _text(MAX_SHORT), "f_in_image": _text(MAX_SHORT),
}


# -- the draft ------------------------------------------------------------------------------------------

def draft_values(state: Mapping, *, session_copy: bool = False) -> dict:
    """The form's plain values worth keeping, JSON-ready (files are not: they cannot go in a URL; the
    results' destinations only in the session's own copy)."""
    out = {}
    if isinstance(state.get("f_model"), str):
        out["f_model"] = state["f_model"]
    for key, value in state.items():
        if key not in _FIELDS and key != "f_format" and not str(key).startswith("f_x_"):
            continue
        if key in DESTINATIONS and not session_copy:
            continue
        if isinstance(value, (dict, list)) and key in ("f_provider", "f_advanced"):
            value = json.dumps(value)  # a re-run fills these as objects; the text area shows JSON text
        if isinstance(value, tuple):
            value = list(value)
        if value is None or isinstance(value, (str, bool, int, float, list)):
            out[key] = value
    return out


def encode_draft(state: Mapping, *, session_copy: bool = False) -> str | None:
    """The draft as one URL-safe word, or None when it is empty or too long for a URL."""
    values = {k: v for k, v in draft_values(state, session_copy=session_copy).items() if v is not None}
    if not values:
        return None
    return _pack(values, MAX_DRAFT_CHARS)


def decode_draft(text, catalog: Catalog, *, session_copy: bool = False) -> dict:
    """Widget key -> value for every field of a draft that checks out; {} for anything unreadable. A
    draft from a link sets no destination for results (see DESTINATIONS)."""
    raw = _unpack(text, MAX_DRAFT_CHARS, MAX_DRAFT_JSON)
    if not isinstance(raw, dict):
        return {}
    out = {}
    model = raw.get("f_model")
    if model == F.CUSTOM or (isinstance(model, str) and catalog.known(model)):
        out["f_model"] = model
    for key, check in _FIELDS.items():
        if key in raw and (session_copy or key not in DESTINATIONS):
            value = check(raw[key])
            if value is not None:
                out[key] = value
    if raw.get("f_format") in catalog.generic.output_formats:
        out["f_format"] = raw["f_format"]
    if out.get("f_model") == F.CUSTOM and not is_air(str(out.get("f_custom_air", "")).strip()):
        out.pop("f_model")
        out.pop("f_custom_air", None)
    chosen = _model_of(out, catalog)
    if chosen is not None:
        out.update(_extras(raw, chosen))
    return out


def _model_of(values: Mapping, catalog: Catalog) -> Model | None:
    if values.get("f_model") == F.CUSTOM:
        return catalog.get(values["f_custom_air"].strip())
    return catalog.get(values["f_model"]) if "f_model" in values else None


def _extras(raw: Mapping, model: Model) -> dict:
    """Values of the model's schema-drawn settings, each checked against its control."""
    controls = {c.key: c for c in F.layout(model).controls}
    out = {}
    for key, value in raw.items():
        control = controls.get(key)
        if control is None:
            continue
        checked = _control_value(control, value)
        if checked is not None:
            out[key] = checked
    return out


def _control_value(control: F.Control, value):
    if control.kind == "select":
        return value if value == "" or value in control.options else None
    if control.kind == "toggle":
        return _flag(value)
    if control.kind in ("slider", "number"):
        low = control.min if control.min is not None else -1e15
        high = control.max if control.max is not None else 1e15
        return _whole(int(math.ceil(low)), int(high))(value) if control.integer else _real(low, high)(value)
    return _text(MAX_TEXT)(value)


# -- the user's defaults -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Defaults:
    """What a user wants a fresh form to start with; None leaves the app's own default."""
    model: str | None = None
    format: str | None = None
    quality: int | None = None

    def form_values(self) -> dict:
        """Widget key -> value for the Generate form."""
        return {k: v for k, v in (("f_model", self.model), ("f_format", self.format),
                                  ("f_quality", self.quality)) if v is not None}

    def __bool__(self) -> bool:
        return bool(self.form_values())


def check_defaults(catalog: Catalog, *, model=None, format=None, quality=None) -> Defaults:
    """Defaults with every value the catalog and the form accept; the others dropped."""
    model = model if isinstance(model, str) and catalog.known(model) else None
    format = format if isinstance(format, str) and format in catalog.generic.output_formats else None
    return Defaults(model=model, format=format, quality=_whole(*QUALITY)(quality))


def encode_defaults(defaults: Defaults) -> str | None:
    """The defaults as a cookie value (URL-safe characters only), or None when there are none."""
    values = {k: v for k, v in (("model", defaults.model), ("format", defaults.format),
                                ("quality", defaults.quality)) if v is not None}
    return _pack(values, MAX_COOKIE_CHARS) if values else None


def decode_defaults(text, catalog: Catalog) -> Defaults:
    raw = _unpack(text, MAX_COOKIE_CHARS, MAX_COOKIE_CHARS * 4)
    if not isinstance(raw, dict):
        return Defaults()
    return check_defaults(catalog, model=raw.get("model"), format=raw.get("format"), quality=raw.get("quality"))


# -- the envelope: "1." + base64url(zlib(JSON)) ----------------------------------------------------------

def _pack(values: dict, limit: int) -> str | None:
    data = json.dumps(values, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
    word = f"{_VERSION}." + base64.urlsafe_b64encode(zlib.compress(data, 9)).decode().rstrip("=")
    return word if len(word) <= limit else None


def _unpack(text, limit: int, max_json: int):
    """The JSON value inside a packed word, or None when it is not one of ours (or too big)."""
    if not isinstance(text, str) or len(text) > limit or not text.startswith(f"{_VERSION}."):
        return None
    body = text[len(_VERSION) + 1:]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj()
        data = inflater.decompress(packed, max_json)
        if inflater.unconsumed_tail or not inflater.eof:
            return None  # larger than any draft we write, or cut short
        return json.loads(data.decode())
    except (binascii.Error, ValueError, zlib.error, UnicodeDecodeError, RecursionError):
        return None
