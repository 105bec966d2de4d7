"""Usage figures from the store's DataFrame (`JobStore.frame(workspace)`): pure functions, no database.

Spend here is what Runware reported (`cost`); a job without a reported cost counts $0. The daily caps
count estimates too (lib/spend.py: a running job must count before it is billed), so the remaining
caps are computed from spend.spent, which is what the cap check itself reads.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd

from . import jobstate as js

CSV_COLUMNS = ["task_uuid", "day", "model", "status", "spend", "seconds"]


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per job: its UTC day, model, status, spend (USD) and seconds to finish (successes)."""
    df = pd.DataFrame({"task_uuid": frame["task_uuid"], "model": frame["model"], "status": frame["status"]})
    df["created_at"] = frame["created_at"].astype(float)
    df["day"] = pd.to_datetime(df["created_at"], unit="s", utc=True).dt.strftime("%Y-%m-%d")
    df["spend"] = pd.to_numeric(frame["cost"], errors="coerce").fillna(0.0)
    finished = pd.to_numeric(frame["finished_at"], errors="coerce")
    df["seconds"] = (finished - df["created_at"]).where(frame["status"] == js.SUCCESS)
    return df.reset_index(drop=True)


def spend_per_day(df: pd.DataFrame) -> pd.DataFrame:
    return df.groupby("day", as_index=False)["spend"].sum().sort_values("day", ignore_index=True)


def spend_per_model(df: pd.DataFrame) -> pd.DataFrame:
    out = df.groupby("model", as_index=False)["spend"].sum()
    return out.sort_values(["spend", "model"], ascending=[False, True], ignore_index=True)


def jobs_by_status(df: pd.DataFrame) -> pd.DataFrame:
    out = df.groupby("status", as_index=False).size().rename(columns={"size": "jobs"})
    return out.sort_values(["jobs", "status"], ascending=[False, True], ignore_index=True)


def time_to_finish(df: pd.DataFrame) -> pd.DataFrame:
    """Seconds from Generate to a finished video, per model (successful jobs only)."""
    done = df.dropna(subset=["seconds"])
    out = done.groupby("model")["seconds"].agg(jobs="count", median="median", mean="mean", longest="max")
    return out.reset_index().sort_values("model", ignore_index=True)


def totals(df: pd.DataFrame, now: float) -> dict[str, float]:
    """Spend today, this week (from Monday) and in all, UTC."""
    today = datetime.fromtimestamp(now, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    return {"today": float(df.loc[df["created_at"] >= today.timestamp(), "spend"].sum()),
            "week": float(df.loc[df["created_at"] >= monday.timestamp(), "spend"].sum()),
            "all": float(df["spend"].sum())}


def remaining(cap: float, spent: float) -> float | None:
    """What is left of a daily cap (never below 0); None when the cap is off."""
    return None if cap <= 0 else max(0.0, round(cap - spent, 6))


def to_csv(df: pd.DataFrame) -> bytes:
    return df[CSV_COLUMNS].to_csv(index=False).encode("utf-8")
