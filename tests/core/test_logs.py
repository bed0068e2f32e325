"""The kiosk's logs hold no resident data: a technician reads them on the maintenance screen,
and the journal leaves the kiosk in a diagnostic bundle."""

from __future__ import annotations

import asyncio
import logging

from kiosk.config import KioskConfig
from kiosk.core.clock import FakeClock
from tests.core.residents import (
    JOHNSON,
    add_message,
    badge_attempt,
    open_kiosk,
    seed_residents,
    wait_out_pace,
)

BODY = "Tell grandma the garden looks great"


def test_a_whole_session_logs_nothing_of_the_resident(
    config: KioskConfig, clock: FakeClock, caplog
) -> None:
    inmate_id, booking, name, _language, pin, badge, _credits = JOHNSON
    kiosk = open_kiosk(config, clock)
    try:
        with caplog.at_level(logging.DEBUG):
            seed_residents(kiosk)
            add_message(kiosk, "m-1", inmate_id, "Hi from T. Johnson", contact=("c-9", "T. J."))
            # A wrong PIN first (logged as a failure, never with the PIN), then the right one.
            asyncio.run(badge_attempt(kiosk, clock, badge, "0000"))
            asyncio.run(badge_attempt(kiosk, clock, badge, pin))
            wait_out_pace(kiosk, clock)
            assert kiosk.session is not None
            kiosk.session_intent("open_message", "m-1")
            kiosk.session_intent("back")
            kiosk.session_intent("new_message")
            kiosk.session_intent("write_to", "c-9")
            kiosk.session_intent("set_draft", BODY)
            kiosk.session_intent("send")
            kiosk.sign_out("user")
        text = caplog.text
        assert caplog.records, "nothing was logged: the test would prove nothing"
        for secret in (inmate_id, booking, name, pin, badge, BODY, "Hi from T. Johnson"):
            assert secret not in text, f"{secret!r} reached the log"
    finally:
        kiosk.close()
