"""The media gateway as the simulator plays it: the family's page on one side, the kiosk on the
other, the call's handshake passed between them. Runs an aiohttp server in a thread of its own."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from cloudsim.family.remote import RemoteVisit

log = logging.getLogger(__name__)

PAGE = Path(__file__).with_name("page")
MAX_SIGNAL_BYTES = 64 * 1024
# A kiosk that knows its peer is ready offers this soon after its own `ready`.
OFFER_WITHIN_S = 1.0


class KioskSide(Protocol):
    """What the gateway needs of the cloud: the visit, and a way to signal its kiosk."""

    def remote_visit(self, visit_id: str) -> RemoteVisit | None: ...

    def send_gateway_signal(self, visit_id: str, kind: str, **fields: Any) -> None: ...

    def ice_servers_for(self, visit_id: str) -> list[dict[str, Any]]: ...

    def relay_only_for(self, visit_id: str) -> bool: ...


class FamilyGateway:
    """Serves the family's page and passes each remote visit's handshake; a context manager."""

    def __init__(self, cloud: KioskSide, host: str = "127.0.0.1", port: int = 0) -> None:
        self._cloud = cloud
        self._host, self._port = host, port
        self._codes: dict[str, str] = {}  # visit id -> the code in the family's link
        self._pages: dict[str, web.WebSocketResponse] = {}  # visit id -> the page open now
        self._ready: set[str] = set()  # visits whose page said it is ready (camera on)
        self._offered: set[str] = set()  # visits whose kiosk offered since its last `ready`
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: OSError | None = None
        # What pages said, for tests; the oldest go first, so a long demo stays small.
        self.received: deque[dict[str, Any]] = deque(maxlen=1000)

    # --- life cycle ---------------------------------------------------------------------

    def __enter__(self) -> FamilyGateway:
        self._thread = threading.Thread(target=self._serve, name="family-gateway", daemon=True)
        self._thread.start()
        if not self._started.wait(10) or self._error is not None:
            self.__exit__()
            raise RuntimeError(f"the family's page server did not start: {self._error}")
        return self

    def __exit__(self, *_exc: object) -> None:
        loop = self._loop
        if loop is not None and self._runner is not None and self._error is None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    @property
    def port(self) -> int:
        return self._port

    def link(self, visit_id: str) -> str:
        """The address a family member opens for this visit (as an email would give it)."""
        code = self._codes.setdefault(visit_id, secrets.token_urlsafe(12))
        return f"http://{self._host}:{self._port}/visit/{visit_id}?code={code}"

    def invite(self, visit_id: str, code: str) -> str:
        """The visit's link with a code chosen by the cloud (the demo's is in its README)."""
        self._codes[visit_id] = code
        return self.link(visit_id)

    def _serve(self) -> None:
        self._loop = loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = web.Application(client_max_size=MAX_SIGNAL_BYTES)
        app.router.add_get("/visit/{visit_id}", self._page)
        app.router.add_get("/visit/{visit_id}/ws", self._socket)
        app.router.add_static("/page/", PAGE)
        self._runner = web.AppRunner(app, access_log=None)
        try:
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, self._host, self._port)
            loop.run_until_complete(site.start())
        except OSError as error:  # the port is taken: say so, at once
            self._error = error
            self._started.set()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()
            return
        self._port = self._runner.addresses[0][1]  # the free port given
        self._started.set()
        loop.run_forever()
        loop.close()

    # --- the page -----------------------------------------------------------------------

    def _allowed(self, request: web.Request) -> RemoteVisit | None:
        visit_id = request.match_info["visit_id"]
        expected = self._codes.get(visit_id)
        given = request.query.get("code", "")
        if expected is None or not hmac.compare_digest(expected, given):
            return None
        return self._cloud.remote_visit(visit_id)

    async def _page(self, request: web.Request) -> web.StreamResponse:
        if self._allowed(request) is None:
            return web.Response(status=404, text="This visit link is not valid.")
        return web.FileResponse(PAGE / "visit.html")

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        visit = self._allowed(request)
        if visit is None:
            return web.Response(status=404)
        socket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_SIGNAL_BYTES)
        await socket.prepare(request)
        old = self._pages.get(visit.visit_id)
        self._pages[visit.visit_id] = socket  # a reloaded page takes the visit over
        if old is not None and not old.closed:
            await old.close()
        await socket.send_json(
            {
                "kind": "visit",
                "resident": visit.resident,
                "starts_at": visit.starts_at.isoformat(),
                "ends_at": visit.ends_at.isoformat(),
                "now_ms": round(time.time() * 1000),
                "privileged": visit.privileged,
                "ice_servers": self._cloud.ice_servers_for(visit.visit_id),
                "relay_only": self._cloud.relay_only_for(visit.visit_id),
            }
        )
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            self._from_page(visit, message.data)
        if self._pages.get(visit.visit_id) is socket:
            del self._pages[visit.visit_id]
            self._ready.discard(visit.visit_id)
        return socket

    def _from_page(self, visit: RemoteVisit, text: str) -> None:
        try:
            said = json.loads(text)
            kind = said["kind"]
        except (ValueError, KeyError, TypeError):
            log.warning("visit %s: the page sent something unreadable", visit.visit_id)
            return
        self.received.append(said)
        if kind == "ready":
            self._ready.add(visit.visit_id)
            self._cloud.send_gateway_signal(visit.visit_id, "ready")
        elif kind == "answer" and isinstance(said.get("sdp"), str):
            self._cloud.send_gateway_signal(visit.visit_id, "answer", sdp=said["sdp"])
        elif kind == "bye":
            self._cloud.send_gateway_signal(visit.visit_id, "bye", reason="hangup")

    # --- the kiosk ----------------------------------------------------------------------

    def from_kiosk(self, visit_id: str, signal: dict[str, Any]) -> None:
        """A signal the visit's kiosk sent (called on the cloud's network thread)."""
        loop = self._loop
        if loop is None:
            return
        wanted = {k: signal[k] for k in ("kind", "sdp", "reason") if signal.get(k) is not None}
        asyncio.run_coroutine_threadsafe(self._to_page(visit_id, wanted), loop)

    async def _to_page(self, visit_id: str, said: dict[str, Any]) -> None:
        if said["kind"] == "offer":
            self._offered.add(visit_id)
        elif said["kind"] == "ready" and visit_id in self._ready:
            # The resident joined after the family. A kiosk that heard the family's `ready`
            # offers at once; one that did not (it was not listening yet) is told again.
            self._offered.discard(visit_id)
            self._loop.call_later(OFFER_WITHIN_S, self._ready_again, visit_id)
        socket = self._pages.get(visit_id)
        if socket is None or socket.closed:
            log.info("visit %s: %s for a page not open", visit_id, said["kind"])
            return
        await socket.send_json(said)

    def _ready_again(self, visit_id: str) -> None:
        if visit_id in self._ready and visit_id not in self._offered:
            self._cloud.send_gateway_signal(visit_id, "ready")
