"""Widgets for the Generate form that follow a model's schema (lib/form.py says what to draw)."""
from __future__ import annotations

from functools import lru_cache

import streamlit as st

from lib import form as F
from lib import pricing
from lib.catalog import Catalog
from lib.images import ImageRejected, check_image
from studio_ui import field_errors

ASPECTS = {(16, 9): "16:9 landscape", (9, 16): "9:16 portrait", (1, 1): "1:1 square", (4, 3): "4:3", (3, 4): "3:4"}
_HELP = {
    "json_object": "A JSON object, e.g. {\"key\": \"value\"}; checked before anything is sent.",
    "json_list": "A JSON list, e.g. [{\"key\": \"value\"}]; checked before anything is sent.",
}


def aspect_label(size) -> str:
    w, h = size
    ratio = w / h
    name = next((label for (a, b), label in ASPECTS.items() if abs(a / b - ratio) < 0.02), f"{ratio:.2f}:1")
    return f"{w}x{h} · {name}"


@lru_cache(maxsize=4)
def picker_labels(catalog: Catalog) -> dict[str, str]:
    """One label per model for the picker: provider, name, AIR, price, deprecation. Built once per
    catalog (the picker reruns on every keystroke elsewhere in the form)."""
    labels = {F.CUSTOM: "Custom model (AIR id)…"}
    for air in F.picker_order(catalog):
        m = catalog.get(air)
        parts = [f"{m.provider} · {m.name}", air]
        price = pricing.headline(m)
        if price:
            parts.append(price)
        gone = F.deprecation(m)
        if gone:
            parts.append(f"⚠ deprecated ({gone})")
        labels[air] = " · ".join(parts)
    return labels


def draw_control(control: F.Control) -> None:
    """One schema-drawn control, with its validation messages under it."""
    c, ss = control, st.session_state
    if c.kind == "select":
        options = list(c.options) if c.required else [""] + list(c.options)
        if ss.get(c.key) not in options:
            ss[c.key] = options[0]
        st.selectbox(c.label, options, key=c.key, format_func=lambda v: "(model default)" if v == "" else str(v))
    elif c.kind == "toggle":
        st.toggle(c.label, key=c.key)
    elif c.kind == "slider":
        lo, hi = (int(c.min), int(c.max)) if c.integer else (float(c.min), float(c.max))
        if not isinstance(ss.get(c.key), (int, float)) or not lo <= ss[c.key] <= hi:
            ss[c.key] = lo
        st.slider(c.label, lo, hi, key=c.key)
    elif c.kind == "number":
        # Empty until set: an unset number is left to the model's default. (`value` only on the first
        # draw: passing it when state holds a value would make Streamlit warn.)
        extra = {} if c.key in ss else {"value": None}
        st.number_input(c.label, step=1 if c.integer else None, key=c.key,
                        placeholder="model default", **extra)
    elif c.kind in ("json_object", "json_list"):
        st.text_area(c.label, key=c.key, height=80, help=_HELP[c.kind],
                     placeholder="{}" if c.kind == "json_object" else "[]")
    else:
        st.text_area(c.label, key=c.key, height=80)
    field_errors(c.name)


def thumbnails(images, max_bytes: int, width: int = 120) -> None:
    """Small previews of the uploaded images that are images Runware takes (the others get a
    message at their field instead)."""
    good = []
    for data in images:
        try:
            if data:
                check_image(data, max_bytes)
                good.append(data)
        except ImageRejected:
            continue
    if good:
        st.image(good, width=width)
