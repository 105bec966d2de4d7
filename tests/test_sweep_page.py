"""The sweep panel of the Generate page (issue 14), run headless with AppTest: demo mode on the bundled
simulator (API mode on the `simulator` fixture for the spend cap), the real store in a temporary folder.
Jobs are counted in the store itself."""
from __future__ import annotations

import pytest

from conftest import wait_for
from test_pages import data_dir, errors, new_app, run, store_for, unescape  # noqa: F401  (data_dir: a fixture)

CHEAP = "pixverse:1@2"  # $0.0598/s: 5 s at 640x360 is $0.30; takes seeds
PRICED = "vidu:4@1"  # Vidu Q3, $0.0455/s; takes seeds
UNPRICED = "runware:108@22"  # no published price
NEEDS_VIDEO = "bfl:flux@video-edit-fast"


def generate_page(model: str = UNPRICED, size=(640, 360)):
    """The Generate page with `model` chosen at a small size and a prompt typed."""
    at = run(new_app())
    at.selectbox(key="f_model").set_value(model)
    run(at)
    at.selectbox(key="f_size").set_value(size)
    at.text_area(key="f_prompt").set_value("A paper boat on a rainy street")
    return run(at)


def sweep(at, *, prompts: str = "", models=(), seeds: str = "", durations: str = "", sizes: str = ""):
    at.text_area(key="sw_prompts").set_value(prompts)
    at.multiselect(key="sw_models").set_value(list(models))
    at.text_input(key="sw_seeds").set_value(seeds)
    at.text_input(key="sw_durations").set_value(durations)
    at.text_input(key="sw_sizes").set_value(sizes)
    return run(at)


def summary(at) -> str:
    return next(unescape(m.value) for m in at.markdown if " job" in m.value and "$" in m.value
                or "price unknown" in m.value)


def queue_button(at):
    [button] = [b for b in at.button if b.key == "sw_queue"]
    return button


def queue(at):
    queue_button(at).click()
    return run(at)


def confirm_button(at):
    return next((b for b in at.button if b.key == "sw_confirm_yes"), None)


def jobs(data_dir):
    return store_for(data_dir).jobs()


def test_three_prompts_two_models_two_seeds_are_twelve_jobs_with_a_price(data_dir):
    at = sweep(generate_page(), prompts="A red fox\nA paper boat\n\nA lighthouse", models=(CHEAP, PRICED),
               seeds="1, 2")
    text = summary(at)
    assert text.startswith("**12 jobs, about $") and "(simulated: the demo charges nothing)" in text
    grid = at.dataframe[0].value
    assert len(grid) == 12
    assert set(grid["model"]) == {"PixVerse V4", "Vidu Q3"} and set(grid["seed"]) == {"1", "2"}
    assert queue_button(at).label == "Queue sweep (12 jobs)" and not queue_button(at).disabled


def test_the_grid_marks_what_was_fitted_to_a_model(data_dir):
    at = sweep(generate_page(), models=(PRICED,), durations="5")
    [row] = at.dataframe[0].value.to_dict("records")
    assert row["size"] == "640x352" and row["fitted"] == "size 640x360 (now 640x352)"


def test_cells_that_come_out_the_same_are_merged_and_said_so(data_dir):
    at = sweep(generate_page(), models=("klingai:5@3",), seeds="1, 2, 3")  # Kling 2.1 takes no seed
    assert summary(at).startswith("**1 job,")
    assert any("2 of the 3 combinations came out the same" in c.value for c in at.caption)
    [row] = at.dataframe[0].value.to_dict("records")
    assert row["merged"] == "2, 3" and row["dropped"] == "fixed seed"


