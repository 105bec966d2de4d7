"""A key a user pastes into their session stays in that session: no process-wide state (caches,
registries, limiters, the poll coalescer) holds it, and nothing the studio writes or exports does."""
from __future__ import annotations

import gc
import time

import lib.budget
import lib.logs
import lib.tracker
from lib.history import shape, to_csv, to_json
from lib.request import VideoRequest, prepare
from lib.settings import load_settings
from lib.studio import job_store, open_studio


def module_state_holds(value: str) -> list[str]:
    """Names of module-level containers in lib/ whose contents mention the value."""
    found = []
    for module in (lib.budget, lib.logs, lib.tracker):
        for name, obj in vars(module).items():
            if isinstance(obj, (dict, set, list, tuple)) and value in repr(obj):
                found.append(f"{module.__name__}.{name}")
    return found


def test_a_pasted_key_stays_in_its_session(simulator, tmp_path):
    user_key = "user-pasted-key-" + "x7" * 16
    settings = load_settings(environ={"RUNWARE_API_URL": simulator.url, "STUDIO_DATA_DIR": str(tmp_path),
                                      "STUDIO_POLL_INTERVAL_MIN": "0.2"}, dotenv_path=None)
    studio = open_studio(settings, session_key=user_key)
    assert studio.mode == "api" and studio.key_source == "session"
    task = prepare(VideoRequest(positive_prompt="A key stays home", model="runware:108@22", duration=5,
                                width=320, height=256), studio.catalog, max_image_bytes=10**6)
    studio.tracker.submit(task, studio.workspace)
    deadline = time.time() + 30
    while studio.pending_jobs() and time.time() < deadline:
        studio.tracker.tick()
        time.sleep(0.2)
    assert studio.store.get(task["taskUUID"]).status == "success"

    assert module_state_holds(user_key) == []
    assert user_key not in repr(job_store.cache_info()) and user_key not in repr(studio.store.__dict__)
    db_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("studio.sqlite3*"))
    assert user_key.encode() not in db_bytes
    frame = shape(studio.store.frame(studio.workspace))
    assert user_key.encode() not in to_csv(frame) + to_json(frame)
    assert user_key not in repr(studio.client) and user_key not in repr(settings)
    # Only this session's objects reference it: the Studio (its client) and nothing module-level.
    holders = [o for o in gc.get_referrers(user_key) if isinstance(o, dict) and "__name__" in o]
    assert holders == []


def test_a_key_that_cannot_be_sent_is_a_clear_error_without_the_key(simulator):
    from lib.client import RunwareClient
    from lib.errors import ApiError
    import pytest

    for bad in ("sk-abc\u2026def-" + "k" * 20, "sk-abc\ndef-" + "k" * 20):
        client = RunwareClient(bad, simulator.url, backoff=0.01)
        with pytest.raises(ApiError) as failed:
            client.poll(["5f0e7c1a-0000-4000-8000-000000000000"])
        assert not failed.value.retryable
        assert bad not in str(failed.value) and bad not in repr(failed.value)


def test_keys_of_the_wrong_shape_are_refused_up_front():
    import pytest
    from lib.settings import SettingsError, valid_api_key

    assert valid_api_key("abcDEF0123456789-_.")
    for bad in ("has space-0123456789", "tab\t0123456789", "ellipsis\u2026-0123456789", "nl\n0123456789"):
        assert not valid_api_key(bad)
        with pytest.raises(SettingsError) as refused:
            load_settings(environ={"RUNWARE_API_KEY": bad}, dotenv_path=None)
        assert bad not in str(refused.value)
