"""lib/sweep.py: axes as typed, the grid, each cell fitted to its model, merging and the totals, table
by table on the real catalog."""
from __future__ import annotations

import json
import random

import pytest

from lib import form as F
from lib import sweep as S
from lib.validation import SEED_MAX

PROMPT = "A lighthouse on a cliff at dusk"
KLING = "klingai:5@3"  # sizes 1920x1080 / 1080x1080 / 1080x1920, 5 or 10 s, no seed, $0.184/s
RUNWARE = "runware:108@22"  # six sizes, 5-30 s, seed, fps 6-30, CFG 1-20, no price
VEO = "google:3@1"  # 8 s only, seed
WAN3 = "alibaba:wan@3.0"  # 480p / 720p / 1080p, 1-60 s
LTX = "lightricks:ltx@2.3"  # a "steps" number, audio, $0.08/s
FABRIC = "veed:fabric@1.0-hosted"  # "acceleration": none / low / medium / high; needs an image and audio
EDIT = "bfl:flux@video-edit-fast"  # no size, no duration; needs an input video
ERASER = "bria:60@1"  # no prompt, no seed; needs an input video
VIDEO = "https://e.example/v.mp4"


def form(catalog, air: str = KLING, **state) -> tuple:
    """The form right after choosing `air` in an empty form (its model and state), plus `state`."""
    model = catalog.get(air)
    updates, _ = F.fit(model, {})
    return model, {**updates, "f_model": air, "f_prompt": PROMPT, **state}


def plan(catalog, axes: S.Axes, air: str = KLING, *, confirm_above_usd: float = 5.0, **state) -> S.Plan:
    model, base = form(catalog, air, **state)
    return S.build(catalog, model, base, axes, max_image_bytes=10**7, confirm_above_usd=confirm_above_usd)


def only(p: S.Plan) -> S.Cell:
    [cell] = p.cells
    return cell


# -- typing the axes -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, prompts", [
    ("a cat\nA dog\na bird", ("a cat", "A dog", "a bird")),
    ("a cat\n\n   \nA dog\n", ("a cat", "A dog")),
    ("  a cat  \r\n a dog", ("a cat", "a dog")),
    ("a cat\na cat", ("a cat",)),
    ("", ()),
    (None, ()),
    ("\n\n", ()),
])
def test_prompts_one_per_line(text, prompts):
    assert S.parse_prompts(text) == prompts


@pytest.mark.parametrize("text, seeds", [
    ("1, 2, 3", (1, 2, 3)),
    ("1 2 3", (1, 2, 3)),
    ("7,\n8", (7, 8)),
    ("3, 3, 4", (3, 4)),
    ("", ()),
    (str(SEED_MAX), (SEED_MAX,)),
])
def test_listed_seeds(text, seeds):
    assert S.parse_seeds(text, random.Random(0)) == (seeds, None)


@pytest.mark.parametrize("text, words", [
    ("1, x", "whole number"), ("0", "from 1"), ("1.5", "whole number"), ("-3", "from 1"),
    ("0 random", "1 to 100"), ("101 random", "1 to 100"),
])
def test_bad_seeds_are_messages(text, words):
    seeds, message = S.parse_seeds(text, random.Random(0))
    assert seeds == () and words in message


@pytest.mark.parametrize("text", ["4 random", "4random", " 4 RANDOM "])
def test_n_random_seeds_are_distinct_and_in_range(text):
    seeds, message = S.parse_seeds(text, random.Random(1))
    assert message is None and len(set(seeds)) == 4
    assert all(1 <= s <= S.RANDOM_SEED_MAX for s in seeds)


def test_random_seeds_repeat_with_the_same_rng_seed():
    """The page keeps one RNG seed per session, so the preview and what is queued agree."""
    assert S.parse_seeds("5 random", random.Random(42)) == S.parse_seeds("5 random", random.Random(42))


def test_random_seeds_differ_with_another_rng_seed():
    assert S.parse_seeds("5 random", random.Random(1)) != S.parse_seeds("5 random", random.Random(2))


@pytest.mark.parametrize("text, durations", [
    ("5, 10", (5, 10)), ("5s, 10 s", (5, 10)), ("2.5", (2.5,)), ("5 5", (5,)), ("", ()),
])
def test_durations(text, durations):
    assert S.parse_durations(text) == (durations, None)


@pytest.mark.parametrize("text", ["five", "0", "-2", "nan", "inf"])
def test_bad_durations_are_messages(text):
    durations, message = S.parse_durations(text)
    assert durations == () and "duration" in message.lower()


