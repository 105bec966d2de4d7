"""The job state machine, in one table. Every status change in the store names an event from here;
the store refuses an event whose job is not in one of the event's starting statuses.

  queued       recorded, waiting for room in the tasks-in-flight budget; not sent yet
  submitting   being sent, or to be resent under the same taskUUID (`error` says why the last try failed)
  processing   Runware accepted it; being polled
  downloading  Runware finished it; its videos are being copied into the local media folder
  success      every result is local
  error        Runware, the download or the key said no; `error` holds why (results kept if any)
  timeout      still processing after the job timeout; can be re-checked
  cancelled    stopped before Runware accepted it (or abandoned: Runware may still have it)
"""
from __future__ import annotations

QUEUED, SUBMITTING, PROCESSING, DOWNLOADING = "queued", "submitting", "processing", "downloading"
SUCCESS, ERROR, TIMEOUT, CANCELLED = "success", "error", "timeout", "cancelled"

PENDING = (QUEUED, SUBMITTING, PROCESSING, DOWNLOADING)
# What counts against the tasks-in-flight budget: sent, or being sent, and not finished at Runware.
IN_FLIGHT = (SUBMITTING, PROCESSING)
FINISHED = (SUCCESS, ERROR, TIMEOUT, CANCELLED)
ALL = PENDING + FINISHED

# What people read, everywhere a status is shown (cards, History, filters).
WORDS = {QUEUED: "queued", SUBMITTING: "submitting", PROCESSING: "processing", DOWNLOADING: "downloading",
         SUCCESS: "done", ERROR: "failed", TIMEOUT: "timed out", CANCELLED: "cancelled"}

SAME = None  # the event keeps the status

# event -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "send": ((QUEUED,), SUBMITTING),
    "cancel": ((QUEUED,), CANCELLED),
    "attempt": ((SUBMITTING,), SAME),          # one more try, its outcome noted
    "accepted": ((SUBMITTING,), PROCESSING),
    "refused": ((SUBMITTING,), ERROR),
    "abandon": ((SUBMITTING,), CANCELLED),
    "update": ((PROCESSING,), SAME),           # results so far, progress, a waiting note
    "delivered": ((PROCESSING,), DOWNLOADING),
    "failed": ((PROCESSING,), ERROR),
    "timed_out": ((PROCESSING,), TIMEOUT),
    "fetched": ((DOWNLOADING,), SAME),         # one more result copied, or a try that failed
    "downloaded": ((DOWNLOADING,), SUCCESS),
    "download_failed": ((DOWNLOADING,), ERROR),
    "partial": ((DOWNLOADING,), ERROR),        # what was delivered is local; another result failed
    "recheck": ((TIMEOUT, ERROR), SAME),       # asked for: the engine asks Runware again
    "rechecked_running": ((TIMEOUT, ERROR, PROCESSING), PROCESSING),
    "rechecked_delivered": ((TIMEOUT, ERROR, PROCESSING), DOWNLOADING),
    "rechecked_failed": ((TIMEOUT, ERROR, PROCESSING), ERROR),
    "abandon_requested": ((SUBMITTING,), SAME),
    "note": (ALL, SAME),                       # bookkeeping that changes no status
}


class TransitionError(ValueError):
    pass


def target(event: str, status: str) -> str:
    """The status `event` leads to from `status`; TransitionError when it cannot start there."""
    try:
        starts, to = TRANSITIONS[event]
    except KeyError:
        raise TransitionError(f"unknown event {event!r}") from None
    if status not in starts:
        raise TransitionError(f"{event!r} cannot happen to a job that is {status!r}")
    return status if to is SAME else to
