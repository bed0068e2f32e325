"""The headless kiosk: holds the state the screens show and takes the intents they send."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from hardware.factory import Devices, build_devices
from hardware.interfaces import BadgeEvent, HookEvent
from kiosk.config import KioskConfig
from kiosk.core.clock import Clock, SystemClock, seconds_to_next_second
from kiosk.core.i18n import LANGUAGE_NAMES, Language, _
from kiosk.core.notice import NoticeText, next_visit_notice
from kiosk.core.visits import Visit, next_visit
from kiosk.store import ScheduleRepository, open_database

log = logging.getLogger(__name__)

Listener = Callable[["IdleView"], None]


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


class Kiosk:
    """One kiosk. Many can live in one process: all state is on the instance."""

    def __init__(
        self, config: KioskConfig, *, clock: Clock, database: Any, devices: Devices
    ) -> None:
        self.config = config
        self.clock = clock
        self.devices = devices
        self.database = database
        self._schedule = ScheduleRepository(database)
        self._zone = ZoneInfo(config.timezone)
        self._languages = {code: Language(code) for code in config.languages}
        self._language = config.language
        self._visits = [Visit.from_row(row) for row in self._schedule.visits()]
        self._listeners: list[Listener] = []
        self._unsubscribes: list[Callable[[], None]] = []
        self.tamper_attempts: Counter[str] = Counter()
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
        if code not in self._languages:
            raise ValueError(f"language {code!r} is not offered at this kiosk")
        self._language = code
        self._refresh()

    def record_tamper(self, attempt: str) -> None:
        """An attempt to leave the kiosk (Escape, F1, closing the window): counted, never obeyed."""
        self.tamper_attempts[attempt] += 1
        log.warning("escape attempt blocked: %s", attempt)

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

    def tick(self) -> None:
        """Time passed: the clock and the notice may read differently now."""
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
        language = self._languages[self._language]
        local = now.astimezone(self._zone)
        role = self.config.role
        notice = next_visit_notice(
            next_visit(self._visits, now, role), now, self._zone, role, language
        )
        prompt = (
            _("Check in for your visit")
            if role == "lobby"
            else _("Tap your badge or touch to sign in")
        )
        return IdleView(
            role=role,
            facility_name=self.config.facility_name,
            kiosk_name=self.config.kiosk_name,
            clock=language.time(local),
            date=language.date(local),
            notice=notice,
            prompt=language.text(prompt),
            language=self._language,
            languages=tuple((code, LANGUAGE_NAMES[code]) for code in self._languages),
        )
