"""The Compare page and the annotation controls, with AppTest: which jobs (the ?jobs= link and the
pick), what differs, the synced player's elements, and favourite/rating/note/tags saved with the job."""
from __future__ import annotations

import re
import time

import pytest

from conftest import force, video_task
from lib import demo
from lib.keys import key_id
from test_pages import data_dir, demo_job, open_page, run, store_for, unescape  # noqa: F401  (data_dir is a fixture)

COMPARE = "pages/compare.py"


def finished(data_dir, store, *, prompt: str = "A fox at dawn", workspace: str = "local", poster: bool = False,
             **task_fields) -> str:
    """A finished demo job with a local copy of its video (bytes nobody decodes here: AppTest draws no video)."""
    task = video_task(positivePrompt=prompt, **task_fields)
    store.add(task, workspace=workspace, api_url=demo.DEMO_LABEL, key_id=key_id(demo.DEMO_KEY))
    return done(data_dir, store, task["taskUUID"], poster=poster)


def done(data_dir, store, uuid: str, poster: bool = False) -> str:
    media = data_dir / "media"
    media.mkdir(parents=True, exist_ok=True)
    result = {"videoUUID": "v", "file": f"{uuid}-0.mp4", "seed": 11}
    (media / result["file"]).write_bytes(b"\0" * 64)
    if poster:
        result["poster"] = f"{uuid}-0.jpg"
        (media / result["poster"]).write_bytes(b"\xff\xd8\xff")
    force(store, uuid, status="success", submitted_at=time.time(), finished_at=time.time(), results=[result])
    time.sleep(0.002)  # distinct creation times: the newest first is a stable order
    return uuid


@pytest.fixture
def three(data_dir):
    store = store_for(data_dir)
    return [finished(data_dir, store, seed=1, width=320), finished(data_dir, store, seed=2, width=320),
            finished(data_dir, store, seed=1, width=512)]


def compare_page(ids):
    return open_page(COMPARE, jobs=",".join(ids))


def labels(at) -> list[str]:
    return [unescape(m.value) for m in at.markdown if re.match(r"^\*\*\d\*\* · ", m.value)]


def query(at, name: str) -> str:
    value = at.query_params[name]
    return value[0] if isinstance(value, list) else value


def widget(widgets, prefix: str):
    [found] = [w for w in widgets if (w.key or "").startswith(prefix)]
    return found


# -- which jobs, what differs ----------------------------------------------------------------------

def test_three_jobs_are_labelled_with_what_differs(three):
    at = compare_page(three)
    assert labels(at) == ["**1** · width: 320 · seed: 1", "**2** · width: 320 · seed: 2",
                          "**3** · width: 512 · seed: 1"]


def test_shared_parameters_are_listed_once(three):
    at = compare_page(three)
    shared = dict(at.dataframe[0].value.itertuples(index=False))
    assert shared["model"] == "runware:108@22" and shared["positivePrompt"] == "A fox at dawn"
    assert {"width", "seed", "taskUUID"}.isdisjoint(shared)


def test_the_videos_form_one_group_driven_by_one_control(three, data_dir):
    at = compare_page(three)
    bodies = [h.value for h in at.html]
    controls = [h for h in at.html if "data-sync-controls" in h.value]
    assert len(controls) == 1 and controls[0].proto.unsafe_allow_javascript
    group = re.search(r'data-sync-controls="(\w+)"', controls[0].value).group(1)
    videos = [b for b in bodies if b.startswith("<video")]
    assert [re.search(r'src="([^"]+)"', v).group(1) for v in videos] == [f"/videos/{u}-0.mp4" for u in three]
    assert all(f'data-sync-group="{group}"' in v and " controls" not in v for v in videos)


def test_the_link_picks_the_jobs_and_the_pick_updates_the_link(three):
    at = compare_page(three)
    pick = at.multiselect(key="c_jobs")
    assert pick.value == three
    pick.unselect(three[1])
    run(at)
    assert query(at, "jobs") == f"{three[0]},{three[2]}"
    assert len(labels(at)) == 2


def test_jobs_not_finished_or_of_another_workspace_are_left_out_of_a_link(three, data_dir):
    store = store_for(data_dir)
    failed = demo_job(store, "error", error={"code": "x", "message": "y"})
    task = video_task()
    store.add(task, workspace="someone-else", api_url=demo.DEMO_LABEL, key_id=key_id(demo.DEMO_KEY))
    at = compare_page([three[0], failed, task["taskUUID"], three[1]])
    assert at.multiselect(key="c_jobs").value == three[:2]
    assert any("left out" in w.value for w in at.warning)
    assert task["taskUUID"] not in at.multiselect(key="c_jobs").options  # never offered either


def test_one_job_is_not_a_comparison(three):
    at = compare_page(three[:1])
    assert any("Pick 2 to 6" in i.value for i in at.info)
    assert not at.html


def test_without_two_finished_videos_the_page_says_so(data_dir):
    finished(data_dir, store_for(data_dir))
    at = open_page(COMPARE)
    assert any("at least two finished videos" in i.value for i in at.info)


# -- favourite, rating, note, tags -------------------------------------------------------------------

def test_favourite_is_stored_and_shown_after_a_rerun(three, data_dir):
    at = compare_page(three)
    at.button(key=f"compare-{three[0]}-fav").click()
    run(at)
    assert store_for(data_dir).get(three[0]).favourite is True
    run(at)
    assert at.button(key=f"compare-{three[0]}-fav").proto.type == "primary"
    assert at.button(key=f"compare-{three[1]}-fav").proto.type == "secondary"


def test_favourite_toggles_off(three, data_dir):
    at = compare_page(three)
    for _ in range(2):
        at.button(key=f"compare-{three[0]}-fav").click()
        run(at)
    assert store_for(data_dir).get(three[0]).favourite is False