@pytest.mark.parametrize("text, sizes", [
    ("1280x720, 720p", ((1280, 720), "720p")),
    ("1280 x 720\n4K", ((1280, 720), "4k")),
    ("1080P, 1080p", ("1080p",)),
    ("720×1280", ((720, 1280),)),
    ("", ()),
])
def test_sizes_and_resolutions(text, sizes):
    assert S.parse_sizes(text) == (sizes, None)


@pytest.mark.parametrize("text", ["big", "1280by720", "720", "7p"])
def test_bad_sizes_are_messages(text):
    sizes, message = S.parse_sizes(text)
    assert sizes == () and repr(text) in message


@pytest.mark.parametrize("text, values", [
    ("low, high", ("low", "high")), ("10,20,10", ("10", "20")), (" , ", ()), ("a b", ("a b",)),
])
def test_setting_values(text, values):
    assert S.parse_values(text) == values


@pytest.mark.parametrize("text, values", [
    ('{"a": 1, "b": 2}\n{"a": 3}', ('{"a": 1, "b": 2}', '{"a": 3}')),
    ('{"a": 1}\n\n  {"a": 1}  \r\n[1, 2]', ('{"a": 1}', "[1, 2]")),
    ("", ()),
])
def test_json_setting_values_one_per_line(text, values):
    assert S.parse_values(text, per_line=True) == values


@pytest.mark.parametrize("airs, names, json_names", [
    ((KLING,), {"CFGScale", "providerSettings", "advancedFeatures"}, {"providerSettings", "advancedFeatures"}),
    ((LTX,), {"steps", "audio", "fps", "CFGScale", "lora", "safety", "settings"}, {"lora", "safety", "settings"}),
    ((FABRIC,), {"acceleration", "acceleratorOptions", "safety", "settings"},
     {"acceleratorOptions", "safety", "settings"}),
    ((EDIT,), {"safety", "settings"}, {"safety", "settings"}),
    ((KLING, FABRIC), {"CFGScale", "acceleration", "providerSettings", "advancedFeatures", "acceleratorOptions",
                       "safety", "settings"}, {"providerSettings", "advancedFeatures", "acceleratorOptions",
                                               "safety", "settings"}),
])
def test_settings_a_sweep_can_vary(catalog, airs, names, json_names):
    models = [catalog.get(a) for a in airs]
    assert set(S.setting_choices(models)) == names
    assert S.json_settings(models) == json_names


# -- nearest allowed values ------------------------------------------------------------------------

@pytest.mark.parametrize("allowed, value, pick", [
    ((5, 10), 7, 5), ((5, 10), 8, 10), ((5, 10), 7.5, 5), ((8,), 4, 8), ((4, 6, 8), 6, 6), ((24, 48), 30, 24),
])
def test_nearest_number(allowed, value, pick):
    assert S.nearest_number(allowed, value) == pick


@pytest.mark.parametrize("target, pick", [
    ((1280, 720), (1920, 1080)), ((720, 1280), (1080, 1920)), ((1000, 1000), (1080, 1080)),
    ((3840, 2160), (1920, 1080)), ((1000, 1200), (1080, 1080)),
])
def test_nearest_size_keeps_the_shape(target, pick):
    assert S.nearest_size(((1920, 1080), (1080, 1080), (1080, 1920)), target) == pick


@pytest.mark.parametrize("height, pick", [(720, "720p"), (700, "720p"), (2160, "1080p"), (600, "480p"),
                                          (100, "480p")])
def test_nearest_resolution(height, pick):
    assert S.nearest_resolution(("480p", "720p", "1080p"), height) == pick


# -- the grid --------------------------------------------------------------------------------------

def test_three_prompts_two_models_two_seeds_make_twelve_jobs(catalog):
    p = plan(catalog, S.Axes(prompts=("a cat", "a dog", "a bird"), models=(RUNWARE, VEO), seeds=(1, 2)))
    assert (p.asked, p.jobs, p.merged) == (12, 12, 0) and p.ready


def test_grid_order_is_prompts_then_models_then_seeds(catalog):
    p = plan(catalog, S.Axes(prompts=("a cat", "a dog"), models=(RUNWARE, VEO), seeds=(1, 2)))
    assert [(c.params["prompt"], c.air, c.params["seed"]) for c in p.cells[:4]] == [
        ("a cat", RUNWARE, 1), ("a cat", RUNWARE, 2), ("a cat", VEO, 1), ("a cat", VEO, 2)]
    assert [c.number for c in p.cells] == list(range(1, 9))


