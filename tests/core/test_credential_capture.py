"""A visitor's credential photos at a lobby station, as the visitor and the lobby officer see
them: which photos are asked for, the checks on each still, Accept / Retake / Back, Submit into
the outbox, the progress of the sending, and the walk-away wipe.

The kiosk has a simulated 1280x720 camera; ``camera.hold(picture)`` puts a generated ID card or
room in front of it. Checks run in worker threads, so the flows run inside ``asyncio.run`` and
wait (real time, bounded) for them.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from hardware.interfaces import DeviceState
from hardware.simulated import (
    SimulatedCamera,
)
from hardware.simulated.scenes import document_scene, face_scene
from kiosk.core.clock import FakeClock
from kiosk.core.credentials import make_verifier
from kiosk.core.kiosk import Kiosk
from kiosk.imaging.stills import encode_jpeg
from kiosk.store.outbox import OutboxRepository
from kiosk.sync.inbound import inbound_event
from tests.conftest import make_config
from tests.core.residents import START, open_kiosk, outbox_records
from tests.visits import visit_row
from tests.waiting import until

WIDTH, HEIGHT = 1280, 720
VISIT_START = START + timedelta(minutes=5)  # its window opened at 12:55 PM, Chicago
CODE = "K7Q2"
ID, CREDENTIAL, FACE = "visitor_id", "visitor_credential", "visitor_face"
TITLES = {
    ID: "Your photo ID",
    CREDENTIAL: "Your bar card, department ID or badge",
    FACE: "Your face",
}
NO_FACE = "We could not see a face. Look straight at the camera and take it again."
SEVERAL_FACES = "We see more than one face. Only you should be in the picture."
BLURRED = "The picture is blurred. Hold the card still, a little farther away."
GLARE = "There is glare on the card. Tilt it a little and take it again."
IS_IT_CLEAR = "Is the picture clear? Touch Accept, or Retake."
ERASED_IN = "Everything you entered will be erased in {time}."


@cache
def verifier(code: str) -> str:
    return make_verifier(code)


def good_picture(purpose: str) -> np.ndarray:
    """What passes each step's check: a sharp card, or one face."""
    if purpose == FACE:
        return face_scene(WIDTH, HEIGHT, faces=1)
    return document_scene(WIDTH, HEIGHT)


@pytest.fixture
def camera() -> SimulatedCamera:
    return SimulatedCamera(WIDTH, HEIGHT)


@pytest.fixture
def make_lobby(
    tmp_path: Path, clock: FakeClock, camera: SimulatedCamera
) -> Iterator[Callable[..., Kiosk]]:
    """A lobby kiosk with the camera, its schedule holding one visit made of ``row``'s fields."""
    opened: list[Kiosk] = []

    def make(outbox_budget_mb: int | None = None, **row: Any) -> Kiosk:
        overrides: dict[str, Any] = {"role": "lobby", "kiosk_id": "lobby-01"}
        if outbox_budget_mb is not None:
            overrides["outbox_budget_mb"] = outbox_budget_mb
        kiosk = open_kiosk(make_config(tmp_path, **overrides), clock, camera=camera)
        opened.append(kiosk)
        fields: dict[str, Any] = {
            "visit_id": "v1",
            "kind": "onsite",
            "visitor_name": "Ana de la Cruz",
            "code_verifier": verifier(CODE),
            **row,
        }
        assert kiosk.apply_schedule(1, [visit_row(VISIT_START, **fields)])
        kiosk.tick()
        return kiosk

    yield make
    for kiosk in opened:
        kiosk.close()


# --- driving the flow (inside asyncio.run) ---------------------------------------------------


async def check_in(kiosk: Kiosk) -> None:
    """The visitor types the code and their last name; returns once the check is over."""
    assert kiosk.begin_check_in()
    for ch in CODE:
        kiosk.lobby_intent("key", ch)
    kiosk.lobby_intent("enter")
    for ch in "Cruz":
        kiosk.lobby_intent("key", ch)
    kiosk.lobby_intent("enter")
    await until(lambda: kiosk.lobby.check_in is None, 5.0, "the check-in")


