"""A visit at this kiosk, from its join window to its end: who is here, when it started, why it
ended. The rules of the contract ("Visit rules") under the kiosk's clock; no media here.

The call itself is kiosk/calls' work: the core asks for one through a ``CallPort`` and hears its
states back, so the rules run the same with a real WebRTC call or a test double.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from kiosk.core.facility import CallNetwork
from kiosk.core.i18n import Language, _
from kiosk.core.visits import SCHEDULED, Visit, join_window_opens

WARNINGS = (timedelta(minutes=5), timedelta(minutes=1))
# A call that fails this many times in a row, each restart failing again, is a fault: the
# visit ends (with reason `fault`) rather than leave both sides looking at "Reconnecting…".
FAILURES_BEFORE_FAULT = 3
END_REASONS = ("schedule", "hangup", "command", "peer", "fault")

# Phases, as each side sees them.
WAITING_FOR_US = "waiting_for_us"  # the window is open; our participant has not joined
WAITING_FOR_PEER = "waiting_for_peer"  # we joined; the other side has not (yet)
CONNECTING = "connecting"  # both are here; the call is being set up
IN_CALL = "in_call"
RECONNECTING = "reconnecting"
ENDED = "ended"


def open_visits(visits: list[Visit], now: datetime) -> list[Visit]:
    """The scheduled visits whose join window is open at ``now``."""
    return [
        visit
        for visit in visits
        if visit.status == SCHEDULED and join_window_opens(visit) <= now < visit.ends_at
    ]


def visit_now(visits: list[Visit], now: datetime) -> Visit | None:
    """The scheduled visit whose join window is open at ``now``, if any (the earliest)."""
    return min(
        open_visits(visits, now), key=lambda visit: (visit.starts_at, visit.visit_id), default=None
    )


@dataclass(frozen=True)
class CallReport:
    """How a visit's call went, as its kiosk saw it: sent with the visit's end."""

    pictures_shown: int  # screen frames that showed the other side
    picture_age_ms: dict[str, float] | None  # median, p95, worst: how old what was shown was
    frames_received: int
    reconnects: int  # times nothing came for 2 s
    poor_connection_s: float  # time "poor connection" was shown
    consent_lost: int  # connections that failed after being up (ICE consent expired)
    longest_silence_ms: float  # the longest gap in the voice heard
    call_cpu_s: float  # the call's own process


class CallPort(Protocol):
    """What the core needs of a call (kiosk.call_link implements it)."""

    def start(self, offerer: bool) -> None: ...
    def restart(self) -> None: ...
    def hang_up(self, reason: str) -> None: ...
    def deliver(self, signal: dict[str, Any]) -> None: ...
    def remote_image(self) -> Any: ...
    def local_image(self) -> Any: ...
    def camera_failed(self) -> bool: ...
    def report(self) -> CallReport: ...


class CallFactory(Protocol):
    """Makes each visit's call (kiosk.call_link implements it)."""

    def __call__(
        self, visit: Visit, on_state: Callable[[str], None], network: CallNetwork
    ) -> CallPort: ...

    def prepare(self) -> None:
        """A visit's join window opened here: get ready, so that its call starts at once."""

    def ready_to_call(self) -> bool:
        """Whether a call would start at once (what ``prepare`` makes ready is ready)."""

    def close(self) -> None:
        """The kiosk is stopping: whatever was made ready goes."""


@dataclass(frozen=True)
class VisitView:
    """What the visit's screen shows, in the reader's language."""

    visit_id: str
    phase: str
    title: str  # "Your visit with B. Visitor"
    instruction: str  # what to do now, or what is happening
    peer_status: str  # whether the other side has joined, in words
    time_left: str  # "Ends in 24:13"; always shown during the visit
    ends_at: str  # "Ends at 2:00 PM"
    warning: str  # "5 minutes left" (and a tone in the handset)
    monitoring: str  # privileged: not recorded or monitored; others: may be
    privileged: bool
    ended: str  # why the visit ended, in words (phase ended only)
    camera: str = ""  # our camera failed: the visit goes on with sound only
    connection: str = ""  # the call is slow, or being set up again
    starts: str = ""  # before its start: "Your visit begins at 2:00 PM, in 7:45"
    handset: str = ""  # the handset is unplugged or broken: the screen's controls still work


