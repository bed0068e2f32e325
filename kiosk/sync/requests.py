"""Questions the cloud answers within seconds (the front desk's: an application's status, a
visitor's sign-in, a booking): each request is published directly, never queued (a late one
is worthless), and its answer comes on ``down/answer`` with the same ``request_id``.

Without a connection, or without an answer within the wait, ``ask`` gives None at once or at
the wait's end, and the screen says so in words; an answer that comes later is dropped.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kiosk.contract import builders
from kiosk.contract.codec import dump

WAIT_S = 10.0


class CloudRequests:
    def __init__(
        self,
        publish: Callable[[str, dict[str, Any]], None],
        connected: Callable[[], bool],
        now: Callable[[], datetime],
        *,
        wait_s: float = WAIT_S,
    ) -> None:
        self._publish = publish
        self._connected = connected
        self._now = now
        self.wait_s = wait_s
        self._waiting: dict[str, asyncio.Future[Any]] = {}

    async def ask(self, kind: str, **fields: Any) -> Any | None:
        """The cloud's ``answer`` to a ``kind`` request with ``fields``; None when offline or
        when no answer came within the wait. A field the contract refuses raises ValueError."""
        request_id = str(uuid.uuid4())
        payload = builders.request(request_id, kind, self._now(), **fields)
        if not self._connected():
            return None
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = answer
        try:
            self._publish("requests", payload)
            return await asyncio.wait_for(answer, self.wait_s)
        except TimeoutError:
            return None
        finally:
            self._waiting.pop(request_id, None)

    async def values(self, kind: str, **fields: Any) -> dict[str, Any] | None:
        """``ask``, the answer as plain values: what the core's front desk hears."""
        answer = await self.ask(kind, **fields)
        return None if answer is None else dump(answer)

    def answered(self, answer: Any) -> bool:
        """An answer arrived (on the event loop); False when nobody waits for it any more."""
        waiting = self._waiting.get(answer.request_id)
        if waiting is None or waiting.done():
            return False
        waiting.set_result(answer)
        return True

    @property
    def waiting(self) -> int:
        return len(self._waiting)
