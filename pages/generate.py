"""Generate: the model picker, the form (controls follow the model), its price, the request preview,
and this session's jobs updating live. What the form means is lib/form.py; this file only draws it."""
import json
import math

import streamlit as st

from lib import field_messages as FM
from lib import form as F
from lib import pricing, prefs
from lib.catalog import Model
from lib.catalog_schema import lookup
from lib.errors import InvalidRequest
from lib.images import decode_image_ref
from lib.spend import SpendCapExceeded
from lib.store import DuplicateSubmit
from lib.request import build_task, form_from_task, redact_images
import studio_form_ui as fui
import studio_prefs_ui as prefs_ui
import studio_sweep_ui
import studio_ui as ui

CUSTOM = F.CUSTOM

s = ui.studio()
ss = st.session_state
shown: list[str] = []  # parameters whose messages are drawn at a field on this run, in page order


def errs(*parameters: str, found_now=()) -> None:
    shown.extend(parameters)
    ui.field_errors(*parameters, found_now=found_now)


def chosen_model() -> Model:
    if ss.get("f_model") == CUSTOM:
        return s.catalog.get(ss.get("f_custom_air", "").strip()) or s.catalog.generic_model()
    return s.catalog.get(ss.get("f_model") or F.default_model(s.catalog)) or s.catalog.get(F.default_model(s.catalog))


def apply_prefill() -> None:
    """Fill the form from a job chosen for re-run on the History page."""
    task = ss.pop("prefill_task", None)
    if not task:
        return
    req, frames = form_from_task(task)
    ss["f_model"] = req.model if s.catalog.known(req.model) else CUSTOM
    ss["f_custom_air"] = req.model
    ss["f_last_air"] = req.model  # a re-run is not a model switch: nothing to report as dropped
    ss["f_switch_note"] = None
    ss["f_prompt"], ss["f_negative"] = req.positive_prompt, req.negative_prompt or ""
    if req.width:
        ss["f_size"] = (req.width, req.height)
        ss["f_width"], ss["f_height"] = req.width, req.height  # a custom model's typed-in size
    for key, value in (("f_duration", req.duration), ("f_fps", req.fps), ("f_results", req.number_results),
                       ("f_quality", req.output_quality), ("f_webhook", req.webhook_url), ("f_ttl", req.ttl),
                       ("f_upload", req.upload_endpoint), ("f_provider", req.provider_settings),
                       ("f_advanced", req.advanced_features), ("f_x_settings", req.settings),
                       ("f_x_safety", req.safety), ("f_resolution", req.resolution),
                       ("f_in_video", req.input_video), ("f_in_audio", req.input_audio),
                       ("f_in_image", req.input_image)):
        if value is not None:
            ss[key] = int(value) if key in ("f_duration", "f_fps") else value
    for name, value in req.extra.items():
        ss[f"f_x_{name}"] = json.dumps(value, indent=2) if isinstance(value, (dict, list)) else value
    model = s.catalog.get(req.model)
    if model is not None and model.audio:
        ss["f_audio"] = lookup(task, model.audio) is True
    ss["f_seed_on"], ss["f_seed"] = req.seed is not None, str(req.seed or 1)
    ss["f_cfg_on"] = req.cfg_scale is not None
    if req.cfg_scale is not None:
        ss["f_cfg"] = float(req.cfg_scale)
    ss["f_format"] = (req.output_format or "MP4").upper()
    ss["f_cost"] = bool(req.include_cost)
    ss["prefill_frames"] = frames
    # Inline images come back as bytes (previewed, checked again); links and image ids are sent as they were.
    ss["prefill_refs"] = tuple(decode_image_ref(r) or r for r in req.reference_images or () if isinstance(r, str))


def _bytes(key: str):
    upload = ss.get(key)
    return upload.getvalue() if upload is not None else None


def _named(key: str):
    upload = ss.get(key)
    return f"<uploaded {upload.name}, {upload.size:,} bytes>" if upload is not None else None


def uploads(read: bool = True) -> F.Uploads:
    """The uploaded files. Unless `read`, a video or audio is only named: the preview and the price
    rerun on every change and need not copy (or encode) hundreds of MB each time."""
    frames = ss.get("prefill_frames", {})
    media = _bytes if read else _named
    return F.Uploads(
        first=_bytes("f_first_frame") or frames.get("first"), last=_bytes("f_last_frame") or frames.get("last"),
        references=tuple(u.getvalue() for u in ss.get("f_refs") or ()) or tuple(ss.get("prefill_refs", ())),
        video=media("f_in_video_file"), audio=media("f_in_audio_file"), image=_bytes("f_in_image_file"))


