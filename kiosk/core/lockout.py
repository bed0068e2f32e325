"""How wrong PINs are paid for: per resident a pause that grows, per kiosk a pace that slows.

Five wrong PINs for one ID pause that ID for 5 minutes, then 15, then 60 (and 60 after that)
until a sign-in succeeds. IDs nobody has are counted the same way, in memory, so that the
kiosk's answers never tell whether an ID exists. Apart from that, every failure from anyone
beyond the first few makes the kiosk wait longer before it takes the next PIN: trying many
IDs with one PIN is as slow as trying many PINs for one ID.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from kiosk.core.clock import Clock
from kiosk.store.sign_in_failures import FailureRecord, SignInFailuresRepository

FAILURES_BEFORE_LOCKOUT = 5
LOCKOUT_MINUTES = (5, 15, 60)
FREE_FAILURES = 3  # a resident fumbling their PIN is not slowed down
PACE_MAX_S = 30
PACE_FORGET_S = 300  # five quiet minutes and the pace is back to normal


def lockout_minutes(lockouts_before: int) -> int:
    """How long the next lockout lasts, given how many came before it since the last success."""
    return LOCKOUT_MINUTES[min(lockouts_before, len(LOCKOUT_MINUTES) - 1)]


class Lockouts:
    """Failures per ID: residents' in the database (a restart ends no pause), unknown IDs' here."""

    def __init__(self, repository: SignInFailuresRepository, clock: Clock) -> None:
        self._repository = repository
        self._clock = clock
        self._unknown: dict[str, FailureRecord] = {}

    def locked_until(self, subject: str, known: bool) -> datetime | None:
        """When the pause on ``subject`` ends, or None if it may try now."""
        record = self._get(subject, known)
        if record.locked_until is not None and record.locked_until > self._clock.now():
            return record.locked_until
        return None

    def tries_left(self, subject: str, known: bool) -> int:
        return FAILURES_BEFORE_LOCKOUT - self._get(subject, known).failures

    def next_lockout_minutes(self, subject: str, known: bool) -> int:
        return lockout_minutes(self._get(subject, known).lockouts)

    def failed(self, subject: str, known: bool) -> int | None:
        """Count a wrong PIN; returns the minutes of the lockout it caused, if it caused one."""
        record = self._get(subject, known)
        if record.locked_until is not None and record.locked_until <= self._clock.now():
            record = replace(record, locked_until=None)  # the last pause is over
        record = replace(record, failures=record.failures + 1)
        minutes = None
        if record.failures >= FAILURES_BEFORE_LOCKOUT:
            minutes = lockout_minutes(record.lockouts)
            record = FailureRecord(
                subject, 0, record.lockouts + 1, self._clock.now() + timedelta(minutes=minutes)
            )
        self._put(record, known)
        return minutes

    def succeeded(self, subject: str) -> None:
        self._repository.clear(subject)

    def _get(self, subject: str, known: bool) -> FailureRecord:
        if known:
            return self._repository.get(subject)
        return self._unknown.get(subject, FailureRecord(subject, 0, 0, None))

    def _put(self, record: FailureRecord, known: bool) -> None:
        if known:
            self._repository.put(record)
        else:
            self._unknown[record.inmate_id] = record


class Pace:
    """The kiosk-wide brake: after a few failures from anyone, each next try waits longer."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._failures = 0
        self._last_failure = 0.0
        self._not_before = 0.0

    def wait_s(self) -> float:
        """Seconds before the kiosk takes the next PIN (0: now)."""
        return max(0.0, self._not_before - self._clock.monotonic())

    def failed(self) -> None:
        now = self._clock.monotonic()
        if now - self._last_failure > PACE_FORGET_S:
            self._failures = 0
        self._failures += 1
        self._last_failure = now
        if self._failures > FREE_FAILURES:
            delay = min(2 ** (self._failures - FREE_FAILURES), PACE_MAX_S)
            self._not_before = now + delay

    def succeeded(self) -> None:
        self._failures = 0
        self._not_before = 0.0
