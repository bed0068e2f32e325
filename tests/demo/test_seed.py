"""The offline demo's seed: the demo facility delivered through the kiosk's inbox, agreeing
with what the demo's cloud publishes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from demo.cloud import publish_facility
from demo.facility import DEMO_BADGE_KEY, DEMO_BADGES, DEMO_CONFIRMATION_CODES, DEMO_PIN
from demo.seed import seed
from kiosk.contract.codec import build_downlink, dump
from kiosk.core.clock import FakeClock
from kiosk.core.credentials import badge_lookup, check_verifier
from kiosk.core.kiosk import Kiosk
from kiosk.store.pepper import CODE_VERIFIER
from kiosk.store.residents import ResidentsRepository
from kiosk.store.schedule import ScheduleRepository
from kiosk.store.sealed_secrets import SealedSecrets
from kiosk.store.snapshots import SnapshotRepository
from tests.conftest import make_config
from tests.kiosks import make_kiosk


class PublishedTo:
    """A cloud simulator that keeps what it is asked to publish, checked by the contract."""

    def __init__(self) -> None:
        self.payloads: dict[tuple[str, str], dict[str, Any]] = {}

    def publish_config(self, kiosk_id: str, **fields: Any) -> None:
        self._keep(kiosk_id, "config", fields)

    def publish_schedule(self, kiosk_id: str, version: int, visits: list) -> None:
        self._keep(kiosk_id, "schedule", {"version": version, "visits": visits})

    def publish_residents(self, kiosk_id: str, version: int, residents: list) -> None:
        self._keep(kiosk_id, "residents", {"version": version, "residents": residents})

    def schedule_version(self, kiosk_id: str) -> None:
        return None

    def residents_version(self, kiosk_id: str) -> None:
        return None

    def _keep(self, kiosk_id: str, kind: str, fields: dict[str, Any]) -> None:
        self.payloads[(kiosk_id, kind)] = dump(build_downlink(kind, **fields))


@pytest.fixture
def opened(tmp_path: Path, clock: FakeClock):
    kiosks: list[Kiosk] = []

    def open_kiosk(role: str = "housing") -> Kiosk:
        config = make_config(tmp_path / role, role=role)
        if role == "lobby":
            config = replace(config, kiosk_id="demo-lobby-01", housing_unit=None)
        kiosk = make_kiosk(config, clock)
        kiosks.append(kiosk)
        return kiosk

    yield open_kiosk
    for kiosk in kiosks:
        kiosk.close()


def stored(kiosk: Kiosk, kind: str) -> dict[str, Any]:
    """The snapshot the inbox committed, as the cloud's payload."""
    return json.loads(SnapshotRepository(kiosk.database).get(kind).payload)


def test_the_seed_stores_what_the_demos_cloud_publishes(opened, clock: FakeClock) -> None:
    housing, lobby = opened("housing"), opened("lobby")
    seed(housing)
    seed(lobby)
    cloud = PublishedTo()
    publish_facility(cloud, "demo-hu-01", "demo-lobby-01", messages=False, now=clock.now())
    # The demo's own cloud has the housing kiosk alone: its family visit is remote there too.
    alone = PublishedTo()
    publish_facility(alone, "demo-hu-01", None, messages=False, now=clock.now())

    # The stored text keeps no verifier (the rows keep it, sealed): the rest is as published.
    seeded = stored(housing, "residents")["residents"]
    published = cloud.payloads[("demo-hu-01", "residents")]["residents"]
    assert seeded == [{k: v for k, v in r.items() if k != "pin_verifier"} for r in published]
    secrets = SealedSecrets(housing.database)
    residents = ResidentsRepository(housing.database)
    for sent in published:
        kept = residents.by_inmate_id(sent["inmate_id"])["pin_verifier"]
        assert check_verifier(DEMO_PIN, secrets.verifier(kept))
    for kiosk, kiosk_id, online_cloud in (
        (housing, "demo-hu-01", alone),
        (lobby, "demo-lobby-01", cloud),
    ):
        offline = stored(kiosk, "schedule")["visits"]
        online = online_cloud.payloads[(kiosk_id, "schedule")]["visits"]
        same = ("visit_id", "starts_at", "ends_at", "kind", "status", "inmate", "peer")
        assert [{k: v[k] for k in same} for v in offline] == [
            {k: v[k] for k in same} for v in online
        ]
    # Only the housing kiosk alone, with no lobby to pair with, holds a family visit as remote,
    # with no peer kiosk (the cloud's media gateway answers it); paired, it is on site.
    alone_visits = stored(housing, "schedule")["visits"]
    assert [v["kind"] for v in alone_visits] == ["remote", "onsite", "remote"]
    assert [v["peer"] for v in alone_visits] == [{}, {"kiosk_id": "demo-lobby-01"}, {}]
    paired = cloud.payloads[("demo-hu-01", "schedule")]["visits"]
    assert [v["kind"] for v in paired] == ["onsite", "onsite", "onsite"]
    lobby_visits = stored(lobby, "schedule")["visits"]
    assert [v["kind"] for v in lobby_visits] == ["onsite", "onsite", "onsite", "privileged"]
    lobby_secrets = SealedSecrets(lobby.database)
    for visit in ScheduleRepository(lobby.database).visits():
        code = DEMO_CONFIRMATION_CODES[visit["visit_id"]]
        kept = lobby_secrets.verifier(visit["confirmation_code_verifier"], CODE_VERIFIER)
        assert check_verifier(code, kept)


def test_the_seed_configures_badges_and_keeps_the_kiosks_names(opened) -> None:
    housing = opened("housing")
    seed(housing)

    config = stored(housing, "config")
    assert config["kiosk_name"] == housing.config.kiosk_name
    assert config["technicians"][0]["display_name"] == "J. Ruiz"
    assert SealedSecrets(housing.database).badge_key(housing.settings.badge_key) == DEMO_BADGE_KEY
    resident = ResidentsRepository(housing.database).by_badge_lookup(
        badge_lookup(DEMO_BADGES[1], DEMO_BADGE_KEY)
    )
    assert resident is not None and resident["display_name"] == "D. Johnson"


def test_a_restarted_demo_keeps_its_messages_once_and_its_balances(opened, clock) -> None:
    housing = opened("housing")
    seed(housing)
    residents = ResidentsRepository(housing.database)
    assert residents.take_credit("A1024") is True  # a message sent: 12 credits, now 11

    clock.advance(3600)
    seed(housing)  # the demo started again an hour later

    assert Database(housing.database)["messages"].count == 3
    assert Database(housing.database)["photos"].count == 1
    assert residents.by_inmate_id("A1024")["message_credits"] == 11
    assert housing.view.notice.time.startswith("2:25")  # the schedule is delivered anew


def test_a_lobby_gets_no_residents_and_no_messages(opened) -> None:
    lobby = opened("lobby")
    seed(lobby)

    assert lobby.residents_version is None
    assert Database(lobby.database)["messages"].count == 0
    assert Database(lobby.database)["visits"].count == 4
