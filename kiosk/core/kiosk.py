"""The headless kiosk: holds the state the screens show and takes the intents they send."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from hardware.factory import Devices, build_devices
from hardware.interfaces import BadgeEvent, DeviceEvent, DeviceState, HookEvent, HookState
from hardware.shared_device import SharedDevice
from kiosk import __version__
from kiosk.config import LANGUAGES, KioskConfig
from kiosk.core.clock import Clock, SystemClock, seconds_to_next_second
from kiosk.core.commands import run_command, run_selftest_now
from kiosk.core.facility import FacilityNotice, FacilitySettings
from kiosk.core.i18n import LANGUAGE_NAMES, Language, _
from kiosk.core.lobby import Lobby, LobbyView
from kiosk.core.lockout import Lockouts, Pace
from kiosk.core.login_snapshot import take_snapshot
from kiosk.core.mailbox import Mailbox
from kiosk.core.notice import NoticeText, next_visit_notice
from kiosk.core.recent_problems import RecentProblems
from kiosk.core.session import Session, SessionView, sessions_paused_by_visit
from kiosk.core.sign_in import SignedIn, SignIn, SignInView, make_decoy
from kiosk.core.status_file import STATUS_FILE, WRITE_EVERY_S, write_status
from kiosk.core.tamper import TamperLog
from kiosk.core.technician import (
    IDLE_CLOSE_S,
    OPEN,
    TechnicianView,
    TechnicianVisit,
    maintenance_rows,
    technician_for_badge,
)
from kiosk.core.visit import CallFactory, VisitInProgress, VisitView, open_visits, visit_now
from kiosk.core.visits import Visit, next_visit
from kiosk.core.words import Words
from kiosk.store import ScheduleRepository, open_database
from kiosk.store.messages import MessagesRepository
from kiosk.store.outbox import OutboxFull, OutboxRepository
from kiosk.store.residents import ResidentsRepository
from kiosk.store.sign_in_failures import SignInFailuresRepository
from kiosk.store.snapshots import SnapshotRepository
from kiosk.sync import uplink as uplink_payloads
from kiosk.sync.topics import Topics

log = logging.getLogger(__name__)

Listener = Callable[["KioskView"], None]


VISIT_ENDED_SHOWN_S = 10  # the end screen's words stay this long, then the idle screen
SESSION_INTENTS = frozenset(
    {
        "show_inbox",
        "open_message",
        "reply",
        "new_message",
        "write_to",
        "back",
        "set_draft",
        "send",
        "load_more",
        "touched",
    }
)
SEVERITY_LABELS = {"info": _("Notice"), "warning": _("Warning"), "lockdown": _("Lockdown")}


class Uplink(Protocol):
    """What the core sends to the facility cloud (kiosk.sync.SyncService implements it)."""

    def event(self, kind: str, detail: dict[str, Any]) -> None: ...
    def telemetry_changed(self) -> None: ...
    def outbox_changed(self) -> None:
        """The core queued something in the outbox itself (a message, a capture)."""
        ...

    def publish(self, kind: str, payload: dict[str, Any]) -> None:
        """Fire and forget, for what is worthless when late (signalling)."""
        ...


@dataclass(frozen=True)
class KioskView:
    """Everything the screens show, already in the reader's language.

    ``screen`` says which: idle, sign_in or session. The header and the idle screen's fields
    are always there; ``sign_in`` and ``session`` only while someone is at the kiosk.
    """

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
    screen: str = "idle"  # idle | sign_in | session | visit | check_in | capture | technician
    paused: str = ""  # why no session can begin now, in words ("" when one can)
    sign_in: SignInView | None = None
    session: SessionView | None = None
    words: Words | None = None  # buttons' and titles' words
    visit: VisitView | None = None  # the visit whose join window is open at this kiosk
    lobby: LobbyView | None = None  # lobby stations: the visitor checking in, if any
    technician: TechnicianView | None = None  # a technician's PIN or maintenance screen


class Kiosk:
    """One kiosk. Many can live in one process: all state is on the instance."""

    def __init__(
        self, config: KioskConfig, *, clock: Clock, database: Any, devices: Devices
    ) -> None:
        self.config = config
        self.clock = clock
        # Calls, photos, the login snapshot and the self-test each turn these on and off.
        if not isinstance(devices.camera, SharedDevice):
            devices.camera = SharedDevice(devices.camera)
        if devices.microphone is not None and not isinstance(devices.microphone, SharedDevice):
            devices.microphone = SharedDevice(devices.microphone)
            devices.earpiece = SharedDevice(devices.earpiece)
        self.devices = devices
        self.database = database
        self.uplink: Uplink | None = None
        self.cloud_connected = False
        self.sign_in: SignIn | None = None
        self.session: Session | None = None
        self.visit: VisitInProgress | None = None
        # Set by whoever runs the kiosk with media (kiosk.calls); without it both sides being
        # present starts the visit, with no call (the rules' tests, a kiosk without aiortc).
        self.call_factory: CallFactory | None = None
        self._confirming_visit = False  # the sign-in under way confirms the visit's resident
        self._visit_confirmed = False
        self._visit_ended_shown_until = 0.0
        self._visits_over: set[str] = set()  # ended here: a hang-up is not a new invitation
        self.locked_reason: str | None = None  # a staff `lock` command
        # Set by whoever runs the kiosk: how a `reboot` command restarts it (systemd restarts
        # a kiosk that exits; the machine itself is the appliance work's).
        self.restart: Callable[[], None] | None = None
        self._schedule = ScheduleRepository(database)
        self._residents = ResidentsRepository(database)
        self._snapshots = SnapshotRepository(database)
        self._messages = MessagesRepository(database)
        self._outbox = OutboxRepository(database, budget_bytes=config.outbox_budget_mb * 1024**2)
        self._topics = Topics(config.facility_id, config.kiosk_id)
        self._lockouts = Lockouts(SignInFailuresRepository(database), clock)
        self._pace = Pace(clock)
        self._decoy: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._face_detector: Any = None  # built on the first face check (_faces)
        self._unread = self._messages.unread_total()
        self._languages = {code: Language(code) for code in LANGUAGES}
        self._words = {code: Words.of(language) for code, language in self._languages.items()}
        self._language = config.language
        self._load_visits()
        self._listeners: list[Listener] = []
        self.lobby: Lobby | None = None
        if config.role == "lobby":
            self.lobby = Lobby(
                kiosk_id=config.kiosk_id,
                clock=self.clock,
                camera=self.devices.camera,
                outbox=self._outbox,
                captures_topic=self._topics.up("captures"),
                visits=lambda: self._lobby_visits,
                decoy=self._decoy_verifier,
                check_still=self._check_still,
                join=self._visitor_checked_in,
                event=self._event,
                outbox_changed=self._outbox_changed,
                changed=self._refresh,
            )
        self._unsubscribes: list[Callable[[], None]] = []
        self._tamper = TamperLog(self.clock.monotonic, self._event)
        self.technician: TechnicianVisit | None = None
        # Set by whoever runs the kiosk as an appliance: the maintenance screen's Reboot.
        self.reboot: Callable[[], None] | None = None
        self.problems = RecentProblems()
        self._started_monotonic = time.monotonic()
        self._status_written_at: float | None = None
        self._hardware: dict[str, dict[str, str]] | None = None  # as last reported
        # udev says the camera is gone: while off, "standby" would hide that.
        self._camera_unplugged = False
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
        devices = build_devices(config.device_kinds, config.device_settings)
        return cls(
            config,
            clock=clock or SystemClock(),
            database=open_database(config.database_path),
            devices=devices,
        )

    # --- what the screens read -------------------------------------------------------------

    @property
    def view(self) -> KioskView:
        return self._view

    @property
    def session_active(self) -> bool:
        return self.session is not None

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

    def begin_sign_in(self) -> bool:
        """Someone touched "sign in" on the idle screen; False when sign-in is paused.

        While a visit waits for its resident, this confirms the resident for the visit instead.
        """
        if self.config.role != "housing" or self.session is not None:
            return False
        if self._visit_waiting_for_resident():
            if not self._confirming_visit:
                self._begin_visit_confirmation()
            self._refresh()
            return True
        if self._paused_reason() is not None:
            self._refresh()
            return False
        if self.sign_in is None:
            self.sign_in = self._new_sign_in()
        self._refresh()
        return True

    def sign_in_intent(self, name: str, *args: Any) -> None:
        """A key on the sign-in keypad: ``key``, ``backspace``, ``enter`` or ``cancel``."""
        if self.sign_in is None or name not in ("key", "backspace", "enter", "cancel"):
            return
        getattr(self.sign_in, name)(*args)

    def leave_sign_in(self) -> None:
        """Back to the idle screen; whatever was typed is forgotten."""
        if self.sign_in is not None:
            self.sign_in.close()
            self.sign_in = None
        self._confirming_visit = False
        self._refresh()

    def session_intent(self, name: str, *args: Any) -> Any:
        """What the resident did in their session; a touch for nobody (signed out) does nothing."""
        session = self.session
        if session is None or name not in SESSION_INTENTS:
            return None
        session.touched()
        if name == "send":
            result = session.send(self.settings.message_max_chars)
        elif name in ("set_draft", "load_more"):
            result = getattr(session.mailbox, name)(*args)
        else:
            result = getattr(session, name)(*args)
        self._refresh()
        return result

    def sign_out(self, reason: str = "user") -> None:
        """End the session; nothing of the resident stays in the view."""
        session = self.session
        if session is None:
            return
        self.session = None
        session.mailbox.discard_draft()
        # What they read is read: the idle screen's count must not still offer it.
        self._unread = self._messages.unread_total()
        self._language = self.config.language
        self._event(
            "logout",
            {
                "reason": reason,
                "inmate_id": session.inmate_id,
                "duration_s": int(self.clock.monotonic() - session.started),
            },
        )
        if self.uplink is not None:
            self.uplink.telemetry_changed()  # session_active changed
        self._refresh()

    def record_tamper(self, attempt: str) -> None:
        """An attempt to leave the kiosk (a key, a close request, a gesture): counted, never
        obeyed; one ``tamper`` event per sequence of them."""
        if self._tamper.attempt(attempt):
            log.warning("escape attempt blocked: %s", attempt)

    @property
    def tamper_attempts(self) -> Counter[str]:
        """Every attempt since start, per kind."""
        return self._tamper.presses

    def apply_schedule(self, version: int, visits: list[dict[str, Any]], payload: str = "") -> bool:
        """Replace the schedule as a whole; a lower version than the one held changes nothing."""
        if not self._schedule.replace(version, visits, payload):
            return False
        self._load_visits()
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

    def _paused_reason(self) -> str | None:
        """Why no session may begin now (untranslated words and values), or None."""
        if self.notice is not None and self.notice.blocks_sessions:
            return _("Sign-in is paused during the lockdown.")
        if self.locked_reason is not None:
            return _("This kiosk is closed by staff.")
        if sessions_paused_by_visit(self._visits, self.clock.now()) is not None:
            return _("A visit at this kiosk begins at {time}. Sign-in opens again at {end}.")
        return None

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
            self._load_visits()
        elif kind in ("message", "message_status", "messages_sent", "residents"):
            self._unread = self._messages.unread_total()
            if self.session is not None:
                self.session.mailbox.reload()
        elif kind == "signal":
            signal = data.model_dump() if hasattr(data, "model_dump") else dict(data)
            visit = self.visit
            if visit is not None and signal.get("visit_id") == visit.visit.visit_id:
                visit.peer_signal(signal)
        self._refresh()

    def run_command(
        self, name: str, args: dict[str, Any]
    ) -> tuple[bool, str | None] | Awaitable[tuple[bool, str | None]]:
        """A staff or technician command: (ok, error) for its command_result, or an awaitable
        of them for one that takes a while."""
        return run_command(self, name, args)

    def hardware_report(self) -> dict[str, dict[str, str]]:
        """Each device's state and, from the real adapters, what it is doing or lacks."""
        report = {}
        for name in ("camera", "handset", "badge_reader"):
            device = getattr(self.devices, name)
            if name == "camera" and device.latest_frame() is None and not self._camera_unplugged:
                # Off while nothing needs it: not a fault.
                report[name] = {"state": "ok", "detail": "standby"}
            else:
                detail = getattr(device, "detail", "")
                report[name] = {"state": str(device.state), "detail": str(detail)}
        return report

    def _check_hardware(self) -> None:
        """A device that came, went or failed: a `hardware_changed` event and fresh telemetry."""
        report = self.hardware_report()
        previous, self._hardware = self._hardware, report
        if previous is None:
            return
        changed = [name for name in report if report[name]["state"] != previous[name]["state"]]
        for name in changed:
            detail = report[name]["detail"]
            log.warning(
                "%s is now %s%s", name, report[name]["state"], f": {detail}" if detail else ""
            )
            self._event(
                "hardware_changed",
                {"device": name, "previous": previous[name]["state"], **report[name]},
            )
        if changed and self.uplink is not None:
            self.uplink.telemetry_changed()

    def _on_device(self, event: DeviceEvent) -> None:
        """udev saw a device come or go (on the loop's thread)."""
        if event.device == "camera":
            self._camera_unplugged = event.state != DeviceState.OK
        self._check_hardware()
        self._refresh()

    def tick(self) -> None:
        """Time passed: the clock, the notice and the session's countdowns read differently."""
        if self.sign_in is not None and (
            self.sign_in.abandoned()
            or (self._paused_reason() is not None and not self._confirming_visit)
        ):
            self.leave_sign_in()
        if self.session is not None:
            reason = self.session.due_reason(self._visits)
            if reason is not None:
                self.sign_out(reason)
        if self.lobby is not None:
            busy = self.lobby.busy
            if busy and self.sessions_blocked:
                self.lobby.leave()  # a lockdown: nobody checks in, whatever they had typed
            self.lobby.tick()
            if busy:
                self._after_visitor()
        if self.technician is not None and self.technician.expired():
            self.leave_technician("idle")
        self._write_status()
        self._follow_visits()
        self._check_hardware()
        self._refresh()

    def refresh(self) -> None:
        """Something the view shows changed: tell the screens, if they would see a difference."""
        self._refresh()

    # --- life cycle -----------------------------------------------------------------------

    async def run(self) -> None:
        """Run until cancelled: devices on, one tick as each wall-clock second turns."""
        loop = asyncio.get_running_loop()
        self._start_devices(loop)
        self.problems.attach()
        try:
            while True:
                self.tick()
                await self.clock.sleep(seconds_to_next_second(self.clock.now()))
        finally:
            self.problems.detach()
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
            self.devices.hotplug.subscribe(lambda e: loop.call_soon_threadsafe(self._on_device, e)),
        ]
        # The camera stays off until a visit or a capture needs it: an idle kiosk films nobody.
        for device in (self.devices.handset, self.devices.badge_reader, self.devices.hotplug):
            device.start()

    def _stop_devices(self) -> None:
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        self._unsubscribes = []
        for shared in (self.devices.camera, self.devices.microphone, self.devices.earpiece):
            if shared is not None:
                shared.close()
        for device in (self.devices.handset, self.devices.badge_reader, self.devices.hotplug):
            device.stop()

    def _on_badge(self, event: BadgeEvent) -> None:
        # The badge itself is never logged: it is matched only through its HMAC lookup.
        if self._technician_badge(event.badge_id):
            return
        if self._visit_waiting_for_resident():
            if not self._confirming_visit:
                self._begin_visit_confirmation()
            if self.sign_in is not None:
                self.sign_in.badge(event.badge_id, self.settings.badge_key)
            self._refresh()
            return
        if self.session is not None:
            self.session.touched()  # a resident tapping again mid-session stays signed in
            return
        if self.sign_in is None and not self.begin_sign_in():
            return
        if self.sign_in is not None:
            self.sign_in.badge(event.badge_id, self.settings.badge_key)
            self._refresh()

    def status(self) -> dict[str, Any]:
        """What `kiosk-provision status` shows: the kiosk's health, nothing of a resident."""
        return {
            "kiosk_id": self.config.kiosk_id,
            "role": self.config.role,
            "version": __version__,
            "at": self.clock.now().isoformat(),
            "uptime_s": int(time.monotonic() - self._started_monotonic),
            "brokers": list(self.config.brokers),
            "connected": self.cloud_connected,
            "outbox_depth": self._outbox.depth(),
            "hardware": self.hardware_report(),
            "schedule_version": self._schedule.version(),
            "residents_version": self._residents.version(),
            "session_active": self.session is not None,
            "errors": list(self.problems.newest_first()[:5]),
        }

    def _write_status(self) -> None:
        now = time.monotonic()
        if self._status_written_at is not None and now - self._status_written_at < WRITE_EVERY_S:
            return
        self._status_written_at = now
        path = self.config.data_dir / STATUS_FILE
        try:
            write_status(path, self.status())
        except OSError as error:  # a full disk must not stop the kiosk
            log.warning("cannot write %s: %s", path, error)

    # --- technician mode ---------------------------------------------------------------------

    def _technician_badge(self, badge_id: str) -> bool:
        """A technician's badge at a kiosk nobody is using asks for their PIN; True if it was."""
        technician = technician_for_badge(
            self.settings.technicians, badge_id, self.settings.badge_key
        )
        if technician is None:
            return False
        if self.technician is not None:
            self.technician.touched()
            return True
        in_use = self.session is not None or (
            self.visit is not None and self.visit.joined_at is not None
        )
        if in_use or (self.lobby is not None and self.lobby.busy):
            log.info("a technician badge was refused: the kiosk is in use")
            return True
        if self.sign_in is not None:
            self.leave_sign_in()
        self.technician = TechnicianVisit(
            technician,
            lockouts=self._lockouts,
            pace=self._pace,
            clock=self.clock,
            event=self._event,
            changed=self._refresh,
        )
        self._refresh()
        return True

    def technician_intent(self, name: str, *args: Any) -> None:
        """The technician's screen: PIN keys, then ``selftest``, ``restart``, ``reboot``,
        ``close``; any touch keeps it open."""
        technician = self.technician
        if technician is None:
            return
        if name in ("key", "backspace", "enter"):
            getattr(technician, name)(*args)
            return
        technician.touched()
        if name == "close":
            self.leave_technician("closed")
        elif technician.step != OPEN:
            return
        elif name == "selftest" and technician.selftest != "running":
            technician.selftest = "running"
            asyncio.get_running_loop().create_task(self._technician_selftest(technician))
        elif name == "restart" and self.restart is not None:
            self.leave_technician("restart")
            self.restart()
        elif name == "reboot" and self.reboot is not None:
            self.leave_technician("reboot")
            self.reboot()
        self._refresh()

    async def _technician_selftest(self, technician: TechnicianVisit) -> None:
        ok, error = await run_selftest_now(self)
        technician.selftest = "all devices passed" if ok else (error or "failed")
        self._refresh()

    def leave_technician(self, reason: str) -> None:
        """Close the technician's screen; back to the idle screen."""
        technician, self.technician = self.technician, None
        if technician is None:
            return
        detail = technician.close()
        if detail:
            log.info("technician %s left (%s)", detail["technician_id"], reason)
            self._event("technician_left", {**detail, "reason": reason})
        self._refresh()

    def _technician_view(self) -> TechnicianView | None:
        technician = self.technician
        if technician is None:
            return None
        rows = ()
        if technician.step == OPEN:
            rows = maintenance_rows(self.status())
        return TechnicianView(
            step=technician.step,
            name=str(technician.technician.get("display_name", "")),
            pin_mask=technician.pin_mask,
            message=technician.message,
            rows=rows,
            errors=self.problems.newest_first() if technician.step == OPEN else (),
            selftest=technician.selftest,
            can_reboot=self.reboot is not None,
            can_restart=self.restart is not None,
            closes_in_s=max(0, int(IDLE_CLOSE_S - technician.idle_s())),
        )

    # --- sessions --------------------------------------------------------------------------

    def _new_sign_in(
        self, signed_in: Callable[[SignedIn], None] | None = None, title: str = _("Sign in")
    ) -> SignIn:
        if self._decoy is None:
            # Made ahead, off the loop: the first unknown ID must take no longer than a known one.
            with contextlib.suppress(RuntimeError):  # no loop (a test without one): made on use
                asyncio.get_running_loop().run_in_executor(None, self._decoy_verifier)
        return SignIn(
            residents=self._residents,
            lockouts=self._lockouts,
            pace=self._pace,
            clock=self.clock,
            decoy=self._decoy_verifier,
            event=self._event,
            signed_in=signed_in or self._start_session,
            title=title,
            changed=self._refresh,
        )

    def _decoy_verifier(self) -> str:
        if self._decoy is None:
            self._decoy = make_decoy()
        return self._decoy

    def _start_session(self, signed_in: SignedIn) -> None:
        self.sign_in = None
        if self._paused_reason() is not None:
            self._refresh()  # a lockdown came while the PIN was being checked
            return
        resident = signed_in.resident
        mailbox = Mailbox(
            resident["inmate_id"],
            database=self.database,
            outbox=self._outbox,
            outbox_topic=self._topics.up("outbox"),
            now=self.clock.now,
            outbox_changed=self._outbox_changed,
        )
        self.session = Session(
            resident,
            signed_in.method,
            mailbox=mailbox,
            clock=self.clock,
            idle_s=self.settings.session_idle_s,
            max_s=self.settings.session_max_s,
        )
        if resident.get("language") in self.settings.languages:
            self._language = resident["language"]
        # The snapshot makes the event late: the time of the sign-in itself travels with it.
        detail = {
            "method": signed_in.method,
            "inmate_id": resident["inmate_id"],
            "signed_in_at": uplink_payloads.utc_text(self.session.started_at),
        }
        if self.config.login_snapshot:
            self._spawn(self._login_snapshot(resident["inmate_id"], detail))
        else:
            self._event("login", detail)
        if self.uplink is not None:
            self.uplink.telemetry_changed()
        self._refresh()

    async def _login_snapshot(self, inmate_id: str, detail: dict[str, Any]) -> None:
        snapshot = await take_snapshot(self.devices.camera, self._check_face)
        detail = {**detail, "snapshot": snapshot.outcome}
        if snapshot.jpeg is not None:
            capture_id = str(uuid.uuid4())
            payload = uplink_payloads.capture(
                capture_id,
                "login_snapshot",
                {"inmate_id": inmate_id},
                self.clock.now(),
                snapshot.jpeg,
            )
            try:
                self._outbox.append(
                    self._topics.up("captures"), capture_id, uplink_payloads.encode(payload)
                )
                detail["capture_id"] = capture_id
                self._outbox_changed()
            except OutboxFull:
                detail["snapshot"] = "not_kept"
        self._event("login", detail)

    def _check_face(self, image: Any) -> tuple[int, bytes]:
        """Faces counted and a JPEG made; in a worker thread."""
        from kiosk.imaging.stills import encode_jpeg

        return self._faces().count(image), encode_jpeg(image)

    def _check_still(self, purpose: str, image: Any) -> tuple[str | None, bytes]:
        """A visitor's photo checked and made a JPEG; in a worker thread."""
        from kiosk.imaging.stills import check_document_photo, check_face_photo, encode_jpeg

        if purpose == "visitor_face":
            verdict = check_face_photo(image, self._faces())
        else:
            verdict = check_document_photo(image)
        return verdict.problem, encode_jpeg(image)

    def _faces(self) -> Any:
        """The kiosk's one face detector, built on first use (OpenCV's cascade loads once)."""
        from kiosk.imaging.faces import FaceDetector

        if self._face_detector is None:
            self._face_detector = FaceDetector()
        return self._face_detector

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _event(self, kind: str, detail: dict[str, Any]) -> None:
        if self.uplink is not None:
            self.uplink.event(kind, detail)

    def _outbox_changed(self) -> None:
        if self.uplink is not None:
            self.uplink.outbox_changed()

    def _on_hook(self, event: HookEvent) -> None:
        log.info("handset %s", event.state)
        visit = self.visit
        if visit is None or visit.ended_at is not None or self.config.role != "housing":
            return
        if event.state == HookState.OFF_HOOK:
            if visit.joined_at is None and self._visit_confirmed:
                visit.join()
            elif visit.joined_at is None and not self._confirming_visit:
                self._begin_visit_confirmation()  # lifted first: now who is it?
        elif visit.joined_at is not None:
            visit.end("hangup")  # the handset put back
        elif self._confirming_visit:
            self.leave_sign_in()
        self._refresh()

    # --- visits ----------------------------------------------------------------------------

    def begin_check_in(self) -> bool:
        """A visitor touched "Check in for your visit"; False when check-in is not open."""
        if self.lobby is None or self.sessions_blocked or self._visit_joined():
            return False
        self.lobby.begin()
        return True

    def lobby_intent(self, name: str, *args: Any) -> None:
        """What the visitor did on the check-in and photo screens."""
        lobby = self.lobby
        if lobby is None:
            return
        was_busy = lobby.busy
        if name in ("back", "submit", "touched", "leave"):
            getattr(lobby, name)()
        elif lobby.capture is not None:
            lobby.capture_intent(name, *args)
        else:
            lobby.check_in_intent(name, *args)
        if was_busy:
            self._after_visitor()

    def _after_visitor(self) -> None:
        """A visitor who left (not into their visit) takes their language choice with them."""
        if self.lobby is not None and not self.lobby.busy and not self._visit_joined():
            self._language = self.config.language
            self._refresh()

    def visitor_checked_in(self, visit_id: str) -> bool:
        """The lobby's visitor is here for this visit: they join it (False if it cannot be)."""
        visit = next((v for v in self._visits if v.visit_id == visit_id), None)
        return visit is not None and self._visitor_checked_in(visit)

    def _visitor_checked_in(self, visit: Visit) -> bool:
        # A lockdown may have come while the code was being checked: no visit begins in one.
        if self.config.role != "lobby" or self._visit_joined() or self.sessions_blocked:
            return False
        if self.visit is None or self.visit.visit.visit_id != visit.visit_id:
            if visit.visit_id in self._visits_over:
                return False
            if self.visit is not None:
                self._forget_visit()  # an earlier visit nobody came for gives way
            self.visit = self._visit_in_progress(visit)
        return self.visit.join()

    def _visit_joined(self) -> bool:
        return self.visit is not None and self.visit.joined_at is not None

    def hang_up(self) -> None:
        """The on-screen Hang up, once confirmed."""
        if self.visit is not None and self.visit.ended_at is None:
            self.visit.end("hangup")

    def end_visit(self, visit_id: str | None) -> bool:
        """Staff ended the visit (the `end_visit` command); False if it is not here."""
        visit = self.visit
        if visit is None or visit.ended_at is not None:
            return False
        if visit_id and visit.visit.visit_id != visit_id:
            return False
        visit.end("command")
        return True

    def _visit_waiting_for_resident(self) -> bool:
        return (
            self.config.role == "housing"
            and self.visit is not None
            and self.visit.ended_at is None
            and self.visit.joined_at is None
        )

    def _follow_visits(self) -> None:
        now = self.clock.now()
        current = visit_now(self._visits, now)
        visit = self.visit
        if visit is not None:
            visit.tick()
            if visit.ended_at is not None:
                if (
                    visit.joined_at is None
                    or self.clock.monotonic() >= self._visit_ended_shown_until
                ):
                    self._forget_visit()
                return
            if all(v.visit_id != visit.visit.visit_id for v in open_visits(self._visits, now)):
                # Cancelled or moved by the facility: over for whoever was here.
                if visit.joined_at is not None:
                    visit.end("command")
                else:
                    self._forget_visit()
            return
        if (
            current is not None
            and self.session is None
            and current.visit_id not in self._visits_over
        ):
            self.visit = self._visit_in_progress(current)
            if self.sign_in is not None and not self._confirming_visit:
                self.leave_sign_in()

    def _visit_in_progress(self, visit: Visit) -> VisitInProgress:
        return VisitInProgress(
            visit,
            role=self.config.role,
            now=self.clock.now,
            event=self._event,
            signal=self._send_signal,
            tone=self.devices.handset.play_tone,
            call_factory=self.call_factory,
            changed=self._visit_changed,
        )

    def _load_visits(self) -> None:
        """The visits held here; a lobby also keeps its other stations', to point visitors."""
        every = [Visit.from_row(row) for row in self._schedule.visits()]
        self._visits = [visit for visit in every if visit.held_at(self.config.kiosk_id)]
        self._lobby_visits = every

    def _visit_changed(self) -> None:
        visit = self.visit
        if visit is not None and visit.ended_at is not None and not self._visit_ended_shown_until:
            # Long enough to read why; then idle, with no trace of the visit.
            self._visit_ended_shown_until = self.clock.monotonic() + VISIT_ENDED_SHOWN_S
        self._refresh()

    def _forget_visit(self) -> None:
        if self._visit_confirmed or self.lobby is not None:
            self._language = self.config.language
        if self.visit is not None and self.visit.ended_at is not None:
            self._visits_over.add(self.visit.visit.visit_id)
        self.visit = None
        if self.lobby is not None:
            self.lobby.forget_sent()
        self._visit_confirmed = False
        self._visit_ended_shown_until = 0.0
        if self._confirming_visit:
            self.leave_sign_in()

    def _begin_visit_confirmation(self) -> None:
        self._confirming_visit = True
        self.sign_in = self._new_sign_in(
            signed_in=self._visit_confirmed_by, title=_("Confirm it is you for your visit")
        )

    def _visit_confirmed_by(self, signed_in: SignedIn) -> None:
        """The PIN matched: if it is the visit's resident, they may join."""
        self.sign_in = None
        self._confirming_visit = False
        visit = self.visit
        if visit is None or visit.ended_at is not None:
            self._refresh()
            return
        if signed_in.resident["inmate_id"] != visit.visit.inmate_id:
            self._begin_visit_confirmation()
            self.sign_in.refuse(
                _("This visit is for {name}. Only they can join it."),
                name=visit.visit.inmate_name,
            )
            self._refresh()
            return
        self._visit_confirmed = True
        if signed_in.resident.get("language") in self.settings.languages:
            self._language = signed_in.resident["language"]  # her visit, in her language
        if self.devices.handset.hook_state == HookState.OFF_HOOK:
            visit.join()
        self._refresh()

    def _send_signal(self, kind: str) -> None:
        visit = self.visit
        if visit is None or self.uplink is None:
            return
        reason = visit.end_reason if kind == "bye" else None
        payload = uplink_payloads.signal(
            visit.visit.visit_id, self.config.kiosk_id, kind, reason=reason
        )
        self.uplink.publish("signal", payload)

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

    def _compose(self) -> KioskView:
        now = self.clock.now()
        settings = self.settings
        zone = ZoneInfo(settings.timezone)
        language = self._languages[self._language]
        local = now.astimezone(zone)
        role = self.config.role
        notice = next_visit_notice(next_visit(self._visits, now, role), now, zone, role, language)
        paused = self._paused_reason() if role == "housing" else None
        if self.sessions_blocked or paused is not None:
            prompt = _("Check-in is paused") if role == "lobby" else _("Sign-in is paused")
        elif role == "lobby":
            prompt = _("Check in for your visit")
        elif self._badge_reader_gone():
            prompt = _("Touch the screen to sign in")  # a dead reader must not be promised
        else:
            prompt = _("Tap your badge or touch to sign in")
        banner, severity = "", ""
        if self.notice is not None:
            banner, severity = self.notice.text, self.notice.severity
        elif self.locked_reason is not None:
            banner, severity = language.text(_("This kiosk is closed by staff")), "warning"
        screen, sign_in, session, visit = "idle", None, None, None
        if self.visit is not None:
            visit = self.visit.view(language, zone)
            if self.devices.handset.state != DeviceState.OK and visit.phase != "ended":
                # Pulled or broken: it ends nothing by itself; the screen's buttons still work.
                visit = replace(
                    visit,
                    handset=language.text(
                        _("The handset is not working. Use the buttons on the screen.")
                    ),
                )
            if self.visit.joined_at is not None:
                screen = "visit"
            elif role == "housing":
                # The notice turns into the call to come: the visit is ready for its resident.
                notice = NoticeText(
                    language.text(_("Your visit with {name} is ready")).format(
                        name=self.visit.visit.visitor_name
                    ),
                    "",
                    language.text(_("Pick up the handset")),
                )
                prompt = _("Pick up the handset, or touch here, to join your visit")
        if self.session is not None:
            screen = "session"
            session = self.session.view(language, zone, self._visits, settings.message_max_chars)
        elif self.sign_in is not None:
            badge_works = not self._badge_reader_gone()
            screen, sign_in = "sign_in", self.sign_in.view(language, zone, badge_works)
        lobby = self.lobby.view(language, zone) if self.lobby is not None else None
        if lobby is not None and lobby.stage and screen != "visit":
            screen = lobby.stage
        technician = self._technician_view()
        if technician is not None:
            screen = "technician"
        return KioskView(
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
            screen=screen,
            paused=self._paused_text(paused, language, zone),
            sign_in=sign_in,
            session=session,
            words=self._words[self._language],
            visit=visit,
            lobby=lobby,
            technician=technician,
        )

    def _badge_reader_gone(self) -> bool:
        """Started, and not working: pulled or broken (a kiosk not yet running says nothing)."""
        return bool(self._unsubscribes) and self.devices.badge_reader.state != DeviceState.OK

    def _paused_text(self, words: str | None, language: Language, zone: ZoneInfo) -> str:
        if words is None:
            return ""
        visit = sessions_paused_by_visit(self._visits, self.clock.now())
        if visit is None:
            return language.text(words)
        return language.text(words).format(
            time=language.time(visit.starts_at.astimezone(zone)),
            end=language.time(visit.ends_at.astimezone(zone)),
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
