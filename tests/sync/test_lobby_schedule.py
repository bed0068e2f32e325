"""What a lobby needs of a schedule's visits (the extension fields ``visitor.first_visit``,
``visitor.captures`` and ``station``), through the sync layer's own inbox into the store, and
back out as the core's ``Visit``.

Payloads go through ``SyncService.inbox`` exactly as the link hands them over (no broker: the
link is a stand-in that records acknowledgements); rejections become the ``payload_rejected``
event in the outbox, as the cloud would receive it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from cloudsim.broker import free_port
from kiosk.assembly import build_kiosk
from kiosk.contract.times import utc_text
from kiosk.core.clock import FakeClock
from kiosk.core.credentials import make_verifier
from kiosk.core.kiosk import Kiosk
from kiosk.core.visits import Visit
from kiosk.store.outbox import OutboxRepository
from kiosk.store.pepper import CODE_VERIFIER
from kiosk.store.schedule import ScheduleRepository
from kiosk.store.sealed_secrets import SealedSecrets
from kiosk.sync.inbound import inbound_event
from kiosk.sync.incoming import Incoming
from kiosk.sync.service import SyncService
from tests.conftest import make_config
from tests.core.residents import START
from tests.waiting import until

ID, CREDENTIAL, FACE = "visitor_id", "visitor_credential", "visitor_face"


@cache
def verifier(code: str) -> str:
    return make_verifier(code)


class FakeLink:
    def __init__(self) -> None:
        self.acked: list[Incoming] = []

    def ack(self, incoming: Incoming) -> None:
        self.acked.append(incoming)


@pytest.fixture
def lobby(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Kiosk, SyncService]]:
    # A broker address where nobody listens: nothing is sent, everything stays in the outbox.
    config = make_config(
        tmp_path, role="lobby", kiosk_id="lobby-01", brokers=(f"mqtt://127.0.0.1:{free_port()}",)
    )
    kiosk = build_kiosk(config, clock)
    yield kiosk, SyncService(kiosk, kiosk.outbox)
    kiosk.close()


def contract_visit(
    visit_id: str,
    *,
    kind: str = "onsite",
    status: str = "scheduled",
    visitor_name: str = "Ana de la Cruz",
    code: str | None = "K7Q2",
    **extensions: Any,
) -> dict[str, Any]:
    """A visit as the contract describes it; ``extensions`` go into ``visitor`` (first_visit,
    captures) or beside it (station)."""
    visitor: dict[str, Any] = {"display_name": visitor_name}
    if code is not None:
        visitor["confirmation_code_verifier"] = verifier(code)
    visit: dict[str, Any] = {
        "visit_id": visit_id,
        "starts_at": utc_text(START + timedelta(minutes=5)),
        "ends_at": utc_text(START + timedelta(minutes=35)),
        "kind": kind,
        "status": status,
        "inmate": {"inmate_id": "A1024", "display_name": "M. Alvarez"},
        "visitor": visitor,
        "peer": {"kiosk_id": "hu-b-01"},
    }
    if "station" in extensions:
        visit["station"] = extensions.pop("station")
    visitor.update(extensions)
    return visit


def schedule(version: int, *visits: dict[str, Any]) -> dict[str, Any]:
    return {"v": 1, "type": "schedule", "version": version, "visits": list(visits)}


def deliver(sync: SyncService, payload: dict[str, Any]) -> None:
    """A retained schedule, as the link hands it to the inbox; it must be acknowledged."""
    link = FakeLink()
    raw = json.dumps(payload).encode()
    sync.inbox.handle(link, Incoming(sync.topics.down("schedule"), raw, True, 1, 1, 0))
    assert len(link.acked) == 1  # applied or rejected, never delivered again


def stored_visits(kiosk: Kiosk) -> dict[str, Visit]:
    return {
        row["visit_id"]: Visit.from_row(row) for row in ScheduleRepository(kiosk.database).visits()
    }


def rejections(kiosk: Kiosk) -> list[dict[str, Any]]:
    """The ``payload_rejected`` events waiting in the outbox, as the cloud will read them."""
    events = [
        json.loads(record.payload)
        for record in OutboxRepository(kiosk.database, budget_bytes=1 << 30).pending()
        if record.topic.endswith("/up/events")
    ]
    return [event for event in events if event["kind"] == "payload_rejected"]


def test_the_lobby_fields_reach_the_store_and_come_back_in_the_visit(lobby) -> None:
    kiosk, sync = lobby
    visits = [
        contract_visit("v-first", first_visit=True, captures=[CREDENTIAL]),
        contract_visit("v-asked", visitor_name="B. Asked", captures=[FACE, ID, FACE]),
        contract_visit(
            "v-elsewhere",
            kind="privileged",
            visitor_name="C. Counsel",
            station={"kiosk_id": "lobby-02", "display_name": "Station 2"},
        ),
    ]
    deliver(sync, schedule(7, *visits))

    assert rejections(kiosk) == []
    assert kiosk.schedule_version == 7
    stored = stored_visits(kiosk)
    assert sorted(stored) == ["v-asked", "v-elsewhere", "v-first"]
    for sent in visits:
        visit = stored[sent["visit_id"]]
        visitor, station = sent["visitor"], sent.get("station")
        assert visit.visitor_name == visitor["display_name"]
        # Kept sealed under the pepper; opened, it is the one sent.
        opened = SealedSecrets(kiosk.database).verifier(visit.code_verifier, CODE_VERIFIER)
        assert opened == visitor["confirmation_code_verifier"]
        assert visit.first_visit is visitor.get("first_visit", False)
        assert visit.asked_captures == tuple(dict.fromkeys(visitor.get("captures", [])))
        assert visit.station_kiosk_id == (station["kiosk_id"] if station else None)
        assert visit.station_name == (station["display_name"] if station else None)

    # What the lobby makes of them.
    assert stored["v-first"].captures_required() == (ID, CREDENTIAL, FACE)
    assert stored["v-asked"].asked_captures == (FACE, ID)  # a repeat is asked once
    assert stored["v-asked"].captures_required() == (ID, FACE)  # in the lobby's order
    elsewhere = stored["v-elsewhere"]
    assert (elsewhere.held_at("lobby-01"), elsewhere.held_at("lobby-02")) == (False, True)


def test_a_visitor_at_the_wrong_station_is_sent_to_the_one_the_schedule_names(lobby) -> None:
    kiosk, sync = lobby
    deliver(
        sync,
        schedule(
            3,
            contract_visit(
                "v-elsewhere",
                code="S7AT",
                visitor_name="C. Counsel",
                station={"kiosk_id": "lobby-02", "display_name": "Station 2 (by the window)"},
            ),
        ),
    )
    kiosk.receive(inbound_event("schedule", 3))  # what the service does next, on the event loop

    async def scenario() -> None:
        assert kiosk.begin_check_in()
        for ch in "S7AT":
            kiosk.lobby_intent("key", ch)
        kiosk.lobby_intent("enter")
        for ch in "Counsel":
            kiosk.lobby_intent("key", ch)
        kiosk.lobby_intent("enter")
        await until(lambda: kiosk.view.lobby.check_in.step != "checking", 5, "the code check")

    asyncio.run(scenario())
    assert kiosk.view.lobby.check_in.message == (
        "Your visit is at Station 2 (by the window). Please check in there."
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda v: v["visitor"].update(captures=["visitor_fingerprint"]), "captures"),
        (lambda v: v["visitor"].update(captures=[ID, CREDENTIAL, FACE, ID]), "captures"),
        (lambda v: v["visitor"].update(captures="visitor_id"), "captures"),
        (lambda v: v["visitor"].update(first_visit="yes"), "first_visit"),
        (lambda v: v.update(station={"kiosk_id": "lobby-02"}), "display_name"),
        (lambda v: v.update(station="lobby-02"), "station"),
    ],
    ids=[
        "unknown_purpose",
        "too_many_captures",
        "captures_not_a_list",
        "first_visit_not_a_bool",
        "station_without_a_name",
        "station_not_an_object",
    ],
)
def test_a_schedule_breaking_the_lobby_fields_is_rejected_and_changes_nothing(
    lobby, change, field: str
) -> None:
    kiosk, sync = lobby
    deliver(sync, schedule(1, contract_visit("v-1", first_visit=True)))
    before = stored_visits(kiosk)

    bad = contract_visit("v-2", visitor_name="Visitor Fingerprint")
    change(bad)
    deliver(sync, schedule(2, contract_visit("v-1"), bad))

    assert kiosk.schedule_version == 1
    assert stored_visits(kiosk) == before
    assert sync.rejected_payloads == 1
    (event,) = rejections(kiosk)
    detail = event["detail"]
    assert detail["topic"] == sync.topics.down("schedule")
    assert detail["reason"].startswith("visits[1]")
    assert field in detail["reason"]
    assert "Fingerprint" not in json.dumps(event)  # the reason, never the payload itself


def test_a_schedule_in_the_contracts_own_shape_parses_with_the_defaults(lobby) -> None:
    kiosk, sync = lobby
    remote = contract_visit("v-remote", kind="remote", code=None)
    remote["peer"] = {}
    onsite = contract_visit("v-onsite")
    onsite["visitor"]["badge_photo"] = True  # a field the kiosk does not know: ignored
    deliver(sync, schedule(4, onsite, contract_visit("v-privileged", kind="privileged"), remote))

    assert rejections(kiosk) == []
    assert kiosk.schedule_version == 4
    stored = stored_visits(kiosk)
    for visit in stored.values():
        assert visit.first_visit is False
        assert visit.asked_captures == ()
        assert (visit.station_kiosk_id, visit.station_name) == (None, None)
        assert visit.held_at("lobby-01")
    assert stored["v-onsite"].captures_required() == ()
    assert stored["v-privileged"].captures_required() == (ID, CREDENTIAL, FACE)
    assert stored["v-remote"].code_verifier is None
