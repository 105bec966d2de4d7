"""Generate: the form, the request preview, and this session's jobs updating live."""
import json

import streamlit as st

from lib.catalog import Model
from lib.errors import InvalidRequest
from lib.spend import SpendCapExceeded, estimate
from lib.store import DuplicateSubmit
from lib.request import VideoRequest, build_task, form_from_task, prepare, redact_images
import studio_ui as ui

CUSTOM = "custom"
ASPECTS = {(16, 9): "16:9 landscape", (9, 16): "9:16 portrait", (1, 1): "1:1 square", (4, 3): "4:3", (3, 4): "3:4"}

s = ui.studio()
ss = st.session_state


def aspect_label(size: tuple[int, int]) -> str:
    w, h = size
    ratio = w / h
    name = next((label for (a, b), label in ASPECTS.items() if abs(a / b - ratio) < 0.02), f"{ratio:.2f}:1")
    return f"{w}x{h} · {name}"


def chosen_model() -> Model:
    if ss.get("f_model") == CUSTOM:
        return s.catalog.get(ss.get("f_custom_air", "").strip()) or s.catalog.generic_model()
    return s.catalog.get(ss.get("f_model") or next(iter(s.catalog)).air)


def apply_prefill() -> None:
    """Fill the form from a job chosen for re-run on the History page."""
    task = ss.pop("prefill_task", None)
    if not task:
        return
    req, frames = form_from_task(task)
    ss["f_model"] = req.model if s.catalog.known(req.model) else CUSTOM
    ss["f_custom_air"] = req.model
    ss["f_prompt"], ss["f_negative"] = req.positive_prompt, req.negative_prompt or ""
    if req.width:
        ss["f_size"] = (req.width, req.height)
    for key, value in (("f_duration", req.duration), ("f_fps", req.fps), ("f_results", req.number_results),
                       ("f_quality", req.output_quality), ("f_webhook", req.webhook_url), ("f_ttl", req.ttl),
                       ("f_upload", req.upload_endpoint), ("f_provider", req.provider_settings),
                       ("f_advanced", req.advanced_features)):
        if value is not None:
            ss[key] = int(value) if key in ("f_duration", "f_fps") else value
    ss["f_seed_on"], ss["f_seed"] = req.seed is not None, str(req.seed or 1)
    ss["f_cfg_on"] = req.cfg_scale is not None
    if req.cfg_scale is not None:
        ss["f_cfg"] = float(req.cfg_scale)
    ss["f_format"] = (req.output_format or "MP4").upper()
    ss["f_cost"] = bool(req.include_cost)
    ss["prefill_frames"] = frames


def fit_state_to(model: Model) -> None:
    """Give every widget a value the chosen model allows, so switching models never strands a value."""
    for key, value in (("f_results", 1), ("f_quality", 95), ("f_ttl", 0), ("f_cost", True), ("f_seed", "1"),
                       ("f_format", "MP4")):
        ss.setdefault(key, value)
    sizes = list(model.sizes) or [model.default_size]
    if ss.get("f_size") not in sizes:
        ss["f_size"] = sizes[0]
    if not model.allows_duration(ss.get("f_duration") or 0, *ss["f_size"]):
        ss["f_duration"] = (model.allowed_durations(*ss["f_size"]) or [model.default_duration])[0]
    if not model.allows_fps(ss.get("f_fps") or 0):
        ss["f_fps"] = model.default_fps
    if model.cfg_scale and not model.cfg_scale.min <= ss.get("f_cfg", -1) <= model.cfg_scale.max:
        ss["f_cfg"] = float(model.cfg_default if model.cfg_default is not None else model.cfg_scale.min)


def parse_seed(text: str):
    """An int when the text is one; otherwise the text itself, which validation then refuses."""
    text = str(text).strip()
    return int(text) if text.lstrip("-").isdigit() else text


