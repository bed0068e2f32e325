"""What the facility says about this kiosk: names, time zone, languages, session limits, and
the facility-wide notice. Starts from the local config; the cloud's snapshots override it."""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kiosk.config import LANGUAGES, KioskConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IceServer:
    """One of the facility's STUN or TURN servers. The credential is never shown or logged."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CallNetwork:
    """How the facility's network lets a visit's call through: its STUN and TURN servers, and
    whether only relayed paths may be used (a firewall that lets no direct UDP out)."""

    ice_servers: tuple[IceServer, ...] = ()
    relay_only: bool = False

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> CallNetwork:
        servers = tuple(
            IceServer(tuple(s["urls"]), s.get("username"), s.get("credential"))
            for s in snapshot.get("ice_servers", ())
        )
        return cls(servers, bool(snapshot.get("ice_relay_only", False)))


@dataclass(frozen=True)
class Retention:
    """How many days the kiosk keeps messages (and their photos, less long) and its events:
    the cloud keeps the record, the kiosk only what a resident still needs to see."""

    messages_days: int = 90
    photos_days: int = 30
    events_days: int = 30

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> Retention:
        given = snapshot.get("retention") or {}
        return cls(**{name: int(given[name]) for name in cls.__dataclass_fields__ if name in given})


@dataclass(frozen=True)
class FacilitySettings:
    facility_name: str
    kiosk_name: str
    timezone: str
    languages: tuple[str, ...]
    session_idle_s: int = 60
    session_max_s: int = 900
    message_max_chars: int = 2000
    # The facility's key for badge lookups, sealed under the pepper (opened for each badge by
    # core.verifiers); None: badges unknown.
    badge_key: str | None = None
    # The cloud's technicians: {technician_id, display_name, badge_lookup, pin_verifier}; the
    # verifiers sealed under the pepper.
    technicians: tuple[Mapping[str, Any], ...] = ()
    call_network: CallNetwork = CallNetwork()
    retention: Retention = Retention()

    @classmethod
    def from_config(cls, config: KioskConfig) -> FacilitySettings:
        return cls(config.facility_name, config.kiosk_name, config.timezone, config.languages)

    def with_cloud_config(self, snapshot: Mapping[str, Any], role: str) -> FacilitySettings:
        """The cloud's ``config`` snapshot (already validated) applied over these settings."""
        if snapshot.get("role", role) != role:
            # Changing role means other screens and rules: that takes a re-provisioning.
            log.warning(
                "the cloud's config names role %r; this kiosk stays %r", snapshot["role"], role
            )
        timezone = snapshot.get("timezone", self.timezone)
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone = self.timezone
        languages = tuple(
            code for code in snapshot.get("languages", self.languages) if code in LANGUAGES
        )
        return replace(
            self,
            facility_name=snapshot.get("facility_name", self.facility_name),
            kiosk_name=snapshot.get("kiosk_name", self.kiosk_name),
            timezone=timezone,
            languages=languages or self.languages,
            session_idle_s=snapshot.get("session_idle_s", self.session_idle_s),
            session_max_s=snapshot.get("session_max_s", self.session_max_s),
            message_max_chars=snapshot.get("message_max_chars", self.message_max_chars),
            badge_key=snapshot.get("badge_key_b64") or self.badge_key,
            technicians=tuple(snapshot.get("technicians", self.technicians)),
            call_network=CallNetwork.from_snapshot(snapshot),
            retention=Retention.from_snapshot(snapshot),
        )


@dataclass(frozen=True)
class FacilityNotice:
    """The facility-wide banner; ``lockdown`` also blocks new sessions and visits."""

    notice_id: str
    text: str
    severity: str  # info | warning | lockdown

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> FacilityNotice | None:
        text = snapshot.get("text", "")
        if not text:
            return None  # an empty text clears the banner (the contract)
        return cls(snapshot.get("notice_id", ""), text, snapshot.get("severity", "info"))

    @property
    def blocks_sessions(self) -> bool:
        return self.severity == "lockdown"
