"""Per-key account state for `accountManagement` and for the refusals a real account can meet
(401 bad key, 402 balance too low, 403 model not allowed)."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from ..errors import problem

# A hostile client can invent keys at will; remember at most this many (least recently used go).
MAX_KEYS = 10_000
MAX_KEY_LENGTH = 256

REFUSALS = {
    401: ("invalidApiKey", "apiKey", "Invalid API key."),
    402: ("insufficientCredits", None, "Your balance is too low for this task; add credit and try again."),
    403: ("modelNotAllowed", "model", "This API key is not allowed to use this model."),
}


def refusal(status: int, task_type: str = "authentication", task_uuid: str | None = None) -> dict:
    """One Runware-shaped error for a refused key (401), balance (402) or permission (403)."""
    code, parameter, message = REFUSALS[status]
    return problem(code, parameter, message, taskType=task_type, taskUUID=task_uuid)


def well_formed(key: str) -> bool:
    """Keys travel in a header: printable ASCII without spaces, of a sane length."""
    return (0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()
            and not any(c.isspace() for c in key))


class Accounts:
    def __init__(self, balance: float = 1000.0, refuse_keys: dict[str, int] | None = None):
        self.balance = balance
        # key -> HTTP status (401, 402 or 403) it always gets at submit (401: on every call).
        self.refuse_keys = dict(refuse_keys or {})
        for status in self.refuse_keys.values():
            if status not in REFUSALS:
                raise ValueError(f"refuse_keys statuses must be 401, 402 or 403, not {status}")
        self._spent: OrderedDict[str, list] = OrderedDict()  # key digest -> [spent USD, tasks]
        self._lock = threading.Lock()

    @staticmethod
    def _id(key: str) -> str:
        # Only a digest is kept: the simulator never holds more of a key than it needs.
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def charge(self, key: str, cost: float) -> None:
        with self._lock:
            entry = self._spent.pop(self._id(key), [0.0, 0])
            entry[0] += cost
            entry[1] += 1
            self._spent[self._id(key)] = entry
            while len(self._spent) > MAX_KEYS:
                self._spent.popitem(last=False)

    def details(self, key: str) -> dict:
        """The fields of an accountManagement getDetails answer, for this key's (simulated) organization."""
        with self._lock:
            spent, tasks = self._spent.get(self._id(key), [0.0, 0])
        org = "sim-" + self._id(key)[:8]
        preview = key[:4] + "…" if len(key) > 8 else "…"
        return {
            "organization": {"organizationUUID": org, "name": "Runware simulator"},
            "balance": round(max(0.0, self.balance - spent), 4),
            "usage": {"tasks": tasks, "spent": round(spent, 4)},
            "team": [{"name": "Simulator user", "role": "owner"}],
            "apiKeys": [{"name": "default", "key": preview, "requests": tasks}],
        }
