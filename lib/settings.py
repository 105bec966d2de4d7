"""Settings, resolved in one order for every value: explicit argument, then the environment (with a
`.env` file filling in what the environment lacks), then `st.secrets` (handed in as a plain mapping so
this module needs no Streamlit), then the default.

The API key is kept out of repr() so it cannot reach a log line or an error message by accident.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

from dotenv import dotenv_values

DEFAULT_API_URL = "https://api.runware.ai/v1"
DEFAULT_SCHEMA_URL = "https://schemas.runware.ai"
DEFAULT_CONTENT_URL = "https://content.runware.ai"


@dataclass(frozen=True)
class Settings:
    api_key: str = field(default="", repr=False)
    api_url: str = DEFAULT_API_URL
    data_dir: Path = Path("data")
    # Polling starts quick (Runware advises backoff from 1-2 s) and backs off for long jobs.
    poll_interval_min: float = 1.5
    poll_interval_max: float = 10.0
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    # A job still processing after this many seconds is marked "timeout" (it can be re-checked).
    job_timeout: float = 600.0
    requests_per_minute: int = 60
    max_in_flight: int = 10
    max_image_mb: float = 10.0
    max_video_mb: float = 500.0
    # "single": one workspace, every job listed (local use). "per-user": each browser sees its own.
    workspaces: str = "single"
    log_level: str = "WARNING"
    # Where jobs are kept; empty means the SQLite file in data_dir. May hold a password: never repr'd.
    database: str = field(default="", repr=False)
    # Where Runware can reach this app; when set, jobs ask for a webhook and finish as soon as it comes.
    public_url: str = ""
    # The secret in the webhook URL; empty means one is made once and kept in the database.
    webhook_secret: str = field(default="", repr=False)
    # Signs per-user workspace tokens; empty means one is made once and kept in the database.
    secret: str = field(default="", repr=False)
    # Spend caps per UTC day, in US dollars, on the server's key (0: off). A hosted demo with a server
    # key otherwise lets any visitor spend the operator's money, and a new workspace is one click away.
    daily_budget_usd: float = 0.0
    workspace_daily_budget_usd: float = 0.0
    # Past this size the oldest local copies of finished jobs are removed (0: off).
    max_media_gb: float = 0.0
    # Where a catalog refresh reads each model's requestSchema and the curated model list (no key needed).
    schema_url: str = DEFAULT_SCHEMA_URL
    content_url: str = DEFAULT_CONTENT_URL
    # A refreshed catalog older than this (seconds) is ignored and the bundled snapshot used instead.
    catalog_max_age: float = 7 * 24 * 3600.0
    # In per-user mode, who may refresh the catalog and see the server key's balance: whoever opened the
    # app with ?operator=<this>. Empty: nobody (in single mode everyone is the operator anyway).
    operator_token: str = field(default="", repr=False)
    # A sweep whose estimated total is above this (US dollars), or that has any job of unknown price,
    # is queued only after the user confirms. 0: always ask.
    confirm_above_usd: float = 5.0

    @property
    def has_key(self) -> bool:
        return bool(self.api_key)

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "studio.sqlite3"

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.db_path.resolve()}"

    def with_key(self, api_key: str) -> "Settings":
        return replace(self, api_key=api_key)


# Setting name -> environment / secrets name.
ENV_NAMES = {
    "api_key": "RUNWARE_API_KEY",
    "api_url": "RUNWARE_API_URL",
    "data_dir": "STUDIO_DATA_DIR",
    "poll_interval_min": "STUDIO_POLL_INTERVAL_MIN",
    "poll_interval_max": "STUDIO_POLL_INTERVAL_MAX",
    "connect_timeout": "STUDIO_CONNECT_TIMEOUT",
    "read_timeout": "STUDIO_READ_TIMEOUT",
    "job_timeout": "STUDIO_JOB_TIMEOUT",
    "requests_per_minute": "STUDIO_REQUESTS_PER_MINUTE",
    "max_in_flight": "STUDIO_MAX_IN_FLIGHT",
    "max_image_mb": "STUDIO_MAX_IMAGE_MB",
    "max_video_mb": "STUDIO_MAX_VIDEO_MB",
    "workspaces": "STUDIO_WORKSPACES",
    "log_level": "LOG_LEVEL",
    "database": "STUDIO_DATABASE_URL",
    "public_url": "STUDIO_PUBLIC_URL",
    "webhook_secret": "STUDIO_WEBHOOK_SECRET",
    "secret": "STUDIO_SECRET",
    "daily_budget_usd": "STUDIO_DAILY_BUDGET_USD",
    "workspace_daily_budget_usd": "STUDIO_WORKSPACE_DAILY_BUDGET_USD",
    "max_media_gb": "STUDIO_MAX_MEDIA_GB",
    "schema_url": "STUDIO_SCHEMA_URL",
    "content_url": "STUDIO_CONTENT_URL",
    "catalog_max_age": "STUDIO_CATALOG_MAX_AGE",
    "operator_token": "STUDIO_OPERATOR_TOKEN",
    "confirm_above_usd": "STUDIO_CONFIRM_ABOVE_USD",
}

# Settings where 0 is a meaningful value rather than a mistake.
_MAY_BE_ZERO = frozenset({"confirm_above_usd"})
_CHOICES = {"workspaces": ("single", "per-user"),
            "log_level": ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")}


class SettingsError(ValueError):
    pass


def valid_api_key(key: str) -> bool:
    """Keys are printable ASCII without spaces; anything else cannot travel in an HTTP header (or
    is a copy-paste accident), so it is refused before it is ever used."""
    return bool(key) and key.isascii() and key.isprintable() and not any(c.isspace() for c in key)


def _convert(name: str, raw, kind):
    try:
        if kind is Path or kind == "Path":
            return Path(str(raw))
        if kind in (int, "int"):
            value = int(raw)
        elif kind in (float, "float"):
            value = float(raw)
        else:
            value = str(raw).strip()
    except (TypeError, ValueError):
        # The value is not echoed: for api_key it would be the secret itself.
        raise SettingsError(f"{ENV_NAMES[name]} must be a {getattr(kind, '__name__', kind)}") from None
    if name == "api_key" and not valid_api_key(value):
        raise SettingsError(f"{ENV_NAMES[name]} has characters an API key cannot have "
                            "(spaces, line breaks or non-ASCII)")
    if name in _CHOICES:
        value = value.upper() if name == "log_level" else value.lower()
        if value not in _CHOICES[name]:
            raise SettingsError(f"{ENV_NAMES[name]} must be one of {', '.join(_CHOICES[name])}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingsError(f"{ENV_NAMES[name]} must be a finite number")
    if isinstance(value, (int, float)) and name in _MAY_BE_ZERO and value < 0:
        raise SettingsError(f"{ENV_NAMES[name]} must be 0 or more")
    if isinstance(value, (int, float)) and name not in _MAY_BE_ZERO and value <= 0:
        raise SettingsError(f"{ENV_NAMES[name]} must be greater than 0")
    return value


def load_settings(*, secrets: Mapping | None = None, environ: Mapping | None = None,
                  dotenv_path: str | os.PathLike | None = ".env", **overrides) -> Settings:
    """Resolve every setting. `overrides` are explicit arguments (highest precedence)."""
    env = dict(dotenv_values(dotenv_path)) if dotenv_path and Path(dotenv_path).is_file() else {}
    env.update(os.environ if environ is None else environ)
    secrets = secrets or {}
    values = {}
    for f in fields(Settings):
        env_name = ENV_NAMES[f.name]
        for source in (overrides.get(f.name), env.get(env_name), secrets.get(env_name)):
            if source is not None and source != "":
                values[f.name] = _convert(f.name, source, f.type)
                break
    for name in ("api_url", "public_url", "schema_url", "content_url"):
        if values.get(name):
            values[name] = values[name].rstrip("/")
    for name in ("schema_url", "content_url"):
        if values.get(name) and not values[name].startswith(("https://", "http://")):
            raise SettingsError(f"{ENV_NAMES[name]} must be an http(s) address")
    if values.get("public_url") and not values["public_url"].startswith(("https://", "http://")):
        raise SettingsError("STUDIO_PUBLIC_URL must be an http(s) address")
    return Settings(**values)
