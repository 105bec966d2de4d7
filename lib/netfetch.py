"""Talking to servers we do not trust: bodies bounded in size and in total time, not just per read
(a server dripping one byte every few seconds never trips a read timeout); a Watchdog that ends an
exchange at its deadline even while the status line and headers drip in; and result videos written
whole or not at all, fetched only from addresses checked to be public (redirects included), connecting
to the very address that was checked."""
from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .errors import DownloadError
from .simulator.delivery import is_public_ip, system_resolve

log = logging.getLogger("studio.download")
PART_PREFIX = ".part-"
_CHUNK = 1 << 16


MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
Resolver = Callable[[str, int], list[str]]


class ResponseTooLarge(Exception):
    pass


# -- a deadline for the whole exchange ---------------------------------------------------------------

_local = threading.local()


class Watchdog:
    """Ends the HTTP exchange made inside `with Watchdog(deadline)` (this thread, a session with a
    WatchedAdapter) at `deadline` (time.monotonic()): it shuts the connection's socket, so a read
    blocked on a server that sends a byte per read timeout fails at once. Per-read timeouts alone let
    such a server hold a call for ever. `fired` says the deadline, not the server, ended it."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.fired = False
        self._conn = None
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def __enter__(self) -> "Watchdog":
        self._outer = getattr(_local, "watch", None)
        _local.watch = self
        self._timer = threading.Timer(max(0.0, self.deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        _local.watch = self._outer
        with self._lock:
            self._conn = None

    def attach(self, conn) -> None:
        with self._lock:
            self._conn = conn
            if self.fired:
                _shut(conn)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._conn is not None:
                _shut(self._conn)


def _shut(conn) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _Watched:
    """A connection that tells this thread's Watchdog (if any) that it is the one in use."""

    def _watch(self) -> None:
        watch = getattr(_local, "watch", None)
        if watch is not None:
            watch.attach(self)

    def connect(self):
        self._watch()
        super().connect()
        self._watch()  # the socket exists now: shut at once if the deadline passed meanwhile

    def request(self, *args, **kwargs):
        self._watch()  # a kept-alive connection is not connected again
        return super().request(*args, **kwargs)

    def getresponse(self, *args, **kwargs):
        self._watch()
        return super().getresponse(*args, **kwargs)


class _WatchedHTTP(_Watched, HTTPConnection):
    pass


class _WatchedHTTPS(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTP


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPS


class WatchedAdapter(HTTPAdapter):
    """Connections a Watchdog can end. With `server_hostname`, HTTPS to a pinned IP address still sends
    the name in SNI and checks the certificate against the name."""

    def __init__(self, server_hostname: str | None = None):
        self._hostname = server_hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        if self._hostname:
            kwargs["server_hostname"] = self._hostname
            kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    def proxy_manager_for(self, *args, **kwargs):
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
        return manager


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


class FetchPolicy:
    """Where result videos may be fetched from. The API's own host (host and port) may be private (the
    simulator on loopback) for the URL Runware gave; every other host, and every redirect hop, must
    resolve only to public addresses. `resolve` and `is_public` are injectable for tests."""

    def __init__(self, api_url: str = "", *, resolve: Resolver | None = None,
                 is_public: Callable[[str], bool] | None = None):
        self.api_origin = _origin(api_url) if api_url else None
        self.resolve = resolve or system_resolve
        self.is_public = is_public or is_public_ip

    def address(self, url: str, *, first: bool) -> str:
        """The one address to connect to for `url`, checked; DownloadError (permanent) if none may be."""
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = self.resolve(host, port) if host else []
        except (OSError, UnicodeError, ValueError):
            addresses = []
        if not addresses:
            raise DownloadError("The video's address could not be resolved.", permanent=False)
        private_ok = first and (host, port) == self.api_origin
        if not private_ok and not all(self.is_public(a) for a in addresses):
            raise DownloadError("The video URL points to a private network address; it is not fetched.",
                                permanent=True)
        return addresses[0]


def _origin(url: str) -> tuple[str | None, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def download(url: str, dest: Path, *, max_bytes: int, timeout: tuple[float, float], deadline_seconds: float,
             policy: FetchPolicy | None = None) -> Path:
    """Stream a result video to `dest`, whole or not at all (DownloadError otherwise)."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise DownloadError("Runware reported a result without a video URL.", permanent=True)
    policy = policy or FetchPolicy()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=PART_PREFIX, suffix=dest.suffix)
    try:
        deadline = time.monotonic() + deadline_seconds
        with os.fdopen(fd, "wb") as out:
            for hop in range(MAX_REDIRECTS + 1):
                url = _stream(url, out, max_bytes, timeout, deadline, policy.address(url, first=hop == 0))
                if url is None:
                    break
                if not url.startswith(("http://", "https://")):
                    raise DownloadError("The video URL redirected to something that is not a web address.",
                                        permanent=True)
            else:
                raise DownloadError("The video URL redirected too many times.", permanent=True)
        with open(tmp, "rb") as f:
            if not looks_like_video(f.read(12)):
                raise DownloadError("The result URL did not return a video.", permanent=True)
        os.replace(tmp, dest)
        log.debug("downloaded a result -> %s (%d bytes)", dest.name, dest.stat().st_size)
        return dest
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _pinned(url: str, ip: str) -> tuple[str, str]:
    """The URL with `ip` in place of its host name, and the Host header that names the host."""
    parts = urlsplit(url)
    literal = f"[{ip}]" if ":" in ip else ip
    port = f":{parts.port}" if parts.port else ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return urlunsplit((parts.scheme, literal + port, parts.path, parts.query, "")), host + port


def _stream(url, out, max_bytes, timeout, deadline, ip) -> str | None:
    """One GET of `url` at the checked address `ip`, never following a redirect: the body is written to
    `out` (None returned), or the redirect's absolute URL is returned for the caller to check."""
    too_large = f"The video is larger than the {max_bytes // 2**20} MB limit."
    pinned_url, host_header = _pinned(url, ip)
    with requests.Session() as session:
        session.trust_env = False  # a proxy from the environment would connect by name again
        session.headers["User-Agent"] = "runware-video-studio"
        session.mount("http://", WatchedAdapter())
        session.mount("https://", WatchedAdapter(urlsplit(url).hostname))
        watch = Watchdog(deadline)
        try:
            with watch, session.get(pinned_url, headers={"Host": host_header}, stream=True, timeout=timeout,
                                    allow_redirects=False) as resp:
                if resp.status_code in REDIRECTS and resp.headers.get("Location"):
                    return urljoin(url, resp.headers["Location"])
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
                        break
                    out.write(chunk)
                if length and written != length and not watch.fired and time.monotonic() <= deadline:
                    raise DownloadError("The download was cut short.", permanent=False)
        except requests.exceptions.RequestException as exc:
            if not watch.fired:
                raise DownloadError(f"The download was interrupted ({type(exc).__name__}).", permanent=False) from None
        if watch.fired or time.monotonic() > deadline:
            raise DownloadError("The download took too long; it will be tried again.", permanent=False)
    return None
