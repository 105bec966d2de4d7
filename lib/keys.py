"""API keys held in the process's memory, so the engine can move jobs on with no browser open.

Keys are never written anywhere: jobs carry only `key_id`, a short non-reversible hash. The server's
configured key is registered at start; a key a user pastes is registered for as long as that user keeps
it (after a restart it is gone, and that user's jobs wait until it is pasted again).
"""
from __future__ import annotations

import hashlib
import threading

from . import logs


def key_id(api_key: str) -> str:
    """A stable, non-reversible label for a key, to tell whose jobs are whose."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


class KeyRing:
    def __init__(self):
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()
        logs.watch(self)  # log records are scrubbed of every key held here

    def __repr__(self) -> str:
        return f"KeyRing({len(self._keys)} keys)"

    def add(self, api_key: str) -> str:
        kid = key_id(api_key)
        with self._lock:
            self._keys[kid] = api_key
        return kid

    def discard(self, kid: str) -> None:
        with self._lock:
            self._keys.pop(kid, None)

    def get(self, kid: str) -> str | None:
        with self._lock:
            return self._keys.get(kid)

    def secrets(self) -> list[str]:
        """Every key held, for redacting them from what servers send back."""
        with self._lock:
            return list(self._keys.values())

    def redact(self, text: str) -> str:
        """`text` (from a server) with every key held replaced by ***: a server or proxy that echoes a key
        must not get it stored, shown, logged or exported."""
        return logs.scrub(text, self.secrets())