async def take(kiosk: Kiosk, camera: SimulatedCamera, picture: np.ndarray) -> Any:
    """Hold ``picture`` to the lens, touch Take picture, wait for the check; the capture view."""
    camera.hold(picture)

    def showing() -> bool:
        frame = camera.latest_frame()
        return frame is not None and np.array_equal(frame.image, picture)

    await until(showing, 5.0, "the preview showing the picture")
    kiosk.lobby_intent("take")
    assert kiosk.view.lobby.capture.stage == "checking"
    await until(lambda: kiosk.view.lobby.capture.stage != "checking", 5.0, "the still's check")
    return kiosk.view.lobby.capture


async def take_and_accept(kiosk: Kiosk, camera: SimulatedCamera, purpose: str) -> None:
    assert kiosk.view.lobby.capture.purpose == purpose
    view = await take(kiosk, camera, good_picture(purpose))
    assert (view.problem, view.can_accept) == ("", True), view
    kiosk.lobby_intent("accept")


async def to_summary(kiosk: Kiosk, camera: SimulatedCamera) -> None:
    while kiosk.view.lobby.capture.stage != "summary":
        await take_and_accept(kiosk, camera, kiosk.view.lobby.capture.purpose)


def capture_payloads(kiosk: Kiosk) -> list[dict[str, Any]]:
    return [payload for _record_id, payload in outbox_records(kiosk, "captures")]


def walk_away(kiosk: Kiosk, clock: FakeClock, seconds: float) -> None:
    clock.advance(seconds)
    kiosk.tick()


# --- which photos -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "purposes"),
    [
        ({"kind": "privileged"}, (ID, CREDENTIAL, FACE)),
        ({"first_visit": True}, (ID, FACE)),
        ({"captures": "visitor_credential"}, (CREDENTIAL,)),
        ({"first_visit": True, "captures": "visitor_credential"}, (ID, CREDENTIAL, FACE)),
        ({"kind": "privileged", "captures": "visitor_face,visitor_id"}, (ID, CREDENTIAL, FACE)),
    ],
    ids=["privileged", "first_visit", "cloud_asks", "first_visit_and_cloud", "no_duplicates"],
)
def test_the_photos_asked_for_come_in_order_then_a_summary(
    make_lobby, camera: SimulatedCamera, row: dict[str, Any], purposes: tuple[str, ...]
) -> None:
    kiosk = make_lobby(**row)

    async def scenario() -> None:
        await check_in(kiosk)
        assert kiosk.view.screen == "capture"
        for step, purpose in enumerate(purposes, start=1):
            view = kiosk.view.lobby.capture
            assert (view.stage, view.purpose) == ("preview", purpose)
            assert view.title == f"Photo {step} of {len(purposes)}: {TITLES[purpose]}"
            assert view.frame_shape == ("face" if purpose == FACE else "card")
            assert view.instruction  # how to hold the card, or where to look
            await take_and_accept(kiosk, camera, purpose)
        assert kiosk.view.screen == "photo_review"
        view = kiosk.view.lobby.capture
        assert (view.stage, view.title) == ("summary", "Check your photos")
        assert view.photos == tuple((p, TITLES[p]) for p in purposes)

    asyncio.run(scenario())
    assert kiosk.visit.joined_at is None  # not before Submit
    assert kiosk.outbox.of("visitor_checked_in") == [{"visit_id": "v1"}]


def test_an_ordinary_onsite_visit_asks_for_no_photo(make_lobby, camera: SimulatedCamera) -> None:
    kiosk = make_lobby()
    asyncio.run(check_in(kiosk))
    assert kiosk.view.screen == "visit"
    assert kiosk.view.lobby.capture is None
    assert kiosk.visit.joined_at is not None
    assert camera.latest_frame() is None  # the camera was never turned on for photos
    assert capture_payloads(kiosk) == []


