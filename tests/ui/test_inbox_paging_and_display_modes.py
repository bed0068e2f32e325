"""The inbox pages from SQLite as the resident scrolls; larger text and high contrast."""

from __future__ import annotations

import pytest

from kiosk.sync.inbound import inbound_event
from tests.ui.housing import JOHNSON, demo_kiosk, press, sign_in_by_keypad, visible_rows

pytestmark = pytest.mark.ui
MESSAGES = 500


def _add_messages(kiosk, count: int) -> None:
    rows = [
        (
            f"m-bulk-{n:05d}",
            JOHNSON,
            "in",
            "c-9",
            "K. Sender",
            f"2026-11-{1 + n // 1440:02d}T{(n // 60) % 24:02d}:{n % 60:02d}:00.000Z",
            f"Bulk message number {n}",
            "delivered",
        )
        for n in range(count)
    ]
    kiosk.database.executemany(
        "INSERT INTO messages (message_id, inmate_id, direction, contact_id, contact_name, "
        "sent_at, body, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    kiosk.receive(inbound_event("message", None))


def test_scrolling_to_the_end_of_the_inbox_loads_the_older_messages(ui, tmp_path, clock):
    kiosk = demo_kiosk(tmp_path, clock)
    _add_messages(kiosk, MESSAGES)

    async def scenario(person):
        await sign_in_by_keypad(person, JOHNSON)
        inbox = person.screen("inbox")
        rows = inbox.ids.rows
        await person.until(lambda: rows.layout_manager.children)
        first_page = len(rows.data)
        assert first_page < MESSAGES  # paged: not everything read at sign-in
        # The newest first: Johnson's own demo message, then the bulk from the newest down.
        assert visible_rows(person)[0].first_line != "Bulk message number 0"
        for _ in range(40):
            if len(rows.data) >= MESSAGES + 1:
                break
            before = len(rows.data)
            rows.scroll_y = 0.02  # the resident drags to the end of the list
            await person.frames(2)
            after = len(rows.data)
            if after > before:
                # The rows in view stay in view: the list does not jump to the new end.
                row_height = rows.layout_manager.default_size[1]
                was_from_top = 0.98 * (before * row_height - rows.height)
                now_from_top = (1 - rows.scroll_y) * (after * row_height - rows.height)
                assert abs(now_from_top - was_from_top) < row_height
            rows.scroll_y = 0.0
            await person.frames(2)
        assert len(rows.data) == MESSAGES + 1  # every message, each once
        assert len({row["message_id"] for row in rows.data}) == MESSAGES + 1
        rows.scroll_y = 0
        await person.frames(3)
        bottom = sorted(rows.layout_manager.children, key=lambda row: row.y)[0]
        assert bottom.first_line == "Bulk message number 0"  # the oldest, last

    try:
        ui(kiosk, scenario)
    finally:
        kiosk.close()


def test_larger_text_and_high_contrast_apply_at_once_and_end_with_the_session(ui, tmp_path, clock):
    kiosk = demo_kiosk(tmp_path, clock)

    async def scenario(person):
        app = person.app
        await sign_in_by_keypad(person, JOHNSON)
        inbox = person.screen("inbox")
        header = inbox.ids.header
        name = inbox.ids.session_bar.ids.resident_name
        size_before = name.font_size
        background_before = list(app.theme.background)

        await press(person, header.ids.large_text)
        await person.frames(2)
        assert name.font_size > size_before * 1.2
        assert header.ids.large_text.active

        await press(person, header.ids.high_contrast)
        await person.frames(2)
        assert list(app.theme.background)[:3] == [0, 0, 0]  # white on black
        assert list(name.color)[:3] == [1, 1, 1]
        assert header.ids.high_contrast.active

        await press(person, inbox.ids.session_bar.ids.sign_out)
        await person.until(lambda: app.root.current == "idle")
        # A resident's choices leave with them: the next one starts from the defaults.
        assert list(app.theme.background) == background_before
        assert not app.theme.large_text and not app.theme.high_contrast
        assert person.screen("idle").ids.header.ids.large_text.active is False

    try:
        ui(kiosk, scenario)
    finally:
        kiosk.close()
