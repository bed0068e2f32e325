"""What every part of one kiosk shares: its configuration, clock, store, devices and outbox; the
facility's settings and notice; the reader's language; the visits held here.

One context per kiosk: two kiosks in one process share nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from hardware.interfaces import Devices, DeviceState
from kiosk.config import LANGUAGES, KioskConfig
from kiosk.core.clock import Clock
from kiosk.core.facility import FacilityNotice, FacilitySettings
from kiosk.core.i18n import Language
from kiosk.core.kiosk_log import KioskLog
from kiosk.core.lockout import Lockouts, Pace
from kiosk.core.ports import Actions, Outbox
from kiosk.core.verifiers import Verifiers
from kiosk.core.visits import Visit
from kiosk.core.words import Words
from kiosk.store import ScheduleRepository
from kiosk.store.outbox import OutboxRepository
from kiosk.store.sealed_secrets import SealedSecrets
from kiosk.store.sign_in_failures import SignInFailuresRepository
from kiosk.store.snapshots import SnapshotRepository


class LanguageChoice:
    """The language the screens speak now: the kiosk's own, or the reader's while they are here.

    Every change goes through here, so a resident's or visitor's language never outlives them.
    """

    def __init__(self, default: str, offered: Callable[[], tuple[str, ...]]) -> None:
        self.default = default
        self._offered = offered
        self.code = default
        self._languages = {code: Language(code) for code in LANGUAGES}
        self._words = {code: Words.of(language) for code, language in self._languages.items()}

    @property
    def language(self) -> Language:
        return self._languages[self.code]

    @property
    def words(self) -> Words:
        return self._words[self.code]

    def choose(self, code: str) -> None:
        """The reader touched a language; raises ValueError for one this kiosk does not offer."""
        if code not in self._offered():
            raise ValueError(f"language {code!r} is not offered at this kiosk")
        self.code = code

    def prefer(self, code: str | None) -> None:
        """A known reader's own language, when this kiosk offers it."""
        if code in self._offered():
            self.code = code

    def reset(self) -> None:
        """The reader left: back to the kiosk's own language."""
        self.code = self.default

    def offered_changed(self) -> None:
        if self.code not in self._offered():
            self.code = self._offered()[0]


class KioskContext:
    """The state and collaborators the parts of one kiosk share."""

    def __init__(
        self,
        config: KioskConfig,
        *,
        clock: Clock,
        database: Any,
        devices: Devices,
        outbox: Outbox,
        actions: Actions,
    ) -> None:
        self.config = config
        self.clock = clock
        self.database = database
        self.devices = devices
        self.outbox = outbox
        self.actions = actions
        self.log = KioskLog(config.kiosk_id)
        self.schedule = ScheduleRepository(database)
        # Read here (depth, what is still queued); written only through ``outbox``.
        self.outbox_records = OutboxRepository(
            database, budget_bytes=config.outbox_budget_mb * 1024 * 1024
        )
        self.lockouts = Lockouts(SignInFailuresRepository(database), clock)
        self.pace = Pace(clock)  # one pace for residents' and technicians' PINs alike
        self.locked_reason: str | None = None  # a staff `lock` command
        self.devices_started = False
        # What the cloud said last time is in force until it says something new.
        snapshots = SnapshotRepository(database)
        self.settings = FacilitySettings.from_config(config)
        self.notice: FacilityNotice | None = None
        if (values := snapshots.values("config")) is not None:
            self.settings = self.settings.with_cloud_config(values, config.role)
        if (values := snapshots.values("notice")) is not None:
            self.notice = FacilityNotice.from_snapshot(values)
        self.language = LanguageChoice(config.language, lambda: self.settings.languages)
        self.visits: list[Visit] = []  # held at this kiosk, and not over here
        # Ended here (a hang-up, a bye, staff): over for this kiosk, even while the schedule,
        # until the cloud's next one, still has them: no "in progress", no paused sign-in.
        self.visits_over: set[str] = set()
        self.station_visits: list[Visit] = []  # a lobby's: every station's, to point visitors
        self.load_visits()
        self.verifiers = Verifiers(SealedSecrets(database))
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed: Callable[[], None] = lambda: None

    def on_change(self, changed: Callable[[], None]) -> None:
        """The kiosk's own: whatever any part changed is shown."""
        self._changed = changed

    def changed(self) -> None:
        self._changed()

    def load_visits(self) -> None:
        every = [Visit.from_row(row) for row in self.schedule.visits()]
        self.visits = [
            visit
            for visit in every
            if visit.held_at(self.config.kiosk_id) and visit.visit_id not in self.visits_over
        ]
        self.station_visits = every

    def visit_over(self, visit_id: str) -> None:
        """The visit ended here: it holds this kiosk no longer."""
        self.visits_over.add(visit_id)
        self.visits = [visit for visit in self.visits if visit.visit_id != visit_id]

    @property
    def sessions_blocked(self) -> bool:
        """A lockdown notice or a staff lock: no new session or visit may begin."""
        return self.locked_reason is not None or (
            self.notice is not None and self.notice.blocks_sessions
        )

    def badge_reader_gone(self) -> bool:
        """Started, and not working: pulled or broken (a kiosk not yet running says nothing)."""
        return self.devices_started and self.devices.badge_reader.state != DeviceState.OK

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run on the loop; kept until done, so it is not collected half-way."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def event(self, kind: str, detail: dict[str, Any]) -> None:
        self.outbox.event(kind, detail)