# --- the checks on each still -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("purpose", "picture", "problem"),
    [
        (FACE, lambda: face_scene(WIDTH, HEIGHT, faces=1), ""),
        (FACE, lambda: face_scene(WIDTH, HEIGHT, faces=0), NO_FACE),
        (FACE, lambda: face_scene(WIDTH, HEIGHT, faces=2), SEVERAL_FACES),
        (ID, lambda: document_scene(WIDTH, HEIGHT), ""),
        (ID, lambda: document_scene(WIDTH, HEIGHT, blur=6), BLURRED),
        (ID, lambda: document_scene(WIDTH, HEIGHT, overexpose=True), GLARE),
        (CREDENTIAL, lambda: document_scene(WIDTH, HEIGHT, blur=6), BLURRED),
    ],
    ids=["one_face", "no_face", "two_faces", "sharp_id", "blurred_id", "glare", "blurred_card"],
)
def test_each_still_is_checked_before_it_can_be_accepted(
    make_lobby,
    camera: SimulatedCamera,
    purpose: str,
    picture: Callable[[], np.ndarray],
    problem: str,
) -> None:
    kiosk = make_lobby(captures=purpose)

    async def scenario() -> None:
        await check_in(kiosk)
        view = await take(kiosk, camera, picture())
        assert view.stage == "still"
        assert view.problem == problem
        assert view.can_accept is (problem == "")
        assert view.instruction == (IS_IT_CLEAR if not problem else "")
        still = kiosk.lobby.capture.still()
        assert still is not None and still.shape == (HEIGHT, WIDTH, 3)
        kiosk.lobby_intent("accept")
        if problem:
            # Refused: the same still and its problem stay until Retake.
            view = kiosk.view.lobby.capture
            assert (view.stage, view.problem) == ("still", problem)
            kiosk.lobby_intent("submit")
            assert kiosk.view.screen == "capture"
            kiosk.lobby_intent("retake")
            view = kiosk.view.lobby.capture
            assert (view.stage, view.problem, view.can_accept) == ("preview", "", False)
            await take_and_accept(kiosk, camera, purpose)
        assert kiosk.view.lobby.capture.stage == "summary"

    asyncio.run(scenario())
    assert capture_payloads(kiosk) == []  # nothing leaves before Submit


def test_the_camera_not_working_is_said_and_nothing_is_taken(
    make_lobby, camera: SimulatedCamera
) -> None:
    kiosk = make_lobby(captures="visitor_face")

    async def scenario() -> None:
        await check_in(kiosk)
        await until(lambda: camera.latest_frame() is not None, 5.0, "the first frame")
        assert kiosk.view.lobby.capture.camera == ""
        camera.unplug()
        kiosk.lobby_intent("take")
        assert kiosk.view.lobby.capture.stage == "preview"
        kiosk.tick()
        assert kiosk.view.lobby.capture.camera == (
            "The camera is not working. Please ask the lobby officer."
        )

    asyncio.run(scenario())


# --- Retake and Back --------------------------------------------------------------------------


def test_retake_a_still_and_retake_from_the_summary(make_lobby, camera: SimulatedCamera) -> None:
    kiosk = make_lobby(first_visit=True)

    async def scenario() -> None:
        await check_in(kiosk)
        first = await take(kiosk, camera, good_picture(ID))
        kiosk.lobby_intent("retake")
        view = kiosk.view.lobby.capture
        assert (view.stage, view.purpose) == ("preview", ID)
        assert kiosk.lobby.capture.still() is None
        second = await take(kiosk, camera, good_picture(ID))
        assert second.still_id != first.still_id  # the screen fetches the new still
        kiosk.lobby_intent("accept")
        await take_and_accept(kiosk, camera, FACE)
        assert kiosk.view.lobby.capture.stage == "summary"

        kiosk.lobby_intent("retake", ID)
        view = kiosk.view.lobby.capture
        assert (view.stage, view.purpose, view.title) == (
            "preview",
            ID,
            "Photo 1 of 2: Your photo ID",
        )
        kiosk.lobby_intent("submit")  # one photo is missing now
        assert kiosk.view.screen == "capture"
        # The face stays accepted: once the ID is taken again, the summary is back.
        await take_and_accept(kiosk, camera, ID)
        assert kiosk.view.lobby.capture.stage == "summary"

    asyncio.run(scenario())
    assert capture_payloads(kiosk) == []


