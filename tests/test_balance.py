"""The Runware balance: asked through the engine (runtime.balance -> Future), kept a minute, and shown on
the Settings page to whoever may see it (the server key's balance: the operator only in per-user mode)."""
from __future__ import annotations

import pytest

from conftest import free_port
from lib.runtime import Balance, Runtime
from lib.settings import load_settings
from lib.simulator.server import Simulator
from test_pages import data_dir, open_page, run, unescape  # noqa: F401  (data_dir is a fixture)

SERVER_KEY = "rw-server-key-0123456789abcdef"
USER_KEY = "rw-user-key-0123456789abcdefgh"
TOKEN = "operator-token-0123456789"


@pytest.fixture
def sim(tmp_path):
    with Simulator(latency=0.3, media_dir=tmp_path / "sim", balance=42.5,
                   refuse_keys={"rw-refused-key-0123456789": 401}) as s:
        yield s


def runtime(tmp_path, **env) -> Runtime:
    settings = load_settings(environ={"STUDIO_DATA_DIR": str(tmp_path / "data"),
                                      "RUNWARE_API_URL": "http://127.0.0.1:9/v1", **env}, dotenv_path=None)
    return Runtime(settings, demo_latency=0.3).start()


@pytest.fixture
def stop():
    started = []
    yield started.append
    for rt in started:
        rt.stop()


# -- the runtime ---------------------------------------------------------------------------------------------

def test_demo_mode_reports_the_simulators_balance(tmp_path, stop):
    rt = runtime(tmp_path)
    stop(rt)
    assert rt.balance().result(timeout=10) == Balance(1000.0)


def test_api_mode_reports_the_server_keys_balance(tmp_path, sim, stop):
    rt = runtime(tmp_path, RUNWARE_API_KEY=SERVER_KEY, RUNWARE_API_URL=sim.url)
    stop(rt)
    assert rt.balance().result(timeout=10) == Balance(42.5)


def test_a_pasted_key_gets_its_own_balance(tmp_path, sim, stop):
    rt = runtime(tmp_path, RUNWARE_API_KEY=SERVER_KEY, RUNWARE_API_URL=sim.url)
    stop(rt)
    assert rt.balance("rw-refused-key-0123456789").result(timeout=10) == Balance(None, "Runware refused this key.")
    assert rt.balance(USER_KEY).result(timeout=10) == Balance(42.5)


def test_a_balance_is_kept_a_minute(tmp_path, sim, stop):
    rt = runtime(tmp_path, RUNWARE_API_KEY=SERVER_KEY, RUNWARE_API_URL=sim.url)
    stop(rt)
    first = rt.balance()
    first.result(timeout=10)
    assert rt.balance() is first
    asked = [kinds for kinds in sim.stats.snapshot()["post_task_types"] if "accountManagement" in kinds]
    assert len(asked) == 1


def test_a_failed_balance_is_asked_again(tmp_path, stop):
    rt = runtime(tmp_path, RUNWARE_API_KEY=SERVER_KEY, RUNWARE_API_URL=f"http://127.0.0.1:{free_port()}/v1")
    stop(rt)
    first = rt.balance()
    assert first.result(timeout=15).usd is None
    assert rt.balance() is not first


# -- the Settings page ---------------------------------------------------------------------------------------

def balance_lines(at) -> list[str]:
    return [unescape(m.value) for m in at.markdown if "Balance:" in m.value]


def has_refresh(at) -> bool:
    return any(b.label == "Refresh models catalog" for b in at.button)


def test_settings_shows_the_demo_balance_and_the_refresh_button(data_dir):
    at = open_page("pages/settings.py")
    assert balance_lines(at) == ["**Balance:** $1,000.00 (simulated, demo mode)"]
    assert has_refresh(at)


def test_settings_shows_the_server_keys_balance_in_single_mode(data_dir, monkeypatch, sim):
    monkeypatch.setenv("RUNWARE_API_KEY", SERVER_KEY)
    monkeypatch.setenv("RUNWARE_API_URL", sim.url)
    at = open_page("pages/settings.py")
    assert balance_lines(at) == ["**Balance:** $42.50 (the server's key)"]
    assert has_refresh(at)


def test_per_user_mode_hides_the_server_balance_and_refresh_from_visitors(data_dir, monkeypatch, sim):
    monkeypatch.setenv("RUNWARE_API_KEY", SERVER_KEY)
    monkeypatch.setenv("RUNWARE_API_URL", sim.url)
    monkeypatch.setenv("STUDIO_WORKSPACES", "per-user")
    monkeypatch.setenv("STUDIO_OPERATOR_TOKEN", TOKEN)
    at = open_page("pages/settings.py", operator="not-the-token")
    assert balance_lines(at) == [] and not has_refresh(at)
    assert "42" not in " ".join(m.value for m in at.markdown)


def test_per_user_mode_without_a_token_setting_has_no_operator(data_dir, monkeypatch, sim):
    monkeypatch.setenv("RUNWARE_API_KEY", SERVER_KEY)
    monkeypatch.setenv("RUNWARE_API_URL", sim.url)
    monkeypatch.setenv("STUDIO_WORKSPACES", "per-user")
    at = open_page("pages/settings.py", operator="")
    assert balance_lines(at) == [] and not has_refresh(at)


def test_the_operator_sees_the_server_balance_and_refresh_in_per_user_mode(data_dir, monkeypatch, sim):
    monkeypatch.setenv("RUNWARE_API_KEY", SERVER_KEY)
    monkeypatch.setenv("RUNWARE_API_URL", sim.url)
    monkeypatch.setenv("STUDIO_WORKSPACES", "per-user")
    monkeypatch.setenv("STUDIO_OPERATOR_TOKEN", TOKEN)
    at = open_page("pages/settings.py", operator=TOKEN)
    assert balance_lines(at) == ["**Balance:** $42.50 (the server's key)"]
    assert has_refresh(at)


def test_a_visitor_with_a_pasted_key_sees_their_own_balance(data_dir, monkeypatch, sim):
    monkeypatch.setenv("RUNWARE_API_URL", sim.url)
    monkeypatch.setenv("STUDIO_WORKSPACES", "per-user")
    at = open_page()  # the sidebar, where a key is pasted, comes with the app's first page
    at.sidebar.text_input(key="key_input").set_value(USER_KEY)
    [use] = [b for b in at.sidebar.button if b.label == "Use this key"]
    use.click()
    run(at)
    at.switch_page("pages/settings.py")
    run(at)
    assert balance_lines(at) == ["**Balance:** $42.50 (your key)"]
    assert not has_refresh(at)


def test_checking_a_pasted_key_takes_one_request_and_tells_refused_from_accepted(data_dir, monkeypatch, tmp_path):
    from lib.runtime import Runtime
    from lib.settings import load_settings
    from lib.simulator.server import Simulator
    bad = "rw-refused-" + "x" * 24
    with Simulator(latency=0.1, media_dir=tmp_path / "sim2", refuse_keys={bad: 401}) as sim:
        settings = load_settings(environ={"RUNWARE_API_URL": sim.url, "STUDIO_DATA_DIR": str(data_dir)},
                                 dotenv_path=None)
        runtime = Runtime(settings).start()
        try:
            refused = runtime.check_key(bad).result(timeout=15)
            accepted = runtime.check_key(USER_KEY).result(timeout=15)
        finally:
            runtime.stop()
        kinds = sim.stats.snapshot()["post_task_types"]
    assert not refused.ok and "refused" in refused.message
    assert accepted.ok and accepted.balance is not None
    assert kinds.count(["accountManagement"]) == 2
