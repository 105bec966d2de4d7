"""Webhook POSTs and uploadEndpoint PUTs that cannot be turned against the server's own network.

A hosted demo must only ever send to public addresses. Checking the host name and then letting the
HTTP library connect is not enough: the name can resolve to a public address for the check and to
127.0.0.1 for the connection (DNS rebinding), and a public server can answer 307 to a loopback URL
(redirect). So: resolve once, check every address, connect to the checked address (Host header and,
for https, SNI and certificate check still use the name), and never follow redirects.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

log = logging.getLogger("studio.simulator")

Resolver = Callable[[str, int], list[str]]


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to (IPv4 and IPv6)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


def is_public_ip(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    return address.is_global and not address.is_multicast


class _PinnedAdapter(HTTPAdapter):
    """HTTPS to a pinned IP while SNI and the certificate check use the host name."""

    def __init__(self, hostname: str):
        self._hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["server_hostname"] = self._hostname
        kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(*args, **kwargs)


class Delivery:
    def __init__(self, *, private_allowed: bool, resolve: Resolver | None = None,
                 is_public: Callable[[str], bool] | None = None, timeout: float = 5.0):
        self.private_allowed = private_allowed
        self.resolve = resolve or system_resolve
        self.is_public = is_public or is_public_ip
        self.timeout = timeout

    def pinned_target(self, url: str) -> tuple[str, str] | None:
        """(URL with the checked IP in place of the name, the name) or None when it must not be sent.
        Resolved exactly once per attempt, so the address checked is the address connected to."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
            if parts.scheme not in ("http", "https") or not host:
                return None
            addresses = self.resolve(host, port)
        except (OSError, ValueError, UnicodeError):
            return None
        if not addresses:
            return None
        if not self.private_allowed and not all(self.is_public(a) for a in addresses):
            log.info("not delivering to %s: not a public address", host)
            return None
        ip = addresses[0]
        literal = f"[{ip}]" if ":" in ip else ip
        netloc = f"{literal}:{port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), host

    def send(self, method: str, url: str, **kwargs) -> bool:
        """One attempt; True on a 2xx. Redirects count as failures and are never followed."""
        target = self.pinned_target(url)
        if target is None:
            return False
        pinned_url, host = target
        parts = urlsplit(url)
        default_port = 443 if parts.scheme == "https" else 80
        host_header = host if not parts.port or parts.port == default_port else f"{host}:{parts.port}"
        if ":" in host and not host.startswith("["):
            host_header = f"[{host}]" + (f":{parts.port}" if parts.port and parts.port != default_port else "")
        with requests.Session() as session:
            session.trust_env = False  # a proxy from the environment would connect by name again
            if parts.scheme == "https":
                session.mount("https://", _PinnedAdapter(host))
            headers = {**kwargs.pop("headers", {}), "Host": host_header}
            try:
                resp = session.request(method, pinned_url, headers=headers, timeout=self.timeout,
                                       allow_redirects=False, **kwargs)
            except requests.RequestException:
                return False
            resp.close()
            return 200 <= resp.status_code < 300