def test_back_steps_through_the_photos_and_from_the_first_leaves(
    make_lobby, camera: SimulatedCamera
) -> None:
    kiosk = make_lobby(kind="privileged")

    async def scenario() -> None:
        await check_in(kiosk)
        await take_and_accept(kiosk, camera, ID)
        await take_and_accept(kiosk, camera, CREDENTIAL)
        await take_and_accept(kiosk, camera, FACE)
        assert kiosk.view.lobby.capture.stage == "summary"

        kiosk.lobby_intent("back")  # the last photo under review again
        view = kiosk.view.lobby.capture
        assert (view.stage, view.purpose, view.can_accept) == ("still", FACE, True)
        kiosk.lobby_intent("back")  # a still: back to its preview
        view = kiosk.view.lobby.capture
        assert (view.stage, view.purpose) == ("preview", FACE)
        kiosk.lobby_intent("back")  # the photo before, under review
        view = kiosk.view.lobby.capture
        assert (view.stage, view.purpose, view.can_accept) == ("still", CREDENTIAL, True)
        kiosk.lobby_intent("accept")  # kept as it was: on to the face again
        view = kiosk.view.lobby.capture
        assert (view.stage, view.purpose) == ("preview", FACE)

        # Each photo before is reviewed again, and each still goes back to its preview.
        for stage, purpose in [
            ("still", CREDENTIAL),
            ("preview", CREDENTIAL),
            ("still", ID),
            ("preview", ID),
        ]:
            kiosk.lobby_intent("back")
            view = kiosk.view.lobby.capture
            assert (view.stage, view.purpose) == (stage, purpose)
        capture = kiosk.lobby.capture
        kiosk.lobby_intent("back")  # and from there: the idle screen, nothing kept
        assert kiosk.view.screen == "idle"
        assert kiosk.lobby.capture is None and kiosk.lobby.check_in is None
        assert all(capture.accepted_picture(p) is None for p in (ID, CREDENTIAL, FACE))

    asyncio.run(scenario())
    assert camera.latest_frame() is None
    assert capture_payloads(kiosk) == []
    assert kiosk.visit is None or kiosk.visit.joined_at is None


# --- Submit -----------------------------------------------------------------------------------


def test_submit_queues_the_photos_and_joins_the_visit(make_lobby, camera: SimulatedCamera) -> None:
    kiosk = make_lobby(kind="privileged")
    statements: list[str] = []

    async def scenario() -> None:
        await check_in(kiosk)
        await take_and_accept(kiosk, camera, ID)
        kiosk.lobby_intent("submit")  # not before the summary
        assert kiosk.view.screen == "capture"
        await take_and_accept(kiosk, camera, CREDENTIAL)
        await take_and_accept(kiosk, camera, FACE)
        capture = kiosk.lobby.capture
        kiosk.database.set_trace_callback(statements.append)
        kiosk.lobby_intent("submit")
        kiosk.database.set_trace_callback(None)
        assert all(capture.accepted_picture(p) is None for p in (ID, CREDENTIAL, FACE))
        assert capture.still() is None and capture.submitted() is None

    asyncio.run(scenario())

    payloads = capture_payloads(kiosk)
    assert [p["purpose"] for p in payloads] == [ID, CREDENTIAL, FACE]
    for payload in payloads:
        assert (payload["type"], payload["visit_id"], payload["mime"]) == (
            "capture",
            "v1",
            "image/jpeg",
        )
        jpeg = base64.b64decode(payload["data_b64"])
        assert jpeg.startswith(b"\xff\xd8")
        picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert picture.shape == (HEIGHT, WIDTH, 3)
    assert len({p["capture_id"] for p in payloads}) == 3
    # All three in one transaction: a power cut leaves all of them or none.
    begins = [i for i, s in enumerate(statements) if s.upper().startswith("BEGIN")]
    commits = [i for i, s in enumerate(statements) if s.upper().startswith("COMMIT")]
    inserts = [i for i, s in enumerate(statements) if s.upper().startswith("INSERT INTO OUTBOX")]
    assert len(begins) == len(commits) == 1 and len(inserts) == 3
    assert begins[0] < min(inserts) and max(inserts) < commits[0]

    assert kiosk.view.screen == "visit"
    assert kiosk.visit.joined_at is not None
    assert kiosk.lobby.capture is None
    assert camera.latest_frame() is None  # the photos' camera is off again
    assert kiosk.outbox.of("visitor_captures_queued") == [
        {"visit_id": "v1", "purposes": [ID, CREDENTIAL, FACE]}
    ]
    assert kiosk.outbox.wakes >= 1  # the sender was woken

    # The broker's PUBACKs delete the records one by one; the visitor sees the progress.
    lobby = kiosk.view.lobby
    assert (lobby.sending, lobby.sent_fraction) == ("Sending your photos: 0 of 3 sent", 0.0)
    outbox = OutboxRepository(kiosk.database, budget_bytes=1 << 30)
    records = [r for r in outbox.pending() if r.topic.endswith("/up/captures")]
    outbox.delete([records[0].seq])
    kiosk.tick()
    assert kiosk.view.lobby.sending == "Sending your photos: 1 of 3 sent"
    assert kiosk.view.lobby.sent_fraction == pytest.approx(1 / 3)
    outbox.delete(r.seq for r in records[1:])
    kiosk.tick()
    assert kiosk.view.lobby.sending == "Your photos have been sent."
    assert kiosk.view.lobby.sent_fraction == 1.0
    assert kiosk.view.screen == "visit"


