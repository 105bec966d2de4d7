"""The model catalog: loads lib/catalog_snapshot.json and answers "what does this model take?".

The snapshot is generated (`python -m lib.catalog_gen`) from the pinned Runware SDK's per-model types,
lib/catalog_facts.toml and lib/catalog.toml (the studio's first 9 models); reading it is one JSON load.
Any AIR id that is well formed but not in the catalog is a *custom* model with the generic rules,
so people can try a model the studio does not know yet.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

CATALOG_PATH = Path(__file__).with_name("catalog_snapshot.json")

# provider:id@version, e.g. klingai:5@3 or lightricks:ltx@2.3. Lower case, as Runware writes them; ids and
# versions are letters, digits, dots and dashes (starting with a letter or digit).
AIR_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,39}:[a-z0-9][a-z0-9.-]{0,63}@[a-z0-9][a-z0-9.-]{0,63}$")

# A resolution's short side, e.g. "720p" -> 720; "4K" is 2160.
_RESOLUTION = re.compile(r"^(\d{3,4})p$")


@dataclass(frozen=True)
class Range:
    min: float
    max: float


# For a model that takes no duration or fps at all (the schema refuses them), a bound to show and to
# render with; it is never used to accept a value.
_NO_RANGE = Range(1, 60)

@dataclass(frozen=True)
class SizeRange:
    min: int
    max: int
    multiple: int


@dataclass(frozen=True)
class Model:
    air: str
    name: str
    modes: tuple[str, ...]
    sizes: tuple[tuple[int, int], ...]
    size_range: SizeRange | None
    durations: tuple[int, ...]
    duration_range: Range | None
    fps: tuple[int, ...]
    fps_range: Range | None
    seed: bool
    negative_prompt: bool
    cfg_scale: Range | None
    cfg_default: float | None
    frame_images: tuple[str, ...]
    prompt_min: int
    prompt_max: int
    price_per_second_usd: float | None
    source: str
    custom: bool = False
    size_durations: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict)
    # The request shape (from the snapshot): field name -> {type, enum?, required}.
    fields: dict = field(default_factory=dict)
    # "legacy" (top-level frameImages/referenceImages), "inputs" (the newer `inputs` object), or both.
    shape: str = "legacy"
    capabilities: tuple[str, ...] = ()
    inputs_required: tuple[str, ...] = ()
    resolutions: tuple[str, ...] = ()
    resolution_sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    settings_field: str | None = "providerSettings"  # "settings" on newer models
    audio: str | None = None  # dotted path of the audio switch, e.g. "settings.audio"
    prices: tuple[dict, ...] = ()
    rules: tuple[dict, ...] = ()
    docs: str | None = None
    origin: str = ""
    sources: dict = field(default_factory=dict)
    docs_facts: bool = False

    @property
    def provider(self) -> str:
        return self.air.split(":", 1)[0]

    @property
    def takes_inputs(self) -> bool:
        """Whether the model takes the newer `inputs` object (inputs.frameImages, inputs.video, ...)."""
        return "inputs" in self.fields or self.custom

    @property
    def takes_legacy_images(self) -> bool:
        """Whether the model takes the older top-level frameImages / referenceImages."""
        return self.shape != "inputs"

    def takes(self, name: str) -> bool:
        return self.custom or name in self.fields

    @property
    def prompt_required(self) -> bool:
        return bool(self.fields.get("positivePrompt", {}).get("required")) or self.custom

    def resolution_size(self, resolution: str) -> tuple[int, int] | None:
        """Width x height rendered for a resolution: the model's facts, else short side N at 16:9."""
        if resolution in self.resolution_sizes:
            return self.resolution_sizes[resolution]
        return resolution_size(resolution)

    @property
    def text_to_video(self) -> bool:
        return "text-to-video" in self.modes

    @property
    def needs_first_frame(self) -> bool:
        if self.shape == "inputs":
            return "frameImages" in self.inputs_required
        return not self.text_to_video

    def allows_size(self, width: int, height: int) -> bool:
        if (width, height) in self.sizes:
            return True
        r = self.size_range
        return bool(r) and all(r.min <= v <= r.max and v % r.multiple == 0 for v in (width, height))

    def allowed_durations(self, width: int | None = None, height: int | None = None) -> tuple[int, ...]:
        """Listed durations (pair-specific where the model has such a rule); empty for a range."""
        if width is not None and (width, height) in self.size_durations:
            return self.size_durations[(width, height)]
        return self.durations

    def allows_duration(self, seconds: float, width: int | None = None, height: int | None = None) -> bool:
        listed = self.allowed_durations(width, height)
        if listed:
            return seconds in listed
        r = self.duration_range
        return bool(r) and float(seconds).is_integer() and r.min <= seconds <= r.max

    def allows_fps(self, fps: int) -> bool:
        if self.fps:
            return fps in self.fps
        return bool(self.fps_range) and self.fps_range.min <= fps <= self.fps_range.max

    @property
    def default_fps(self) -> int:
        if self.fps:
            return 24 if 24 in self.fps else self.fps[0]
        return 24

    @property
    def default_duration(self) -> int:
        return self.durations[0] if self.durations else int(self.duration_range.min)

    @property
    def default_size(self) -> tuple[int, int]:
        if self.sizes:
            return self.sizes[0]
        if self.resolutions:
            return self.resolution_size(self.resolutions[0]) or (1280, 720)
        return (1280, 720)

    def price_usd(self, duration: float, number_results: int = 1) -> float | None:
        if self.price_per_second_usd is None:
            return None
        return round(self.price_per_second_usd * duration * number_results, 4)