def request_from_form(model: Model) -> VideoRequest:
    size = ss.get("f_size") or model.default_size
    frames = ss.get("prefill_frames", {})
    upload = {pos: ss.get(f"f_{pos}_frame") for pos in ("first", "last")}
    single_fps = len(model.fps) == 1
    return VideoRequest(
        positive_prompt=ss.get("f_prompt", ""),
        model=ss.get("f_custom_air", "").strip() if ss.get("f_model") == CUSTOM else model.air,
        negative_prompt=ss.get("f_negative") if model.negative_prompt else None,
        # Only what the model takes: newer models refuse parameters they do not use.
        duration=ss.get("f_duration") if model.takes("duration") else None,
        width=size[0] if model.takes("width") else None, height=size[1] if model.takes("height") else None,
        fps=None if single_fps or not model.takes("fps") else ss.get("f_fps"),
        seed=parse_seed(ss.get("f_seed", "")) if model.seed and ss.get("f_seed_on") else None,
        cfg_scale=ss.get("f_cfg") if model.cfg_scale and ss.get("f_cfg_on") else None,
        number_results=ss.get("f_results", 1), output_format=ss.get("f_format", "MP4"),
        output_quality=ss.get("f_quality"), webhook_url=ss.get("f_webhook"), ttl=ss.get("f_ttl") or None,
        include_cost=True if ss.get("f_cost") else None,
        first_frame=upload["first"].getvalue() if upload["first"] else frames.get("first"),
        last_frame=upload["last"].getvalue() if upload["last"] else frames.get("last"),
        provider_settings=ss.get("f_provider"), advanced_features=ss.get("f_advanced"),
        upload_endpoint=ss.get("f_upload"),
    )



def on_generate() -> None:
    model = chosen_model()
    try:
        task = prepare(request_from_form(model), s.catalog, max_image_bytes=int(s.settings.max_image_mb * 1e6))
    except InvalidRequest as exc:
        ss["problems"] = exc.problems
        return
    ss["problems"] = []
    ss["spend_refusal"] = None
    # Recorded only: the engine sends it. The same request again within moments (a double click, or a
    # second tab of this workspace) is refused by the store, not paid for twice.
    try:
        s.submit(task)
    except DuplicateSubmit:
        st.toast("Already submitted: that same request is in your jobs.", icon="ℹ️")
        return
    except SpendCapExceeded as exc:
        ss["spend_refusal"] = f"Nothing was sent: {exc}"
        return
    ss["monitor_busy"] = None  # the live view switches to its quick pace


apply_prefill()
ui.mode_banner(s)
ui.show_flash()
st.title("Generate a video")
form, jobs = st.columns([3, 2], gap="large")