@pytest.mark.parametrize(
    ("language", "sending", "sent"),
    [
        ("en", "Sending your photo: 0 of 1 sent", "Your photo has been sent."),
        ("es", "Enviando su foto: 0 de 1 enviada", "Su foto fue enviada."),
    ],
)
def test_one_photo_is_said_in_the_singular(
    make_lobby, camera: SimulatedCamera, language: str, sending: str, sent: str
) -> None:
    kiosk = make_lobby(captures="visitor_face")

    async def scenario() -> None:
        await check_in(kiosk)
        await to_summary(kiosk, camera)
        kiosk.lobby_intent("submit")
        kiosk.set_language(language)

    asyncio.run(scenario())
    assert kiosk.view.screen == "visit"
    assert kiosk.view.lobby.sending == sending
    outbox = OutboxRepository(kiosk.database, budget_bytes=1 << 30)
    outbox.delete(r.seq for r in outbox.pending() if r.topic.endswith("/up/captures"))
    kiosk.tick()
    assert kiosk.view.lobby.sending == sent


def test_photos_that_do_not_fit_the_outbox_are_kept_none_and_said_so(
    make_lobby, camera: SimulatedCamera
) -> None:
    kiosk = make_lobby(outbox_budget_mb=1, kind="privileged")
    # Room for about one ID photo, not for all three.
    room = len(encode_jpeg(good_picture(ID))) * 4 // 3 + 2000
    filler = json.dumps({"v": 1, "pad": "x" * (1024 * 1024 - room)}).encode()
    OutboxRepository(kiosk.database, budget_bytes=1 << 30).append("f/k/up/events", "filler", filler)

    async def scenario() -> None:
        await check_in(kiosk)
        await to_summary(kiosk, camera)
        kiosk.lobby_intent("submit")

    asyncio.run(scenario())
    assert capture_payloads(kiosk) == []
    assert kiosk.view.screen == "idle"
    assert (
        kiosk.view.lobby.problem == "Your photos could not be saved. Please ask the lobby officer."
    )
    assert kiosk.view.lobby.sending == ""
    assert kiosk.visit is None or kiosk.visit.joined_at is None
    assert kiosk.outbox.of("captures_not_kept") == [{"visit_id": "v1", "count": 3}]
    assert camera.latest_frame() is None


# --- walking away -----------------------------------------------------------------------------


def test_a_visitor_who_walks_away_is_warned_then_everything_is_erased(
    make_lobby, camera: SimulatedCamera, clock: FakeClock
) -> None:
    kiosk = make_lobby(kind="privileged")

    async def scenario() -> Any:
        await check_in(kiosk)
        await take_and_accept(kiosk, camera, ID)
        await take(kiosk, camera, good_picture(CREDENTIAL))  # a still under review
        return kiosk.lobby.capture

    capture = asyncio.run(scenario())

    walk_away(kiosk, clock, 59)
    assert kiosk.view.lobby.still_there == ""
    walk_away(kiosk, clock, 1)
    lobby = kiosk.view.lobby
    assert lobby.still_there == ERASED_IN.format(time="0:15")
    assert lobby.still_there_detail == "Touch the screen to continue."
    assert kiosk.view.screen == "capture"

    kiosk.lobby_intent("touched")  # still there: the countdown starts again
    assert kiosk.view.lobby.still_there == ""
    walk_away(kiosk, clock, 60)
    assert kiosk.view.lobby.still_there == ERASED_IN.format(time="0:15")
    walk_away(kiosk, clock, 10)
    assert kiosk.view.lobby.still_there == ERASED_IN.format(time="0:05")
    assert kiosk.view.screen == "capture"
    walk_away(kiosk, clock, 5)

    assert kiosk.view.screen == "idle"
    assert kiosk.view.lobby.still_there == ""
    assert kiosk.lobby.capture is None and kiosk.lobby.check_in is None
    assert capture.still() is None
    assert all(capture.accepted_picture(p) is None for p in (ID, CREDENTIAL, FACE))
    assert capture_payloads(kiosk) == []
    assert kiosk.outbox.of("visitor_walked_away") == [{"stage": "capture"}]
    assert kiosk.visit is None or kiosk.visit.joined_at is None
    assert camera.latest_frame() is None
    assert camera.state != DeviceState.OK  # stopped, not just between frames


