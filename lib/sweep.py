"""Sweeps: one Generate form, many jobs. The form's current state is the base; each axis (prompts,
models, seeds, durations, sizes or resolutions, model settings) lists values to try, and the grid is
every combination of them.

Each cell is fitted to its model the way the form fits a model switch (lib/form.py's `fit`), except
that a value the model does not allow moves to its *nearest* allowed value (7 s on a 5-or-10 s model
is 5 s, 1280x720 on a 1080p-only model is 1920x1080), and what was moved or dropped is said per cell.
Cells that come out as the same task are merged, so nothing is paid for twice. Nothing here touches
Streamlit or the network: the page draws a `Plan` and queues its tasks.
"""
from __future__ import annotations

import itertools
import json
import math
import random
import re
import uuid
from dataclasses import dataclass, replace
from typing import Mapping

from . import form as F
from . import pricing, spend
from .catalog import Catalog, Model
from .errors import InvalidRequest, problem
from .request import build_task
from .validation import SEED_MIN

MAX_CELLS = 100
# Random seeds stay within 32 bits: some providers take no larger seed, and short ones are easier to
# read back from the grid.
RANDOM_SEED_MAX = 2**31 - 1
# Settings a sweep may vary besides the schema-drawn controls: the form draws these by hand.
HAND_SETTINGS = {"audio": "Audio", "fps": "FPS", "CFGScale": "CFG scale"}
_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}
_SIZE = re.compile(r"^(\d{2,5})\s*[x×]\s*(\d{2,5})$", re.I)
_RESOLUTION = re.compile(r"^(\d{3,4})p$|^([248])k$", re.I)
_AXIS_NAMES = ("prompt", "model", "seed", "duration", "size")  # in grid order; settings come after
# The form's keys a cell starts from (uploads are handed over as bytes, apart).
_CARRIED = tuple(F.VALUE_KEYS) + ("f_model", "f_custom_air", "f_first_frame", "f_last_frame")


# -- the axes ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Axes:
    """What to vary; an empty axis keeps the form's value."""
    prompts: tuple[str, ...] = ()
    models: tuple[str, ...] = ()  # AIR ids
    seeds: tuple[int, ...] = ()
    durations: tuple[float, ...] = ()
    sizes: tuple = ()  # (width, height) pairs and resolution names ("720p"), mixed as typed
    settings: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (setting name, values as typed)

    def lengths(self) -> list[tuple[str, int]]:
        """(axis, how many values) for every axis that varies something."""
        named = list(zip(_AXIS_NAMES, map(len, (self.prompts, self.models, self.seeds, self.durations,
                                                    self.sizes))))
        named += [(name, len(values)) for name, values in self.settings]
        return [(name, n) for name, n in named if n]

    def count(self) -> int:
        return math.prod(n for _, n in self.lengths())

    def spec(self) -> dict:
        """The axes as plain JSON, kept with the sweep so it can be read back and run again."""
        return {"prompts": list(self.prompts), "models": list(self.models), "seeds": list(self.seeds),
                "durations": list(self.durations), "sizes": [_size_text(s) for s in self.sizes],
                "settings": {name: list(values) for name, values in self.settings}}


def _items(text, separators: str = r"[,\n]") -> list[str]:
    """The non-empty items of a typed list, each once, in the order typed."""
    out = []
    for part in re.split(separators, str(text or "")):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


def parse_prompts(text) -> tuple[str, ...]:
    """One prompt per line; blank lines are ignored (and a prompt typed twice counts once)."""
    return tuple(_items(text, r"\n"))


def parse_seeds(text, rng: random.Random) -> tuple[tuple[int, ...], str | None]:
    """Seeds as "1, 2, 3" (commas or spaces) or "4 random" (drawn from `rng`); or a message."""
    value = str(text or "").strip()
    if not value:
        return (), None
    drawn = re.fullmatch(r"(\d+)\s*random", value, re.I)
    if drawn:
        n = int(drawn.group(1))
        if not 1 <= n <= MAX_CELLS:
            return (), f"Ask for 1 to {MAX_CELLS} random seeds."
        return tuple(rng.sample(range(SEED_MIN, RANDOM_SEED_MAX + 1), n)), None
    seeds = []
    for part in _items(value, r"[,\s]+"):
        seed, message = F.parse_seed(part)
        if message:
            return (), f"Seeds: {message} Type seeds like 1, 2, 3 or ask for \"4 random\"."
        if seed not in seeds:
            seeds.append(seed)
    return tuple(seeds), None