def test_a_cheap_sweep_is_queued_at_once_as_one_sweep(data_dir):
    at = queue(sweep(generate_page(CHEAP), prompts="A red fox\nA paper boat", seeds="1, 2"))
    queued = jobs(data_dir)
    assert len(queued) == 4 and len({j.sweep_id for j in queued}) == 1 and queued[0].sweep_id
    assert {(j.prompt, j.task.get("seed")) for j in queued} == {
        ("A red fox", 1), ("A red fox", 2), ("A paper boat", 1), ("A paper boat", 2)}
    [kept] = store_for(data_dir).sweeps("local")
    assert kept.sweep_id == queued[0].sweep_id and kept.name == "2 prompts × 2 seeds"
    assert kept.spec["seeds"] == [1, 2] and kept.spec["form_model"] == CHEAP
    assert any("Queued 4 jobs as the sweep “2 prompts × 2 seeds”" in unescape(s.value) for s in at.success)


def test_the_sweep_is_queued_under_the_name_typed(data_dir):
    at = sweep(generate_page(CHEAP), seeds="1, 2")
    at.text_input(key="sw_name").set_value("Boat seeds")
    queue(run(at))
    [kept] = store_for(data_dir).sweeps("local")
    assert kept.name == "Boat seeds"


def test_a_sweep_above_the_threshold_asks_first(data_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_CONFIRM_ABOVE_USD", "0.5")
    at = queue(sweep(generate_page(CHEAP), seeds="1, 2"))  # 2 x $0.30
    assert jobs(data_dir) == []  # only asked so far
    assert any("above $0.50" in unescape(c.value) for c in at.caption)
    confirm_button(at).click()
    run(at)
    assert len(jobs(data_dir)) == 2


def test_cancel_in_the_question_queues_nothing(data_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_CONFIRM_ABOVE_USD", "0.5")
    at = queue(sweep(generate_page(CHEAP), seeds="1, 2"))
    at.button(key="sw_confirm_no").click()
    run(at)
    assert jobs(data_dir) == [] and confirm_button(at) is None


def test_a_grid_changed_while_asked_is_not_queued_on_the_old_answer(data_dir):
    at = queue(sweep(generate_page(UNPRICED), seeds="1, 2"))
    assert confirm_button(at) is not None
    at.text_input(key="sw_seeds").set_value("1, 2, 3")
    run(at)
    assert confirm_button(at) is None
    assert any("The sweep changed since you asked" in w.value for w in at.warning)
    assert jobs(data_dir) == []


def test_below_the_threshold_nothing_is_asked(data_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_CONFIRM_ABOVE_USD", "0.7")
    at = queue(sweep(generate_page(CHEAP), seeds="1, 2"))  # $0.60
    assert confirm_button(at) is None and len(jobs(data_dir)) == 2


def test_an_unknown_price_asks_first_however_cheap(data_dir):
    at = sweep(generate_page(UNPRICED), seeds="1, 2")
    assert summary(at).startswith("**2 jobs, price unknown")
    queue(at)
    assert jobs(data_dir) == [] and confirm_button(at) is not None
    assert any("2 job(s) have no known price" in unescape(c.value) for c in at.caption)


def test_one_invalid_cell_names_it_and_nothing_is_queued(data_dir):
    at = sweep(generate_page(UNPRICED), models=(UNPRICED, NEEDS_VIDEO))
    assert any("Nothing can be queued while 1 cell(s) are invalid" in e for e in errors(at))
    assert any("cell 2 (FLUX Video Edit Fast" in unescape(m.value) and "needs an input video" in m.value
               for m in at.markdown)
    assert queue_button(at).disabled  # (AppTest, like a browser, cannot click a disabled button)
    assert jobs(data_dir) == []


@pytest.mark.parametrize("model, setting, lines", [
    ("klingai:5@3", "providerSettings", ['{"klingai": {"cameraControl": {"type": "simple"}}}', "{}"]),
    # lora goes into the request parsed: the grid still shows JSON, not Python's spelling
    ("lightricks:ltx@2.3", "lora", ['[{"model": "civitai:1@1", "weight": 0.5}]']),
])
def test_a_json_setting_is_varied_one_value_per_line(data_dir, model, setting, lines):
    at = generate_page(model, size=(1920, 1080))
    at.multiselect(key="sw_settings").set_value([setting])
    run(at)
    at.text_area(key=f"sw_set_{setting}").set_value("\n".join(lines))
    at = run(at)
    assert summary(at).startswith(f"**{len(lines)} job")
    assert list(at.dataframe[0].value[setting]) == lines


def test_too_many_cells_are_refused_before_building(data_dir):
    prompts = "\n".join(f"Prompt number {i}" for i in range(11))
    at = sweep(generate_page(), prompts=prompts, seeds="1 2 3 4 5 6 7 8 9 10")
    assert any("makes 110 jobs; a sweep holds at most 100" in e for e in errors(at))
    assert not [b for b in at.button if b.key == "sw_queue"]


def test_seeds_that_are_no_numbers_are_a_message(data_dir):
    at = sweep(generate_page(), seeds="1, two")
    assert any("Seeds:" in e and "'two'" in e for e in errors(at))
    assert not [b for b in at.button if b.key == "sw_queue"]


def test_random_seeds_queued_are_the_ones_previewed(data_dir):
    at = sweep(generate_page(CHEAP), seeds="3 random")
    previewed = set(at.dataframe[0].value["seed"])
    queue(at)
    assert {str(j.task["seed"]) for j in jobs(data_dir)} == previewed and len(previewed) == 3


def test_a_second_click_right_after_queueing_random_seeds_queues_nothing(data_dir):
    """After a queue, "2 random" draws new seeds: the store would see new requests, so the panel itself
    refuses a second sweep within the double-submit window (a double click)."""
    at = queue(sweep(generate_page(CHEAP), seeds="2 random"))
    queue(at)
    assert len(jobs(data_dir)) == 2 and len(store_for(data_dir).sweeps("local")) == 1
    assert any("queued moments ago" in unescape(e.value) for e in at.error)


def test_a_spend_cap_refuses_the_whole_sweep(data_dir, monkeypatch, simulator):
    monkeypatch.setenv("RUNWARE_API_KEY", "rw-test-sweep-key-0123456789")
    monkeypatch.setenv("RUNWARE_API_URL", simulator.url)
    monkeypatch.setenv("STUDIO_DAILY_BUDGET_USD", "0.5")
    at = queue(sweep(generate_page(CHEAP), seeds="1, 2"))  # $0.60 is under the confirmation threshold
    assert any("Nothing was queued" in e and "$0.60 would pass the daily cap of $0.50" in e for e in errors(at))
    assert jobs(data_dir) == [] and store_for(data_dir).sweeps("local") == []


def test_what_is_still_queued_of_the_last_sweep_can_be_cancelled(data_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_IN_FLIGHT", "1")  # one job at a time: the others wait in the queue
    at = queue(sweep(generate_page(CHEAP), seeds="1 2 3 4 5"))
    assert any("not sent yet" in c.value for c in at.caption)
    at.button(key="sw_cancel_last").click()
    run(at)
    cancelled = [j for j in jobs(data_dir) if j.status == "cancelled"]
    assert cancelled and len(jobs(data_dir)) == 5
    assert any(f"Cancelled {len(cancelled)} queued job" in unescape(s.value) for s in at.success)


def test_a_sweep_runs_to_the_end(data_dir):
    at = sweep(generate_page(UNPRICED), prompts="A red fox\nA paper boat")
    queue(at)
    confirm_button(at).click()  # no price is known for this model
    run(at)
    store = store_for(data_dir)
    assert len(store.jobs()) == 2
    wait_for(lambda: all(j.status == "success" for j in store.jobs()), timeout=90, what="both jobs done")
    for job in store.jobs():
        assert (data_dir / "media" / f"{job.task_uuid}-0.mp4").is_file()