def test_rating_is_stored_and_shown_after_a_rerun(three, data_dir):
    at = compare_page(three)
    widget(at.feedback, f"compare-{three[1]}-rating").set_value(3)  # the fourth star
    run(at)
    assert store_for(data_dir).get(three[1]).rating == 4
    run(at)
    assert widget(at.feedback, f"compare-{three[1]}-rating").value == 3


def test_clearing_the_stars_clears_the_rating(three, data_dir):
    at = compare_page(three)
    widget(at.feedback, f"compare-{three[1]}-rating").set_value(1)
    run(at)
    widget(at.feedback, f"compare-{three[1]}-rating").set_value(None)
    run(at)
    assert store_for(data_dir).get(three[1]).rating is None


def test_note_is_stored_and_shown_after_a_rerun(three, data_dir):
    at = compare_page(three)
    widget(at.text_input, f"compare-{three[2]}-note").set_value("  Best light, sharpest fur ")
    run(at)
    assert store_for(data_dir).get(three[2]).note == "Best light, sharpest fur"
    run(at)
    assert widget(at.text_input, f"compare-{three[2]}-note").value == "Best light, sharpest fur"


def test_tags_are_stored_and_offered_for_other_jobs(three, data_dir):
    at = compare_page(three)
    widget(at.multiselect, f"compare-{three[0]}-tags").set_value(["Sunset", "keeper"])
    run(at)
    assert sorted(store_for(data_dir).get(three[0]).tags) == ["keeper", "sunset"]
    run(at)
    assert sorted(widget(at.multiselect, f"compare-{three[0]}-tags").value) == ["keeper", "sunset"]
    assert {"keeper", "sunset"} <= set(widget(at.multiselect, f"compare-{three[1]}-tags").options)


def test_history_details_have_the_same_controls(three, data_dir):
    at = open_page("pages/history.py", job=three[0])
    at.button(key=f"history-{three[0]}-fav").click()
    run(at)
    assert store_for(data_dir).get(three[0]).favourite is True


def test_history_links_a_finished_job_to_compare(three):
    at = open_page("pages/history.py", job=three[0])
    [link] = [link for link in at.get("page_link") if link.proto.label == "Compare with other videos"]
    assert link.proto.query_string == f"jobs={three[0]}"


def test_a_tag_the_store_refuses_is_said_and_not_kept(three, data_dir):
    at = compare_page(three)
    widget(at.multiselect, f"compare-{three[0]}-tags").set_value(["x" * 60])
    run(at)
    assert store_for(data_dir).get(three[0]).tags == []
    assert any("at most" in e.value for e in at.error)
    assert widget(at.multiselect, f"compare-{three[0]}-tags").value == []


def test_a_poster_is_shown_before_the_video_plays(data_dir):
    store = store_for(data_dir)
    ids = [finished(data_dir, store, poster=True, seed=1), finished(data_dir, store, seed=2)]
    at = compare_page(ids)
    videos = [h.value for h in at.html if h.value.startswith("<video")]
    assert f'poster="/videos/{ids[0]}-0.jpg"' in videos[0]
    assert "poster=" not in videos[1]


def test_a_sweeps_finished_videos_can_be_taken_at_once(data_dir):
    store = store_for(data_dir)
    tasks = [video_task(seed=seed) for seed in range(1, 9)]
    sweep, jobs = store.add_sweep("Seeds 1-8", tasks, workspace="local", api_url=demo.DEMO_LABEL,
                                  key_id=key_id(demo.DEMO_KEY))
    for job in jobs[1:]:  # the first one is still queued
        done(data_dir, store, job.task_uuid)
    at = open_page(COMPARE)
    at.selectbox(key="c_sweep").select(sweep.sweep_id)
    run(at)
    wanted = [job.task_uuid for job in jobs[1:7]]  # six at most, in the sweep's order
    assert at.multiselect(key="c_jobs").value == wanted
    assert query(at, "jobs") == ",".join(wanted)
    assert labels(at)[0] == "**1** · seed: 2"


def test_per_user_compare_keeps_the_workspace_in_its_link(data_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_WORKSPACES", "per-user")
    at = open_page()
    ws = query(at, "ws")
    store = store_for(data_dir)
    mine = [finished(data_dir, store, workspace=ws, seed=seed) for seed in (1, 2, 3)]
    theirs = finished(data_dir, store, workspace="someone-else")
    at.query_params["jobs"] = ",".join(mine[:2] + [theirs])
    at.switch_page(COMPARE)
    run(at)
    pick = at.multiselect(key="c_jobs")
    assert pick.value == mine[:2] and theirs not in pick.options
    pick.select(mine[2])
    run(at)
    assert query(at, "ws") == ws and query(at, "jobs") == ",".join(mine)


def test_six_jobs_side_by_side_and_no_more(data_dir):
    store = store_for(data_dir)
    ids = [finished(data_dir, store, seed=seed) for seed in range(1, 8)]
    at = compare_page(ids)  # seven linked: the first six are compared
    assert at.multiselect(key="c_jobs").value == ids[:6]
    assert labels(at) == [f"**{i}** · seed: {i}" for i in range(1, 7)]
    assert len([h for h in at.html if h.value.startswith("<video")]) == 6


def test_the_video_starred_in_compare_is_found_by_historys_favourites_filter(three):
    at = compare_page(three)
    at.button(key=f"compare-{three[1]}-fav").click()
    run(at)
    at.switch_page("pages/history.py")
    run(at)
    at.toggle(key="h_favourite").set_value(True)
    run(at)
    assert [c.value for c in at.caption if c.value.endswith(" jobs")] == ["1 of 3 jobs"]
    assert list(at.dataframe[0].value["task_uuid"]) == [three[1]]
