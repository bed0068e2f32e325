"""A visitor at a lobby station, from "Check in for your visit" to being joined to the visit.

Check-in first; then, when the facility's rules ask for them, the credential photos; then the
visit. The photos leave through the outbox and are gone from the kiosk once the broker has
them. A visitor who walks away is warned, then everything they typed or photographed is erased.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from hardware.interfaces import Camera, DeviceState
from kiosk.core.capture import SUMMARY, CaptureView, CredentialCapture, StillCheck
from kiosk.core.check_in import CheckIn, CheckInPause, CheckInView, refusal_for
from kiosk.core.clock import Clock
from kiosk.core.i18n import Language, _, words_with_values
from kiosk.core.ports import Outbox, OutgoingCapture
from kiosk.core.verifiers import Verifiers
from kiosk.core.visits import CANCELLED, Visit
from kiosk.store.outbox import OutboxFull, OutboxRepository
from kiosk.store.transaction import transaction

WALK_AWAY_S = 60  # untouched this long, the visitor is asked whether they are still there
WARNING_S = 15  # then, untouched this long again, everything they entered is erased
CAMERA_SILENT_S = 2.0  # an open camera with no picture for this long is said to be broken
CHECK_IN_INTENTS = frozenset({"key", "backspace", "enter"})
CAPTURE_INTENTS = frozenset({"take", "accept", "retake"})


@dataclass(frozen=True)
class LobbyView:
    """What the lobby's own screens show; ``stage`` says which."""

    stage: str  # check_in | capture | photo_review | "" (nobody at the station)
    check_in: CheckInView | None = None
    capture: CaptureView | None = None
    still_there: str = ""  # "Everything you entered will be erased in 0:12"
    still_there_detail: str = ""
    sending: str = ""  # "Sending your photos: 1 of 3 sent"
    sent_fraction: float = 0.0
    problem: str = ""  # the photos could not be kept or the visit not joined


