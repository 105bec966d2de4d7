"""Reading bodies from servers we do not trust: bounded in size and in total time, not just per read
(a server dripping one byte every few seconds never trips a read timeout), and result videos written
whole or not at all."""
from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

import requests

from .errors import DownloadError

log = logging.getLogger("studio.download")
PART_PREFIX = ".part-"
_CHUNK = 1 << 16


class ResponseTooLarge(Exception):
    pass


def _arriving(resp: requests.Response, size: int):
    """The body in pieces as they arrive (at most `size` bytes each). iter_content waits until a whole
    chunk is in, so a server dripping a byte per read timeout would hold it far past any deadline; read1
    returns after one read, so the caller's deadline is checked between reads. Errors as iter_content's."""
    from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError
    raw = resp.raw
    if not hasattr(raw, "read1"):  # urllib3 < 2.1
        yield from resp.iter_content(chunk_size=size)
        return
    try:
        while chunk := raw.read1(size):
            yield chunk
    except ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from None
    except SSLError as exc:
        raise requests.exceptions.SSLError(exc) from None


def read_limited(resp: requests.Response, max_bytes: int, deadline: float) -> bytes:
    """The whole body of a streamed response, or ResponseTooLarge / TimeoutError (past `deadline`,
    a time.monotonic() value)."""
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge()
    chunks, size = [], 0
    for chunk in _arriving(resp, _CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLarge()
        if time.monotonic() > deadline:
            raise TimeoutError()
        chunks.append(chunk)
    return b"".join(chunks)


def looks_like_video(head: bytes) -> bool:
    """MP4/MOV carry an 'ftyp' box first; WEBM starts with the EBML magic."""
    return head[4:8] == b"ftyp" or head.startswith(b"\x1a\x45\xdf\xa3")


def clean_partials(folder: Path) -> int:
    """Remove half-written downloads left by a process that was killed mid-download."""
    removed = 0
    for leftover in Path(folder).glob(PART_PREFIX + "*"):
        leftover.unlink(missing_ok=True)
        removed += 1
    return removed


def download(session: requests.Session, url: str, dest: Path, *, max_bytes: int, timeout: tuple[float, float],
             deadline_seconds: float) -> Path:
    """Stream a result video to `dest`, whole or not at all (DownloadError otherwise)."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise DownloadError("Runware reported a result without a video URL.", permanent=True)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=PART_PREFIX, suffix=dest.suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            _stream(session, url, out, max_bytes, timeout, time.monotonic() + deadline_seconds)
        with open(tmp, "rb") as f:
            if not looks_like_video(f.read(12)):
                raise DownloadError("The result URL did not return a video.", permanent=True)
        os.replace(tmp, dest)
        log.debug("downloaded a result -> %s (%d bytes)", dest.name, dest.stat().st_size)
        return dest
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _stream(session, url, out, max_bytes, timeout, deadline) -> None:
    too_large = f"The video is larger than the {max_bytes // 2**20} MB limit."
    try:
        with session.get(url, stream=True, timeout=timeout) as resp:
            if resp.status_code in (403, 404, 410):
                raise DownloadError(f"The video is no longer available (HTTP {resp.status_code}); "
                                    "its URL may have expired.", permanent=True)
            if resp.status_code != 200:
                raise DownloadError(f"Downloading the video failed (HTTP {resp.status_code}).", permanent=False)
            declared = resp.headers.get("Content-Length") or ""
            length = int(declared) if declared.isdigit() else 0
            if length > max_bytes:
                raise DownloadError(too_large, permanent=True)
            written = 0
            for chunk in _arriving(resp, _CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise DownloadError(too_large, permanent=True)
                if time.monotonic() > deadline:
                    raise DownloadError("The download took too long; it will be tried again.", permanent=False)
                out.write(chunk)
            if length and written != length:
                raise DownloadError("The download was cut short.", permanent=False)
    except requests.exceptions.RequestException as exc:
        raise DownloadError(f"The download was interrupted ({type(exc).__name__}).", permanent=False) from None