def parse_durations(text) -> tuple[tuple[float, ...], str | None]:
    """Durations in seconds, like "5, 10" (a trailing "s" is fine)."""
    out = []
    for part in _items(re.sub(r"\s+(?=s\b)", "", str(text or ""), flags=re.I), r"[,\s]+"):
        number = part[:-1] if part.lower().endswith("s") else part
        try:
            seconds = float(number)
        except ValueError:
            return (), f"Durations are numbers of seconds, like 5, 10; {part!r} is not."
        if not math.isfinite(seconds) or seconds <= 0:
            return (), f"A duration must be more than 0 seconds; {part!r} is not."
        seconds = int(seconds) if seconds.is_integer() else seconds
        if seconds not in out:
            out.append(seconds)
    return tuple(out), None


def parse_sizes(text) -> tuple[tuple, str | None]:
    """Sizes like "1280x720" and resolutions like "720p" or "4K", mixed."""
    out = []
    for part in _items(text):
        size = _SIZE.match(part)
        if size:
            value = (int(size.group(1)), int(size.group(2)))
        elif _RESOLUTION.match(part):
            value = part.lower()
        else:
            return (), f"Sizes are like 1280x720 and resolutions like 720p or 4K; {part!r} is neither."
        if value not in out:
            out.append(value)
    return tuple(out), None


def parse_values(text, *, per_line: bool = False) -> tuple[str, ...]:
    """A setting's values, comma-separated, or one per line for JSON settings (a JSON value holds commas
    itself). How each is read depends on the cell's model."""
    return tuple(_items(text, r"\n" if per_line else r","))


def setting_choices(models) -> dict[str, str]:
    """Setting name -> label for every setting at least one of `models` takes that a sweep can vary."""
    out = {}
    for model in models:
        lay = F.layout(model)
        for control in lay.controls:
            out.setdefault(control.name, control.label)
        if lay.audio:
            out.setdefault("audio", HAND_SETTINGS["audio"])
        if lay.send_fps:
            out.setdefault("fps", HAND_SETTINGS["fps"])
        if lay.cfg:
            out.setdefault("CFGScale", HAND_SETTINGS["CFGScale"])
    return out


def json_settings(models) -> frozenset[str]:
    """The settings among `models`' that take JSON (an object or a list): their values go one per line."""
    return frozenset(c.name for m in models for c in F.layout(m).controls if c.kind in F.JSON_KINDS)


# -- one cell ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    number: int  # its place in the grid as asked, from 1
    air: str
    model_name: str
    params: dict  # what the task actually asks: prompt, model, seed, duration, size, each varied setting
    fitted: tuple[str, ...]  # values moved to the nearest the model allows, in words
    dropped: tuple[str, ...]  # values the model does not take at all
    problems: tuple[dict, ...]  # non-empty: the cell is invalid and nothing of the sweep is sent
    task: dict | None
    estimate: pricing.Estimate
    same_as: tuple[int, ...] = ()  # the numbers of later cells that came out as this same task

    @property
    def valid(self) -> bool:
        return not self.problems

    def label(self) -> str:
        """The cell in a few words, for messages: "cell 4 (Veo 3 Fast, seed 2)"."""
        bits = [self.model_name]
        for name in ("seed", "duration", "size"):
            if self.params.get(name) not in (None, ""):
                bits.append(f"{name} {self.params[name]}")
        return f"cell {self.number} ({', '.join(bits)})"


