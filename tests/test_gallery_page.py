"""The Gallery page (AppTest, demo mode, the real store in a temporary STUDIO_DATA_DIR): poster tiles,
play on click, filters, paging, selecting to compare or delete."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from conftest import force
from lib.simulator.render import render_mp4
from test_pages import data_dir, demo_job, open_page, run, store_for  # noqa: F401  (data_dir: a fixture)


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("video") / "sample.mp4"
    render_mp4(path, prompt="gallery", width=320, height=256, duration=1.0, fps=8, seed=1)
    return path.read_bytes()


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 36), (200, 80, 40)).save(buf, format="JPEG")
    return buf.getvalue()


def video_job(data_dir: Path, mp4: bytes, prompt: str, *, poster: bool = True, **fields) -> str:
    """A finished job with its local video (and its poster, as the engine writes them)."""
    store = store_for(data_dir)
    media = data_dir / "media"
    media.mkdir(parents=True, exist_ok=True)
    task_uuid = demo_job(store, "success", prompt=prompt, results=[], **fields)
    result = {"videoUUID": "v-" + task_uuid, "seed": 7, "file": f"{task_uuid}-0.mp4"}
    (media / result["file"]).write_bytes(mp4)
    if poster:
        result["poster"] = f"{task_uuid}-0.jpg"
        (media / result["poster"]).write_bytes(jpeg())
    force(store, task_uuid, results=[result])
    return task_uuid


def tile_texts(at) -> list[str]:
    return [t.value for t in at.text]


def test_tiles_show_posters_not_players(data_dir, mp4):
    video_job(data_dir, mp4, "With a poster")
    video_job(data_dir, mp4, "Without a poster", poster=False)
    at = open_page("pages/gallery.py")
    assert tile_texts(at) == ["Without a poster", "With a poster"]
    assert len(at.get("image")) == 1
    assert "No preview" in [c.value for c in at.caption]
    assert not at.get("video")


def test_play_shows_a_player_on_that_tile_only(data_dir, mp4):
    first = video_job(data_dir, mp4, "First")
    video_job(data_dir, mp4, "Second")
    at = open_page("pages/gallery.py")
    at.button(key=f"g_play-{first}").click()
    run(at)
    assert len(at.get("video")) == 1
    assert len(at.get("image")) == 1  # the other tile keeps its poster


def test_a_job_without_a_video_is_no_tile(data_dir, mp4):
    demo_job(store_for(data_dir), "error", error={"code": "timeoutProvider", "message": "slow"})
    demo_job(store_for(data_dir), "success", prompt="Finished, no local copy", results=[{"videoUUID": "v"}])
    video_job(data_dir, mp4, "A real one")
    at = open_page("pages/gallery.py")
    assert tile_texts(at) == ["A real one"]


def test_filter_by_model_narrows_the_tiles(data_dir, mp4):
    video_job(data_dir, mp4, "Runware one")
    video_job(data_dir, mp4, "Kling one", model="klingai:5@3")
    at = open_page("pages/gallery.py")
    at.multiselect(key="g_model").set_value(["klingai:5@3"])
    run(at)
    assert tile_texts(at) == ["Kling one"]
    assert "1 of 2 videos" in [c.value for c in at.caption]


def test_filter_by_text_narrows_the_tiles(data_dir, mp4):
    video_job(data_dir, mp4, "A red fox")
    video_job(data_dir, mp4, "A 100% blue whale")
    at = open_page("pages/gallery.py")
    at.text_input(key="g_text").set_value("100%")
    run(at)
    assert tile_texts(at) == ["A 100% blue whale"]
    at.text_input(key="g_text").set_value("FOX")
    run(at)
    assert tile_texts(at) == ["A red fox"]


def test_pages_of_tiles(data_dir, mp4):
    for i in range(14):
        video_job(data_dir, mp4, f"Video {i}", poster=False)
    at = open_page("pages/gallery.py")
    page = at.number_input(key="g_page")
    assert "of 2" in page.label
    assert tile_texts(at) == [f"Video {i}" for i in range(13, 1, -1)]  # 12 per page, newest first
    page.set_value(2)
    run(at)
    assert tile_texts(at) == ["Video 1", "Video 0"]


def select(at, *task_uuids):
    for task_uuid in task_uuids:
        at.checkbox(key=f"g_pick-{task_uuid}").check()
        run(at)
    return at


def test_selecting_two_offers_compare_with_both_jobs(data_dir, mp4):
    a, b = video_job(data_dir, mp4, "A"), video_job(data_dir, mp4, "B")
    video_job(data_dir, mp4, "C")
    at = select(open_page("pages/gallery.py"), a, b)
    assert "**2 selected**" in [m.value for m in at.markdown]
    links = [link for link in at.get("page_link") if link.proto.label == "Compare"]
    [link] = links
    assert link.proto.query_string == f"jobs={a}%2C{b}"


def test_one_selected_is_not_enough_to_compare(data_dir, mp4):
    a = video_job(data_dir, mp4, "A")
    video_job(data_dir, mp4, "B")
    at = select(open_page("pages/gallery.py"), a)
    assert not [link for link in at.get("page_link") if link.proto.label == "Compare"]
    assert any("Select 2 to 6" in c.value for c in at.caption)


def test_delete_selected_asks_first_then_deletes_exactly_those(data_dir, mp4):
    a, b, keep = video_job(data_dir, mp4, "Old A"), video_job(data_dir, mp4, "Old B"), video_job(data_dir, mp4, "Keep")
    at = select(open_page("pages/gallery.py"), a, b)
    at.button(key="g_delete").click()
    run(at)
    assert store_for(data_dir).count() == 3  # only asked so far
    assert "**2 job(s)** and their local videos will be removed. This cannot be undone." in [m.value for m in at.markdown]
    assert {"• Old A", "• Old B"} <= set(tile_texts(at))
    at.button(key="g_confirm").click()
    run(at)
    store = store_for(data_dir)
    assert store.count() == 1 and store.get(keep) is not None
    assert [t.value.replace("\\", "") for t in at.toast] == ["Deleted 2 job(s): “Old A”, “Old B”."]  # in the order they were selected
    assert tile_texts(at) == ["Keep"]
    assert not (data_dir / "media" / f"{a}-0.mp4").exists()


def test_keep_them_deletes_nothing(data_dir, mp4):
    a, b = video_job(data_dir, mp4, "A"), video_job(data_dir, mp4, "B")
    at = select(open_page("pages/gallery.py"), a, b)
    at.button(key="g_delete").click()
    run(at)
    at.button(key="g_keep").click()
    run(at)
    assert store_for(data_dir).count() == 2
    assert "**2 selected**" in [m.value for m in at.markdown]


# -- favourites, tags, sweeps ------------------------------------------------------------------------

def test_filter_by_favourite_narrows_the_tiles(data_dir, mp4):
    liked = video_job(data_dir, mp4, "Liked")
    video_job(data_dir, mp4, "Not liked")
    store_for(data_dir).annotate(liked, "local", favourite=True)
    at = open_page("pages/gallery.py")
    at.toggle(key="g_favourite").set_value(True)
    run(at)
    assert tile_texts(at) == ["Liked"]


def test_filter_by_tag_narrows_the_tiles(data_dir, mp4):
    winter, summer = video_job(data_dir, mp4, "Winter"), video_job(data_dir, mp4, "Summer")
    store = store_for(data_dir)
    store.annotate(winter, "local", tags=["snow", "fox"])
    store.annotate(summer, "local", tags=["sun"])
    at = open_page("pages/gallery.py")
    assert at.multiselect(key="g_tags").options == ["fox", "snow", "sun"]
    at.multiselect(key="g_tags").set_value(["fox"])
    run(at)
    assert tile_texts(at) == ["Winter"]


def test_filter_by_sweep_narrows_the_tiles(data_dir, mp4):
    in_sweep = video_job(data_dir, mp4, "In the sweep")
    video_job(data_dir, mp4, "Alone")
    store = store_for(data_dir)
    made = store.add_sweep("Seeds 1-4", [], workspace="local", api_url="x", key_id="k")[0]
    store.db.execute("UPDATE jobs SET sweep_id = ? WHERE task_uuid = ?", [made.sweep_id, in_sweep])
    at = open_page("pages/gallery.py")
    sweep = at.selectbox(key="g_sweep")
    assert sweep.options == ["Any", "Seeds 1-4"]
    sweep.set_value(made.sweep_id)
    run(at)
    assert tile_texts(at) == ["In the sweep"]


def test_the_star_marks_a_favourite(data_dir, mp4):
    job = video_job(data_dir, mp4, "Star me")
    at = open_page("pages/gallery.py")
    star = at.button(key=f"g_star-{job}")
    assert star.label == "☆"
    star.click()
    run(at)
    assert store_for(data_dir).get(job).favourite is True
    assert at.button(key=f"g_star-{job}").label == "★"
