"""The sweep panel of the Generate page: axes to vary, the grid as it will be queued, its count and
price, and the Queue button (asking first when it costs more than STUDIO_CONFIRM_ABOVE_USD or has a
price nobody knows). What a sweep means is lib/sweep.py; this file draws it and queues its tasks."""
from __future__ import annotations

import json
import random
import secrets
import time
from typing import Callable

import pandas as pd
import streamlit as st

from lib import form as F
from lib import jobstate as js
from lib import sweep as S
from lib.catalog import Model
from lib.runtime import DOUBLE_SUBMIT_SECONDS
from lib.spend import SpendCapExceeded
from lib.store import DuplicateSubmit
from lib.studio import Studio
import studio_form_ui as fui
import studio_ui as ui

_HELP = {
    "prompts": "One prompt per line; blank lines are skipped. Empty: the form's prompt.",
    "models": "Empty: the form's model. Settings a model does not take are dropped for its cells, "
              "and values it does not allow move to the nearest it does.",
    "seeds": "Seeds like 1, 2, 3, or \"4 random\" for four new ones. Empty: the form's seed setting.",
    "durations": "Seconds, like 5, 10. Empty: the form's duration.",
    "sizes": "Sizes like 1280x720 and resolutions like 720p, mixed. Empty: the form's size.",
}


def panel(s: Studio, model: Model, uploads: Callable[[], F.Uploads]) -> None:
    """The whole sweep panel, under the Generate button. `model` is the form's model and the form's
    session state is the base every cell starts from; `uploads` reads the form's files when needed."""
    with st.expander("Sweep: vary parameters", icon="🧮"):
        ss = st.session_state
        # What the last Queue or Cancel did. Kept (not shown once): the live job list reruns the page
        # on its own, and a message shown only once could be gone before anyone read it.
        if ss.get("sw_outcome"):
            done, text = ss["sw_outcome"]
            (st.success if done else st.error)(ui.plain(text), icon="✅" if done else "💸")
        _last_sweep(s)
        plan, axes = _plan(s, model, uploads)
        if plan is None:
            _drop_confirmation()  # a question about a grid that is gone is not asked later
            return
        _grid(s, plan, axes)
        name = st.text_input("Sweep name", key="sw_name", placeholder=S.default_name(axes, s.catalog),
                             help="Empty: the name shown here.").strip() or S.default_name(axes, s.catalog)
        if st.button(f"Queue sweep ({_jobs(plan.jobs)})", key="sw_queue",
                     disabled=not plan.ready, width="stretch"):
            if plan.needs_confirmation:
                ss["sw_confirm"] = _fingerprint(plan)
            else:
                _queue(s, plan, name, axes, model)
                st.rerun()  # the message and the new jobs show at once
        if ss.get("sw_confirm"):
            _confirm(s, plan, name, axes, model)


def _plan(s: Studio, model: Model, uploads: Callable[[], F.Uploads]) -> tuple[S.Plan | None, S.Axes | None]:
    """The axis widgets and the grid they make; None (with the reason shown) when there is none."""
    if any(st.session_state.get(f"f_in_{kind}_file") is not None for kind in ("video", "audio")):
        # Each job would carry its own copy of a file of up to hundreds of MB.
        st.warning("A sweep cannot use an uploaded video or audio file: give its URL in the form instead.",
                   icon="📎")
        return None, None
    axes, problems = _axes(s, model)
    for message in problems:
        st.error(ui.plain(message), icon="⚠️")
    if problems:
        return None, None
    if not axes.lengths():
        st.caption("Give values for at least one axis: every combination becomes one job.")
        return None, None
    plan = S.build(s.catalog, model, st.session_state, axes, max_image_bytes=int(s.settings.max_image_mb * 1e6),
                   uploads=uploads(), confirm_above_usd=s.settings.confirm_above_usd)
    if plan.error:
        st.error(ui.plain(plan.error), icon="⚠️")
        return None, None
    return plan, axes


# -- the axes ----------------------------------------------------------------------------------------