def test_each_cell_is_its_own_task(catalog):
    p = plan(catalog, S.Axes(prompts=("a cat", "a dog"), seeds=(1, 2)), RUNWARE)
    tasks = p.tasks()
    assert len({t["taskUUID"] for t in tasks}) == 4
    assert {(t["positivePrompt"], t["seed"]) for t in tasks} == {
        ("a cat", 1), ("a cat", 2), ("a dog", 1), ("a dog", 2)}


def test_what_does_not_vary_comes_from_the_form(catalog):
    cell = only(plan(catalog, S.Axes(seeds=(9,)), RUNWARE, f_size=(1080, 1920), f_duration=12, f_fps=20))
    assert (cell.task["width"], cell.task["height"], cell.task["duration"], cell.task["fps"]) == (1080, 1920, 12, 20)
    assert cell.task["positivePrompt"] == PROMPT


def test_no_axis_is_no_sweep(catalog):
    p = plan(catalog, S.Axes())
    assert p.error and not p.cells and not p.ready


def test_more_than_the_cap_is_refused_with_the_count(catalog):
    p = plan(catalog, S.Axes(prompts=tuple(f"p{i}" for i in range(11)), seeds=tuple(range(1, 11))), RUNWARE)
    assert not p.cells and not p.ready
    assert "11 prompt × 10 seed makes 110 jobs" in p.error and "at most 100" in p.error


def test_exactly_the_cap_is_allowed(catalog):
    p = plan(catalog, S.Axes(prompts=tuple(f"p{i}" for i in range(10)), seeds=tuple(range(1, 11))), RUNWARE)
    assert p.error is None and p.jobs == 100


def test_an_unknown_model_is_refused(catalog):
    p = plan(catalog, S.Axes(models=(KLING, "nobody:1@1")))
    assert "nobody:1@1" in p.error and not p.cells


# -- fitting each cell to its model ----------------------------------------------------------------

@pytest.mark.parametrize("air, asked, duration, note", [
    (KLING, 7, 5, "duration 7 s (now 5 s)"),
    (KLING, 8, 10, "duration 8 s (now 10 s)"),
    (KLING, 10, 10, None),
    (VEO, 4, 8, "duration 4 s (now 8 s)"),
    (RUNWARE, 45, 30, "duration 45 s (now 30 s)"),
    (RUNWARE, 2, 5, "duration 2 s (now 5 s)"),
    (RUNWARE, 12.4, 12, "duration 12.4 s (now 12 s)"),
    (RUNWARE, 12, 12, None),
])
def test_duration_fitted_to_the_nearest_allowed(catalog, air, asked, duration, note):
    cell = only(plan(catalog, S.Axes(models=(air,), durations=(asked,))))
    assert cell.params["duration"] == duration and cell.task["duration"] == duration
    assert cell.fitted == ((note,) if note else ())


def test_duration_dropped_where_the_model_sets_its_own(catalog):
    cell = only(plan(catalog, S.Axes(durations=(5,)), EDIT, f_in_video=VIDEO))
    assert "duration" not in cell.task and cell.params["duration"] is None
    assert any(d.startswith("duration 5 s") for d in cell.dropped)


@pytest.mark.parametrize("air, asked, size, note", [
    (KLING, (1280, 720), "1920x1080", "size 1280x720 (now 1920x1080)"),
    (KLING, (720, 1280), "1080x1920", "size 720x1280 (now 1080x1920)"),
    (KLING, (1080, 1080), "1080x1080", None),
    (KLING, "720p", "1920x1080", "resolution 720p (now 1920x1080)"),
    (WAN3, "720p", "720p", None),
    (WAN3, "4k", "1080p", "resolution 4k (now 1080p)"),
    (WAN3, "540p", "480p", "resolution 540p (now 480p)"),
    (WAN3, (1280, 720), "720p", "size 1280x720 (now 720p)"),
])
def test_size_fitted_to_the_nearest_allowed(catalog, air, asked, size, note):
    cell = only(plan(catalog, S.Axes(models=(air,), sizes=(asked,))))
    assert cell.params["size"] == size
    assert cell.fitted == ((note,) if note else ())


@pytest.mark.parametrize("target, pick", [
    ((640, 360), (640, 352)), ((360, 640), (352, 640)), ((1280, 720), (1280, 720)),
])
def test_nearest_size_on_a_model_of_many_sizes(catalog, target, pick):
    """Vidu Q3 lists 20 sizes; its 360p is 640x352, nearer 640x360 than its exactly 16:9 1280x720."""
    assert S.nearest_size(catalog.get("vidu:4@1").sizes, target) == pick


