"""Share links: one job, read-only, revocable; a wrong, forged or revoked token opens nothing."""
from __future__ import annotations

import pytest

from conftest import video_task
from lib import sharing
from lib.store import JobStore
from test_pages import click, data_dir, demo_job, new_app, open_page, run, runtime, store_for  # noqa: F401

REFUSED = "This link is not valid (or was revoked)."


@pytest.fixture
def shared(data_dir):  # noqa: F811
    """A finished demo job and a share token for it, made with the app's runtime."""
    store = store_for(data_dir)
    uuid = demo_job(store, "success", prompt="A fox in the snow", results=[{"seed": 42}])
    rt = runtime()
    return uuid, sharing.create(rt.store.db, rt._workspace_secret, rt.store.get(uuid))


def visit(uuid: str, token: str):
    at = new_app()
    at.query_params["shared"] = uuid
    at.query_params["token"] = token
    return run(at)


def test_a_share_link_shows_that_job_read_only(shared):
    at = visit(*shared)
    assert [t.value for t in at.title] == ["Shared video"]
    assert any("A fox in the snow" in t.value for t in at.text)
    assert "seed 42" in at.markdown[0].value
    assert not at.button and not at.text_input and not at.sidebar.children  # no actions, no key panel


def _only_refusal(at) -> bool:
    return [m.value for m in at.markdown] == [REFUSED] and not at.title and not at.text and not at.button


@pytest.mark.parametrize("mangle", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "",
                                    lambda t: "x" * 16 + ".forged", lambda t: t.split(".")[0]])
def test_a_wrong_or_forged_token_is_refused(shared, mangle):
    uuid, token = shared
    assert _only_refusal(visit(uuid, mangle(token)))


def test_a_token_opens_only_its_own_job(shared, data_dir):  # noqa: F811
    other = demo_job(store_for(data_dir), "success", prompt="Another job")
    assert _only_refusal(visit(other, shared[1]))


def test_a_revoked_link_is_refused(shared):
    uuid, token = shared
    rt = runtime()
    assert sharing.revoke_all(rt.store.db, uuid, "local") == 1
    assert _only_refusal(visit(uuid, token))


def test_a_workspace_token_is_not_a_share_token(shared):
    from lib import workspaces
    uuid, _ = shared
    assert _only_refusal(visit(uuid, workspaces.issue(runtime()._workspace_secret)))


def test_history_shares_and_revokes(data_dir):  # noqa: F811
    uuid = demo_job(store_for(data_dir), "success", prompt="Shared from history")
    at = open_page("pages/history.py", job=uuid)
    at = click(at, "Share")
    [link] = [c.value for c in at.code if "shared=" in c.value]
    token = link.split("token=")[1]
    assert sharing.check(runtime().store.db, runtime()._workspace_secret, uuid, token)
    click(at, "Revoke links (1)")
    assert not sharing.check(runtime().store.db, runtime()._workspace_secret, uuid, token)


def test_history_offers_the_jobs_code(data_dir):  # noqa: F811
    uuid = demo_job(store_for(data_dir), "success", prompt="Code for this")
    at = open_page("pages/history.py", job=uuid)
    code = "\n".join(c.value for c in at.code)
    assert "RUNWARE_API_KEY" in code and "https://api.runware.ai/v1" in code and "--data-binary @-" in code


def test_the_shares_table_is_made_once_and_twice_is_harmless(tmp_path):
    store = JobStore(tmp_path / "s.sqlite3")
    store.add(task := video_task(), workspace="w", api_url="u", key_id="k")
    token = sharing.create(store.db, "secret", store.get(task["taskUUID"]))
    sharing._ready.discard(store.db)
    sharing._table(store.db)  # CREATE TABLE IF NOT EXISTS again
    assert sharing.check(store.db, "secret", task["taskUUID"], token)
    store.close()