def _base_values(model: Model, base: Mapping) -> dict:
    """The form's values as its model sees them: a value left in the session by another model's
    widgets (a setting it lacks, a seed it cannot take) is not carried into the sweep."""
    lay = F.layout(model)
    state = {k: base[k] for k in _CARRIED if k in base}
    state.update({k: v for k, v in base.items() if str(k).startswith("f_x_")})
    taken = {c.key for c in lay.controls}
    for key in list(state):
        if (key.startswith("f_x_") or key in F.OBJECT_KEYS.values()) and key not in taken:
            del state[key]
    for key, offered in (("f_prompt", lay.prompt), ("f_negative", lay.negative), ("f_seed_on", lay.seed),
                         ("f_cfg_on", lay.cfg), ("f_audio", lay.audio)):
        if not offered:
            state.pop(key, None)
    for kind in F.MEDIA:
        if kind not in lay.media:
            state.pop(f"f_in_{kind}", None)
    state["f_size"] = base.get("f_size") if lay.sizes else None
    state["f_resolution"] = base.get("f_resolution") if lay.resolutions else None
    state["f_duration"] = base.get("f_duration") if lay.takes_duration else None
    return {k: v for k, v in state.items() if v is not None}


def _res_height(resolution: str) -> int | None:
    """"720p" -> 720, "4K" -> 2160: the short side a resolution name stands for."""
    m = _RESOLUTION.match(str(resolution))
    if not m:
        return None
    return int(m.group(1)) if m.group(1) else {"2": 1440, "4": 2160, "8": 4320}[m.group(2)]


def _size_text(size) -> str:
    return f"{size[0]}x{size[1]}" if isinstance(size, tuple) else str(size)


# How much more a difference in shape weighs than one in pixel count when picking the nearest size:
# a portrait ask stays portrait even at 1/50 of the pixels, yet 640x360 finds 640x352 (not 1280x720).
_SHAPE_WEIGHT = 4.0


def nearest_size(sizes, target: tuple[int, int]) -> tuple[int, int]:
    """The listed size closest to `target` in shape, then in pixel count (ratios, so 2x off is as
    far as half)."""
    def distance(size):
        shape = abs(math.log((size[0] / size[1]) / (target[0] / target[1])))
        pixels = abs(math.log(size[0] * size[1] / (target[0] * target[1])))
        return (_SHAPE_WEIGHT * shape + pixels, size)
    return min(sizes, key=distance)


def nearest_resolution(resolutions, height: int) -> str:
    """The listed resolution closest to a short side of `height` pixels (the smaller on a tie)."""
    return min(resolutions, key=lambda r: (abs((_res_height(r) or 0) - height), _res_height(r) or 0))


def nearest_number(allowed, value: float):
    """The allowed value closest to `value` (the smaller on a tie)."""
    return min(allowed, key=lambda a: (abs(a - value), a))


