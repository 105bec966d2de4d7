"""Hostile servers on the wire (issue 9, items 5 and 6): result downloads follow redirects only to public
addresses and connect to the address that was checked; a server that trickles its status line and
headers cannot hold a call past its deadline. Real servers on loopback ports; "public" and "private"
are played by 127.0.0.1 and 127.0.0.2 through an injected `is_public`, names by an injected resolver."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from conftest import TEST_KEY, StandIn
from lib.client import RunwareClient
from lib.errors import ApiError, DownloadError

VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2000  # enough of an MP4 for looks_like_video
PUBLIC, PRIVATE = "127.0.0.1", "127.0.0.2"


def only_first_is_public(ip: str) -> bool:
    return ip == PUBLIC


def video_server(host: str = PUBLIC, location: str | None = None) -> StandIn:
    """A StandIn on `host`: GET answers a redirect to its `location` (settable later), or the video."""
    def respond(method, path, body, n):
        if server.location:
            return 302, "text/plain", b"", {"Location": server.location}
        return 200, "video/mp4", VIDEO

    server = StandIn(respond, host=host)
    server.location = location
    server.url += "/v.mp4"
    return server


def hosts(server: StandIn) -> list[str]:
    """The Host header of every request the server got."""
    return [headers.get("Host") for _, _, headers, _ in server.requests]


def client(api_url: str = "http://127.0.0.1:9/v1", **options) -> RunwareClient:
    return RunwareClient(TEST_KEY, api_url, retries=0, connect_timeout=2, read_timeout=3, **options)


# -- item 5: redirects and pinned addresses ----------------------------------------------------------


def test_a_redirect_to_a_private_address_is_not_followed(tmp_path):
    with video_server(PRIVATE) as private, video_server(PUBLIC, location=None) as public:
        public.location = private.url
        with pytest.raises(DownloadError) as refused:
            client(is_public=only_first_is_public).download(public.url, tmp_path / "v.mp4", max_bytes=10**6)
    assert refused.value.permanent and "private" in str(refused.value)
    assert hosts(private) == [] and len(hosts(public)) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_redirect_from_the_api_host_to_a_private_address_is_not_followed(tmp_path):
    # The API's own host may be private (the simulator on loopback): its URLs are fetched, but where it
    # redirects to must still be public.
    with video_server(PRIVATE) as private, video_server(PUBLIC, location=private.url) as api:
        api_client = client(f"http://{PUBLIC}:{api.port}/v1", is_public=lambda ip: False)
        with pytest.raises(DownloadError):
            api_client.download(api.url, tmp_path / "v.mp4", max_bytes=10**6)
        assert hosts(private) == [] and len(hosts(api)) == 1
        api.location = None  # the same host serving the video itself is fine
        assert api_client.download(api.url, tmp_path / "v.mp4", max_bytes=10**6).read_bytes() == VIDEO


def test_a_result_url_on_another_private_host_is_not_fetched(tmp_path):
    with video_server(PRIVATE) as private:
        with pytest.raises(DownloadError) as refused:
            client(is_public=only_first_is_public).download(private.url, tmp_path / "v.mp4", max_bytes=10**6)
    assert refused.value.permanent and hosts(private) == []


def test_a_redirect_to_a_public_name_is_followed_to_the_checked_address(tmp_path):
    # "cdn.test" exists only in the injected resolver: the video arrives only if the connection goes
    # to the address that was checked (the system resolver would not know the name at all).
    with video_server(PUBLIC) as cdn, video_server(PUBLIC) as origin:
        origin.location = f"http://cdn.test:{cdn.port}/v.mp4"
        names = {"cdn.test": [PUBLIC], PUBLIC: [PUBLIC]}
        fetcher = client(is_public=only_first_is_public, resolve=lambda host, port: names.get(host, []))
        assert fetcher.download(origin.url, tmp_path / "v.mp4", max_bytes=10**6).read_bytes() == VIDEO
    assert hosts(cdn) == [f"cdn.test:{cdn.port}"]  # the name still goes in the Host header


def test_a_name_that_resolves_to_any_private_address_is_refused(tmp_path):
    with video_server(PUBLIC) as video:
        names = {"mixed.test": [PUBLIC, PRIVATE]}
        fetcher = client(is_public=only_first_is_public, resolve=lambda host, port: names.get(host, []))
        with pytest.raises(DownloadError):
            fetcher.download(f"http://mixed.test:{video.port}/v.mp4", tmp_path / "v.mp4", max_bytes=10**6)
    assert hosts(video) == []


# -- item 6: a total deadline, even while headers trickle ----------------------------------------------


class Trickler:
    """A raw socket server that reads a request, then sends a status line and headers one byte every
    `every` seconds (each under any read timeout), for up to `limit` seconds."""

    def __init__(self, every: float = 0.1, limit: float = 20.0):
        self.every, self.limit = every, limit
        self.sock = socket.create_server((PUBLIC, 0))
        self.sock.settimeout(0.1)
        self.url = f"http://{PUBLIC}:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn):
        with conn:
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: " + b"a" * 10_000
            ends = time.monotonic() + self.limit
            for byte in head:
                if self.stop.is_set() or time.monotonic() > ends:
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the client hung up: what the test wants
                time.sleep(self.every)

    def __enter__(self):
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.sock.close()


def test_an_api_call_ends_by_its_deadline_while_headers_trickle():
    with Trickler() as server:
        slow = RunwareClient(TEST_KEY, server.url + "/v1", retries=0, connect_timeout=1, read_timeout=1,
                             deadline=1.5)
        started = time.monotonic()
        with pytest.raises(ApiError) as failed:
            slow.poll(["5f0e7c1a-0000-4000-8000-000000000000"])
        took = time.monotonic() - started
    assert took <= slow.worst_case_seconds(), took
    assert took < 3.0 and failed.value.retryable and "in time" in str(failed.value)


def test_a_download_ends_by_its_deadline_while_headers_trickle(tmp_path):
    with Trickler() as server:
        started = time.monotonic()
        with pytest.raises(DownloadError) as failed:
            client(server.url + "/v1").download(server.url + "/v.mp4", tmp_path / "v.mp4", max_bytes=10**6,
                                                deadline_seconds=1.5)
        took = time.monotonic() - started
    assert took < 3.0, took
    assert not failed.value.permanent and list(tmp_path.iterdir()) == []
