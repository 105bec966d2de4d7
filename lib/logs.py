"""Logging with secrets redacted. Every API interaction is logged at DEBUG; the API key never is.

Two layers: the client never formats a key into a message, and, in case some other code does, a
filter on the handlers scrubs what looks like a credential (a Bearer token, an "apiKey" value) and the
configured key itself before a record is written. Keys users paste are never copied here (this module
is shared by every session and must never hold a user's key): each KeyRing registers itself, held by a
weak reference, and the filter asks the live rings for their keys at the moment it redacts.
"""
from __future__ import annotations

import logging
import re
import threading
import weakref

_secrets: set[str] = set()
# KeyRings, weakly: a ring (and the keys in it) lives only as long as its runtime, never longer for us.
_rings: "weakref.WeakSet" = weakref.WeakSet()
_lock = threading.Lock()
REDACTED = "***"
# Very short values would redact ordinary words; real keys are long.
MIN_SECRET = 8
_CREDENTIAL_PATTERNS = [
    re.compile(r"(Bearer\s+)[^\s'\",}]+", re.IGNORECASE),
    re.compile(r"""(["']?api_?key["']?\s*[:=]\s*["']?)[^\s'",}]+""", re.IGNORECASE),
]


def register_secret(value: str) -> None:
    """Redact this exact value too (for the server's configured key)."""
    if value and len(value) >= MIN_SECRET:
        with _lock:
            _secrets.add(value)


def watch(ring) -> None:
    """Redact every key `ring` holds (it has `secrets()`), for as long as the ring exists."""
    with _lock:
        _rings.add(ring)


def scrub(text: str, secrets) -> str:
    """`text` with each of these exact values (if long enough to be a key) replaced by ***."""
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def redact(text: str) -> str:
    with _lock:
        secrets = set(_secrets)
        rings = list(_rings)
    for ring in rings:
        secrets.update(ring.secrets())
    text = scrub(text, secrets)
    for pattern in _CREDENTIAL_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.exc_info:
            record.msg, record.args = cleaned, None
            if record.exc_info:
                # Tracebacks can hold values too: keep only the redacted text of the exception.
                record.msg = f"{cleaned} ({redact(repr(record.exc_info[1]))})"
                record.exc_info = record.exc_text = None
        return True


def configure(level: str = "WARNING") -> None:
    """Set the project's log level and make sure every root handler redacts (idempotent)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    # Streamlit's loggers do not propagate to the root: their handlers get the filter too (they log
    # uncaught exceptions from the app, tracebacks included).
    streamlit_handlers = [h for name, lg in logging.root.manager.loggerDict.items()
                          if name.startswith("streamlit") and isinstance(lg, logging.Logger) for h in lg.handlers]
    for handler in [*root.handlers, *streamlit_handlers]:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    logging.getLogger("studio").setLevel(level)
    # urllib3 logs request lines only (never headers); keep it quieter than our own DEBUG lines.
    logging.getLogger("urllib3").setLevel(max(logging.getLevelName(level), logging.INFO))