def test_a_resolution_on_a_sized_model_keeps_the_forms_portrait_shape(catalog):
    cell = only(plan(catalog, S.Axes(sizes=("1080p",)), KLING, f_size=(1080, 1920)))
    assert cell.params["size"] == "1080x1920"


def test_the_forms_size_carries_over_to_a_resolution_model(catalog):
    cell = only(plan(catalog, S.Axes(models=(WAN3,)), KLING, f_size=(1920, 1080)))
    assert cell.task["resolution"] == "1080p" and "width" not in cell.task


def test_size_dropped_where_the_model_picks_its_own(catalog):
    cell = only(plan(catalog, S.Axes(sizes=((1280, 720),)), EDIT, f_in_video=VIDEO))
    assert cell.params["size"] == "" and "size 1280x720 (this model picks its own)" in cell.dropped


def test_a_seed_on_a_model_without_seeds_is_dropped(catalog):
    cell = only(plan(catalog, S.Axes(seeds=(3,)), KLING))
    assert "seed" not in cell.task and cell.dropped == ("fixed seed",)


def test_a_prompt_on_a_model_without_prompts_is_dropped(catalog):
    cell = only(plan(catalog, S.Axes(prompts=("a cat",)), ERASER, f_in_video=VIDEO))
    assert "positivePrompt" not in cell.task and "prompt (this model takes none)" in cell.dropped


def test_the_forms_hidden_prompt_is_not_reported_as_dropped(catalog):
    """A model without a prompt hides the prompt box; what it still holds was never asked for."""
    cell = only(plan(catalog, S.Axes(durations=(5,)), ERASER, f_in_video=VIDEO))
    assert not any("prompt" in d for d in cell.dropped)


def test_a_negative_prompt_on_a_model_without_one_is_dropped(catalog):
    p = plan(catalog, S.Axes(models=(RUNWARE, VEO)), RUNWARE, f_negative="blurry")
    runware, veo = p.cells
    assert runware.task["negativePrompt"] == "blurry" and runware.dropped == ()
    assert "negativePrompt" not in veo.task and "negative prompt" in veo.dropped


def test_a_setting_of_the_form_model_that_another_model_lacks_is_dropped(catalog):
    cell = only(plan(catalog, S.Axes(models=(KLING,)), LTX, f_x_steps=20))
    assert "steps" not in cell.task and "steps" in cell.dropped


def test_a_stale_setting_from_another_model_is_not_carried(catalog):
    """Session state keeps values of widgets another model drew; the form's model never sends them."""
    cell = only(plan(catalog, S.Axes(seeds=(1,)), RUNWARE, f_x_steps=20, f_x_acceleration="low"))
    assert cell.dropped == () and "steps" not in cell.task


@pytest.mark.parametrize("raw, steps, note", [("10", 10, None), ("12.6", 13, "Steps 12.6 (now 13)")])
def test_a_number_setting(catalog, raw, steps, note):
    cell = only(plan(catalog, S.Axes(settings=(("steps", (raw,)),)), LTX))
    assert cell.task["steps"] == steps and cell.params["steps"] == steps
    assert cell.fitted == ((note,) if note else ())


@pytest.mark.parametrize("raw, pick", [("low", "low"), ("HIGH", "high")])
def test_a_choice_setting_matches_its_option(catalog, raw, pick):
    cell = only(plan(catalog, S.Axes(settings=(("acceleration", (raw,)),)), FABRIC))
    assert cell.params["acceleration"] == pick and cell.fitted == ()


def test_a_choice_that_is_no_option_makes_the_cell_invalid(catalog):
    cell = only(plan(catalog, S.Axes(settings=(("acceleration", ("warp",)),)), FABRIC))
    assert any("acceleration must be one of none, low, medium, high; 'warp'" in p["message"] for p in cell.problems)


@pytest.mark.parametrize("raw, fps, note", [("12", 12, None), ("60", 30, "FPS 60 (now 30)"), ("2", 6, "FPS 2 (now 6)")])
def test_fps_clamped_to_the_models_range(catalog, raw, fps, note):
    cell = only(plan(catalog, S.Axes(settings=(("fps", (raw,)),)), RUNWARE))
    assert cell.task["fps"] == fps and cell.fitted == ((note,) if note else ())


