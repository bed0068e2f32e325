"""The optional login snapshot: one frame at sign-in for the facility, never a reason to refuse."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest

from hardware.interfaces import DeviceState
from kiosk.core import login_snapshot
from kiosk.core.clock import FakeClock
from kiosk.core.kiosk import Kiosk
from tests.conftest import make_config
from tests.core.residents import (
    JOHNSON,
    open_kiosk,
    outbox_records,
    seed_residents,
    typed_attempt,
)
from tests.waiting import until


def signed_in_with_snapshot(tmp_path: Path, clock: FakeClock, scene: str) -> Kiosk:
    kiosk = open_kiosk(make_config(tmp_path, login_snapshot=True), clock, camera_scene=scene)
    seed_residents(kiosk)

    async def scenario() -> None:
        await typed_attempt(kiosk, clock, JOHNSON[0], JOHNSON[4])
        assert kiosk.session is not None  # the session opens at once, the photo follows
        await until(lambda: kiosk.outbox.of("login"), 10, "the login event")

    asyncio.run(scenario())
    return kiosk


def login_event(kiosk: Kiosk) -> dict[str, Any]:
    (detail,) = kiosk.outbox.of("login")
    return detail


def test_a_face_is_photographed_and_queued_for_the_facility(
    tmp_path: Path, clock: FakeClock
) -> None:
    kiosk = signed_in_with_snapshot(tmp_path, clock, "face")
    try:
        detail = login_event(kiosk)
        assert detail["snapshot"] == "face"
        assert (detail["method"], detail["inmate_id"]) == ("keypad", "A2048")
        ((record_id, capture),) = outbox_records(kiosk, "captures")
        assert record_id == detail["capture_id"] == capture["capture_id"]
        assert capture["purpose"] == "login_snapshot"
        assert capture["inmate_id"] == "A2048"
        assert "visit_id" not in capture
        assert (capture["v"], capture["type"], capture["mime"]) == (1, "capture", "image/jpeg")
        assert capture["taken_at"] == "2026-11-23T19:00:00.000Z"
        assert base64.b64decode(capture["data_b64"]).startswith(b"\xff\xd8")
        assert kiosk.outbox.wakes >= 1  # the sync layer was woken for it
        # The camera is off again: an idle kiosk films nobody.
        assert kiosk.devices.camera.state == DeviceState.MISSING
        assert kiosk.devices.camera.latest_frame() is None
        assert kiosk.view.screen == "session"
    finally:
        kiosk.close()


def test_no_face_is_said_so_and_the_session_goes_on(tmp_path: Path, clock: FakeClock) -> None:
    kiosk = signed_in_with_snapshot(tmp_path, clock, "bars")
    try:
        assert login_event(kiosk)["snapshot"] == "no_face"
        assert kiosk.view.screen == "session"
        # The frame is still kept: the facility decides what it shows.
        assert len(outbox_records(kiosk, "captures")) == 1
    finally:
        kiosk.close()


def test_no_camera_is_said_so_and_the_session_goes_on(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(login_snapshot, "FIRST_FRAME_TIMEOUT_S", 0.2)
    kiosk = open_kiosk(make_config(tmp_path, login_snapshot=True), clock, camera_scene="face")
    kiosk.devices.camera.unplug()
    seed_residents(kiosk)

    async def scenario() -> None:
        await typed_attempt(kiosk, clock, JOHNSON[0], JOHNSON[4])
        await until(lambda: kiosk.outbox.of("login"), 5, "the login event")

    try:
        asyncio.run(scenario())
        detail = login_event(kiosk)
        assert detail["snapshot"] == "no_camera"
        assert "capture_id" not in detail
        assert outbox_records(kiosk, "captures") == []
        assert kiosk.view.screen == "session"
    finally:
        kiosk.close()


def test_without_the_setting_no_photo_is_taken(tmp_path: Path, clock: FakeClock) -> None:
    kiosk = open_kiosk(make_config(tmp_path), clock, camera_scene="face")
    seed_residents(kiosk)
    try:
        asyncio.run(typed_attempt(kiosk, clock, JOHNSON[0], JOHNSON[4]))
        assert login_event(kiosk) == {
            "method": "keypad",
            "inmate_id": "A2048",
            "signed_in_at": "2026-11-23T19:00:00.000Z",
        }
        assert outbox_records(kiosk, "captures") == []
        assert kiosk.devices.camera.latest_frame() is None
    finally:
        kiosk.close()