class VisitInProgress:
    """One visit at this kiosk, for as long as its join window is open."""

    def __init__(
        self,
        visit: Visit,
        *,
        role: str,
        now: Callable[[], datetime],
        event: Callable[[str, dict[str, Any]], None],
        signal: Callable[[str], None],
        tone: Callable[[str], None],
        call_factory: CallFactory | None,
        changed: Callable[[], None],
        network: Callable[[], CallNetwork] = CallNetwork,
    ) -> None:
        """``network``: the facility's network for calls as it is now (the cloud's config)."""
        self.visit = visit
        self.role = role
        self._now = now
        self._event = event
        self._signal = signal  # sends `ready` or `bye` through the cloud
        self._tone = tone
        self._call_factory = call_factory
        self._changed = changed
        self._network = network
        self.joined_at: datetime | None = None
        self.peer_ready_at: datetime | None = None
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.end_reason: str | None = None
        self.ended_by_peer_reason: str | None = None
        self.call_state = ""
        self._warned: set[timedelta] = set()
        self._call: CallPort | None = None
        self._failures = 0

    # --- who is here -----------------------------------------------------------------------

    def join(self) -> bool:
        """Our participant is here (housing: confirmed and handset lifted; lobby: checked in)."""
        if self.ended_at is not None or self._now() < join_window_opens(self.visit):
            return False
        if self.joined_at is None:
            self.joined_at = self._now()
            self._event(
                "visit_joined",
                {"visit_id": self.visit.visit_id, "side": self.role, "joined_at": self.joined_at},
            )
        self._signal("ready")
        self._maybe_call()
        self._changed()
        return True

    def peer_signal(self, signal: dict[str, Any]) -> None:
        """A signal from the other side, relayed by the cloud."""
        kind = signal.get("kind")
        if self.ended_at is not None:
            return
        if kind == "ready":
            first = self.peer_ready_at is None
            self.peer_ready_at = self.peer_ready_at or self._now()
            if first and self.joined_at is not None:
                # Tell a peer that joined after us that we are here too (it may not have been
                # listening when our first `ready` went out).
                self._signal("ready")
            self._maybe_call()
        elif kind == "bye":
            self.ended_by_peer_reason = signal.get("reason")
            self.end("peer", tell_peer=False)
            return
        if self._call is not None:
            self._call.deliver(signal)  # its own handshake re-offers on a re-joined peer
        self._changed()

    def _maybe_call(self) -> None:
        if self._call is not None or self.joined_at is None or self.peer_ready_at is None:
            return
        if self._call_factory is None:
            # A kiosk without calls (the rules' own tests, a demo without aiortc): both sides
            # being here is the visit's start.
            self.call_changed("connected")
            return
        self._call = self._call_factory(self.visit, self.call_changed, self._network())
        # The contract: once both sides are ready, the housing kiosk makes the offer.
        self._call.start(offerer=self.role == "housing")
        self.call_state = "connecting"

    # --- the call --------------------------------------------------------------------------

    def call_changed(self, state: str) -> None:
        """The call's state: connecting, connected, poor (connected, but slow), reconnecting,
        failed, closed."""
        if self.ended_at is not None:
            return
        self.call_state = state
        if state == "connected":
            self._failures = 0
        if state == "connected" and self.started_at is None:
            self.started_at = self._now()
            self._event(
                "visit_started",
                {
                    "visit_id": self.visit.visit_id,
                    "started_at": self.started_at,
                    "scheduled_start": self.visit.starts_at,
                },
            )
        elif state == "failed" and self._call is not None:
            self._failures += 1
            if self._failures >= FAILURES_BEFORE_FAULT:
                self.end("fault")
                return
            if self.role == "housing":
                # Inside the window a lost call is set up again; its end time does not move.
                self.call_state = "reconnecting"
                self._call.restart()
        self._changed()

    @property
    def phase(self) -> str:
        if self.ended_at is not None:
            return ENDED
        if self.joined_at is None:
            return WAITING_FOR_US
        if self.peer_ready_at is None:
            return WAITING_FOR_PEER
        if self.call_state in ("reconnecting", "failed", "disconnected"):
            return RECONNECTING
        if self.call_state in ("connected", "poor"):
            return IN_CALL
        return CONNECTING

    def media(self) -> tuple[Any, Any]:
        """The latest pictures (the other side, ourselves) for the screen; None without them."""
        if self._call is None or self.ended_at is not None:
            return None, None
        return self._call.remote_image(), self._call.local_image()

    # --- the end ---------------------------------------------------------------------------

    def end(self, reason: str, *, tell_peer: bool = True) -> None:
        """The visit is over: the schedule, a hang-up, staff, the peer, or a fault."""
        if reason not in END_REASONS:
            raise ValueError(f"unknown reason for a visit's end: {reason!r}")
        if self.ended_at is not None:
            return
        self.ended_at, self.end_reason = self._now(), reason
        detail: dict[str, Any] = {
            "visit_id": self.visit.visit_id,
            "reason": reason,
            "joined_at": self.joined_at,
            "peer_joined_at": self.peer_ready_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "scheduled_start": self.visit.starts_at,
            "scheduled_end": self.visit.ends_at,
        }
        if self._call is not None:
            detail["call"] = asdict(self._call.report())
            self._call.hang_up(reason)
        elif tell_peer and self.joined_at is not None:
            self._signal("bye")
        self._event("visit_ended", detail)
        self._changed()

    def tick(self) -> None:
        """Time passed: warnings at 5 and 1 minutes, and the end at ``ends_at``."""
        if self.ended_at is not None:
            return
        now = self._now()
        if now >= self.visit.ends_at:
            self.end("schedule")
            return
        left = self.visit.ends_at - now
        for mark in WARNINGS:
            if left <= mark and mark not in self._warned:
                self._warned.add(mark)
                if self.joined_at is not None:
                    self._tone("warning")

    # --- the view --------------------------------------------------------------------------

    def view(self, language: Language, zone: ZoneInfo) -> VisitView:
        text = language.text
        visit, phase, now = self.visit, self.phase, self._now()
        other = visit.visitor_name if self.role == "housing" else visit.inmate_name
        left = max(0.0, (visit.ends_at - now).total_seconds())
        instruction = {
            WAITING_FOR_US: _("Your visit is ready. Pick up the handset to join.")
            if self.role == "housing"
            else _("Your visit is ready."),
            WAITING_FOR_PEER: _("Waiting for {name} to join…"),
            CONNECTING: _("Connecting to {name}…"),
            IN_CALL: _("You are in your visit with {name}."),
            RECONNECTING: _("Reconnecting…"),
            ENDED: _("The visit has ended."),
        }[phase]
        peer = ""
        if phase in (WAITING_FOR_US, WAITING_FOR_PEER):
            joined = self.peer_ready_at is not None
            peer = text(_("{name} has joined.") if joined else _("{name} has not joined yet."))
        starts = ""
        if phase in (WAITING_FOR_US, WAITING_FOR_PEER) and now < visit.starts_at:
            starts = text(_("Your visit begins at {time}, in {countdown}.")).format(
                time=language.time(visit.starts_at, zone),
                countdown=language.countdown((visit.starts_at - now).total_seconds()),
            )
        warning = ""
        if phase != ENDED and left <= WARNINGS[0].total_seconds():
            minutes = 1 if left <= WARNINGS[1].total_seconds() else 5
            warning = language.ngettext(
                "{minutes} minute left in your visit.",
                "{minutes} minutes left in your visit.",
                minutes,
            ).format(minutes=minutes)
        if visit.kind == "privileged":
            monitoring = _("This is a privileged visit: it is not recorded or monitored.")
        else:
            monitoring = _("This visit may be recorded and monitored.")
        return VisitView(
            visit_id=visit.visit_id,
            phase=phase,
            title=text(self._title()).format(name=other),
            instruction=text(instruction).format(name=other),
            peer_status=peer.format(name=other),
            time_left=text(_("Ends in {time}")).format(time=language.countdown(left)),
            ends_at=text(_("Ends at {time}")).format(time=language.time(visit.ends_at, zone)),
            warning=warning,
            monitoring=text(monitoring),
            privileged=visit.kind == "privileged",
            ended=self._ended_words(language) if phase == ENDED else "",
            camera=text(_("Your camera is not working. The visit goes on with sound only."))
            if phase != ENDED and self._call is not None and self._call.camera_failed()
            else "",
            starts=starts,
            connection=self._connection_words(phase, language),
        )

    def _title(self) -> str:
        visit = self.visit
        if self.role == "housing" and visit.visitor_away:
            if visit.kind == "privileged":
                return _("Your video visit with {name}, from their office")
            return _("Your video visit with {name}, at home")
        return _("Your visit with {name}")

    def _connection_words(self, phase: str, language: Language) -> str:
        if phase == RECONNECTING:
            return language.text(_("The connection was lost. Reconnecting…"))
        if phase == IN_CALL and self.call_state == "poor":
            return language.text(_("Poor connection: the picture may freeze. Keep talking."))
        return ""

    def _ended_words(self, language: Language) -> str:
        words = {
            "schedule": _("The visit ended at its scheduled time."),
            "hangup": _("The visit was ended by a hang-up."),
            "command": _("The visit was ended by facility staff."),
            "peer": _("The other side ended the visit."),
            "fault": _("The visit ended because of a fault. Please tell staff."),
        }
        return language.text(words[self.end_reason or "schedule"])
