"""A privileged visitor's three photos at a lobby station, as the visitor sees them: the live
preview, Take picture, the still's checks with Accept or Retake, the photo review with Submit,
the photos' progress to the facility on the visit screen, and a visitor who walks away in the
middle (warned, then everything erased). Every step is a touch on the real widgets; the
simulated camera is held up to a generated ID card or room."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import numpy as np
import pytest

from hardware.simulated.scenes import document_scene, face_scene
from tests.ui.lobby import (
    begin_check_in,
    check_in,
    database_rows_holding,
    everything_held,
    images_held,
    lobby_kiosk,
    press,
    verifier,
)
from tests.visits import visit_row

pytestmark = pytest.mark.ui

CODE = "K7Q2"
TYPED_NAME = "delacruz"  # "Ana de la Cruz" as one word: nowhere in the schedule spelled so
NO_FACE = "We could not see a face. Look straight at the camera and take it again."
SEVERAL_FACES = "We see more than one face. Only you should be in the picture."
BLURRED = "The picture is blurred. Hold the card still, a little farther away."
GLARE = "There is glare on the card. Tilt it a little and take it again."
IS_IT_CLEAR = "Is the picture clear? Touch Accept, or Retake."
TITLES = (
    "Photo 1 of 3: Your photo ID",
    "Photo 2 of 3: Your bar card, department ID or badge",
    "Photo 3 of 3: Your face",
)
PURPOSES = ("visitor_id", "visitor_credential", "visitor_face")


def accept_offered(capture) -> bool:
    """Accept is on the screen (it is put there only for a still that passed its checks)."""
    return capture.ids.accept.parent is not None


@pytest.fixture
def kiosk(tmp_path, clock):
    """A lobby station whose attorney visit (privileged: three photos) is open for check-in."""
    row = visit_row(
        clock.now() + timedelta(minutes=5),
        30,
        visit_id="v-attorney",
        kind="privileged",
        inmate_name="M. Okafor",
        visitor_name="Ana de la Cruz",
        code_verifier=verifier(CODE),
    )
    kiosk = lobby_kiosk(tmp_path, clock, [row])
    yield kiosk
    kiosk.close()


def pictures(camera):
    """Generated pictures at the camera's own size, by what they show."""
    width, height = camera.width, camera.height
    return {
        "card": document_scene(width, height),
        "blurred card": document_scene(width, height, blur=6),
        "card with glare": document_scene(width, height, overexpose=True),
        "one face": face_scene(width, height, faces=1),
        "empty room": face_scene(width, height, faces=0),
        "two faces": face_scene(width, height, faces=2),
    }


async def to_capture(person):
    """Check in with the code and the last name; returns the capture screen."""
    screen = await begin_check_in(person)
    await check_in(person, screen, CODE, *TYPED_NAME)
    await person.until(lambda: person.app.root.current == "capture", timeout=10)
    capture = person.screen("capture")
    await person.until(lambda: capture.title == TITLES[0])
    return capture


async def hold_up(person, camera, picture):
    """``picture`` in front of the lens, until the camera delivers it."""
    camera.hold(picture)

    def delivered():
        frame = camera.latest_frame()
        return frame is not None and np.array_equal(frame.image, picture)

    await person.until(delivered)  # and, a frame later, the preview has drawn it


async def take(person, capture):
    """Take picture; returns once the still has been checked."""
    assert capture.stage == "preview"
    await press(person, capture.ids.take)
    await person.until(lambda: capture.stage == "still", timeout=10)


async def take_good(person, capture, camera, picture, step):
    """Take a picture that passes, then Accept it."""
    await hold_up(person, camera, picture)
    await take(person, capture)
    assert capture.problem == "" and accept_offered(capture)
    await press(person, capture.ids.accept)
    if step < 3:
        await person.until(lambda: capture.title == TITLES[step] and capture.stage == "preview")


def shown_instruction(capture):
    return capture.ids.instruction.text


def picture_pixels(capture):
    texture = capture.ids.picture.texture
    return None if texture is None else bytes(texture.pixels)