class _Fitting:
    """One cell's state being fitted to its model, with the notes of what moved or went."""

    def __init__(self, model: Model, state: dict):
        self.model, self.state, self.lay = model, state, F.layout(model)
        self.fitted: list[str] = []
        self.dropped: list[str] = []
        self.problems: list[dict] = []

    def size(self, want, portrait: bool) -> None:
        lay, shown = self.lay, _size_text(want)
        if lay.sizes:
            if isinstance(want, tuple):
                target = want
            else:
                w, h = self.model.resolution_size(want) or (16 * _res_height(want) // 9, _res_height(want))
                target = (min(w, h), max(w, h)) if portrait else (max(w, h), min(w, h))
            pick = want if want in lay.sizes else nearest_size(lay.sizes, target)
            self.state["f_size"] = pick
            if pick != want:
                self.fitted.append(f"{'size' if isinstance(want, tuple) else 'resolution'} {shown} "
                                   f"(now {_size_text(pick)})")
        elif lay.resolutions:
            height = min(want) if isinstance(want, tuple) else _res_height(want)
            exact = [r for r in lay.resolutions if isinstance(want, str) and r.lower() == want.lower()]
            pick = exact[0] if exact else nearest_resolution(lay.resolutions, height)
            self.state["f_resolution"] = pick
            # A size given as a resolution loses its shape (720x1280 and 1280x720 are both 720p): said.
            if isinstance(want, tuple) or _res_height(pick) != height:
                self.fitted.append(f"{'size' if isinstance(want, tuple) else 'resolution'} {shown} (now {pick})")
        else:
            self.dropped.append(f"size {shown} (this model picks its own)")

    def duration(self, want: float) -> None:
        lay, model = self.lay, self.model
        if not lay.takes_duration:
            self.dropped.append(f"duration {want:g} s (this model sets its own length)")
            return
        size = self.state.get("f_size")
        allowed = model.allowed_durations(*size) if lay.sizes and isinstance(size, tuple) else lay.durations
        if allowed:
            pick = nearest_number(allowed, want)
        else:
            r = lay.duration_range
            pick = int(min(max(round(want), r.min), r.max))
        self.state["f_duration"] = pick
        if pick != want:
            self.fitted.append(f"duration {want:g} s (now {pick} s)")

    def setting(self, name: str, raw: str) -> None:
        lay = self.lay
        if name == "audio":
            if lay.audio:
                self._flag(name, raw, "f_audio", "Audio")
            else:
                self.dropped.append(f"audio {raw}")
        elif name == "fps":
            if lay.send_fps:
                self._number(name, raw, "f_fps", "FPS", integer=True, listed=lay.fps,
                             low=lay.fps_range.min if lay.fps_range else None,
                             high=lay.fps_range.max if lay.fps_range else None)
            else:
                self.dropped.append(f"fps {raw} (fixed by the model)")
        elif name == "CFGScale":
            if lay.cfg:
                self.state["f_cfg_on"] = True
                self._number(name, raw, "f_cfg", "CFG scale", low=lay.cfg.min, high=lay.cfg.max)
            else:
                self.dropped.append(f"CFG scale {raw}")
        else:
            control = next((c for c in lay.controls if c.name == name), None)
            if control is None:
                self.dropped.append(f"{name} {raw}")
            elif control.kind == "select":
                self._choice(control, raw)
            elif control.kind == "toggle":
                self._flag(name, raw, control.key, control.label)
            elif control.kind in ("slider", "number"):
                self._number(name, raw, control.key, control.label, integer=control.integer,
                             low=control.min, high=control.max)
            else:
                self.state[control.key] = raw  # text, or JSON for lib/request.py to read and judge

    def _refuse(self, name: str, message: str) -> None:
        self.problems.append(problem("invalid" + name[0].upper() + name[1:], name, message))

    def _flag(self, name: str, raw: str, key: str, label: str) -> None:
        word = raw.strip().lower()
        if word not in _TRUE | _FALSE:
            self._refuse(name, f"{label} is on or off (true/false); {raw!r} is neither.")
            return
        self.state[key] = word in _TRUE

    def _number(self, name, raw, key, label, *, integer=False, listed=(), low=None, high=None) -> None:
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self._refuse(name, f"{label} must be a number; {raw!r} is not.")
            return
        pick = value
        if listed:
            pick = nearest_number(listed, value)
        else:
            if low is not None:
                pick = max(pick, low)
            if high is not None:
                pick = min(pick, high)
        pick = int(round(pick)) if integer else float(pick)
        self.state[key] = pick
        if pick != value:
            self.fitted.append(f"{label} {raw} (now {pick:g})")

    def _choice(self, control: F.Control, raw: str) -> None:
        by_text = {str(o).lower(): o for o in control.options}
        if raw.lower() in by_text:
            self.state[control.key] = by_text[raw.lower()]
            return
        numbers = [o for o in control.options if isinstance(o, (int, float)) and not isinstance(o, bool)]
        try:
            wanted = float(raw)
        except ValueError:
            wanted = None
        if numbers and wanted is not None and math.isfinite(wanted):
            pick = nearest_number(numbers, wanted)
            self.state[control.key] = pick
            self.fitted.append(f"{control.label} {raw} (now {pick})")
            return
        self._refuse(control.name, f"{control.label} must be one of "
                                   f"{', '.join(str(o) for o in control.options)}; {raw!r} is not.")


def _params(req, settings) -> dict:
    """What a cell's request actually asks, for the grid."""
    size = f"{req.width}x{req.height}" if req.width and req.height else (req.resolution or "")
    out = {"prompt": req.positive_prompt or "", "model": req.model, "seed": req.seed,
           "duration": req.duration, "size": size}
    by_setting = {"audio": req.audio, "fps": req.fps, "CFGScale": req.cfg_scale}
    for name, _ in settings:
        if name in by_setting:
            out[name] = by_setting[name]
        elif name in F.REQUEST_OBJECTS:
            out[name] = getattr(req, F.REQUEST_OBJECTS[name])
        else:
            out[name] = req.extra.get(name)
    return out


def _identity(task: dict, problems) -> str:
    """What makes two cells the same job: the task apart from its taskUUID (and, for an invalid cell,
    what is wrong with it)."""
    rest = {k: v for k, v in task.items() if k != "taskUUID"}
    return json.dumps([rest, list(problems)], sort_keys=True, default=str)


def fit_cell(catalog: Catalog, base_model: Model, base: Mapping, choice: Mapping, *, number: int,
             max_image_bytes: int, uploads: F.Uploads | None = None, settings=()) -> tuple[Cell, str]:
    """One combination of axis values on top of the form, fitted to its model: the cell and its
    identity (cells with the same identity are the same job)."""
    air = choice.get("model")
    model = catalog.get(air) if air else base_model
    base_lay = F.layout(base_model)
    state = _base_values(base_model, base)
    size = choice.get("size") or state.pop("f_size", None) or state.pop("f_resolution", None)
    duration = choice.get("duration") or state.pop("f_duration", None)
    for key in ("f_size", "f_resolution", "f_duration"):
        state.pop(key, None)
    if air:
        state["f_model"] = air
    if choice.get("prompt") is not None:
        state["f_prompt"] = choice["prompt"]
    if choice.get("seed") is not None:
        state["f_seed_on"], state["f_seed"] = True, str(choice["seed"])
    work = _Fitting(model, state)
    if size is not None:
        work.size(size, portrait=isinstance(base.get("f_size"), tuple) and bool(base_lay.sizes)
                  and base["f_size"][1] > base["f_size"][0])
    if duration is not None:
        work.duration(duration)
    for name, raw in choice.get("settings", {}).items():
        work.setting(name, raw)
    updates, notes = F.fit(model, state, switching=True)
    state.update(updates)
    for note in notes:
        (work.fitted if "(now " in note else work.dropped).append(note)
    lay = work.lay
    if not lay.prompt and str(state.get("f_prompt") or "").strip():
        work.dropped.append("prompt (this model takes none)")
    req, _ = F.request_from_state(model, state, uploads)
    problems = list(work.problems)
    try:
        task = F.prepare_state(model, state, catalog, max_image_bytes=max_image_bytes, uploads=uploads)
    except InvalidRequest as exc:
        task = None
        problems += exc.problems
    shape = task if task is not None else build_task(req, "", max_image_bytes=max_image_bytes, catalog=catalog)[0]
    identity = _identity(shape, problems)
    cell = Cell(number=number, air=model.air if air or not model.custom else F.model_air(model, state),
                model_name=model.name, params=_params(req, settings),
                fitted=tuple(work.fitted), dropped=tuple(work.dropped), problems=tuple(problems),
                task=None if problems else task, estimate=F.estimate(model, req))
    return cell, identity


# -- the grid ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """The grid as it will be queued: merged cells, their tasks and prices, and what stops it."""
    cells: tuple[Cell, ...] = ()
    asked: int = 0  # cells before identical ones were merged
    error: str | None = None  # the grid could not be built at all (too big, an unknown model)
    confirm_above_usd: float = 5.0

    @property
    def jobs(self) -> int:
        return len(self.cells)

    @property
    def usd(self) -> float:
        return round(sum(c.estimate.usd for c in self.cells if c.estimate.usd is not None), 4)

    @property
    def unknown(self) -> int:
        return sum(c.estimate.usd is None for c in self.cells)

    @property
    def invalid(self) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells if not c.valid)

    @property
    def merged(self) -> int:
        return self.asked - self.jobs

    @property
    def ready(self) -> bool:
        """Whether it may be queued: built, not empty, and every cell valid."""
        return self.error is None and bool(self.cells) and not self.invalid

    @property
    def needs_confirmation(self) -> bool:
        # 0 means "always ask", even for a sweep that costs nothing.
        return self.usd > self.confirm_above_usd or self.unknown > 0 or self.confirm_above_usd <= 0

    def tasks(self) -> list[dict]:
        return [c.task for c in self.cells if c.task is not None]


