"""What a request will cost, from the prices Runware publishes (the catalog's `prices` and
`price_per_second_usd`), before anything is sent.

A published price is a configuration and an amount, e.g. "1080p, 8 s, with audio" = $1.20. Each one is
read once per model into a `Tier` (resolution as a pixel count, seconds, audio, input kind) and a
request is priced from the tier that matches its resolution, audio and inputs: at the same length
exactly, otherwise scaled per second (Runware bills these models by the second). A model with only a
per-second price (the first catalog's, e.g. Kling 2.1 Master) is priced per second. Anything else is
"price unknown": a wrong number would be worse than none.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .catalog import Model, resolution_size

# A request's pixel count belongs to a published tier when it is within this share of the tier's
# 16:9 size: 960x960 is Runware's "720p" square (921,600 px, exactly 1280x720), 640x352 its "360p".
_TIER_TOLERANCE = 0.15
_SECONDS = re.compile(r"^(\d+(?:\.\d+)?) ?s$")
_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")


@dataclass(frozen=True)
class Tier:
    usd: float
    pixels: int | None  # None: the price holds at every size
    seconds: float | None
    audio: bool  # "with audio"; a price that does not say is without
    input: str | None  # "video" for "video input"; None for none or unstated
    configuration: str


@dataclass(frozen=True)
class Estimate:
    usd: float | None
    basis: str  # the published price it comes from, or why there is none


def _pixels(token: str) -> int | None:
    """'1080p', '4K' or '1920x1080 or 1080x1920' -> a pixel count; None when the token is no size."""
    first = token.split(" or ")[0].strip()
    m = _SIZE.match(first)
    if m:
        return int(m.group(1)) * int(m.group(2))
    size = resolution_size(first)
    return size[0] * size[1] if size else None


def parse_configuration(configuration: str, usd: float) -> Tier | None:
    """One published price; None when it has a part this module cannot read (never guessed)."""
    text = re.sub(r"\([^)]*\)", "", configuration).strip()  # "(February 2026 discount)" is a note
    pixels = seconds = input_kind = None
    audio = False
    for part in (p.strip() for p in text.split(",") if p.strip()):
        low = part.lower()
        if (m := _SECONDS.match(low)):
            seconds = float(m.group(1))
        elif low in ("with audio", "audio"):
            audio = True
        elif low in ("no audio", "without audio", "no input"):
            continue
        elif low == "video input":
            input_kind = "video"
        elif (px := _pixels(part)) is not None:
            pixels = px
        else:
            return None
    return Tier(float(usd), pixels, seconds, audio, input_kind, configuration)


@lru_cache(maxsize=None)
def _tiers_for(air: str, prices: tuple[tuple[str, float], ...]) -> tuple[Tier, ...]:
    parsed = (parse_configuration(configuration, usd) for configuration, usd in prices)
    return tuple(t for t in parsed if t is not None)


def tiers(model: Model) -> tuple[Tier, ...]:
    """The model's published prices, parsed once per model (cached by AIR and the prices themselves,
    so a refreshed catalog is never priced from stale tiers)."""
    return _tiers_for(model.air, tuple((p["configuration"], p["usd"]) for p in model.prices))


def _same_tier(a: int, b: int) -> bool:
    return abs(a - b) <= _TIER_TOLERANCE * b


def has_price(model: Model) -> bool:
    return bool(tiers(model)) or model.price_per_second_usd is not None


def estimate(model: Model, *, duration: float | None, pixels: int | None = None, audio: bool = False,
             input_video: bool = False, number_results: int = 1) -> Estimate:
    """The list price of one request: `pixels` is width x height (or the resolution's size), `audio`
    whether the model's audio switch is on, `input_video` whether a video is given as input."""
    n = max(int(number_results or 1), 1)
    published = tiers(model)
    if not published:
        if model.price_per_second_usd is None or not duration:
            return Estimate(None, "no published price")
        return Estimate(round(model.price_per_second_usd * duration * n, 4),
                        f"${model.price_per_second_usd:g} per second")
    tiered = {t.pixels for t in published if t.pixels is not None}
    candidates = [t for t in published
                  if t.audio == bool(audio) and (t.input == "video") == bool(input_video)
                  # A model whose prices name one size only has that size everywhere (Kling 3.0
                  # Standard: "720p" for 1280x720, 960x960 and 720x1280).
                  and (t.pixels is None or len(tiered) == 1 or (pixels and _same_tier(pixels, t.pixels)))]
    if not candidates:
        listed = "; ".join(t.configuration for t in published[:4]) + ("; …" if len(published) > 4 else "")
        return Estimate(None, f"no published price for these settings (Runware lists: {listed})")
    if not duration:
        timeless = [t for t in candidates if t.seconds is None]
        if not timeless:
            return Estimate(None, "no published price without a duration")
        return Estimate(round(timeless[0].usd * n, 4), timeless[0].configuration)
    exact = [t for t in candidates if t.seconds == duration]
    if exact:
        return Estimate(round(exact[0].usd * n, 4), exact[0].configuration)
    timed = [t for t in candidates if t.seconds]
    if not timed:
        return Estimate(None, "no published price for this duration")
    # The nearest published length, per second: Runware bills these models by the second.
    near = min(timed, key=lambda t: abs(t.seconds - duration))
    return Estimate(round(near.usd / near.seconds * duration * n, 4), f"{near.configuration}, per second")


def price_text(est: Estimate, *, demo: bool) -> str:
    """What the form shows next to Generate. (Worded without "demo mode": the banner owns those words.)"""
    if est.usd is None:
        return "price unknown" + (" (the demo charges nothing)" if demo else "")
    amount = f"about ${est.usd:.2f}" if est.usd >= 0.1 else f"about ${est.usd:.3f}"
    if demo:
        return f"{amount} (simulated: the demo charges nothing)"
    return amount


def headline(model: Model) -> str:
    """A short price for the model picker: the cheapest published way to run it."""
    published = tiers(model)
    if published:
        per_second = [t.usd / t.seconds for t in published if t.seconds]
        if per_second:
            return f"from ${min(per_second):.3g}/s"
        return f"from ${min(t.usd for t in published):.2f}"
    if model.price_per_second_usd is not None:
        return f"${model.price_per_second_usd:.3g}/s"
    return ""