with form:
    airs = [m.air for m in s.catalog] + [CUSTOM]
    st.selectbox("Model", airs, key="f_model",
                 format_func=lambda a: "Custom model (AIR id)…" if a == CUSTOM else f"{s.catalog.get(a).name} · {a}")
    if ss.get("f_model") == CUSTOM:
        st.text_input("Custom model AIR id", key="f_custom_air", placeholder="provider:id@version",
                      help="Any Runware model; only the rules every model shares are checked here.")
    ui.field_errors("model")
    if ss.get("f_model") == CUSTOM and s.demo:
        st.caption("In demo mode the simulator runs the catalog's models only: a custom model needs an API key.")
    model = chosen_model()
    fit_state_to(model)
    st.caption(f"{', '.join(model.modes)} · source: {model.source}")
    st.text_area("Prompt", key="f_prompt", height=110, placeholder="A beautiful sunset over mountains",
                 help=f"{model.prompt_min}-{model.prompt_max} characters.")
    ui.field_errors("positivePrompt")
    if model.negative_prompt:
        st.text_input("Negative prompt", key="f_negative", placeholder="blurry, dark")
        ui.field_errors("negativePrompt")

    left, mid, right = st.columns(3)
    left.selectbox("Size", list(model.sizes) or [model.default_size], key="f_size", format_func=aspect_label)
    durations = model.allowed_durations(*ss["f_size"])
    if durations:
        mid.selectbox("Duration (s)", list(durations), key="f_duration")
    else:
        r = model.duration_range
        mid.number_input("Duration (s)", int(r.min), int(r.max), step=1, key="f_duration")
    if len(model.fps) == 1:
        right.text_input("FPS", f"{model.fps[0]} (fixed by the model)", disabled=True)
    elif model.fps:
        right.selectbox("FPS", list(model.fps), key="f_fps")
    else:
        r = model.fps_range
        right.number_input("FPS", int(r.min), int(r.max), step=1, key="f_fps")
    ui.field_errors("width", "height", "duration", "fps")

    left, right = st.columns(2)
    if model.seed:
        with left:
            st.toggle("Fixed seed", key="f_seed_on", help="Same seed and settings give the same video.")
            if ss.get("f_seed_on"):
                # Text, not a number widget: seeds go up to 2^63-1, beyond what a browser number holds.
                st.text_input("Seed", key="f_seed", help="A whole number from 1 to 9223372036854775807.")
            ui.field_errors("seed")
    if model.cfg_scale:
        with right:
            st.toggle("Set guidance (CFGScale)", key="f_cfg_on")
            if ss.get("f_cfg_on"):
                r = model.cfg_scale
                st.slider("CFGScale", float(r.min), float(r.max), key="f_cfg")
            ui.field_errors("CFGScale")

    if model.frame_images:
        cols = st.columns(len(model.frame_images))
        for col, position in zip(cols, model.frame_images):
            label = f"{position.capitalize()} frame image" + (" (required)" if model.needs_first_frame and position == "first" else "")
            col.file_uploader(label, key=f"f_{position}_frame", help="PNG, JPEG or WEBP.")
            if position in ss.get("prefill_frames", {}) and not ss.get(f"f_{position}_frame"):
                col.caption(f"Using the {position} frame of the job being re-run.")
        ui.field_errors("frameImages")

    left, mid, right = st.columns(3)
    left.number_input("Number of videos", min_value=1, max_value=4, key="f_results")
    mid.selectbox("Format", list(s.catalog.generic.output_formats), key="f_format")
    right.slider("Quality", 20, 99, key="f_quality")
    ui.field_errors("numberResults", "outputFormat", "outputQuality")

    with st.expander("Advanced"):
        st.text_input("Webhook URL", key="f_webhook", placeholder="https://example.com/hook",
                      help="Runware POSTs each finished result here.")
        ui.field_errors("webhookURL")
        st.number_input("Result URL lifetime, ttl (s, 0 = default)", min_value=0, step=60, key="f_ttl")
        ui.field_errors("ttl")
        st.checkbox("Include cost in results", key="f_cost")
        st.text_area("providerSettings (JSON)", key="f_provider", placeholder='{"%s": {}}' % model.provider)
        ui.field_errors("providerSettings")
        st.text_area("advancedFeatures (JSON)", key="f_advanced")
        ui.field_errors("advancedFeatures")
        st.text_input("Upload endpoint", key="f_upload", placeholder="https://bucket.example.com/presigned-put-url")
        ui.field_errors("uploadEndpoint")

    with st.expander("Request preview"):
        st.caption("Exactly what is sent (images shortened). The API key travels only in the "
                   "Authorization header and is never shown.")
        preview, _ = build_task(request_from_form(model), "<new taskUUID>", max_image_bytes=int(s.settings.max_image_mb * 1e6))
        st.code(json.dumps([redact_images(preview)], indent=2, ensure_ascii=False), language="json")

    price = model.price_usd(ss.get("f_duration") or model.default_duration, ss.get("f_results") or 1)
    if price is not None:
        st.caption(f"List price about ${price:.2f} ({model.name}).")
    elif s.runtime.caps.on and s.key_id == s.runtime.server_key_id and estimate(model, preview) is None:
        st.caption("No list price is known for this model: its jobs count as $0 toward the daily spend cap.")
    problems = ss.get("problems")
    if problems:
        st.error(f"Nothing was sent: {len(problems)} field(s) need attention (marked above).")
    if ss.get("spend_refusal"):
        st.error(ui.plain(ss["spend_refusal"]), icon="💸")
    st.button("Generate", type="primary", on_click=on_generate, use_container_width=True)

with jobs:
    st.subheader("Your jobs")
    st.caption("The newest jobs, updating live. Every job is in History.")
    ui.live_jobs(s)