def fit_state_to(model: Model) -> None:
    """Give every widget a value the chosen model allows; on a switch, say what was dropped."""
    air = F.model_air(model, ss)
    switching = ss.get("f_last_air") not in (None, air)
    updates, notes = F.fit(model, ss, switching=switching)
    if switching:
        # A control may change kind with the model (a duration list becomes a number box): written
        # back as state, the value survives; left as the old widget's state, the new one would reset.
        for key in F.value_keys(ss):
            ss[key] = ss[key]
    for key, value in updates.items():
        ss[key] = value
    if switching:
        ss["problems"] = []  # they were about the other model's request
        ss["f_switch_note"] = (f"Switched to {model.name}: kept what it allows; dropped or changed "
                               + "; ".join(notes) + ".") if notes else None
    ss["f_last_air"] = air


def on_generate() -> None:
    model = chosen_model()
    try:
        task = F.prepare_state(model, ss, s.catalog, max_image_bytes=int(s.settings.max_image_mb * 1e6),
                               uploads=uploads())
    except InvalidRequest as exc:
        ss["problems"] = exc.problems
        ss["problems_at"] = FM.snapshot(ss)  # each message goes once its field changes
        fui.open_sections_holding(exc.problems, F.layout(model))
        ss["submits_refused"] = ss.get("submits_refused", 0) + 1
        ss["scroll_to_error"] = True  # the next run brings the first message into view
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


def model_picker() -> None:
    """Search by name, provider or capability; options grouped by provider, with price and any
    deprecation. The chosen model always stays an option, so filtering never changes the choice."""
    ss.setdefault("f_model", F.default_model(s.catalog))
    labels = fui.picker_labels(s.catalog)
    search, caps = st.columns([3, 2])
    query = search.text_input("Find a model", fui.current("f_model_search", ""), key="f_model_search",
                              placeholder="name, provider or AIR id")
    wanted = caps.multiselect("It takes", F.CAPABILITIES, fui.current("f_caps"), key="f_caps", placeholder="any input")
    airs = [a for a in labels if a != CUSTOM]
    if query or wanted:
        airs = [a for a in airs if F.matches(s.catalog.get(a), query, wanted)]
        st.caption(f"{len(airs)} of {len(labels) - 1} models match.")
    if ss["f_model"] not in airs and ss["f_model"] != CUSTOM:
        airs.insert(0, ss["f_model"])
    options = airs + [CUSTOM]
    st.selectbox("Model", options, fui.current_index(options, "f_model"), key="f_model",
                 format_func=lambda a: labels.get(a, a))
    if ss.get("f_model") == CUSTOM:
        st.text_input("Custom model AIR id", fui.current("f_custom_air", ""), key="f_custom_air",
                      placeholder="provider:id@version",
                      help="Any Runware model; only the rules every model shares are checked here.")
    errs("model")
    if ss.get("f_model") == CUSTOM and s.demo:
        st.caption("In demo mode the simulator runs the catalog's models only: a custom model needs an API key.")


