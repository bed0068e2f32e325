"""The rules behind wrong PINs: per-ID pauses that grow, and the kiosk-wide pace."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.core.clock import FakeClock
from kiosk.core.lockout import (
    PACE_FORGET_S,
    PACE_MAX_S,
    Lockouts,
    Pace,
    lockout_minutes,
)
from kiosk.store import open_database
from kiosk.store.connection import Connection
from kiosk.store.sign_in_failures import SignInFailuresRepository
from tests.core.residents import START


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Connection]:
    database = open_database(tmp_path / "kiosk.db")
    yield database
    database.close()


@pytest.fixture
def lockouts(db: Connection, clock: FakeClock) -> Lockouts:
    return Lockouts(SignInFailuresRepository(db), clock)


def fail(lockouts: Lockouts, subject: str, known: bool, times: int) -> list[int | None]:
    return [lockouts.failed(subject, known) for _ in range(times)]


def test_lockout_minutes_grow_to_an_hour_and_stay_there() -> None:
    assert [lockout_minutes(n) for n in range(6)] == [5, 15, 60, 60, 60, 60]


@pytest.mark.parametrize("known", [True, False], ids=["resident", "unknown_id"])
def test_the_fifth_failure_pauses_the_id_for_five_minutes(
    lockouts: Lockouts, clock: FakeClock, known: bool
) -> None:
    assert lockouts.tries_left("A1", known) == 5
    assert fail(lockouts, "A1", known, 4) == [None] * 4
    assert lockouts.tries_left("A1", known) == 1
    assert lockouts.locked_until("A1", known) is None
    assert lockouts.failed("A1", known) == 5
    assert lockouts.locked_until("A1", known) == START + timedelta(minutes=5)
    assert lockouts.next_lockout_minutes("A1", known) == 15

    clock.advance(5 * 60 - 1)
    assert lockouts.locked_until("A1", known) is not None
    clock.advance(1)
    assert lockouts.locked_until("A1", known) is None
    assert lockouts.tries_left("A1", known) == 5  # a fresh five after a pause


@pytest.mark.parametrize("known", [True, False], ids=["resident", "unknown_id"])
def test_lockouts_grow_5_15_60_60(lockouts: Lockouts, clock: FakeClock, known: bool) -> None:
    caused = []
    for _ in range(4):
        caused.append(fail(lockouts, "A1", known, 5)[-1])
        clock.advance(60 * 60)
    assert caused == [5, 15, 60, 60]


def test_a_success_clears_the_record(lockouts: Lockouts, clock: FakeClock) -> None:
    fail(lockouts, "A1", True, 5)
    clock.advance(5 * 60)
    fail(lockouts, "A1", True, 2)
    lockouts.succeeded("A1")
    assert lockouts.tries_left("A1", True) == 5
    assert lockouts.next_lockout_minutes("A1", True) == 5


def test_ids_are_counted_apart(lockouts: Lockouts) -> None:
    fail(lockouts, "A1", True, 5)
    assert lockouts.locked_until("A2", True) is None
    assert lockouts.locked_until("A1", False) is None  # an unknown "A1" is another subject
    assert lockouts.tries_left("A2", True) == 5


def test_residents_are_kept_in_the_database_unknown_ids_are_not(
    tmp_path: Path, clock: FakeClock
) -> None:
    database = open_database(tmp_path / "k.db")
    first = Lockouts(SignInFailuresRepository(database), clock)
    fail(first, "A1", True, 5)
    fail(first, "ZZ", False, 5)
    database.close()

    database = open_database(tmp_path / "k.db")
    try:
        again = Lockouts(SignInFailuresRepository(database), clock)
        assert again.locked_until("A1", True) == START + timedelta(minutes=5)
        assert again.next_lockout_minutes("A1", True) == 15
        assert again.locked_until("ZZ", False) is None
    finally:
        database.close()


def test_the_pace_lets_three_failures_go_then_doubles(clock: FakeClock) -> None:
    pace = Pace(clock)
    waits = []
    for _ in range(9):
        pace.failed()
        waits.append(pace.wait_s())
        clock.advance(pace.wait_s())
    assert waits == [0, 0, 0, 2, 4, 8, 16, PACE_MAX_S, PACE_MAX_S]


def test_the_pace_counts_down_with_the_clock(clock: FakeClock) -> None:
    pace = Pace(clock)
    for _ in range(4):
        pace.failed()
    clock.advance(1.5)
    assert pace.wait_s() == pytest.approx(0.5)
    clock.advance(1)
    assert pace.wait_s() == 0


def test_the_pace_forgets_after_quiet_minutes_and_on_success(clock: FakeClock) -> None:
    pace = Pace(clock)
    for _ in range(4):
        pace.failed()
    clock.advance(PACE_FORGET_S + 1)
    pace.failed()
    assert pace.wait_s() == 0

    for _ in range(4):
        pace.failed()
    assert pace.wait_s() > 0
    pace.succeeded()
    assert pace.wait_s() == 0
    pace.failed()
    assert pace.wait_s() == 0