def _axes(s: Studio, model: Model) -> tuple[S.Axes, list[str]]:
    """The axis widgets, read into Axes, and what is wrong with what was typed."""
    ss = st.session_state
    st.caption("Every combination of the values below becomes one job, on top of the form above.")
    st.text_area("Prompts", key="sw_prompts", height=90, help=_HELP["prompts"],
                 placeholder="A red fox in the snow\nA paper boat on a rainy street")
    labels = fui.picker_labels(s.catalog)
    airs = [a for a in labels if a != F.CUSTOM]
    # A model gone from a refreshed catalog leaves the choice rather than break the widget.
    ss["sw_models"] = [a for a in ss.get("sw_models") or () if a in labels]
    st.multiselect("Models", airs, key="sw_models", format_func=lambda a: labels.get(a, a),
                   help=_HELP["models"], placeholder="the form's model")
    left, mid, right = st.columns(3)
    left.text_input("Seeds", key="sw_seeds", help=_HELP["seeds"], placeholder='1, 2, 3 or "4 random"')
    mid.text_input("Durations (s)", key="sw_durations", help=_HELP["durations"], placeholder="5, 10")
    right.text_input("Sizes or resolutions", key="sw_sizes", help=_HELP["sizes"], placeholder="1280x720, 720p")
    models = [model] + [s.catalog.get(a) for a in ss.get("sw_models") or ()]
    choices = S.setting_choices(models)
    # A setting chosen for models no longer in the sweep leaves the list rather than break it.
    ss["sw_settings"] = [n for n in ss.get("sw_settings") or () if n in choices]
    st.multiselect("Settings to vary", list(choices), key="sw_settings", format_func=lambda n: choices[n],
                   placeholder="none", help="Model settings; each gets its own list of values.")
    settings = []
    json_names = S.json_settings(models)
    for name in ss["sw_settings"]:
        per_line = name in json_names
        if per_line:
            st.text_area(f"{choices[name]}: values", key=f"sw_set_{name}", height=90,
                         help="One JSON value per line; each line is checked like the form's own field.",
                         placeholder='{"key": "a"}\n{"key": "b"}')
        else:
            st.text_input(f"{choices[name]}: values", key=f"sw_set_{name}", placeholder="comma-separated, e.g. "
                          + ("on, off" if name == "audio" else "low, high" if name != "steps" else "20, 40"))
        values = S.parse_values(ss.get(f"sw_set_{name}"), per_line=per_line)
        if values:
            settings.append((name, values))
    ss.setdefault("sw_rng", secrets.randbits(32))
    seeds, seed_problem = S.parse_seeds(ss.get("sw_seeds"), random.Random(ss["sw_rng"]))
    durations, duration_problem = S.parse_durations(ss.get("sw_durations"))
    sizes, size_problem = S.parse_sizes(ss.get("sw_sizes"))
    axes = S.Axes(prompts=S.parse_prompts(ss.get("sw_prompts")), models=tuple(ss.get("sw_models") or ()),
                  seeds=seeds, durations=durations, sizes=sizes, settings=tuple(settings))
    return axes, [p for p in (seed_problem, duration_problem, size_problem) if p]


# -- the grid ----------------------------------------------------------------------------------------

def _grid(s: Studio, plan: S.Plan, axes: S.Axes) -> None:
    st.markdown("**" + ui.plain(S.summary(plan, demo=s.demo)) + "**")
    if plan.merged:
        st.caption(f"{plan.merged} of the {plan.asked} combinations came out the same as another "
                   "(after fitting to their models) and are merged: each is queued once.")
    st.dataframe(_rows(s, plan, axes), hide_index=True, width="stretch")
    if plan.invalid:
        st.error(f"Nothing can be queued while {len(plan.invalid)} cell(s) are invalid:", icon="⚠️")
        for cell in plan.invalid:
            st.markdown("- " + ui.plain(f"{cell.label()}: " + "; ".join(p["message"] for p in cell.problems)))


def _rows(s: Studio, plan: S.Plan, axes: S.Axes) -> pd.DataFrame:
    """One row per job: its actual parameters (as text, so a long seed keeps every digit), its price,
    and what fitting changed."""
    varied = [name for name, _ in axes.settings]
    rows = []
    for cell in plan.cells:
        p = cell.params
        row = {"cell": cell.number, "model": cell.model_name, "prompt": p["prompt"], "seed": _text(p["seed"]),
               "duration": _text(p["duration"]), "size": p["size"]}
        row.update({name: _text(p.get(name)) for name in varied})
        usd = cell.estimate.usd
        row["price"] = ("unknown" if usd is None else f"${usd:.2f}" if usd >= 0.1 else f"${usd:.3f}")
        row["fitted"] = "; ".join(cell.fitted)
        row["dropped"] = "; ".join(cell.dropped)
        row["merged"] = ", ".join(str(n) for n in cell.same_as)
        row["problem"] = "; ".join(x["message"] for x in cell.problems)
        rows.append(row)
    frame = pd.DataFrame(rows)
    if s.demo:
        frame = frame.rename(columns={"price": "price (simulated)"})
    return frame