def build(catalog: Catalog, base_model: Model, base: Mapping, axes: Axes, *, max_image_bytes: int,
          uploads: F.Uploads | None = None, confirm_above_usd: float = 5.0) -> Plan:
    """Every combination of the axes on top of the form's state `base` (for `base_model`), fitted,
    checked, priced and merged. Grid order: prompts, then models, seeds, durations, sizes, settings."""
    asked = axes.count()
    if not axes.lengths():
        return Plan(error="Give at least one axis more than the form: prompts, models, seeds, durations, "
                          "sizes or a setting.", confirm_above_usd=confirm_above_usd)
    if asked > MAX_CELLS:
        sizes = " × ".join(f"{n} {name}" for name, n in axes.lengths())
        return Plan(asked=asked, confirm_above_usd=confirm_above_usd,
                    error=f"{sizes} makes {asked} jobs; a sweep holds at most {MAX_CELLS}. Use fewer values.")
    unknown = [air for air in axes.models if not catalog.known(air)]
    if unknown:
        return Plan(asked=asked, confirm_above_usd=confirm_above_usd,
                    error=f"Unknown model(s): {', '.join(unknown)}. Pick models from the catalog.")
    names = [name for name, _ in axes.settings]
    options = [axes.prompts or (None,), axes.models or (None,), axes.seeds or (None,),
               axes.durations or (None,), axes.sizes or (None,)] + [values for _, values in axes.settings]
    kept: dict[str, Cell] = {}
    merged: dict[str, list[int]] = {}
    for number, combo in enumerate(itertools.product(*options), start=1):
        prompt, air, seed, duration, size, *values = combo
        choice = {"prompt": prompt, "model": air, "seed": seed, "duration": duration, "size": size,
                  "settings": dict(zip(names, values))}
        cell, identity = fit_cell(catalog, base_model, base, choice, number=number,
                                  max_image_bytes=max_image_bytes, uploads=uploads, settings=axes.settings)
        if identity in kept:
            merged[identity].append(number)
        else:
            kept[identity], merged[identity] = cell, []
    cells = tuple(_with_merged(cell, merged[identity]) for identity, cell in kept.items())
    return Plan(cells=cells, asked=asked, confirm_above_usd=confirm_above_usd)