def size_controls(model: Model, lay: F.Layout) -> None:
    if lay.size_range:
        # A custom model: nothing is known of its sizes, so any size the API allows, typed in.
        r = lay.size_range
        width, height, mid, right = st.columns(4)
        hint = f"{r.min}-{r.max} pixels, a multiple of {r.multiple}."
        width.number_input("Width (px)", r.min, r.max, fui.current_number("f_width", r.min, r.max),
                           step=r.multiple, key="f_width", help=hint)
        height.number_input("Height (px)", r.min, r.max, fui.current_number("f_height", r.min, r.max),
                            step=r.multiple, key="f_height", help=hint)
    else:
        left, mid, right = st.columns(3)
        if lay.sizes:
            left.selectbox("Size", list(lay.sizes), fui.current_index(lay.sizes, "f_size"), key="f_size",
                           format_func=fui.aspect_label)
        elif lay.resolutions:
            left.selectbox("Resolution", list(lay.resolutions), fui.current_index(lay.resolutions, "f_resolution"),
                           key="f_resolution")
        else:
            left.text_input("Size", "set by the model", disabled=True)
    durations = model.allowed_durations(*ss["f_size"]) if lay.sizes and lay.durations else lay.durations
    if durations:
        mid.selectbox("Duration (s)", list(durations), fui.current_index(durations, "f_duration"), key="f_duration")
    elif lay.duration_range:
        r = lay.duration_range
        low, high = int(r.min), int(r.max)
        mid.number_input("Duration (s)", low, high, fui.current_number("f_duration", low, high), step=1,
                         key="f_duration")
    else:
        mid.text_input("Duration (s)", "set by the model", disabled=True)
    if len(model.fps) == 1 or not (lay.fps or lay.fps_range):
        right.text_input("FPS", f"{model.fps[0]} (fixed by the model)" if model.fps else "set by the model",
                         disabled=True)
    elif lay.fps:
        right.selectbox("FPS", list(lay.fps), fui.current_index(lay.fps, "f_fps"), key="f_fps")
    else:
        r = lay.fps_range
        right.number_input("FPS", int(r.min), int(r.max), fui.current_number("f_fps", int(r.min), int(r.max)),
                           step=1, key="f_fps")
    errs("width", "height", "resolution", "duration", "fps")


def seed_and_guidance(lay: F.Layout) -> None:
    left, right = st.columns(2)
    if lay.seed:
        with left:
            st.toggle("Fixed seed", fui.current("f_seed_on", False), key="f_seed_on",
                      help="Same seed and settings give the same video.")
            if ss.get("f_seed_on"):
                # Text, not a number widget: seeds go up to 2^63-1, beyond what a browser number holds.
                st.text_input("Seed", fui.current("f_seed", ""), key="f_seed",
                              help="A whole number from 1 to 9223372036854775807.")
            errs("seed")
    if lay.cfg:
        with right:
            st.toggle("Set guidance (CFGScale)", fui.current("f_cfg_on", False), key="f_cfg_on")
            if ss.get("f_cfg_on"):
                low, high = float(lay.cfg.min), float(lay.cfg.max)
                st.slider("CFGScale", low, high, fui.current_number("f_cfg", low, high), key="f_cfg")
            errs("CFGScale")


IMAGE_TYPES = ["png", "jpg", "jpeg", "webp"]


def drop_prefill_frame(position: str) -> None:
    """A re-run's frame image is removed: it is not sent (a new dict, so the change is seen)."""
    ss["prefill_frames"] = {k: v for k, v in ss.get("prefill_frames", {}).items() if k != position}


def drop_prefill_refs() -> None:
    """A re-run's reference images are removed: they are not sent."""
    ss["prefill_refs"] = ()


def image_uploader(where, label: str, key: str, *, multiple: bool = False):
    """An uploader that takes only the images Runware takes, up to the studio's own cap, which its
    "10MB per file" line then states (not server.maxUploadSize, the cap for videos)."""
    mb = s.settings.max_image_mb
    # Whole MB only, and never above what the server takes at all; the exact cap is checked at upload.
    cap = max(1, min(math.ceil(mb), int(st.get_option("server.maxUploadSize"))))
    return where.file_uploader(label, key=key, type=IMAGE_TYPES, accept_multiple_files=multiple,
                               max_upload_size=cap, help=f"PNG, JPEG or WEBP, up to {mb:g} MB.")