def _jobs(n: int, kind: str = "") -> str:
    return f"{n} {kind}job" + ("" if n == 1 else "s")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):  # a JSON setting the request carries parsed (lora, ...)
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- queueing ----------------------------------------------------------------------------------------

def _last_sweep(s: Studio) -> None:
    """The sweep this session queued last, while some of it waits: it can be called off (what was
    sent already goes on)."""
    last = st.session_state.get("sw_last")
    if not last:
        return
    sweep_id, name = last
    waiting = sum(job.status == js.QUEUED for job in s.store.sweep_jobs(sweep_id, s.workspace))
    if not waiting:
        return
    text, button = st.columns([3, 1], vertical_alignment="center")
    text.caption(ui.plain(f"Sweep “{name}”: {_jobs(waiting)} not sent yet."))
    if button.button("Cancel those", key="sw_cancel_last", help="Jobs already sent go on."):
        cancelled = s.cancel_sweep(sweep_id)
        st.session_state["sw_outcome"] = (True, f"Cancelled {_jobs(cancelled, 'queued ')} of the sweep “{name}”.")
        st.rerun()


def _fingerprint(plan: S.Plan) -> list:
    """What the user agreed to: a different grid (the form changed meanwhile) is asked about again."""
    return [plan.jobs, plan.usd, plan.unknown, [c.params for c in plan.cells]]


def _drop_confirmation() -> None:
    st.session_state.pop("sw_confirm", None)


@st.dialog("Queue this sweep?", on_dismiss=_drop_confirmation)
def _confirm(s: Studio, plan: S.Plan, name: str, axes: S.Axes, model: Model) -> None:
    ss = st.session_state
    st.markdown("**" + ui.plain(name) + "**: " + ui.plain(S.summary(plan, demo=s.demo)))
    reasons = []
    if plan.usd > plan.confirm_above_usd:
        reasons.append(f"the estimate is above ${plan.confirm_above_usd:.2f}")
    if plan.unknown:
        reasons.append(f"{plan.unknown} job(s) have no known price")
    if reasons:
        st.caption(ui.plain("Asking because " + " and ".join(reasons) + "."))
    if ss.get("sw_confirm") != _fingerprint(plan) or not plan.ready:
        st.warning("The sweep changed since you asked to queue it: check the grid again.", icon="🔁")
        if st.button("Close", key="sw_confirm_close"):
            _drop_confirmation()
            st.rerun()
        return
    yes, no = st.columns(2)
    if yes.button(f"Queue {_jobs(plan.jobs)}", type="primary", key="sw_confirm_yes"):
        _drop_confirmation()
        _queue(s, plan, name, axes, model)
        st.rerun()
    if no.button("Cancel", key="sw_confirm_no"):
        _drop_confirmation()
        st.rerun()


def _queue(s: Studio, plan: S.Plan, name: str, axes: S.Axes, model: Model) -> None:
    """All of the grid as queued jobs of one sweep, or none of it (the spend caps decide together)."""
    ss = st.session_state
    # The store refuses the same requests again within moments, but after a queue "4 random" draws new
    # seeds: a double click would be a new grid to it. So this session refuses a second sweep that soon.
    if time.monotonic() - ss.get("sw_queued_at", -DOUBLE_SUBMIT_SECONDS) < DOUBLE_SUBMIT_SECONDS:
        ss["sw_outcome"] = (False, "Nothing more was queued: a sweep was queued moments ago and is in your jobs.")
        return
    spec = {**axes.spec(), "form_model": F.model_air(model, ss), "estimated_usd": plan.usd,
            "unknown_prices": plan.unknown}
    try:
        sweep, jobs = s.submit_sweep(name, plan.tasks(), spec)
    except SpendCapExceeded as exc:
        ss["sw_outcome"] = (False, f"Nothing was queued: {exc}")
        return
    except DuplicateSubmit:
        ss["sw_outcome"] = (False, "Nothing was queued: these jobs were queued moments ago and are in your jobs.")
        return
    ss["sw_queued_at"] = time.monotonic()
    ss["sw_outcome"] = (True, f"Queued {_jobs(len(jobs))} as the sweep “{name}”.")
    ss["sw_last"] = (sweep.sweep_id, sweep.name)
    ss["sw_rng"] = secrets.randbits(32)  # the next "4 random" draws new seeds
    ss["monitor_busy"] = None  # the live view switches to its quick pace