@pytest.mark.parametrize("raw, cfg, note", [("7.5", 7.5, None), ("25", 20.0, "CFG scale 25 (now 20)")])
def test_cfg_scale_clamped_and_switched_on(catalog, raw, cfg, note):
    cell = only(plan(catalog, S.Axes(settings=(("CFGScale", (raw,)),)), RUNWARE))
    assert cell.task["CFGScale"] == cfg and cell.fitted == ((note,) if note else ())


@pytest.mark.parametrize("raw, on", [("on", True), ("false", False), ("Yes", True), ("0", False)])
def test_audio_switch(catalog, raw, on):
    cell = only(plan(catalog, S.Axes(settings=(("audio", (raw,)),)), LTX))
    assert cell.task["settings"]["audio"] is on


def test_audio_that_is_no_switch_makes_the_cell_invalid(catalog):
    cell = only(plan(catalog, S.Axes(settings=(("audio", ("loud",)),)), LTX))
    assert not cell.valid and "'loud'" in cell.problems[0]["message"]


def test_a_setting_the_cells_model_lacks_is_dropped(catalog):
    p = plan(catalog, S.Axes(models=(LTX, KLING), settings=(("steps", ("20",)),)), LTX)
    ltx, kling = p.cells
    assert ltx.task["steps"] == 20 and ltx.dropped == ()
    assert "steps" not in kling.task and "steps 20" in kling.dropped


def test_a_json_setting_gives_each_cell_its_own_object(catalog):
    values = ('{"klingai": {"cameraControl": {"type": "simple"}}}', "{}")
    p = plan(catalog, S.Axes(settings=(("providerSettings", values),)), KLING)
    assert [c.task["providerSettings"] for c in p.cells] == [{"klingai": {"cameraControl": {"type": "simple"}}}, {}]
    assert p.cells[0].params["providerSettings"] == values[0]  # the grid shows the value as typed


def test_a_json_value_that_does_not_parse_makes_its_cell_invalid(catalog):
    p = plan(catalog, S.Axes(settings=(("providerSettings", ('{"klingai": {', "{}")),)), KLING)
    broken, fine = p.cells
    assert not broken.valid and "Provider settings is not valid JSON" in broken.problems[0]["message"]
    assert fine.valid and not p.ready


def test_a_json_setting_the_cells_model_lacks_is_dropped(catalog):
    p = plan(catalog, S.Axes(models=(KLING, LTX), settings=(("providerSettings", ("{}",)),)), KLING)
    kling, ltx = p.cells
    assert kling.task["providerSettings"] == {}
    assert "providerSettings" not in ltx.task and ltx.dropped == ("providerSettings {}",)


# -- merging, validity, prices ---------------------------------------------------------------------

def test_seeds_on_a_model_without_seeds_merge_into_one_job(catalog):
    p = plan(catalog, S.Axes(seeds=(1, 2, 3)), KLING)
    assert (p.asked, p.jobs, p.merged) == (3, 1, 2)
    assert only(p).same_as == (2, 3)


def test_sizes_fitted_to_the_same_size_merge(catalog):
    p = plan(catalog, S.Axes(sizes=((1280, 720), (1920, 1080), (1080, 1080))), KLING)
    assert [c.params["size"] for c in p.cells] == ["1920x1080", "1080x1080"]
    assert p.cells[0].same_as == (2,) and p.cells[1].same_as == ()


def test_different_cells_do_not_merge(catalog):
    p = plan(catalog, S.Axes(durations=(5, 10)), KLING)
    assert p.jobs == 2 and all(c.same_as == () for c in p.cells)


def test_an_invalid_cell_blocks_the_whole_sweep(catalog):
    p = plan(catalog, S.Axes(settings=(("steps", ("10", "many")),)), LTX)
    assert p.jobs == 2 and not p.ready
    [bad] = p.invalid
    assert bad.number == 2 and bad.task is None and "Steps must be a number; 'many'" in bad.problems[0]["message"]
    assert len(p.tasks()) == 1


def test_a_cell_its_model_refuses_is_invalid(catalog):
    """Validation, not only fitting: a model needing an input video, given none."""
    p = plan(catalog, S.Axes(models=(RUNWARE, EDIT)))
    assert [c.air for c in p.invalid] == [EDIT]
    assert "needs an input video" in p.invalid[0].problems[0]["message"]


def test_a_cell_is_named_by_number_model_and_values(catalog):
    cell = only(plan(catalog, S.Axes(seeds=(4,)), RUNWARE))
    assert cell.label() == "cell 1 (Runware Video Model, seed 4, duration 5, size 1920x1080)"