def media_inputs(model: Model, lay: F.Layout) -> None:
    max_bytes = int(s.settings.max_image_mb * 1e6)
    up = uploads(read=False)
    # Checked the moment they are uploaded, not only on Generate, in the words Generate would use.
    found = FM.upload_problems(F.model_air(model, ss), first=up.first if "first" in lay.frames else None,
                               last=up.last if "last" in lay.frames else None,
                               references=up.references if lay.references else (),
                               image=up.image if "image" in lay.media else None,
                               catalog=s.catalog, max_image_bytes=max_bytes)
    if lay.frames:
        cols = st.columns(len(lay.frames))
        for col, position in zip(cols, lay.frames):
            required = lay.frame_required and position == "first"
            image_uploader(col, f"{position.capitalize()} frame image" + (" (required)" if required else ""),
                           f"f_{position}_frame")
            inherited = ss.get("prefill_frames", {}).get(position)
            with col:
                if ss.get(f"f_{position}_frame") is not None:
                    fui.thumbnails([_bytes(f"f_{position}_frame")], max_bytes)
                elif inherited is not None:
                    st.caption(f"Using the {position} frame image of the job being re-run.")
                    fui.thumbnails([inherited], max_bytes)
                    st.button("Remove", key=f"drop_{position}_frame", on_click=drop_prefill_frame, args=(position,),
                              help="Leave this frame image out of the new job.")
        errs("frameImages", "inputs.frameImages", found_now=found)
    if lay.references:
        image_uploader(st, "Reference images", "f_refs", multiple=True)
        inherited = ss.get("prefill_refs") or ()
        if inherited and not ss.get("f_refs"):
            linked = sum(isinstance(r, str) for r in inherited)
            st.caption(f"Using the {len(inherited)} reference image(s) of the job being re-run"
                       + (f" ({linked} without a preview: given by link or id)" if linked else "")
                       + ". Images you upload replace them.")
            st.button("Remove", key="drop_refs", on_click=drop_prefill_refs,
                      help="Leave these reference images out of the new job.")
        fui.thumbnails(up.references, max_bytes)
        errs("referenceImages", "inputs.referenceImages", found_now=found)
    for kind in lay.media:
        required = " (required)" if kind in lay.media_required else ""
        url, upload = st.columns([3, 2])
        url.text_input(f"Input {kind}{required}: URL", fui.current(f"f_in_{kind}", ""), key=f"f_in_{kind}",
                       placeholder="https://… or upload")
        if kind == "image":
            image_uploader(upload, "or upload the image", "f_in_image_file")
            with upload:
                fui.thumbnails([up.image], max_bytes)
        else:
            upload.file_uploader(f"or upload the {kind}", key=f"f_in_{kind}_file",
                                 type={"video": ["mp4", "mov", "webm"], "audio": ["mp3", "wav", "m4a", "ogg"]}[kind])
        errs(f"inputs.{kind}", found_now=found if kind == "image" else ())
    if model.shape != "legacy" or model.custom:
        errs("inputs")


def prompt_area(model: Model) -> None:
    """The prompt, with its length against the model's limit. A counter rather than `max_chars`:
    a re-run's prompt longer than this model takes stays whole (and says so) instead of being cut."""
    st.text_area("Prompt", fui.current("f_prompt", ""), key="f_prompt", height=110,
                 placeholder="A beautiful sunset over mountains",
                 help=f"{model.prompt_min}-{model.prompt_max:,} characters for {model.name}.")
    count = len(ss.get("f_prompt") or "")
    over = count - model.prompt_max
    text = f"{count:,} / {model.prompt_max:,} characters"
    errs("positivePrompt")  # a message goes right under the box, the count after it
    st.caption(f":red[{text}: {over:,} too many for this model]" if over > 0 else text)


prefs_ui.start_form(s)  # a draft from the link, else this browser's defaults
apply_prefill()  # a re-run wins over both
prefs_ui.keep_draft()
if ss.get("problems"):
    ss["problems"] = FM.still_current(ss["problems"], ss.get("problems_at") or {}, FM.snapshot(ss))
ui.mode_banner(s)
ui.show_flash()
st.title("Generate a video")
form, jobs = st.columns([3, 2], gap="large")