@dataclass(frozen=True)
class Generic:
    """Rules that apply to every request whatever the model."""
    number_results: Range
    output_quality: Range
    output_formats: tuple[str, ...]
    ttl_min: int


def resolution_size(resolution: str) -> tuple[int, int] | None:
    """"<N>p" -> short side N at 16:9 (even sizes, as H.264 needs); "4K" -> 3840x2160."""
    if not isinstance(resolution, str):
        return None
    if resolution.lower() == "4k":
        return 3840, 2160
    m = _RESOLUTION.match(resolution)
    if not m:
        return None
    short = int(m.group(1))
    return 2 * round(short * 16 / 9 / 2), short


def _size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def _range(pair) -> Range | None:
    return Range(*pair) if pair else None


def _model(raw: dict, generic: dict, custom: bool = False) -> Model:
    cfg = raw.get("cfg_scale")
    sr = raw.get("size_range")
    modes = raw.get("modes") or [c for c in raw.get("capabilities", ["text-to-video", "image-to-video"])
                                 if c in ("text-to-video", "image-to-video")]
    return Model(
        air=raw["air"],
        name=raw.get("name", raw["air"]),
        modes=tuple(modes),
        sizes=tuple(_size(s) for s in raw.get("sizes", [])),
        size_range=SizeRange(**sr) if sr else None,
        durations=tuple(raw.get("durations", [])),
        duration_range=_range(raw.get("duration_range")) or (None if raw.get("durations") else _NO_RANGE),
        fps=tuple(raw.get("fps", [])),
        fps_range=_range(raw.get("fps_range")) or (None if raw.get("fps") else _NO_RANGE),
        seed=bool(raw.get("seed")) if custom else "seed" in raw.get("fields", {}),
        negative_prompt=bool(raw.get("negative_prompt")) if custom else "negativePrompt" in raw.get("fields", {}),
        cfg_scale=Range(cfg["min"], cfg["max"]) if cfg else None,
        cfg_default=cfg.get("default") if cfg else None,
        frame_images=tuple(raw.get("frame_images", [])),
        prompt_min=int(raw.get("prompt_min", generic["prompt_min"])),
        prompt_max=int(raw.get("prompt_max", generic["prompt_max"])),
        price_per_second_usd=raw.get("price_per_second_usd"),
        source="custom model: generic rules only" if custom else "; ".join(raw.get("sources", {}).values()),
        custom=custom,
        size_durations={_size(k): tuple(v) for k, v in raw.get("size_durations", {}).items()},
        fields=raw.get("fields", {}),
        shape=raw.get("shape", "legacy"),
        capabilities=tuple(raw.get("capabilities", modes)),
        inputs_required=tuple(raw.get("inputs_required", [])),
        resolutions=tuple(raw.get("resolutions", [])),
        resolution_sizes={k: _size(v) for k, v in raw.get("resolution_sizes", {}).items()},
        settings_field=raw.get("settings_field", "providerSettings"),
        audio=raw.get("audio"),
        prices=tuple(raw.get("prices", [])),
        rules=tuple(raw.get("rules", [])),
        docs=raw.get("docs"),
        origin=raw.get("origin", "custom" if custom else ""),
        sources=raw.get("sources", {}),
        docs_facts=bool(raw.get("docs_facts")),
    )


class Catalog:
    def __init__(self, data: dict):
        self._generic_raw = data["generic"]
        g = data["generic"]
        self.generic = Generic(
            number_results=Range(*g["number_results"]),
            output_quality=Range(*g["output_quality"]),
            output_formats=tuple(g["output_formats"]),
            ttl_min=int(g["ttl_min"]),
        )
        self.generated_from = data.get("generated_from", {})
        self.sdk_models = tuple(data.get("sdk_video_models", ()))
        self.models: dict[str, Model] = {}
        self._custom: dict[str, Model] = {}
        for raw in data.get("models", data.get("model", [])):
            self.models[raw["air"]] = _model(raw, g)

    def get(self, air: str) -> Model | None:
        """The catalog model, a custom model for any other well-formed AIR id, or None."""
        if air in self.models:
            return self.models[air]
        if is_air(air):
            if air not in self._custom:
                self._custom[air] = _model({**self._generic_raw, "air": air, "name": f"Custom: {air}"},
                                           self._generic_raw, custom=True)
            return self._custom[air]
        return None

    def generic_model(self) -> Model:
        """The rules every model shares, for checking a request whose model is unknown."""
        return self.get("custom:0@0")

    def known(self, air: str) -> bool:
        return air in self.models

    def __iter__(self):
        return iter(self.models.values())


def is_air(text: str) -> bool:
    return isinstance(text, str) and bool(AIR_PATTERN.match(text))


@lru_cache(maxsize=1)
def load_catalog(path: str | None = None) -> Catalog:
    with open(path or CATALOG_PATH, encoding="utf-8") as f:
        return Catalog(json.load(f))


if __name__ == "__main__":
    # `python -m lib.catalog refresh`: the refresh lives in its own module (it needs the network).
    import sys

    from lib.catalog_refresh import main

    sys.exit(main())
