"""Typed errors. The split that matters to a user: did the *API or network* fail (ApiError: try again,
nothing was lost), or was the *input* refused before anything was sent (InvalidRequest)? That a *task*
failed (Runware ran it and it ended in an error) is not an exception: one poll answers for many tasks,
so it comes back per task, as a TaskUpdate with status "error" and Runware's error item."""
from __future__ import annotations


def problem(code: str, parameter: str | None, message: str, **context) -> dict:
    """One error in Runware's own shape: code, message, parameter, plus allowedValues / min / max."""
    item = {"code": code, "message": message}
    if parameter:
        item["parameter"] = parameter
    item.update({k: v for k, v in context.items() if v is not None})
    return item


class StudioError(Exception):
    """Base of every error this project raises on purpose."""


class InvalidRequest(StudioError):
    """The request was refused before sending; `problems` are Runware-shaped, one per field."""

    def __init__(self, problems: list[dict]):
        self.problems = problems
        super().__init__("; ".join(p["message"] for p in problems))

    def for_parameter(self, parameter: str) -> list[dict]:
        return [p for p in self.problems if p.get("parameter") == parameter]


class ApiError(StudioError):
    """The API or the network failed; the task itself may never have been seen.

    `status` is the HTTP status (None when no answer came back); `errors` is Runware's errors[] when the
    body had one. `retryable` says whether trying the same call again later can succeed.
    """

    def __init__(self, message: str, *, status: int | None = None, errors: list[dict] | None = None,
                 retryable: bool = False):
        self.status = status
        self.errors = errors or []
        self.retryable = retryable
        super().__init__(message)

    @property
    def code(self) -> str | None:
        return self.errors[0].get("code") if self.errors else None


class DownloadError(StudioError):
    """A result video could not be fetched. `permanent` when retrying cannot help (404, expired, not a
    video, too large)."""

    def __init__(self, message: str, *, permanent: bool):
        self.permanent = permanent
        super().__init__(message)
