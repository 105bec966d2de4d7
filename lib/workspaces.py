"""Per-user workspace tokens (the `?ws=` capability link of a hosted demo).

A token is the only thing between a visitor and another visitor's jobs, so the app accepts only tokens
it issued: a hand-picked one ("aaaaaaaaaaaaaaaa") would be guessed by the next person to pick it.

New tokens are `<random>.<mac>`: 128 random bits (what `secrets.token_urlsafe(16)` gives) and an HMAC of
them under STUDIO_SECRET, so any replica sharing the secret can check one without the database. Tokens
of earlier versions are the bare 22-character random part; they are accepted only when they already
own jobs (then the app issued them), so existing links keep working.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

RANDOM_BYTES = 16  # 128 bits
_LEGACY = re.compile(r"^[A-Za-z0-9_-]{22}$")  # secrets.token_urlsafe(16), as issued before signing


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _mac(secret: str, random_part: str) -> str:
    digest = hmac.new(secret.encode(), b"studio-workspace:" + random_part.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def issue(secret: str) -> str:
    """A fresh workspace token, signed with `secret`."""
    random_part = secrets.token_urlsafe(RANDOM_BYTES)
    return f"{random_part}.{_mac(secret, random_part)}"


def signed(token: str, secret: str) -> bool:
    """Whether `token` was issued with `secret` (compared in constant time)."""
    random_part, dot, mac = (token or "").partition(".")
    if not dot or not _LEGACY.match(random_part):
        return False
    return hmac.compare_digest(mac, _mac(secret, random_part))


def legacy(token: str) -> bool:
    """Shaped like a token of earlier versions (unsigned, 22 URL-safe characters)."""
    return bool(_LEGACY.match(token or ""))