def test_each_still_is_checked_before_it_can_be_accepted(ui, kiosk):
    camera = kiosk.devices.camera
    shots = pictures(camera)

    async def scenario(person):
        app = person.app
        capture = await to_capture(person)
        assert capture.frame_shape == "card"
        assert shown_instruction(capture).startswith("Hold your government photo ID")

        # The ID: blurred, then with glare; each can only be retaken.
        await hold_up(person, camera, shots["blurred card"])
        await take(person, capture)
        assert shown_instruction(capture) == BLURRED
        # Only Retake is offered: Accept is not on the screen to be touched.
        assert not accept_offered(capture) and capture.ids.retake.parent is not None
        assert capture.stage == "still" and app.root.current == "capture"
        still = picture_pixels(capture)

        # Retake: the live preview again, changing as the camera's frames arrive.
        camera.hold(None)  # the room as the camera sees it, clock and moving box included
        await press(person, capture.ids.retake)
        await person.until(lambda: capture.stage == "preview")
        assert capture.ids.take.opacity == 1 and not capture.ids.take.disabled
        assert shown_instruction(capture).startswith("Hold your government photo ID")
        await person.until(lambda: picture_pixels(capture) != still)
        first = picture_pixels(capture)
        await person.until(lambda: picture_pixels(capture) != first)

        await hold_up(person, camera, shots["card with glare"])
        await take(person, capture)
        assert shown_instruction(capture) == GLARE
        assert not accept_offered(capture)
        await press(person, capture.ids.retake)
        await person.until(lambda: capture.stage == "preview")

        await hold_up(person, camera, shots["card"])
        await take(person, capture)
        assert shown_instruction(capture) == IS_IT_CLEAR
        assert capture.problem == "" and accept_offered(capture)
        await press(person, capture.ids.accept)
        await person.until(lambda: capture.title == TITLES[1])

        await take_good(person, capture, camera, shots["card"], step=2)
        assert capture.frame_shape == "face"
        assert shown_instruction(capture) == (
            "Look at the camera and keep your face inside the oval. Only you."
        )

        # The face: nobody, then two people; then only the visitor.
        await hold_up(person, camera, shots["empty room"])
        await take(person, capture)
        assert shown_instruction(capture) == NO_FACE
        assert not accept_offered(capture)
        await press(person, capture.ids.retake)
        await person.until(lambda: capture.stage == "preview")

        await hold_up(person, camera, shots["two faces"])
        await take(person, capture)
        assert shown_instruction(capture) == SEVERAL_FACES
        assert not accept_offered(capture)
        await press(person, capture.ids.retake)
        await person.until(lambda: capture.stage == "preview")

        await hold_up(person, camera, shots["one face"])
        await take(person, capture)
        assert shown_instruction(capture) == IS_IT_CLEAR
        assert accept_offered(capture)
        await press(person, capture.ids.accept)
        await person.until(lambda: app.root.current == "photo_review")

    ui(kiosk, scenario)


def test_review_retake_one_then_submit_and_see_the_photos_leave(ui, kiosk, clock):

    camera = kiosk.devices.camera
    shots = pictures(camera)

    def review_cards(review):
        return list(reversed(review.ids.photos.children))  # left to right

    async def scenario(person):
        app = person.app
        capture = await to_capture(person)
        await take_good(person, capture, camera, shots["card"], step=1)
        await take_good(person, capture, camera, shots["card"], step=2)
        await take_good(person, capture, camera, shots["one face"], step=3)
        await person.until(lambda: app.root.current == "photo_review")
        review = person.screen("photo_review")
        await person.until(lambda: len(review.ids.photos.children) == 3)
        await person.frames(2)
        assert review.ids.title.text == "Check your photos"
        cards = review_cards(review)
        assert [card.label for card in cards] == [title.split(": ")[1] for title in TITLES]
        assert all(card.ids.picture.texture is not None for card in cards)
        assert [card.ids.picture.texture.size for card in cards] == [
            (camera.width, camera.height)
        ] * 3

        # Retake under the bar card: back to that photo, and to the review once accepted.
        await press(person, cards[1].children[0])  # its Retake button, under the label
        await person.until(lambda: app.root.current == "capture")
        await person.until(lambda: capture.title == TITLES[1] and capture.stage == "preview")
        await take_good(person, capture, camera, shots["card"], step=3)
        await person.until(lambda: app.root.current == "photo_review")
        await person.until(lambda: len(review.ids.photos.children) == 3)
        cards = review_cards(review)
        assert [card.purpose for card in cards] == list(PURPOSES)
        assert all(card.ids.picture.texture is not None for card in cards)

        await press(person, review.ids.submit)
        await person.until(lambda: app.root.current == "visit", timeout=10)
        rows = kiosk.database.execute("SELECT seq, topic, payload FROM outbox").fetchall()
        assert len(rows) == 3
        payloads = [json.loads(payload) for _seq, _topic, payload in rows]
        assert all(topic.endswith("/up/captures") for _seq, topic, _payload in rows)
        assert sorted(p["purpose"] for p in payloads) == sorted(PURPOSES)
        for payload in payloads:
            assert payload["visit_id"] == "v-attorney"
            assert payload["mime"] == "image/jpeg"
            assert base64.b64decode(payload["data_b64"]).startswith(b"\xff\xd8\xff")

        # The photos have left the screens with the capture: none stays in a texture.
        camera_size = (camera.width, camera.height)
        assert not any(texture.size == camera_size for texture in images_held(app))
        visit = person.screen("visit")
        await person.until(lambda: visit.ids.photos.text != "")
        assert visit.ids.photos.text == "Sending your photos: 0 of 3 sent"
        assert visit.ids.title.text == "Your visit with M. Okafor"
        assert "Sending your photos: 0 of 3 sent" in person.texts()

        # The broker acknowledges them (PUBACK): the outbox lets them go.
        outbox = kiosk.outbox.inner.repository
        seqs = sorted(seq for seq, _topic, _payload in rows)
        outbox.delete(seqs[:1])
        kiosk.tick()
        await person.until(lambda: visit.ids.photos.text == "Sending your photos: 1 of 3 sent")
        outbox.delete(seqs[1:])
        kiosk.tick()
        await person.until(lambda: visit.ids.photos.text == "Your photos have been sent.")
        assert "Your photos have been sent." in person.texts()

    ui(kiosk, scenario)


