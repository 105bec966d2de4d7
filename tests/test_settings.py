"""lib/settings.py: one resolution order for every value (explicit argument > environment > .env file >
secrets mapping > default), typed values, errors that never echo a value, and a key kept out of repr."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from types import MappingProxyType

import pytest

from lib.settings import DEFAULT_API_URL, ENV_NAMES, Settings, SettingsError, load_settings

SECRET = "rw-secret-key-9f8e7d6c5b4a39281706"


def write_env(tmp_path: Path, **values) -> Path:
    path = tmp_path / ".env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


def test_defaults(tmp_path):
    s = load_settings(secrets={}, environ={}, dotenv_path=tmp_path / "missing.env")
    assert s == Settings()
    assert s.api_url == DEFAULT_API_URL == "https://api.runware.ai/v1"
    assert not s.has_key
    assert (s.requests_per_minute, s.max_in_flight) == (60, 10)  # the spec's budget
    assert s.media_dir == Path("data") / "media" and s.db_path == Path("data") / "studio.sqlite3"


def test_every_setting_has_an_environment_name():
    assert set(ENV_NAMES) == {f.name for f in fields(Settings)}


# (layers present) -> which wins
LAYERS = ["explicit", "environ", "dotenv", "secrets"]


@pytest.mark.parametrize("present", [
    ("explicit", "environ", "dotenv", "secrets"),
    ("environ", "dotenv", "secrets"),
    ("dotenv", "secrets"),
    ("secrets",),
    ("explicit", "secrets"),
    ("explicit", "dotenv"),
    ("environ", "secrets"),
    (),
])
def test_precedence(tmp_path, present):
    def value(layer):
        return f"http://{layer}.example:8787/v1"

    overrides = {"api_url": value("explicit")} if "explicit" in present else {}
    environ = {"RUNWARE_API_URL": value("environ")} if "environ" in present else {}
    dotenv = write_env(tmp_path, **({"RUNWARE_API_URL": value("dotenv")} if "dotenv" in present else {}))
    secrets = {"RUNWARE_API_URL": value("secrets")} if "secrets" in present else {}
    s = load_settings(secrets=secrets, environ=environ, dotenv_path=dotenv, **overrides)
    expected = next((value(layer) for layer in LAYERS if layer in present), DEFAULT_API_URL)
    assert s.api_url == expected


def test_each_setting_resolves_on_its_own(tmp_path):
    """Layers are merged per value, not per source: each value comes from its best layer."""
    dotenv = write_env(tmp_path, STUDIO_MAX_IN_FLIGHT="3", STUDIO_READ_TIMEOUT="12", LOG_LEVEL="error")
    s = load_settings(
        secrets=MappingProxyType({"RUNWARE_API_KEY": SECRET, "STUDIO_MAX_IN_FLIGHT": "9",
                                  "STUDIO_WORKSPACES": "per-user"}),
        environ={"STUDIO_READ_TIMEOUT": "20"},
        dotenv_path=dotenv,
        log_level="debug",
    )
    assert s.api_key == SECRET  # secrets only
    assert s.max_in_flight == 3  # .env beats secrets
    assert s.read_timeout == 20.0  # environment beats .env
    assert s.log_level == "DEBUG"  # explicit beats .env, and is normalised
    assert s.workspaces == "per-user"
    assert s.poll_interval_max == 10.0  # default


def test_empty_values_count_as_unset(tmp_path):
    dotenv = write_env(tmp_path, RUNWARE_API_KEY="")
    s = load_settings(secrets={"RUNWARE_API_KEY": SECRET}, environ={"RUNWARE_API_KEY": ""}, dotenv_path=dotenv,
                      api_key="")
    assert s.api_key == SECRET
    assert load_settings(secrets={}, environ={"STUDIO_MAX_IN_FLIGHT": ""}, dotenv_path=None).max_in_flight == 10


def test_process_environment_is_the_default_source(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_REQUESTS_PER_MINUTE", "42")
    monkeypatch.chdir(tmp_path)  # the default .env path is relative: keep it away from the project's
    assert load_settings(secrets={}).requests_per_minute == 42


def test_default_dotenv_is_read_from_the_working_directory(tmp_path, monkeypatch):
    write_env(tmp_path, STUDIO_MAX_VIDEO_MB="123.5")
    monkeypatch.chdir(tmp_path)
    assert load_settings(secrets={}, environ={}).max_video_mb == 123.5


def test_types_and_normalisation(tmp_path):
    s = load_settings(secrets={}, dotenv_path=None, environ={
        "STUDIO_DATA_DIR": str(tmp_path / "d"), "STUDIO_POLL_INTERVAL_MIN": "0.25", "STUDIO_MAX_IN_FLIGHT": "4",
        "STUDIO_WORKSPACES": " Per-User ", "LOG_LEVEL": "info", "RUNWARE_API_URL": "http://127.0.0.1:8787/v1/",
        "RUNWARE_API_KEY": f"  {SECRET}  "})
    assert s.data_dir == tmp_path / "d" and isinstance(s.data_dir, Path)
    assert s.poll_interval_min == 0.25 and isinstance(s.max_in_flight, int) and s.max_in_flight == 4
    assert s.workspaces == "per-user" and s.log_level == "INFO"
    assert s.api_url == "http://127.0.0.1:8787/v1"
    assert s.api_key == SECRET
    # Explicit arguments may already be typed.
    t = load_settings(secrets={}, environ={}, dotenv_path=None, max_in_flight=2, read_timeout=1.5,
                      data_dir=tmp_path)
    assert (t.max_in_flight, t.read_timeout, t.data_dir) == (2, 1.5, tmp_path)


BAD = [
    ("STUDIO_READ_TIMEOUT", "not-a-number-zz9"),
    ("STUDIO_CONNECT_TIMEOUT", "-3"),
    ("STUDIO_POLL_INTERVAL_MIN", "0.0"),
    ("STUDIO_MAX_IN_FLIGHT", "2.5"),
    ("STUDIO_REQUESTS_PER_MINUTE", "-7"),
    ("STUDIO_REQUESTS_PER_MINUTE", "sixty-zz9"),
    ("STUDIO_MAX_IMAGE_MB", "-1"),
    ("STUDIO_WORKSPACES", "everyone-zz9"),
    ("LOG_LEVEL", "loudest-zz9"),
    ("STUDIO_CONFIRM_ABOVE_USD", "-5"),
    ("STUDIO_CONFIRM_ABOVE_USD", "five-zz9"),
]


@pytest.mark.parametrize("name, raw", BAD)
@pytest.mark.parametrize("layer", ["environ", "dotenv", "secrets"])
def test_bad_values_raise_without_echoing(tmp_path, name, raw, layer):
    kwargs = {"secrets": {}, "environ": {}, "dotenv_path": None}
    if layer == "dotenv":
        kwargs["dotenv_path"] = write_env(tmp_path, **{name: raw})
    else:
        kwargs[layer] = {name: raw}
    with pytest.raises(SettingsError) as info:
        load_settings(**kwargs)
    message = str(info.value)
    assert name in message  # says which setting
    assert raw not in message  # never the value (it could be a secret)
    # ...nor in a chained exception shown under the traceback.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__


@pytest.mark.parametrize("raw, usd", [(None, 5.0), ("12.5", 12.5), ("0", 0.0)])
def test_sweep_confirmation_threshold(raw, usd):
    """STUDIO_CONFIRM_ABOVE_USD: 5 unless set; 0 is allowed (always ask before queueing a sweep)."""
    environ = {} if raw is None else {"STUDIO_CONFIRM_ABOVE_USD": raw}
    assert load_settings(secrets={}, environ=environ, dotenv_path=None).confirm_above_usd == usd


def test_bad_explicit_value(tmp_path):
    with pytest.raises(SettingsError) as info:
        load_settings(secrets={}, environ={}, dotenv_path=None, max_in_flight="lots-zz9")
    assert "STUDIO_MAX_IN_FLIGHT" in str(info.value) and "lots-zz9" not in str(info.value)


def test_bad_value_in_a_lower_layer_is_hidden_by_a_good_one(tmp_path):
    s = load_settings(secrets={"STUDIO_READ_TIMEOUT": "junk"}, environ={"STUDIO_READ_TIMEOUT": "7"},
                      dotenv_path=None)
    assert s.read_timeout == 7.0


@pytest.mark.parametrize("raw", ["nan", "inf"])
def test_non_finite_timeout_refused(raw):
    with pytest.raises(SettingsError):
        load_settings(secrets={}, environ={"STUDIO_READ_TIMEOUT": raw}, dotenv_path=None)


def test_api_key_is_not_in_repr(tmp_path):
    s = load_settings(secrets={"RUNWARE_API_KEY": SECRET}, environ={}, dotenv_path=None)
    assert s.has_key and s.api_key == SECRET
    for text in (repr(s), str(s), f"{s}", f"{s!r}"):
        assert SECRET not in text
    other = s.with_key("another-secret-key-000111222")
    assert other.api_key == "another-secret-key-000111222" and s.api_key == SECRET
    assert "another-secret-key-000111222" not in repr(other)
    assert other.api_url == s.api_url
