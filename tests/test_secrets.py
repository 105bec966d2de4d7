"""A key a user pastes is held only in that session and in the runtime's key ring (process memory, so
the engine can finish its jobs): no module-level state holds it, nothing the studio writes or exports
does, and "Forget my key" drops it from memory."""
from __future__ import annotations

import gc
import sys
import time

from lib.history import shape, to_csv, to_json
from lib.request import VideoRequest, prepare
from lib.runtime import Runtime
from lib.settings import load_settings
from lib.studio import open_studio


def module_state_holds(value: str) -> list[str]:
    """Names of module-level containers in lib/ whose contents mention the value."""
    found = []
    for name, module in list(sys.modules.items()):
        if not name.startswith("lib.") or module is None:
            continue
        for attr, obj in vars(module).items():
            if isinstance(obj, (dict, set, list, tuple)) and value in repr(obj):
                found.append(f"{name}.{attr}")
    return found


def test_a_pasted_key_stays_in_its_session_and_the_runtime(simulator, tmp_path):
    user_key = "user-pasted-key-" + "x7" * 16
    settings = load_settings(environ={"RUNWARE_API_URL": simulator.url, "STUDIO_DATA_DIR": str(tmp_path),
                                      "STUDIO_POLL_INTERVAL_MIN": "0.2"}, dotenv_path=None)
    runtime = Runtime(settings).start()
    try:
        studio = open_studio(runtime, session_key=user_key)
        assert studio.mode == "api" and studio.key_source == "session"
        task = prepare(VideoRequest(positive_prompt="A key stays home", model="runware:108@22", duration=5,
                                    width=320, height=256), studio.catalog, max_image_bytes=10**6)
        studio.submit(task)
        deadline = time.time() + 30
        while studio.store.get(task["taskUUID"]).status != "success":
            assert time.time() < deadline
            time.sleep(0.1)

        assert module_state_holds(user_key) == []
        db_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("studio.sqlite3*"))
        assert user_key.encode() not in db_bytes
        frame = shape(studio.store.frame(studio.workspace))
        assert user_key.encode() not in to_csv(frame) + to_json(frame)
        for obj in (runtime, runtime.keys, runtime.engine, studio, settings):
            assert user_key not in repr(obj)
        assert runtime.keys.get(studio.key_id) == user_key  # held for the engine, in memory only
        runtime.drop_key(studio.key_id)
        assert runtime.keys.get(studio.key_id) is None
        holders = [o for o in gc.get_referrers(user_key) if isinstance(o, dict) and "__name__" in o]
        assert holders == []
    finally:
        runtime.stop()


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