def _with_merged(cell: Cell, numbers: list[int]) -> Cell:
    if not numbers:
        return cell
    return replace(cell, same_as=tuple(numbers))


# -- words -------------------------------------------------------------------------------------------

def summary(plan: "Plan | Repeat", *, demo: bool) -> str:
    """"12 jobs, about $3.40" (+ how many have no known price), the way the form words a price."""
    jobs = f"{plan.jobs} job" + ("" if plan.jobs == 1 else "s")
    if plan.unknown == plan.jobs:
        return f"{jobs}, " + pricing.price_text(pricing.Estimate(None, ""), demo=demo)
    text = f"{jobs}, " + pricing.price_text(pricing.Estimate(plan.usd, ""), demo=demo)
    if plan.unknown:
        text += f" · {plan.unknown} with price unknown (not in the total)"
    return text


@dataclass(frozen=True)
class Repeat:
    """A finished sweep's tasks queued again: fresh taskUUIDs, and what they are estimated to cost."""
    tasks: tuple[dict, ...]
    usd: float
    unknown: int

    @property
    def jobs(self) -> int:
        return len(self.tasks)


def repeat(tasks, catalog: Catalog) -> Repeat:
    fresh = tuple({**task, "taskUUID": str(uuid.uuid4())} for task in tasks)
    costs = [spend.estimate(catalog.get(t.get("model", "")), t) for t in fresh]
    return Repeat(fresh, sum(c for c in costs if c is not None), sum(c is None for c in costs))


def default_name(axes: Axes, catalog: Catalog) -> str:
    """A name from what varies: "3 prompts × 2 models × 2 seeds"; a single value is named itself."""
    parts = []
    for name, n in axes.lengths():
        if n > 1:
            parts.append(f"{n} {name}s" if name in _AXIS_NAMES else f"{n} {name} values")
        elif name == "prompt":
            words = axes.prompts[0].split()
            parts.append(" ".join(words[:5]) + ("…" if len(words) > 5 else ""))
        elif name == "model":
            parts.append(catalog.get(axes.models[0]).name if catalog.get(axes.models[0]) else axes.models[0])
        else:
            value = {"seed": axes.seeds, "duration": axes.durations, "size": axes.sizes}.get(name)
            shown = _size_text(value[0]) if value else dict(axes.settings)[name][0]
            parts.append(f"{name} {shown}" + (" s" if name == "duration" else ""))
    return " × ".join(parts) or "Sweep"