class Lobby:
    """One lobby station's visitor; a new visitor starts with nothing of the last one."""

    def __init__(
        self,
        *,
        kiosk_id: str,
        clock: Clock,
        camera: Camera,
        database: Any,
        outbox: Outbox,
        outbox_records: OutboxRepository,
        visits: Callable[[], Iterable[Visit]],
        verifiers: Verifiers,
        check_still: StillCheck,
        join: Callable[[Visit], bool],
        event: Callable[[str, dict[str, Any]], None],
        changed: Callable[[], None],
    ) -> None:
        """``visits``: the whole lobby schedule; ``join``: the checked-in visitor joins."""
        self._kiosk_id = kiosk_id
        self._clock = clock
        self._camera = camera
        self._database = database
        self._outbox = outbox
        self._outbox_records = outbox_records
        self._visits = visits
        self._verifiers = verifiers
        self._check_still = check_still
        self._join = join
        self._event = event
        self._changed = changed
        self._pause = CheckInPause(clock)
        self.check_in: CheckIn | None = None
        self.capture: CredentialCapture | None = None
        self._visit: Visit | None = None  # checked in, photos still owed
        self._touched = clock.monotonic()
        self._camera_on: asyncio.Future[None] | None = None
        self._capture_began = 0.0
        self._sending: list[str] = []  # capture ids not yet acknowledged by the broker
        self._sent = 0
        # Why the last visitor could not go on (words and values), for the idle screen.
        self._problem: tuple[str, dict[str, Any]] | None = None

    @property
    def busy(self) -> bool:
        """Someone is checking in or taking photos."""
        return self.check_in is not None or self.capture is not None

    # --- intents ---------------------------------------------------------------------------

    def begin(self) -> None:
        """Check in for your visit: the keypad, empty."""
        if self.busy:
            return
        self._problem = None
        self._touch()
        self.check_in = CheckIn(
            kiosk_id=self._kiosk_id,
            visits=self._visits,
            pause=self._pause,
            clock=self._clock,
            verifiers=self._verifiers,
            event=self._event,
            checked_in=self._checked_in,
            changed=self._changed,
        )
        self._changed()

    def check_in_intent(self, name: str, *args: Any) -> None:
        if self.check_in is None or name not in CHECK_IN_INTENTS:
            return
        self._touch()
        getattr(self.check_in, name)(*args)

    def capture_intent(self, name: str, *args: Any) -> None:
        if self.capture is None or name not in CAPTURE_INTENTS:
            return
        self._touch()
        getattr(self.capture, name)(*args)

    def back(self) -> None:
        """Back: one step, and from the first back to the idle screen with nothing kept."""
        self._touch()
        if self.capture is not None:
            if not self.capture.back():
                self.leave()
        elif self.check_in is not None and not self.check_in.back():
            self.leave()
        self._changed()

    def touched(self) -> None:
        """Any touch on the station: the visitor is still there."""
        if self.busy:
            self._touch()
            self._changed()

    def submit(self) -> bool:
        """Submit the accepted photos: queued in the outbox in one transaction, then the visit."""
        self._touch()
        capture, visit = self.capture, self._visit
        if capture is None or visit is None:
            return False
        if capture.stage != SUMMARY:
            return False
        # The visit may have been cancelled, or run nearly out, while the photos were taken.
        now = self._clock.now()
        current = next((v for v in self._visits() if v.visit_id == visit.visit_id), None)
        refusal = refusal_for(current or replace(visit, status=CANCELLED), now, self._kiosk_id)
        if refusal is not None:
            self._problem = refusal
            self.leave()
            return False
        photos = capture.submitted()
        if photos is None:
            return False
        records = [
            OutgoingCapture(
                capture_id=str(uuid.uuid4()),
                purpose=photo.purpose,
                subject={"visit_id": visit.visit_id},
                taken_at=photo.taken_at,
                jpeg=photo.jpeg,
            )
            for photo in photos
        ]
        try:
            with transaction(self._database):  # all of them, or none
                for record in records:
                    self._outbox.put_capture(record)
        except OutboxFull:
            # Nothing was written; the visitor must not be told the facility has them.
            self._problem = (_("Your photos could not be saved. Please ask the lobby officer."), {})
            self._event("captures_not_kept", {"visit_id": visit.visit_id, "count": len(records)})
            self.leave()
            return False
        self._sending = [record.capture_id for record in records]
        self._sent = 0
        self._event(
            "visitor_captures_queued",
            {"visit_id": visit.visit_id, "purposes": [photo.purpose for photo in photos]},
        )
        self._outbox.committed()
        self._end_capture()
        self._enter_visit(visit)
        return True

    def leave(self) -> None:
        """Back to idle: everything typed and photographed is erased."""
        if self.check_in is not None:
            self.check_in.close()
            self.check_in = None
        self._end_capture()
        self._visit = None
        self._changed()

    # --- time ------------------------------------------------------------------------------

    def tick(self) -> None:
        """The walk-away countdown, and the photos' progress out of the outbox."""
        if self.check_in is not None and self._pause.wait_s() > 0:
            self._touch()  # waiting out the pause is not walking away
        if self.busy and self._idle_s() >= WALK_AWAY_S + WARNING_S:
            self._event("visitor_walked_away", {"stage": self._stage()})
            self.leave()
        if self._sending:
            queued = self._outbox_records.queued(self._sending)
            self._sent = len(self._sending) - len(queued)
            if not queued:
                self._sending = []

    # --- the view --------------------------------------------------------------------------

    def view(self, language: Language, zone: ZoneInfo) -> LobbyView:
        text = language.text
        still_there = detail = ""
        idle = self._idle_s()
        if self.busy and idle >= WALK_AWAY_S:
            left = WALK_AWAY_S + WARNING_S - idle
            still_there = text(_("Everything you entered will be erased in {time}.")).format(
                time=language.countdown(left)
            )
            detail = text(_("Touch the screen to continue."))
        sending, fraction = "", 0.0
        if self._sending:
            total = len(self._sending)
            sending = language.ngettext(
                "Sending your photo: {sent} of {total} sent",
                "Sending your photos: {sent} of {total} sent",
                total,
            ).format(sent=self._sent, total=total)
            fraction = self._sent / total
        elif self._sent:
            sending = language.ngettext(
                "Your photo has been sent.", "Your photos have been sent.", self._sent
            )
            fraction = 1.0
        return LobbyView(
            stage=self._stage(),
            check_in=self.check_in.view(language, zone) if self.check_in is not None else None,
            capture=self.capture.view(language, self._camera_missing())
            if self.capture is not None
            else None,
            still_there=still_there,
            still_there_detail=detail,
            sending=sending,
            sent_fraction=fraction,
            problem=words_with_values(language, zone, *self._problem) if self._problem else "",
        )

    def _camera_missing(self) -> bool:
        """No picture to show: the camera failed, or gave nothing for CAMERA_SILENT_S."""
        camera_on = self._camera_on
        if camera_on is None or not camera_on.done():
            return False  # still opening: the preview says nothing yet
        if camera_on.cancelled() or camera_on.exception() is not None:
            return True
        if self._camera.state != DeviceState.OK:
            return True
        silent = self._clock.monotonic() - self._capture_began >= CAMERA_SILENT_S
        return silent and self._camera.latest_frame() is None

    def forget_sent(self) -> None:
        """The visit is over: its photos' progress goes too."""
        if not self._sending:
            self._sent = 0

    # --- the flow --------------------------------------------------------------------------

    def _checked_in(self, visit: Visit) -> None:
        self.check_in = None
        purposes = visit.captures_required()
        if not purposes:
            self._enter_visit(visit)
            return
        self._visit = visit
        self._capture_began = self._clock.monotonic()
        self._camera_on = asyncio.get_running_loop().run_in_executor(None, self._camera.start)
        self.capture = CredentialCapture(
            purposes,
            camera=self._camera,
            check=self._check_still,
            now=self._clock.now,
            changed=self._changed,
        )
        self._touch()
        self._changed()

    def _enter_visit(self, visit: Visit) -> None:
        self._visit = None
        if not self._join(visit):
            self._problem = (
                _(
                    "Your visit cannot start at this station right now. "
                    "Please ask the lobby officer."
                ),
                {},
            )
        self._changed()

    def _end_capture(self) -> None:
        if self.capture is not None:
            self.capture.wipe()
            self.capture = None
        camera_on, self._camera_on = self._camera_on, None
        if camera_on is None:
            return
        if camera_on.done():
            with contextlib.suppress(Exception):
                camera_on.result()
            # Here, not in a thread: the visit's call may turn the camera on next.
            self._camera.stop()
        else:
            camera_on.add_done_callback(lambda _started: self._camera.stop())

    def _stage(self) -> str:
        if self.capture is not None:
            return "photo_review" if self.capture.stage == SUMMARY else "capture"
        return "check_in" if self.check_in is not None else ""

    def _idle_s(self) -> float:
        return self._clock.monotonic() - self._touched

    def _touch(self) -> None:
        self._touched = self._clock.monotonic()
