"""A hosted demo (issue 9, items 10 and 11), through the pages with AppTest: no server internals shown in
per-user mode, only workspace tokens the app issued accepted, and a spend cap refusing at Generate."""
from __future__ import annotations

import time

import pytest

from conftest import CLOSED_URL, force, video_task
from lib import workspaces
from lib.keys import key_id
from lib.settings import Settings, load_settings
from lib.spend import day_start
from test_pages import (FAKE_KEY, all_rendered_text, click, data_dir, errors, new_app, open_page, run,
                        runtime, store_for)  # noqa: F401


@pytest.fixture
def per_user(data_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_WORKSPACES", "per-user")
    return data_dir


def ws_of(at) -> str:
    return at.query_params["ws"][0] if isinstance(at.query_params["ws"], list) else at.query_params["ws"]


def arrive(ws: str):
    """A new browser session opening the app with `?ws=...` in its first request."""
    at = new_app()
    at.query_params["ws"] = ws
    return run(at)


def page_text(at) -> str:
    """What the browser receives: every element's full text (not the server's session state)."""
    return all_rendered_text(at).split(str(at), 1)[1]


# -- item 10: server internals ---------------------------------------------------------------------------

def test_per_user_settings_show_no_data_path_or_simulator_address(per_user):
    at = open_page("pages/settings.py")
    text = page_text(at)
    sim_url = runtime().demo.url
    assert str(per_user.resolve()) not in text and str(per_user) not in text
    assert sim_url not in text and f":{sim_url.rsplit(':', 1)[1].split('/')[0]}" not in text
    assert "not shown in a hosted demo" in at.table[0].value.to_csv()


def test_per_user_settings_show_no_custom_api_url(per_user, monkeypatch):
    internal = "http://10.1.2.3:8080/v1"
    monkeypatch.setenv("RUNWARE_API_KEY", FAKE_KEY)
    monkeypatch.setenv("RUNWARE_API_URL", internal)
    at = open_page("pages/settings.py")
    assert internal not in page_text(at)
    assert "set by the operator" in at.table[0].value.to_csv()


def test_single_workspace_settings_still_show_the_data_path(data_dir):
    at = open_page("pages/settings.py")
    assert str(data_dir.resolve()) in at.table[0].value.to_csv()


# -- item 10: workspace tokens -----------------------------------------------------------------------

def test_a_hand_picked_token_gets_a_fresh_workspace(per_user):
    at = arrive("a" * 16)
    ws = ws_of(at)
    assert ws != "a" * 16 and "." in ws


def test_a_hand_picked_token_of_issued_length_gets_a_fresh_workspace(per_user):
    at = arrive("a" * 22)  # shaped like an old token, but it owns no jobs: never issued
    assert ws_of(at) != "a" * 22


def test_an_issued_token_is_kept(per_user):
    ws = ws_of(open_page())
    assert ws_of(arrive(ws)) == ws
    assert workspaces.signed(ws, runtime()._workspace_secret)


def test_a_token_signed_with_another_secret_is_refused(per_user):
    forged = workspaces.issue("not-the-apps-secret")
    assert ws_of(arrive(forged)) != forged


def test_an_old_token_that_owns_jobs_keeps_working(per_user):
    old = "Abcdefghij_klmnopqr-st"  # secrets.token_urlsafe(16), as issued before tokens were signed
    store_for(per_user).add(video_task(), workspace=old, api_url="simulator://local", key_id="demo")
    assert ws_of(arrive(old)) == old


def test_the_secret_is_kept_in_the_database_so_replicas_agree(make_runtime, tmp_path):
    first = make_runtime(start=False, data_dir=tmp_path / "shared")
    second = make_runtime(start=False, data_dir=tmp_path / "shared")
    token = first.workspace_for(None)
    assert second.workspace_for(token) == token


def test_a_configured_secret_signs_tokens_and_is_never_in_repr(make_runtime):
    runtime_ = make_runtime(start=False, secret="operator-secret-" + "s" * 20)
    token = runtime_.workspace_for(None)
    assert workspaces.signed(token, "operator-secret-" + "s" * 20)
    settings = load_settings(environ={"STUDIO_SECRET": "operator-secret-xyz"}, dotenv_path=None)
    assert settings.secret == "operator-secret-xyz" and "operator-secret" not in repr(settings)
    assert "operator-secret" not in repr(runtime_)


# -- item 11: Generate refuses past the cap, with the numbers ------------------------------------------------

def test_generate_refuses_a_job_past_the_daily_cap(data_dir, monkeypatch):
    monkeypatch.setenv("RUNWARE_API_KEY", FAKE_KEY)
    monkeypatch.setenv("RUNWARE_API_URL", CLOSED_URL)
    monkeypatch.setenv("STUDIO_DAILY_BUDGET_USD", "5")
    store = store_for(data_dir)
    earlier = video_task(model="klingai:5@3", width=1920, height=1080, fps=None)
    store.add(earlier, workspace="local", api_url=CLOSED_URL, key_id=key_id(FAKE_KEY))
    force(store, earlier["taskUUID"], status="success", submitted_at=time.time(), finished_at=time.time(), cost=4.8)

    at = open_page()
    at.selectbox(key="f_model").set_value("klingai:5@3")  # $0.184/s: 5 s is $0.92
    at.text_area(key="f_prompt").set_value("A lighthouse in a storm")
    click(at, "Generate")
    assert any("Today's spend $4.80 + this job $0.92 would pass the daily cap of $5.00" in e for e in errors(at))
    assert store.count() == 1


def test_generate_in_demo_mode_is_not_capped(data_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_DAILY_BUDGET_USD", "0.5")
    at = open_page()
    at.selectbox(key="f_model").set_value("runware:108@22")
    at.text_area(key="f_prompt").set_value("A paper boat")
    click(at, "Generate")
    assert not errors(at) and store_for(data_dir).count() == 1
