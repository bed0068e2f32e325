"""Messages and the facility cloud in the real app under Xvfb, through a real Mosquitto and the
cloud simulator: a message sent and its state changing on screen, a rejection with its reason
and refund, and a message arriving while the inbox is open."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from cloudsim.broker import LocalBroker
from cloudsim.sim import CloudSim
from demo.facility import DEMO_BADGE_KEY, MAILBOX
from kiosk.sync.service import SyncService
from tests.on_disk import readable_on_disk
from tests.ui.housing import (
    ALVAREZ,
    ALVAREZ_BADGE,
    demo_kiosk,
    es,
    sign_in_by_badge,
    type_keys,
    visible_rows,
)

pytestmark = pytest.mark.ui
KIOSK_ID = "hu-ui-msg"
REFUSED = "photos of people are not allowed"
ARRIVED = "Llegamos el sábado a las diez."


@pytest.fixture
def broker(tmp_path):
    with LocalBroker(tmp_path / "broker") as running:
        yield running


def _policy(message):
    """Staff reject a message that mentions a photo; they approve the rest."""
    return REFUSED if "foto" in message["body"] else None


def test_sent_messages_change_state_on_screen_and_new_ones_arrive(ui, tmp_path, clock, broker):
    kiosk = demo_kiosk(tmp_path, clock, brokers=(broker.url,), kiosk_id=KIOSK_ID, facility_id="f1")
    cloud = CloudSim(
        broker.url, "f1", policy=_policy, approve_delay=1.0, session_expiry_s=600
    ).start()

    async def scenario(person):
        screens = person.app.root
        sync = SyncService(kiosk, kiosk.outbox.inner)
        sync.start()
        try:
            idle = person.screen("idle")
            await person.until(lambda: idle.ids.connection.text == "Connected to the facility", 15)
            await sign_in_by_badge(person, kiosk, ALVAREZ_BADGE)
            inbox = person.screen("inbox")
            credits = inbox.ids.session_bar.ids.credits

            # Every state her message is shown in, as the inbox's rows change (the facility
            # answers faster than a person looks).
            shown = []

            def rows_changed(_rows, data):
                for row in data:
                    if row["first_line"] == "hola" and row["status"] not in shown[-1:]:
                        shown.append(row["status"])

            inbox.ids.rows.bind(data=rows_changed)

            # Waiting to send, and then, as the facility answers, received and approved.
            await _reply(person, "hola")
            top = visible_rows(person)[0]
            assert top.first_line == "hola"
            assert top.who == "Para R. Alvarez"
            assert credits.text == "11 créditos"
            await person.until(lambda: _top(person).status == es("Approved"), 10)
            assert _top(person).first_line == "hola"
            assert "Aprobado" in person.texts()
            assert shown[0] == "Esperando para enviar"
            assert shown[-2:] == [es("Received by the facility"), "Aprobado"]
            assert set(shown) <= {
                es(words) for words in ("Waiting to send", "Sent", "Received by the facility")
            } | {"Aprobado"}
            assert [r["body"] for r in cloud.received("outbox", KIOSK_ID)] == ["hola"]

            # Not approved: the reason and the refund on the message itself, as they arrive.
            clock.advance(2)  # written a little later (the fake clock stands still otherwise)
            await _reply(person, "foto")
            assert _top(person).first_line == "foto"
            await person.tap(visible_rows(person)[0])
            await person.until(lambda: screens.current == "message")
            message = person.screen("message")
            assert message.ids.body.text == "foto"
            assert message.ids.who.text == es("To {name}").format(name="R. Alvarez")
            assert message.ids.reply.opacity == 0  # her own message: nothing to reply to
            detail = message.ids.status_detail
            await person.until(lambda: detail.text != "", 10)
            not_approved = es("Not approved: {reason}").format(reason=REFUSED)
            assert detail.text == f"{not_approved} Se devolvió 1 crédito."
            assert detail.opacity == 1 and detail.text in person.texts()
            assert message.ids.when.text.endswith(es("Not approved"))  # the state in words
            await person.tap(message.ids.back)
            await person.until(lambda: screens.current == "inbox")
            await person.frames(2)
            assert _top(person).status == es("Not approved")

            # A message for her arrives while her inbox is open: at the top, marked new.
            assert inbox.ids.unread.text == "1 mensaje nuevo"
            await asyncio.to_thread(
                cloud.send_message,
                KIOSK_ID,
                ALVAREZ,
                ARRIVED,
                from_contact=("c-1", "R. Alvarez"),
                sent_at=clock.now() + timedelta(minutes=1),
            )
            await person.until(lambda: _top(person).first_line.startswith("Llegamos"), 10)
            top = _top(person)
            assert top.who == es("From {name}").format(name="R. Alvarez")
            assert top.unread and top.unread_label == es("New")
            assert inbox.ids.unread.text == "2 mensajes nuevos"
            assert screens.current == "inbox"
        finally:
            await sync.stop()

    try:
        ui(kiosk, scenario)
    finally:
        cloud.stop()
        kiosk.close()
    # After her session: nothing she read or wrote is in clear on the kiosk's disk.
    planted = {
        "a message she read": MAILBOX[0][1].body.encode(),
        "one that came while she read": ARRIVED.encode(),
        "her name": b"M. Alvarez",
        "the badge key": DEMO_BADGE_KEY,
    }
    assert readable_on_disk(kiosk.config.data_dir, planted) == []


def _top(person):
    rows = visible_rows(person)
    return rows[0] if rows else None


async def _reply(person, text: str) -> None:
    """From the inbox: open the message from R. Alvarez, Reply, type ``text``, Send."""
    screens = person.app.root
    first_from_her = next(r for r in visible_rows(person) if r.message_id == "m-demo-1")
    await person.tap(first_from_her)
    await person.until(lambda: screens.current == "message")
    await person.tap(person.screen("message").ids.reply)
    await person.until(lambda: screens.current == "compose")
    compose = person.screen("compose")
    await type_keys(person, compose.ids.keyboard, *text)
    assert compose.ids.draft.text == text
    await person.tap(compose.ids.send)
    await person.until(lambda: screens.current == "inbox")
    await person.frames(2)
