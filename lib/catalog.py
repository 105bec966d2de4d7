"""The model catalog: loads lib/catalog.toml and answers "what does this model take?".

Any AIR id that is well formed but not in the catalog is a *custom* model with the generic rules,
so people can try a model the studio does not know yet.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

CATALOG_PATH = Path(__file__).with_name("catalog.toml")

# provider:id@version, e.g. klingai:5@3. Providers are lower-case words; ids and versions are numbers.
AIR_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,39}:[0-9]{1,10}@[0-9]{1,10}$")


@dataclass(frozen=True)
class Range:
    min: float
    max: float


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

    @property
    def provider(self) -> str:
        return self.air.split(":", 1)[0]

    @property
    def text_to_video(self) -> bool:
        return "text-to-video" in self.modes

    @property
    def needs_first_frame(self) -> bool:
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
        return self.sizes[0] if self.sizes else (1280, 720)

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


def _size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def _range(pair) -> Range | None:
    return Range(*pair) if pair else None


def _model(raw: dict, generic: dict, custom: bool = False) -> Model:
    cfg = raw.get("cfg_scale")
    sr = raw.get("size_range")
    return Model(
        air=raw["air"],
        name=raw.get("name", raw["air"]),
        modes=tuple(raw.get("modes", ["text-to-video", "image-to-video"])),
        sizes=tuple(_size(s) for s in raw.get("sizes", [])),
        size_range=SizeRange(**sr) if sr else None,
        durations=tuple(raw.get("durations", [])),
        duration_range=_range(raw.get("duration_range")),
        fps=tuple(raw.get("fps", [])),
        fps_range=_range(raw.get("fps_range")),
        seed=bool(raw.get("seed")),
        negative_prompt=bool(raw.get("negative_prompt")),
        cfg_scale=Range(cfg["min"], cfg["max"]) if cfg else None,
        cfg_default=cfg.get("default") if cfg else None,
        frame_images=tuple(raw.get("frame_images", [])),
        prompt_min=int(raw.get("prompt_min", generic["prompt_min"])),
        prompt_max=int(raw.get("prompt_max", generic["prompt_max"])),
        price_per_second_usd=raw.get("price_per_second_usd"),
        source=raw.get("source", "custom model: generic rules only" if custom else ""),
        custom=custom,
        size_durations={_size(k): tuple(v) for k, v in raw.get("size_durations", {}).items()},
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
        self.models: dict[str, Model] = {}
        for raw in data["model"]:
            self.models[raw["air"]] = _model(raw, g)

    def get(self, air: str) -> Model | None:
        """The catalog model, a custom model for any other well-formed AIR id, or None."""
        if air in self.models:
            return self.models[air]
        if is_air(air):
            return _model({**self._generic_raw, "air": air, "name": f"Custom: {air}"},
                          self._generic_raw, custom=True)
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
    with open(path or CATALOG_PATH, "rb") as f:
        return Catalog(tomllib.load(f))
