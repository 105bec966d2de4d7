"""The job history as a table: shaping, filtering and exporting the store's DataFrame.

Exports leave out internal columns (key_id, the raw task with its inline images); no API key is ever
in the store to begin with.
"""
from __future__ import annotations

import json

import pandas as pd

from .media import ROUTE_PREFIX

EXPORT_COLUMNS = ["task_uuid", "status", "created", "finished", "model", "prompt", "duration", "width", "height",
                  "number_results", "cost", "seeds", "error_code", "error_message", "video_files", "sweep",
                  "favourite", "rating", "note", "tags"]


def _error_field(raw, name):
    return json.loads(raw).get(name) if isinstance(raw, str) and raw else None


def shape(raw: pd.DataFrame, sweep_names: dict[str, str] | None = None) -> pd.DataFrame:
    """From store rows to the columns people read; newest first, as the store returns them.
    `sweep_names` maps sweep ids to their names."""
    df = pd.DataFrame(index=raw.index)
    df["task_uuid"] = raw["task_uuid"]
    df["status"] = raw["status"]
    df["created"] = pd.to_datetime(raw["created_at"], unit="s", utc=True)
    df["finished"] = pd.to_datetime(raw["finished_at"], unit="s", utc=True)
    for col in ("model", "prompt", "duration", "width", "height", "number_results", "cost"):
        df[col] = raw[col]
    results = raw["results_json"].map(json.loads)
    df["seeds"] = results.map(lambda rs: ", ".join(str(r["seed"]) for r in rs if r.get("seed") is not None))
    df["video_files"] = results.map(lambda rs: " ".join(r["file"] for r in rs if r.get("file")))
    df["error_code"] = raw["error_json"].map(lambda e: _error_field(e, "code"))
    df["error_message"] = raw["error_json"].map(lambda e: _error_field(e, "message"))
    df["job_link"] = "history?job=" + raw["task_uuid"]
    first_file = df["video_files"].str.split(" ").str[0]
    df["video"] = first_file.where(first_file.str.len() > 0).map(lambda f: f"{ROUTE_PREFIX}/{f}", na_action="ignore")
    poster = results.map(lambda rs: next((r["poster"] for r in rs if r.get("poster")), None))
    df["poster"] = poster.map(lambda f: f"{ROUTE_PREFIX}/{f}", na_action="ignore")
    df["sweep_id"] = raw["sweep_id"].fillna("") if "sweep_id" in raw else ""
    df["sweep"] = df["sweep_id"].map(lambda i: (sweep_names or {}).get(i, ""))
    df["favourite"] = raw["favourite"].fillna(0).astype(bool) if "favourite" in raw else False
    df["rating"] = pd.array(raw["rating"], dtype="Int64") if "rating" in raw else pd.NA
    df["note"] = raw["note"].fillna("") if "note" in raw else ""
    df["tags"] = raw["tags_json"].map(lambda t: ", ".join(json.loads(t or "[]"))) if "tags_json" in raw else ""
    return df.reset_index(drop=True)


def _defuse_formula(value):
    # A cell starting with one of these runs as a formula when the CSV is opened in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(df: pd.DataFrame) -> bytes:
    text_columns = df[EXPORT_COLUMNS].select_dtypes(include=["object", "string"]).columns
    safe = df[EXPORT_COLUMNS].copy()
    for column in text_columns:
        safe[column] = safe[column].map(_defuse_formula)
    return safe.to_csv(index=False).encode("utf-8")


def to_json(df: pd.DataFrame) -> bytes:
    return df[EXPORT_COLUMNS].to_json(orient="records", date_format="iso", indent=2).encode("utf-8")
