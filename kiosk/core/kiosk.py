"""The headless kiosk: holds the state the screens show and takes the intents they send."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from hardware.factory import Devices, build_devices
from hardware.interfaces import BadgeEvent, HookEvent
from kiosk.config import LANGUAGES, KioskConfig
from kiosk.core.clock import Clock, SystemClock, seconds_to_next_second
from kiosk.core.commands import run_command
from kiosk.core.facility import FacilityNotice, FacilitySettings
from kiosk.core.i18n import LANGUAGE_NAMES, Language, _
from kiosk.core.notice import NoticeText, next_visit_notice
from kiosk.core.visits import Visit, next_visit
from kiosk.store import ScheduleRepository, open_database
from kiosk.store.messages import MessagesRepository
from kiosk.store.residents import ResidentsRepository
from kiosk.store.snapshots import SnapshotRepository

log = logging.getLogger(__name__)

Listener = Callable[["IdleView"], None]


SEVERITY_LABELS = {"info": _("Notice"), "warning": _("Warning"), "lockdown": _("Lockdown")}


class Uplink(Protocol):
    """What the core sends to the facility cloud (kiosk.sync.SyncService implements it)."""

    def event(self, kind: str, detail: dict[str, Any]) -> None: ...
    def telemetry_changed(self) -> None: ...


@dataclass(frozen=True)
class IdleView:
    """Everything the idle screen shows, already in the reader's language."""

    role: str
    facility_name: str
    kiosk_name: str
    clock: str
    date: str
    notice: NoticeText
    prompt: str
    language: str
    languages: tuple[tuple[str, str], ...] = field(default=())
    banner: str = ""  # the facility's notice, if any
    banner_severity: str = ""  # info | warning | lockdown
    banner_label: str = ""  # the severity in words: never colour alone
    messages_waiting: str = ""  # how many, never whose (housing only)
    connection: str = ""  # whether the facility's network is reachable, in words