def test_a_visitor_who_walks_away_from_the_keypad_leaves_nothing_typed(
    make_lobby, clock: FakeClock
) -> None:
    kiosk = make_lobby()
    assert kiosk.begin_check_in()
    for ch in CODE:
        kiosk.lobby_intent("key", ch)
    walk_away(kiosk, clock, 60)
    assert kiosk.view.lobby.still_there == ERASED_IN.format(time="0:15")
    assert kiosk.view.lobby.check_in.code == CODE
    walk_away(kiosk, clock, 15)
    assert kiosk.view.screen == "idle"
    assert kiosk.outbox.of("visitor_walked_away") == [{"stage": "check_in"}]
    assert kiosk.begin_check_in()
    assert kiosk.view.lobby.check_in.code == ""


def test_leaving_while_the_camera_is_still_opening_turns_it_off(
    make_lobby, camera: SimulatedCamera
) -> None:
    kiosk = make_lobby(kind="privileged")

    async def scenario() -> None:
        await check_in(kiosk)
        kiosk.lobby_intent("leave")  # at once: the camera may still be starting
        assert kiosk.view.screen == "idle"
        await until(lambda: camera.state != DeviceState.OK, 5.0, "the camera stopping")
        await asyncio.sleep(0.2)  # a few frame periods: a frame would come in them, none may
        assert camera.latest_frame() is None

    asyncio.run(scenario())
    assert camera.state != DeviceState.OK


def test_a_lockdown_during_the_photos_erases_them(make_lobby, camera: SimulatedCamera) -> None:
    kiosk = make_lobby(kind="privileged")

    async def scenario() -> Any:
        await check_in(kiosk)
        await take_and_accept(kiosk, camera, ID)
        return kiosk.lobby.capture

    capture = asyncio.run(scenario())
    kiosk.receive(
        inbound_event("notice", {"notice_id": "n-1", "text": "Lockdown", "severity": "lockdown"})
    )
    kiosk.tick()
    assert kiosk.view.screen == "idle"
    assert kiosk.view.prompt == "Check-in is paused"
    assert kiosk.lobby.capture is None
    assert capture.accepted_picture(ID) is None
    assert capture_payloads(kiosk) == []
    assert kiosk.visit is None or kiosk.visit.joined_at is None
    assert camera.latest_frame() is None


def test_a_visit_cancelled_while_the_photos_are_taken_is_not_joined(
    make_lobby, camera: SimulatedCamera
) -> None:
    kiosk = make_lobby(captures="visitor_face")

    async def scenario() -> None:
        await check_in(kiosk)
        await to_summary(kiosk, camera)

    asyncio.run(scenario())
    cancelled = visit_row(
        VISIT_START,
        visit_id="v1",
        kind="onsite",
        status="cancelled",
        visitor_name="Ana de la Cruz",
        code_verifier=verifier(CODE),
        captures="visitor_face",
    )
    assert kiosk.apply_schedule(2, [cancelled])
    kiosk.tick()
    kiosk.lobby_intent("submit")
    assert kiosk.outbox.of("visit_joined") == []
    assert kiosk.view.screen == "idle"
    # Told why, and nothing of the visitor kept for a visit that will not happen.
    assert "This visit was cancelled" in kiosk.view.lobby.problem
    queued = kiosk.database.execute("SELECT count(*) FROM outbox WHERE topic LIKE '%/captures'")
    assert queued.fetchone()[0] == 0