def test_a_visitor_who_walks_away_mid_capture_is_warned_then_erased(ui, kiosk, clock):
    camera = kiosk.devices.camera
    shots = pictures(camera)
    camera_size = (camera.width, camera.height)

    async def scenario(person):
        app = person.app
        capture = await to_capture(person)
        await take_good(person, capture, camera, shots["card"], step=1)
        await hold_up(person, camera, shots["card"])
        assert any(texture.size == camera_size for texture in images_held(app))  # the preview

        # A minute untouched: the warning, with the time left before everything is erased.
        clock.advance(61)
        kiosk.tick()
        await person.until(lambda: app._still_there is not None and app._still_there.parent)
        warning = app._still_there
        assert warning.ids.title.text == "Are you still there?"
        assert warning.ids.countdown.text == "Everything you entered will be erased in 0:14."
        assert "Everything you entered will be erased in 0:14." in person.texts()

        # "I'm still here": the warning goes and nothing is lost.
        await press(person, warning.ids.still_here)
        await person.until(lambda: warning.parent is None)
        assert app.root.current == "capture" and capture.title == TITLES[1]
        clock.advance(14)
        kiosk.tick()
        await person.frames(2)
        assert app.root.current == "capture" and not warning.parent
        await press(person, capture.ids.back)  # the ID photo is still there to look at again
        await person.until(lambda: capture.title == TITLES[0] and capture.stage == "still")
        assert accept_offered(capture)
        await press(person, capture.ids.accept)
        await person.until(lambda: capture.title == TITLES[1] and capture.stage == "preview")
        await person.frames(2)

        # Then they walk away: warned again, and 15 seconds later the station is idle.
        clock.advance(61)
        kiosk.tick()
        await person.until(lambda: app._still_there is not None and app._still_there.parent)
        clock.advance(15)
        kiosk.tick()
        await person.until(lambda: app.root.current == "idle")
        await person.frames(2)
        assert app._still_there is None or app._still_there.parent is None

        # Nothing of the visitor is left: not in any widget, texture or table, nor the camera.
        held = [text.casefold() for text in everything_held(app)]
        assert not any(CODE.casefold() in text for text in held)
        assert not any(TYPED_NAME in text for text in held)
        assert not any(texture.size == camera_size for texture in images_held(app))
        captures = kiosk.database.execute(
            "SELECT count(*) FROM outbox WHERE topic LIKE '%/up/captures'"
        ).fetchone()[0]
        assert captures == 0
        assert database_rows_holding(kiosk.database, "de la Cruz")  # the schedule's, as booked
        assert database_rows_holding(kiosk.database, TYPED_NAME) == []
        assert database_rows_holding(kiosk.database, CODE) == []
        assert kiosk.lobby.capture is None and kiosk.lobby.check_in is None
        await person.until(lambda: camera.latest_frame() is None)

    ui(kiosk, scenario)
