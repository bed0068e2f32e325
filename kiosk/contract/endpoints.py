"""Broker addresses from the configuration: ``mqtts://host:8883`` or, on loopback, ``mqtt://``."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    tls: bool

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_endpoint(url: str) -> Endpoint:
    """Plain TCP only on loopback: residents' messages never cross a network unencrypted."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"broker {url!r}: expected mqtts://host:port")
    tls = parts.scheme == "mqtts"
    endpoint = Endpoint(parts.hostname, parts.port or (8883 if tls else 1883), tls)
    if not tls and not endpoint.is_loopback:
        raise ValueError(f"broker {url!r}: plain mqtt:// is only for loopback; use mqtts://")
    return endpoint