with form:
    model_picker()
    model = chosen_model()
    lay = F.layout(model)
    fit_state_to(model)
    if ss.get("f_switch_note"):
        st.info(ss["f_switch_note"], icon="🔁")
    facts = ["Custom model: only the rules every Runware model shares are checked here"] if model.custom else [
        "Makes: " + ", ".join(model.capabilities)]
    if model.docs:
        facts.append(f"[docs]({model.docs})")
    st.caption(" · ".join(facts))
    if lay.prompt:
        prompt_area(model)
    else:
        st.caption(f"{model.name} takes no prompt: it works from its inputs.")
    if lay.negative:
        st.text_input("Negative prompt", fui.current("f_negative", ""), key="f_negative", placeholder="blurry, dark")
        errs("negativePrompt")

    size_controls(model, lay)
    seed_and_guidance(lay)
    media_inputs(model, lay)

    left, mid, right = st.columns(3)
    left.number_input("Number of videos", *prefs.RESULTS, fui.current_number("f_results", *prefs.RESULTS),
                      key="f_results")
    formats = list(s.catalog.generic.output_formats)
    mid.selectbox("Format", formats, fui.current_index(formats, "f_format"), key="f_format")
    right.slider("Quality", *prefs.QUALITY, fui.current_number("f_quality", *prefs.QUALITY), key="f_quality")
    errs("numberResults", "outputFormat", "outputQuality")
    if lay.audio:
        st.toggle("Audio", fui.current("f_audio", False), key="f_audio",
                  help="Generate a soundtrack with the video (priced higher where Runware says so).")
        errs(model.audio)

    simple = [c for c in lay.controls if c.kind not in F.JSON_KINDS]
    if simple:
        st.markdown("**Model settings**")
        cols = st.columns(min(len(simple), 3))
        for i, control in enumerate(simple):
            with cols[i % len(cols)]:
                fui.draw_control(control)
                shown.append(control.name)

    with st.expander("Advanced", key=fui.ADVANCED_KEY, on_change="rerun"):  # opened by an error in it
        st.text_input("Webhook URL", fui.current("f_webhook", ""), key="f_webhook",
                      placeholder="https://example.com/hook",
                      help="Runware POSTs each finished result here.")
        errs("webhookURL")
        st.number_input("Result URL lifetime, ttl (s, 0 = default)", min_value=0, value=fui.current_number("f_ttl", 0),
                        step=60, key="f_ttl")
        errs("ttl")
        st.checkbox("Include cost in results", fui.current("f_cost", False), key="f_cost")
        for control in lay.controls:
            if control.kind in F.JSON_KINDS:
                fui.draw_control(control)
                shown.append(control.name)
        st.text_input("Upload endpoint", fui.current("f_upload", ""), key="f_upload",
                      placeholder="https://bucket.example.com/presigned-put-url")
        errs("uploadEndpoint")

    req, _ = F.request_from_state(model, ss, uploads(read=False))
    with st.expander("Request preview"):
        st.caption("Exactly what is sent (images shortened). The API key travels only in the "
                   "Authorization header and is never shown.")
        preview, _ = build_task(req, "<new taskUUID>", max_image_bytes=int(s.settings.max_image_mb * 1e6),
                                catalog=s.catalog)
        st.code(json.dumps([redact_images(preview)], indent=2, ensure_ascii=False), language="json")
    ui.code_expander(s, preview, "this request")

    guess = F.estimate(model, req)
    price = pricing.price_text(guess, demo=s.demo)
    if guess.usd is None and s.runtime.caps.on and s.key_id == s.runtime.server_key_id:
        st.caption("No list price is known for this model: its jobs count as $0 toward the daily spend cap.")
    problems = ss.get("problems")
    for p in problems or ():
        # Messages about a parameter that has no widget of its own (e.g. inside settings) go here.
        if p.get("parameter") not in shown:
            st.error(ui.plain(p["message"]), icon="⚠️")
    fui.action_bar_assets()
    if ss.pop("scroll_to_error", False):
        fui.scroll_to_first_error(ss.get("submits_refused", 0))
    # Price, what to fix and Generate stay in view at the bottom of the screen (see studio_form_ui).
    with st.container(key=fui.ACTION_BAR_KEY):
        if guess.usd is not None:
            st.caption(f"Price: {price}")
            details = f"{model.name} · from {guess.basis} · {fui.SHORTCUT_HINT}"
        else:
            st.caption(f"Price unknown{price[len('price unknown'):]}")
            details = f"{model.name} · {guess.basis} · {fui.SHORTCUT_HINT}"
        with st.container(key=fui.ACTION_BAR_DETAILS_KEY):  # left out on a phone: the bar stays low
            st.caption(details)
        if problems:
            st.error(ui.plain(fui.error_summary(problems, order=shown)))
        if ss.get("spend_refusal"):
            st.error(ui.plain(ss["spend_refusal"]), icon="💸")
        # (No tooltip: it would cover the summary above the button right after a click.)
        st.button("Generate", type="primary", on_click=on_generate, use_container_width=True)
    studio_sweep_ui.panel(s, model, uploads)

with jobs:
    st.subheader("Your jobs")
    st.caption("The newest jobs, updating live. Every job is in History.")
    ui.live_jobs(s)