@pytest.mark.parametrize("durations, usd", [((5,), 0.92), ((5, 10), 2.76)])
def test_total_is_the_sum_of_the_cells_estimates(catalog, durations, usd):
    p = plan(catalog, S.Axes(durations=durations), KLING)
    assert p.usd == usd and p.unknown == 0


def test_number_of_videos_multiplies_the_price(catalog):
    assert plan(catalog, S.Axes(durations=(5,)), KLING, f_results=2).usd == 1.84


def test_unknown_prices_are_counted_apart(catalog):
    p = plan(catalog, S.Axes(models=(KLING, RUNWARE, VEO)))
    assert (p.usd, p.unknown) == (0.92, 2)


@pytest.mark.parametrize("durations, threshold, asks", [
    ((5,), 5.0, False),  # $0.92
    ((5, 10), 2.0, True),  # $2.76
    ((5, 10), 2.76, False),  # not above
    ((5,), 0.0, True),  # 0: always ask
])
def test_confirmation_above_the_threshold(catalog, durations, threshold, asks):
    assert plan(catalog, S.Axes(durations=durations), KLING, confirm_above_usd=threshold).needs_confirmation is asks


def test_confirmation_when_any_price_is_unknown(catalog):
    assert plan(catalog, S.Axes(models=(KLING, RUNWARE)), confirm_above_usd=100).needs_confirmation


@pytest.mark.parametrize("axes_args, demo, text", [
    ({"durations": (5, 10)}, False, "2 jobs, about $2.76"),
    ({"durations": (5,)}, True, "1 job, about $0.92 (simulated: the demo charges nothing)"),
    ({"models": (KLING, RUNWARE, VEO)}, False, "3 jobs, about $0.92 · 2 with price unknown (not in the total)"),
    ({"models": (RUNWARE, VEO)}, False, "2 jobs, price unknown"),
])
def test_summary_words(catalog, axes_args, demo, text):
    assert S.summary(plan(catalog, S.Axes(**axes_args)), demo=demo) == text


# -- naming and keeping the sweep ------------------------------------------------------------------

@pytest.mark.parametrize("axes, name", [
    (S.Axes(prompts=("a", "b", "c"), models=(KLING, VEO), seeds=(1, 2)), "3 prompts × 2 models × 2 seeds"),
    (S.Axes(models=(KLING,), durations=(5, 10)), "Kling 2.1 Master × 2 durations"),
    (S.Axes(prompts=("a red fox runs through deep snow",), seeds=(1, 2)), "a red fox runs through… × 2 seeds"),
    (S.Axes(sizes=((1280, 720),), seeds=(1, 2)), "2 seeds × size 1280x720"),
    (S.Axes(durations=(5,)), "duration 5 s"),
    (S.Axes(settings=(("steps", ("10", "20")),)), "2 steps values"),
])
def test_default_name_from_the_axes(catalog, axes, name):
    assert S.default_name(axes, catalog) == name


def test_spec_is_plain_json(catalog):
    axes = S.Axes(prompts=("a",), models=(KLING,), seeds=(1,), durations=(5, 2.5), sizes=((1280, 720), "720p"),
                  settings=(("steps", ("10",)),))
    assert json.loads(json.dumps(axes.spec())) == {
        "prompts": ["a"], "models": [KLING], "seeds": [1], "durations": [5, 2.5], "sizes": ["1280x720", "720p"],
        "settings": {"steps": ["10"]}}


def test_a_custom_model_in_the_form_is_swept_under_its_own_air(catalog):
    model = catalog.get("acme:1@1")
    updates, _ = F.fit(model, {})
    base = {**updates, "f_model": F.CUSTOM, "f_custom_air": "acme:1@1", "f_prompt": PROMPT}
    p = S.build(catalog, model, base, S.Axes(seeds=(1, 2)), max_image_bytes=10**7)
    assert [(t["model"], t["seed"]) for t in p.tasks()] == [("acme:1@1", 1), ("acme:1@1", 2)]


def test_a_model_of_the_sweep_replaces_a_custom_model_in_the_form(catalog):
    model = catalog.get("acme:1@1")
    updates, _ = F.fit(model, {})
    base = {**updates, "f_model": F.CUSTOM, "f_custom_air": "acme:1@1", "f_prompt": PROMPT}
    p = S.build(catalog, model, base, S.Axes(models=(RUNWARE,)), max_image_bytes=10**7)
    assert only(p).task["model"] == RUNWARE
