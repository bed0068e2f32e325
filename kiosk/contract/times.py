"""The contract's time text: ISO 8601 in UTC with a ``Z``, to the millisecond.

Apart from the models so that what only writes a time (the core, the store's ordering) does not
load pydantic.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_text(moment: datetime) -> str:
    """``2026-11-23T19:00:00.000Z``: one fixed width, so text order is time order."""
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ValueError("time must be an aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