class Kiosk:
    """One kiosk. Many can live in one process: all state is on the instance."""

    def __init__(
        self, config: KioskConfig, *, clock: Clock, database: Any, devices: Devices
    ) -> None:
        self.config = config
        self.clock = clock
        self.devices = devices
        self.database = database
        self.uplink: Uplink | None = None
        self.cloud_connected = False
        self.session_active = False  # sessions arrive with the housing-kiosk work
        self.locked_reason: str | None = None  # a staff `lock` command
        # Set by whoever runs the kiosk: how a `reboot` command restarts it (systemd restarts
        # a kiosk that exits; the machine itself is the appliance work's).
        self.restart: Callable[[], None] | None = None
        self._schedule = ScheduleRepository(database)
        self._residents = ResidentsRepository(database)
        self._snapshots = SnapshotRepository(database)
        self._messages = MessagesRepository(database)
        self._unread = self._messages.unread_total()
        self._languages = {code: Language(code) for code in LANGUAGES}
        self._language = config.language
        self._visits = [Visit.from_row(row) for row in self._schedule.visits()]
        self._listeners: list[Listener] = []
        self._unsubscribes: list[Callable[[], None]] = []
        self.tamper_attempts: Counter[str] = Counter()
        # What the cloud said last time is in force until it says something new.
        self.settings = FacilitySettings.from_config(config)
        self.notice: FacilityNotice | None = None
        if (snapshot := self._snapshots.get("config")) is not None:
            self.settings = self.settings.with_cloud_config(
                json.loads(snapshot.payload), config.role
            )
        if (snapshot := self._snapshots.get("notice")) is not None:
            self.notice = FacilityNotice.from_snapshot(json.loads(snapshot.payload))
        self._view = self._compose()

    @classmethod
    def open(cls, config: KioskConfig, clock: Clock | None = None) -> Kiosk:
        """A kiosk on its own database and the devices its configuration names."""
        devices = build_devices(
            {
                "camera": config.camera,
                "handset": config.handset,
                "badge_reader": config.badge_reader,
            }
        )
        return cls(
            config,
            clock=clock or SystemClock(),
            database=open_database(config.database_path),
            devices=devices,
        )

    # --- what the screens read -------------------------------------------------------------

    @property
    def view(self) -> IdleView:
        return self._view

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with the new view whenever it changes; returns an unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    # --- intents ---------------------------------------------------------------------------

    def set_language(self, code: str) -> None:
        if code not in self.settings.languages:
            raise ValueError(f"language {code!r} is not offered at this kiosk")
        self._language = code
        self._refresh()

    def record_tamper(self, attempt: str) -> None:
        """An attempt to leave the kiosk (Escape, F1, closing the window): counted, never obeyed."""
        self.tamper_attempts[attempt] += 1
        log.warning("escape attempt blocked: %s", attempt)
        if self.uplink is not None:
            self.uplink.event(
                "tamper", {"attempt": attempt, "count": self.tamper_attempts[attempt]}
            )

    def apply_schedule(self, version: int, visits: list[dict[str, Any]], payload: str = "") -> bool:
        """Replace the schedule as a whole; a lower version than the one held changes nothing."""
        if not self._schedule.replace(version, visits, payload):
            return False
        self._visits = [Visit.from_row(row) for row in self._schedule.visits()]
        self._refresh()
        return True

    @property
    def schedule_version(self) -> int | None:
        return self._schedule.version()

    @property
    def residents_version(self) -> int | None:
        return self._residents.version()

    @property
    def sessions_blocked(self) -> bool:
        """A lockdown notice or a staff lock: no new session or visit may begin."""
        return self.locked_reason is not None or (
            self.notice is not None and self.notice.blocks_sessions
        )

    # --- the facility cloud (kiosk.sync calls these on the event loop) ---------------------

    def cloud_link_changed(self, connected: bool, detail: str) -> None:
        self.cloud_connected = connected
        self._refresh()

    def cloud_update(self, kind: str, data: Any) -> None:
        """A snapshot or message from the cloud has been committed; show what it changes."""
        if kind == "config":
            self.settings = self.settings.with_cloud_config(data, self.config.role)
            if self._language not in self.settings.languages:
                self._language = self.settings.languages[0]
        elif kind == "notice":
            self.notice = FacilityNotice.from_snapshot(data)
        elif kind == "schedule":
            self._visits = [Visit.from_row(row) for row in self._schedule.visits()]
        elif kind == "message":
            self._unread = self._messages.unread_total()
        elif kind in ("residents", "message_status", "signal"):
            # Sign-in, messaging and visits build on these (their own issues); already stored.
            log.debug("cloud update: %s", kind)
        self._refresh()

    def run_command(self, name: str, args: dict[str, Any]) -> tuple[bool, str | None]:
        """A staff or technician command; returns (ok, error) for its command_result."""
        return run_command(self, name, args)

    def hardware_report(self) -> dict[str, dict[str, str]]:
        report = {}
        for name in ("camera", "handset", "badge_reader"):
            device = getattr(self.devices, name)
            if name == "camera" and device.latest_frame() is None:
                # Off while nothing needs it: not a fault.
                report[name] = {"state": "ok", "detail": "standby"}
            else:
                report[name] = {"state": str(device.state), "detail": ""}
        return report

    def tick(self) -> None:
        """Time passed: the clock and the notice may read differently now."""
        self._refresh()

    def refresh(self) -> None:
        """Something the view shows changed: tell the screens, if they would see a difference."""
        self._refresh()

    # --- life cycle -----------------------------------------------------------------------

    async def run(self) -> None:
        """Run until cancelled: devices on, one tick as each wall-clock second turns."""
        loop = asyncio.get_running_loop()
        self._start_devices(loop)
        try:
            while True:
                self.tick()
                await self.clock.sleep(seconds_to_next_second(self.clock.now()))
        finally:
            self._stop_devices()

    def close(self) -> None:
        self._stop_devices()
        self.database.conn.close()

    def _start_devices(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._unsubscribes:
            return
        # Adapters call from their own threads; the core's state is touched only on the loop.
        self._unsubscribes = [
            self.devices.badge_reader.subscribe(
                lambda e: loop.call_soon_threadsafe(self._on_badge, e)
            ),
            self.devices.handset.subscribe(lambda e: loop.call_soon_threadsafe(self._on_hook, e)),
        ]
        # The camera stays off until a visit or a capture needs it: an idle kiosk films nobody.
        for device in (self.devices.handset, self.devices.badge_reader):
            device.start()

    def _stop_devices(self) -> None:
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        self._unsubscribes = []
        for device in (self.devices.camera, self.devices.handset, self.devices.badge_reader):
            device.stop()

    def _on_badge(self, event: BadgeEvent) -> None:
        # Sign-in by badge arrives with the housing-kiosk work; the badge is never logged.
        log.info("badge read")

    def _on_hook(self, event: HookEvent) -> None:
        log.info("handset %s", event.state)

    # --- composing the view ----------------------------------------------------------------

    def _refresh(self) -> None:
        view = self._compose()
        if view == self._view:
            return  # nothing a reader could see changed: no redraw
        self._view = view
        for listener in list(self._listeners):
            try:
                listener(view)
            except Exception:
                log.exception("a view listener failed")

    def _compose(self) -> IdleView:
        now = self.clock.now()
        settings = self.settings
        zone = ZoneInfo(settings.timezone)
        language = self._languages[self._language]
        local = now.astimezone(zone)
        role = self.config.role
        notice = next_visit_notice(next_visit(self._visits, now, role), now, zone, role, language)
        if self.sessions_blocked:
            prompt = _("Check-in is paused") if role == "lobby" else _("Sign-in is paused")
        elif role == "lobby":
            prompt = _("Check in for your visit")
        else:
            prompt = _("Tap your badge or touch to sign in")
        banner, severity = "", ""
        if self.notice is not None:
            banner, severity = self.notice.text, self.notice.severity
        elif self.locked_reason is not None:
            banner, severity = language.text(_("This kiosk is closed by staff")), "warning"
        return IdleView(
            role=role,
            facility_name=settings.facility_name,
            kiosk_name=settings.kiosk_name,
            clock=language.time(local),
            date=language.date(local),
            notice=notice,
            prompt=language.text(prompt),
            language=self._language,
            languages=tuple((code, LANGUAGE_NAMES[code]) for code in settings.languages),
            banner=banner,
            banner_severity=severity,
            banner_label=language.text(SEVERITY_LABELS[severity]) if severity else "",
            messages_waiting=self._messages_waiting(language),
            connection=self._connection_text(language),
        )

    def _messages_waiting(self, language: Language) -> str:
        if self.config.role != "housing" or not self._unread:
            return ""
        # One phrasing for any count: a plural catalog is not worth one line.
        text = language.text(_("New messages waiting: {count}. Sign in to read them."))
        return text.format(count=self._unread)

    def _connection_text(self, language: Language) -> str:
        if not self.config.brokers:
            return ""  # an offline kiosk by configuration (the offline demo) says nothing
        if self.cloud_connected:
            return language.text(_("Connected to the facility"))
        return language.text(_("Offline — messages are kept and sent when the network returns"))
