"""The facility cloud for one facility, on a broker: it publishes what the cloud publishes, records
what kiosks send, and answers as the cloud does (message review, signalling relay).

This module plays the cloud's side of the contract (docs/protocol.md): what it publishes is
built with the contract's downlink models (``kiosk.contract``), and what kiosks send is checked
with its uplink models, the very ones the kiosk builds its payloads with.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import os
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cloudsim.family.remote import GATEWAY_ID, RemoteVisit
from cloudsim.front_desk import FacilityFrontDesk
from kiosk.contract import limits
from kiosk.contract.codec import (
    Rejected,
    build,
    build_downlink,
    decode,
    dump,
    encode,
    validate_uplink,
)
from kiosk.contract.connection import QOS
from kiosk.contract.downlink import Photo, Resident, Technician, Visit
from kiosk.contract.fields import Payload
from kiosk.contract.topics import (
    FACILITY_WIDE,
    UPLINK_ID_FIELDS,
    UPLINK_TYPES,
    Topics,
    parse_uplink_topic,
    uplink_filter,
)
from kiosk.core.credentials import badge_lookup, make_verifier

if TYPE_CHECKING:
    from cloudsim.family.gateway import FamilyGateway

Log = Callable[[str], Any]

DEFAULT_BADGE_KEY = b"cloudsim-badge-key"


class _Hold:
    def __repr__(self) -> str:
        return "HOLD"


# A policy returns this to leave a message at `received`, as if staff never decided.
HOLD: Final = _Hold()
# Gets the uplink message; returns None to approve, a reason to reject, or HOLD.
Policy = Callable[[dict[str, Any]], "str | _Hold | None"]


def default_policy(message: dict[str, Any]) -> str | None:
    """Reject a message whose body has the word REJECT; approve the rest."""
    if re.search(r"\bREJECT\b", str(message.get("body", ""))):
        return "content not allowed"
    return None


# --- parts of the contract's payloads ----------------------------------------------------------


def make_visit(
    visit_id: str,
    starts_at: datetime,
    minutes: int,
    kind: str,
    inmate_id: str,
    inmate_name: str,
    visitor_name: str,
    peer_kiosk_id: str | None = None,
    confirmation_code: str | None = None,
    status: str = "scheduled",
) -> dict[str, Any]:
    """One schedule entry; the confirmation code becomes its scrypt verifier (upper case)."""
    visitor: dict[str, Any] = {"display_name": visitor_name}
    if confirmation_code is not None:
        visitor["confirmation_code_verifier"] = make_verifier(confirmation_code.upper())
    visit = build(
        Visit,
        visit_id=visit_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        kind=kind,
        status=status,
        inmate={"inmate_id": inmate_id, "display_name": inmate_name},
        visitor=visitor,
        peer={"kiosk_id": peer_kiosk_id} if peer_kiosk_id else {},
    )
    return dump(visit)


def make_resident(
    inmate_id: str,
    booking_number: str,
    display_name: str,
    pin: str,
    badges: Iterable[str] = (),
    credits: int = 10,
    language: str = "en",
    badge_key: bytes = DEFAULT_BADGE_KEY,
) -> dict[str, Any]:
    """One residents entry; the PIN and badges are kept only as verifier and lookups."""
    resident = build(
        Resident,
        inmate_id=inmate_id,
        booking_number=booking_number,
        display_name=display_name,
        language=language,
        pin_verifier=make_verifier(pin),
        badge_lookups=[badge_lookup(badge.upper(), badge_key) for badge in badges],
        message_credits=credits,
    )
    return dump(resident)


def make_technician(
    technician_id: str,
    display_name: str,
    pin: str,
    badge: str,
    badge_key: bytes = DEFAULT_BADGE_KEY,
) -> dict[str, Any]:
    """One entry of the config's ``technicians``."""
    technician = build(
        Technician,
        technician_id=technician_id,
        display_name=display_name,
        badge_lookup=badge_lookup(badge.upper(), badge_key),
        pin_verifier=make_verifier(pin),
    )
    return dump(technician)


def photo_jpeg(index: int = 1, width: int = 320, height: int = 240) -> bytes:
    """A small generated JPEG: a gradient captioned "photo ``index``"."""
    import cv2  # only messages with photos need OpenCV; the CLI starts faster without it
    import numpy as np

    y, x = np.mgrid[0:height, 0:width]
    image = np.dstack(
        [x * 255 // width, y * 255 // height, np.full_like(x, (index * 70) % 256)]
    ).astype(np.uint8)
    cv2.putText(
        image,
        f"photo {index}",
        (20, height // 2),
        cv2.FONT_HERSHEY_SIMPLEX,
        1.2,
        (255, 255, 255),
        2,
        cv2.LINE_AA,
    )
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    return data.tobytes()


def make_photo(
    index: int = 1, width: int = 320, height: int = 240, *, jpeg: bytes | None = None
) -> dict[str, Any]:
    """An approved photo of a message: ``jpeg``, or a generated one (see ``photo_jpeg``)."""
    photo = build(
        Photo,
        photo_id=f"p-{uuid.uuid4().hex[:12]}",
        mime="image/jpeg",
        data_b64=base64.b64encode(jpeg or photo_jpeg(index, width, height)).decode(),
    )
    return dump(photo)


# --- what was received -----------------------------------------------------------------------


class Record(dict):
    """One uplink payload (the parsed JSON object) with where, when and how it arrived."""

    def __init__(
        self,
        payload: dict[str, Any],
        *,
        kiosk_id: str,
        kind: str,
        topic: str,
        retained: bool,
        at: float,
        duplicate: bool,
    ) -> None:
        super().__init__(payload)
        self.kiosk_id = kiosk_id
        self.kind = kind  # the uplink topic kind: status, telemetry, events, outbox, ...
        self.topic = topic
        self.retained = retained  # the MQTT retain flag as delivered
        self.at = at  # time.monotonic() on arrival
        self.duplicate = duplicate  # its id was seen before from the same kiosk

    def __repr__(self) -> str:
        flags = "".join(
            [" retained" if self.retained else "", " duplicate" if self.duplicate else ""]
        )
        return f"<Record {self.kiosk_id} {self.kind}{flags} {dict.__repr__(self)}>"


class _Later:
    """One worker thread running callables at their due time, in order of due time then call.

    Answers go through it so the network thread never sleeps or waits for a PUBACK.
    """

    def __init__(self, on_error: Callable[[BaseException], None]) -> None:
        self._on_error = on_error
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="cloudsim-answers", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def call(self, delay: float, action: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), action))
            self._cond.notify()

    def stop(self) -> int:
        """Stop; returns how many calls were still waiting (they are dropped)."""
        with self._cond:
            self._stopped = True
            pending = len(self._heap)
            self._heap.clear()
            self._cond.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        return pending

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    if self._heap and self._heap[0][0] <= time.monotonic():
                        action = heapq.heappop(self._heap)[2]
                        break
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(wait)
                else:
                    return
            try:
                action()
            except Exception as error:
                self._on_error(error)


# --- the simulator ---------------------------------------------------------------------------


class CloudSim:
    """The cloud of one facility: publish to kiosks, observe them, answer them."""

    def __init__(
        self,
        broker_url: str,
        facility_id: str,
        *,
        client_id: str | None = None,
        policy: Policy | None = None,
        log: Log | None = None,
        approve_delay: float = 0.5,
        badge_key: bytes = DEFAULT_BADGE_KEY,
        pepper: bytes | None = None,
        session_expiry_s: int = 0,
        keep_records: int | None = None,
        publish_timeout: float = 5.0,
    ) -> None:
        """``session_expiry_s`` > 0 keeps the broker session (uplinks queue while stopped);
        ``keep_records`` bounds what is kept for ``received`` in long runs. ``pepper``: the
        facility's, sent in each config (a new random one by default)."""
        url = urlparse(broker_url)
        try:
            port = url.port or (8883 if url.scheme == "mqtts" else 1883)
        except ValueError:  # a port out of range or not a number
            port = 0
        if url.scheme not in ("mqtt", "mqtts") or not url.hostname or not port:
            raise ValueError(f"broker must look like mqtt://host:1883, got {broker_url!r}")
        self.broker_url = broker_url
        self._url = url
        self._port = port
        self.facility_id = facility_id
        self.client_id = client_id or f"cloudsim-{facility_id}"
        self.policy: Policy = policy or default_policy
        self.log = log
        self.approve_delay = approve_delay
        self.badge_key = badge_key
        self.pepper = pepper if pepper is not None else os.urandom(32)
        self.session_expiry_s = session_expiry_s
        self.publish_timeout = publish_timeout
        self.on_record: Callable[[Record], None] | None = None  # called on the network thread

        self._cond = threading.Condition()
        self._records: deque[Record] = deque(maxlen=keep_records)
        self._malformed: deque[dict[str, Any]] = deque(maxlen=keep_records)
        self._dropped_signals: deque[Record] = deque(maxlen=keep_records)
        self._ids: dict[str, Counter[tuple[str, str]]] = {
            kind: Counter() for kind in UPLINK_ID_FIELDS
        }
        self._status: dict[str, Record] = {}
        self._answered: set[tuple[str, str]] = set()
        # kiosk id -> {visit id -> peer kiosk id or None}, from the last schedule published to it.
        self._schedules: dict[str, dict[str, str | None]] = {}
        self._remote_visits: dict[str, RemoteVisit] = {}  # answered by the media gateway
        self._ice_servers: dict[str, list[dict[str, Any]]] = {}  # kiosk id -> its config's
        self._relay_only: dict[str, bool] = {}
        self.gateway: FamilyGateway | None = None  # the family's pages, when attached
        # The STUN and TURN servers families' browsers get, when not the kiosk's own (a family
        # on the internet may reach the cloud's relay, not the facility's).
        self.family_ice_servers: list[dict[str, Any]] | None = None
        self._schedule_versions: dict[str, int] = {}
        self._schedule_rows: dict[str, list[dict[str, Any]]] = {}  # as published, per kiosk
        self._roster_names: dict[str, str] = {}  # booking number -> name, the public roster
        # The facility's side of the lobbies' front desk (applications, requests, bookings).
        self.front_desk = FacilityFrontDesk(
            answer=self.answer,
            later=self.call_later,
            publish_slots=self.publish_slots,
            add_visit=self._add_booked_visit,
            now=lambda: datetime.now(UTC),
            name_of=lambda number: self._roster_names.get(number, number),
            decide_after_s=approve_delay,
        )
        self._residents_versions: dict[str, int] = {}
        self._credits: dict[tuple[str, str], int] = {}  # (kiosk, inmate) -> message credits

        self._client: mqtt.Client | None = None
        self._later: _Later | None = None
        self._ready = threading.Event()
        self._connect_error: str | None = None
        self._subscribe_mid: int | None = None
        self._stopping = False

    # --- life cycle ---------------------------------------------------------------------------

    @property
    def uplink_filter(self) -> str:
        return uplink_filter(self.facility_id)

    def start(self, timeout: float = 10.0) -> CloudSim:
        """Connect, subscribe to every kiosk's uplink and return once the broker confirmed both."""
        if self._client is not None:
            raise RuntimeError("CloudSim already started")
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
        )
        if self._url.scheme == "mqtts":
            client.tls_set()
        if self._url.username:
            password = unquote(self._url.password) if self._url.password else None
            client.username_pw_set(unquote(self._url.username), password)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry_s
        self._stopping = False
        self._ready.clear()
        self._connect_error = None
        self._later = _Later(lambda error: self._say(f"! answer failed: {error!r}"))
        self._later.start()
        self._client = client
        try:
            client.connect(
                self._url.hostname or "",
                self._port,
                keepalive=30,
                clean_start=self.session_expiry_s == 0,
                properties=properties,
            )
        except OSError as error:
            self.stop()
            raise ConnectionError(f"cannot connect to {self.broker_url}: {error}") from error
        client.loop_start()
        if not self._ready.wait(timeout):
            self.stop()
            raise TimeoutError(f"{self.broker_url} did not confirm connect and subscribe in time")
        if self._connect_error is not None:
            error_text = self._connect_error
            self.stop()
            raise ConnectionError(f"{self.broker_url} refused: {error_text}")
        return self

    def stop(self) -> None:
        """Disconnect; answers still waiting are dropped, as when a cloud goes down."""
        self._stopping = True
        if self._later is not None:
            pending = self._later.stop()
            if pending:
                self._say(f"· {pending} pending answer(s) dropped at stop")
            self._later = None
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None

    def __enter__(self) -> CloudSim:
        return self if self._client is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- publishing ---------------------------------------------------------------------------

    def topics(self, kiosk_id: str) -> Topics:
        return Topics(self.facility_id, kiosk_id)

    def publish_config(self, kiosk_id: str, **fields: Any) -> dict[str, Any]:
        """The kiosk's retained config; ``fields`` override the defaults (None drops a field)."""
        role = fields.get("role") or ("lobby" if "lobby" in kiosk_id else "housing")
        values: dict[str, Any] = {
            "facility_name": f"Facility {self.facility_id}",
            "kiosk_name": kiosk_id,
            "role": role,
            "housing_unit": "B" if role == "housing" else None,
            "timezone": "America/Chicago",
            "languages": ["en", "es"],
            "session_idle_s": 60,
            "session_max_s": 900,
            "message_max_chars": 2000,
            "badge_key_b64": base64.b64encode(self.badge_key).decode(),
            "pepper_b64": base64.b64encode(self.pepper).decode(),
            "technicians": [],
            **fields,
        }
        config = build_downlink("config", **{k: v for k, v in values.items() if v is not None})
        with self._cond:
            self._ice_servers[kiosk_id] = [
                server.model_dump(exclude_none=True) for server in config.ice_servers
            ]
            self._relay_only[kiosk_id] = config.ice_relay_only
        self._publish(self.topics(kiosk_id).down("config"), config, retain=True)
        self._say(f"→ {kiosk_id} config ({config.role}, {config.kiosk_name})")
        return dump(config)

    def publish_schedule(
        self, kiosk_id: str, version: int, visits: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The kiosk's retained schedule snapshot; its visits' peers feed the signalling relay."""
        schedule = build_downlink("schedule", version=version, visits=visits)
        with self._cond:
            self._schedules[kiosk_id] = {
                visit.visit_id: visit.peer.kiosk_id for visit in schedule.visits
            }
            for visit in schedule.visits:
                if visit.peer.kiosk_id is None and visit.kind != "onsite":
                    self._remote_visits[visit.visit_id] = RemoteVisit(
                        visit.visit_id,
                        kiosk_id,
                        visit.starts_at,
                        visit.ends_at,
                        visit.inmate.display_name,
                        visit.visitor.display_name,
                        privileged=visit.kind == "privileged",
                    )
            self._schedule_versions[kiosk_id] = version
            self._schedule_rows[kiosk_id] = dump(schedule)["visits"]
        self._publish(self.topics(kiosk_id).down("schedule"), schedule, retain=True)
        self._say(f"→ {kiosk_id} schedule v{version} ({len(visits)} visits)")
        return dump(schedule)

    def publish_residents(
        self, kiosk_id: str, version: int, residents: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The housing kiosk's retained residents snapshot."""
        snapshot = build_downlink("residents", version=version, residents=residents)
        with self._cond:
            self._residents_versions[kiosk_id] = version
            for resident in snapshot.residents:
                # The cloud's ledger: billed on each message, refunded on a rejection.
                self._credits[(kiosk_id, resident.inmate_id)] = resident.message_credits
        self._publish(self.topics(kiosk_id).down("residents"), snapshot, retain=True)
        self._say(f"→ {kiosk_id} residents v{version} ({len(residents)} residents)")
        return dump(snapshot)

    def publish_roster(
        self, kiosk_id: str, version: int, residents: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """A lobby's retained public roster (extension: the front desk)."""
        roster = build_downlink("roster", version=version, residents=residents)
        with self._cond:
            self._roster_names.update({r.booking_number: r.display_name for r in roster.residents})
        self._publish(self.topics(kiosk_id).down("roster"), roster, retain=True)
        self._say(f"→ {kiosk_id} roster v{version} ({len(residents)} residents)")
        return dump(roster)

    def publish_slots(self, kiosk_id: str, version: int, slots: list[dict[str, Any]]) -> dict:
        """A lobby's retained free on-site slots (extension: the front desk)."""
        free = build_downlink("slots", version=version, slots=slots)
        self._publish(self.topics(kiosk_id).down("slots"), free, retain=True)
        self._say(f"→ {kiosk_id} slots v{version} ({len(slots)} free)")
        return dump(free)

    def _add_booked_visit(self, kiosk_id: str, visit: dict[str, Any]) -> None:
        """A visit the front desk booked joins the lobby's schedule (a new version)."""
        with self._cond:
            version = self._schedule_versions.get(kiosk_id, 0) + 1
            rows = [*self._schedule_rows.get(kiosk_id, []), visit]
        self.publish_schedule(kiosk_id, version, rows)

    def answer(self, kiosk_id: str, request_id: str, kind: str, **fields: Any) -> dict[str, Any]:
        """The answer to a lobby's ``request`` (extension: the front desk), not retained."""
        answer = build_downlink("answer", request_id=request_id, kind=kind, **fields)
        self._publish(self.topics(kiosk_id).down("answer"), answer)
        self._say(f"→ {kiosk_id} answer {kind} {request_id}")
        return dump(answer)

    def send_message(
        self,
        kiosk_id: str,
        inmate_id: str,
        body: str,
        *,
        from_contact: tuple[str, str] = ("c-1", "R. Alvarez"),
        photos: int = 0,
        photo_jpegs: Sequence[bytes] = (),
        message_id: str | None = None,
        sent_at: datetime | None = None,
    ) -> str:
        """A message for a resident, with ``photos`` generated JPEGs and then the given ones;
        returns its id."""
        message_id = message_id or f"m-{uuid.uuid4()}"
        contact_id, contact_name = from_contact
        message = build_downlink(
            "inbox",
            message_id=message_id,
            inmate_id=inmate_id,
            from_={"contact_id": contact_id, "display_name": contact_name},
            sent_at=sent_at or datetime.now(UTC),
            body=body,
            photos=[make_photo(index + 1) for index in range(photos)]
            + [make_photo(jpeg=jpeg) for jpeg in photo_jpegs],
        )
        self._publish(self.topics(kiosk_id).down("inbox"), message)
        self._say(
            f"→ {kiosk_id} inbox message {message_id} for {inmate_id} "
            f"({len(body)} chars, {(count := photos + len(photo_jpegs))} "
            f"photo{'' if count == 1 else 's'})"
        )
        return message_id

    def send_status(
        self,
        kiosk_id: str,
        message_id: str,
        status: str,
        reason: str | None = None,
        credits_refunded: int | None = None,
        message_credits: int | None = None,
    ) -> dict[str, Any]:
        """What became of a message the kiosk sent."""
        optional = {
            "reason": reason,
            "credits_refunded": credits_refunded,
            "message_credits": message_credits,
        }
        given = {name: value for name, value in optional.items() if value is not None}
        answer = build_downlink("message-status", message_id=message_id, status=status, **given)
        self._publish(self.topics(kiosk_id).down("message-status"), answer)
        extra = f" ({reason})" if reason else ""
        self._say(f"→ {kiosk_id} message-status {status} {message_id}{extra}")
        return dump(answer)

    def send_command(
        self,
        kiosk_id: str,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        command_id: str | None = None,
        expires_in_s: float = 300,
        issued_at: datetime | None = None,
    ) -> str:
        """A staff or technician command (a negative ``expires_in_s`` sends it expired)."""
        command_id = command_id or f"cmd-{uuid.uuid4()}"
        issued = issued_at or datetime.now(UTC)
        command = build_downlink(
            "cmd",
            command_id=command_id,
            name=name,
            args=args or {},
            issued_at=issued,
            expires_at=issued + timedelta(seconds=expires_in_s),
        )
        self._publish(self.topics(kiosk_id).down("cmd"), command)
        self._say(f"→ {kiosk_id} cmd {name} {command_id}")
        return command_id

    def publish_notice(
        self,
        text: str,
        severity: str = "info",
        notice_id: str | None = None,
        until: datetime | str | None = None,
    ) -> str:
        """The facility-wide retained banner; empty text clears it. Returns its id."""
        notice_id = notice_id or f"n-{uuid.uuid4()}"
        fields: dict[str, Any] = {"notice_id": notice_id, "text": text, "severity": severity}
        if until is not None:
            fields["until"] = until
        notice = build_downlink("notice", **fields)
        self._publish(self.topics(FACILITY_WIDE).down("notice"), notice, retain=True)
        shown = f"{severity} ({len(text)} chars)" if text else "cleared"
        self._say(f"→ all notice {shown} {notice_id}")
        return notice_id

    def send_raw(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        """Anything on any topic, for tests of bad input."""
        data = payload.encode() if isinstance(payload, str) else payload
        self._publish(topic, data, retain=retain)
        self._say(f"→ raw {topic} ({len(data)} bytes{', retained' if retain else ''})")

    def clear_retained(self, kiosk_id: str, *, status: bool = False, notice: bool = False) -> None:
        """Remove the kiosk's retained config, schedule and residents from the broker; with
        ``status`` its retained status too, with ``notice`` the facility's notice."""
        topics = self.topics(kiosk_id)
        names = [topics.down(kind) for kind in ("config", "schedule", "residents")]
        names += [topics.up("status")] if status else []
        names += [topics.down("notice")] if notice else []
        for topic in names:
            self._publish(topic, b"", retain=True)
        with self._cond:
            self._schedules.pop(kiosk_id, None)
        self._say(f"→ {kiosk_id} retained cleared ({len(names)} topics)")

    # --- observing ----------------------------------------------------------------------------

    def received(self, kind: str | None = None, kiosk_id: str | None = None) -> list[Record]:
        """Uplink records in arrival order (duplicates included), of one kind and/or kiosk."""
        if kind is not None:
            _check_kind_name(kind)
        with self._cond:
            return [
                record
                for record in self._records
                if (kind is None or record.kind == kind)
                and (kiosk_id is None or record.kiosk_id == kiosk_id)
            ]

    def wait_for(
        self,
        predicate_or_kind: str | Callable[[Record], bool],
        *,
        count: int = 1,
        timeout: float = 10.0,
        kiosk_id: str | None = None,
        since: float | None = None,
    ) -> list[Record]:
        """Block until ``count`` records match (a kind, or a predicate on a Record), and return
        all that match. ``since`` (a time.monotonic() value) ignores earlier arrivals. A
        predicate raising KeyError, IndexError or TypeError counts as no match."""
        if isinstance(predicate_or_kind, str):
            _check_kind_name(predicate_or_kind)
            wanted = predicate_or_kind

            def matches(record: Record) -> bool:
                return record.kind == wanted

            what = wanted
        else:
            matches = predicate_or_kind
            what = getattr(predicate_or_kind, "__name__", "records")
            what = "matching records" if what == "<lambda>" else what

        def found() -> list[Record]:
            out = []
            for record in self._records:
                if kiosk_id is not None and record.kiosk_id != kiosk_id:
                    continue
                if since is not None and record.at < since:
                    continue
                try:
                    if matches(record):
                        out.append(record)
                except (KeyError, IndexError, TypeError):
                    pass
            return out

        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                hits = found()
                remaining = deadline - time.monotonic()
                if len(hits) >= count or remaining <= 0:
                    break
                self._cond.wait(remaining)
            if len(hits) >= count:
                return hits
            summary = self._summary()
        source = f" from {kiosk_id}" if kiosk_id else ""
        raise TimeoutError(
            f"waited {timeout:g} s for {count} × {what}{source}, {len(hits)} matched. "
            f"Arrived: {summary}"
        )

    def retained_status(self, kiosk_id: str) -> Record | None:
        """The kiosk's last status record (also one received as retained on subscribe)."""
        with self._cond:
            return self._status.get(kiosk_id)

    def ids_seen(self, kind: str, kiosk_id: str | None = None) -> Counter[str]:
        """How many times each payload id arrived on an id-bearing uplink kind."""
        if kind not in UPLINK_ID_FIELDS:
            raise ValueError(f"{kind!r} payloads carry no id; one of {', '.join(UPLINK_ID_FIELDS)}")
        with self._cond:
            seen: Counter[str] = Counter()
            for (kiosk, ident), times in self._ids[kind].items():
                if kiosk_id is None or kiosk == kiosk_id:
                    seen[ident] += times
            return seen

    def malformed(self) -> list[dict[str, Any]]:
        """Uplinks the cloud would reject: ``{topic, kiosk_id, kind, reason, at}`` each."""
        with self._cond:
            return list(self._malformed)

    def dropped_signals(self) -> list[Record]:
        """Signals not relayed: unknown visit, a kiosk not in it, or no peer."""
        with self._cond:
            return list(self._dropped_signals)

    def visit_parties(self, visit_id: str) -> set[str]:
        """The kiosks a visit joins, from the schedules this simulator published."""
        with self._cond:
            parties = set()
            for kiosk, visits in self._schedules.items():
                if visit_id in visits:
                    parties.add(kiosk)
                    peer = visits[visit_id]
                    if peer:
                        parties.add(peer)
            return parties

    def schedule_version(self, kiosk_id: str) -> int | None:
        """The version of the last schedule this simulator published to the kiosk."""
        with self._cond:
            return self._schedule_versions.get(kiosk_id)

    def residents_version(self, kiosk_id: str) -> int | None:
        with self._cond:
            return self._residents_versions.get(kiosk_id)

    def clear_received(self) -> None:
        """Forget the records (not which messages were answered)."""
        with self._cond:
            self._records.clear()
            self._malformed.clear()
            self._dropped_signals.clear()
            for counter in self._ids.values():
                counter.clear()

    # --- paho callbacks (network thread) -------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any):
        if reason.is_failure:
            self._connect_error = str(reason)
            self._ready.set()
            return
        self._say(f"· connected to {self.broker_url} as {self.client_id}")
        # Subscribed on every connect: a clean session forgets the subscription.
        _, self._subscribe_mid = client.subscribe(self.uplink_filter, qos=QOS)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, codes: Any, props: Any):
        if mid != self._subscribe_mid:
            return
        if any(code.is_failure for code in codes):
            self._connect_error = f"subscription refused: {codes[0]}"
        self._ready.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, p: Any):
        if not self._stopping:
            self._say(f"· disconnected ({reason}); reconnecting")

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        # An exception escaping here would end paho's network thread.
        try:
            self._handle(message.topic, bytes(message.payload), bool(message.retain))
        except Exception as error:
            self._say(f"! could not handle {message.topic}: {error!r}")

    def _handle(self, topic: str, data: bytes, retained: bool) -> None:
        where = parse_uplink_topic(topic)
        if where is None:
            return
        kiosk_id, kind = where
        if not data:
            return  # a retained message being cleared
        reason = None
        payload: Any = None
        if kind not in UPLINK_TYPES:
            reason = "not a contract topic"
        else:
            # The kiosk's own uplink models: what they let the kiosk send, the cloud accepts.
            try:
                payload = decode(
                    data,
                    max_bytes=limits.UPLINK_MAX_BYTES[kind],
                    max_elements=limits.UPLINK_MAX_ELEMENTS,
                )
                validate_uplink(kind, payload)
            except Rejected as rejection:
                reason = rejection.reason
        if reason is not None:
            with self._cond:
                self._malformed.append(
                    {
                        "topic": topic,
                        "kiosk_id": kiosk_id,
                        "kind": kind,
                        "reason": reason,
                        "at": time.monotonic(),
                    }
                )
                self._cond.notify_all()
            self._say(f"✗ {kiosk_id} {kind} rejected: {reason}")
            return
        record = self._record(payload, kiosk_id, kind, topic, retained)
        try:
            self._say(f"← {kiosk_id} {kind} {_describe(record)}")
            if kind == "outbox" and not record.duplicate:
                self._review(record)
            elif kind == "signal":
                self._relay(record)
            elif kind == "applications" and not record.duplicate:
                given = dict(record)
                self.call_later(0, lambda: self.front_desk.received(kiosk_id, given))
            elif kind == "requests":
                asked = dict(record)
                self.call_later(0, lambda: self.front_desk.asked(kiosk_id, asked))
            if self.on_record is not None:
                self.on_record(record)
        finally:
            # Waiters wake only now, so what a record caused (a drop, an answer on its way)
            # is already visible to them.
            with self._cond:
                self._cond.notify_all()

    def _record(
        self, payload: dict[str, Any], kiosk_id: str, kind: str, topic: str, retained: bool
    ) -> Record:
        with self._cond:
            duplicate = False
            if kind in UPLINK_ID_FIELDS:
                key = (kiosk_id, payload[UPLINK_ID_FIELDS[kind]])
                duplicate = key in self._ids[kind]
                self._ids[kind][key] += 1
            record = Record(
                payload,
                kiosk_id=kiosk_id,
                kind=kind,
                topic=topic,
                retained=retained,
                at=time.monotonic(),
                duplicate=duplicate,
            )
            self._records.append(record)
            if kind == "status":
                self._status[kiosk_id] = record
        return record

    # --- the cloud's behaviour ------------------------------------------------------------------

    def _review(self, message: Record) -> None:
        key = (message.kiosk_id, message["message_id"])
        with self._cond:
            if key in self._answered:
                return  # the first copy was answered (records were cleared since)
            self._answered.add(key)
        kiosk_id, message_id = key
        ledger = (kiosk_id, message.get("inmate_id"))
        with self._cond:
            if ledger in self._credits:
                self._credits[ledger] = max(0, self._credits[ledger] - 1)
            balance = self._credits.get(ledger)

        def decide() -> None:
            verdict = self.policy(dict(message))
            if verdict is HOLD:
                self._say(f"· {kiosk_id} message {message_id} held (no decision)")
            elif verdict:
                with self._cond:
                    if ledger in self._credits:
                        self._credits[ledger] += 1
                    refunded = self._credits.get(ledger)
                self.send_status(
                    kiosk_id,
                    message_id,
                    "rejected",
                    str(verdict),
                    credits_refunded=1,
                    message_credits=refunded,
                )
            else:
                self.send_status(kiosk_id, message_id, "approved")

        self.call_later(
            0,
            lambda: self.send_status(kiosk_id, message_id, "received", message_credits=balance),
        )
        self.call_later(self.approve_delay, decide)

    def _relay(self, signal: Record) -> None:
        visit_id, sender = signal["visit_id"], signal.kiosk_id
        parties = self.visit_parties(visit_id)
        gateway = self.gateway
        if parties == {sender} and gateway is not None and self.remote_visit(visit_id):
            gateway.from_kiosk(visit_id, dict(signal))  # a remote visit: the family's page
            return
        if sender not in parties or len(parties) < 2:
            why = (
                "unknown visit"
                if not parties
                else ("not a party to it" if sender not in parties else "no peer")
            )
            with self._cond:
                self._dropped_signals.append(signal)
            self._say(f"· {sender} signal {signal['kind']} for {visit_id} dropped: {why}")
            return
        # The cloud vouches for the sender: the topic says who sent it, whatever the body says.
        fields = {name: value for name, value in signal.items() if name not in ("v", "type")}
        relayed = build_downlink("signal", **{**fields, "from_kiosk_id": sender})
        for peer in sorted(parties - {sender}):
            self.call_later(0, lambda peer=peer: self._send_signal(peer, relayed))

    # --- the media gateway (cloudsim.family) ------------------------------------------------

    def remote_visit(self, visit_id: str) -> RemoteVisit | None:
        with self._cond:
            return self._remote_visits.get(visit_id)

    def ice_servers_for(self, visit_id: str) -> list[dict[str, Any]]:
        """The STUN and TURN servers for the family's page: the visit's kiosk's, unless the
        cloud gives families others."""
        visit = self.remote_visit(visit_id)
        with self._cond:
            if visit and self.family_ice_servers is not None:
                return list(self.family_ice_servers)
            return list(self._ice_servers.get(visit.kiosk_id, [])) if visit else []

    def relay_only_for(self, visit_id: str) -> bool:
        """Whether the visit's kiosk may use relayed paths only: the page then does too."""
        visit = self.remote_visit(visit_id)
        with self._cond:
            return bool(visit and self._relay_only.get(visit.kiosk_id, False))

    def send_gateway_signal(self, visit_id: str, kind: str, **fields: Any) -> None:
        """The gateway signals a remote visit's kiosk, as the contract's peer."""
        visit = self.remote_visit(visit_id)
        if visit is None:
            return
        signal = build_downlink(
            "signal", visit_id=visit_id, from_kiosk_id=GATEWAY_ID, kind=kind, **fields
        )
        self._send_signal(visit.kiosk_id, signal)

    def _send_signal(self, peer: str, signal: Payload) -> None:
        self._publish(self.topics(peer).down("signal"), signal)
        self._say(f"→ {peer} signal {signal.kind} {signal.visit_id} (from {signal.from_kiosk_id})")

    # --- plumbing --------------------------------------------------------------------------------

    def call_later(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` on the answers thread after ``delay`` s (never on the network thread,
        so it may publish); dropped if the simulator stops first."""
        if self._later is not None:
            self._later.call(delay, action)

    def _publish(self, topic: str, payload: Payload | bytes, retain: bool = False) -> None:
        client = self._client
        if client is None:
            raise RuntimeError("CloudSim is not started")
        data = payload if isinstance(payload, bytes) else encode(payload)
        info = client.publish(topic, data, qos=QOS, retain=retain)
        if info.rc == mqtt.MQTT_ERR_NO_CONN:
            self._say(f"· not connected: {topic} queued until the broker is back")
            return
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        # Waiting for the PUBACK makes "published" mean "the broker has it" (retained ones
        # reach a later subscriber).
        info.wait_for_publish(self.publish_timeout)
        if not info.is_published():
            raise TimeoutError(f"broker did not acknowledge {topic} in {self.publish_timeout} s")

    def _say(self, line: str) -> None:
        if self.log is not None:
            self.log(line)

    def _summary(self) -> str:
        counts: dict[str, Counter[str]] = {}
        for record in self._records:
            counts.setdefault(record.kiosk_id, Counter())[record.kind] += 1
        parts = [
            f"{kiosk}: " + ", ".join(f"{kind}×{n}" for kind, n in sorted(kinds.items()))
            for kiosk, kinds in sorted(counts.items())
        ]
        text = "; ".join(parts) or "nothing"
        if self._malformed:
            shown = "; ".join(
                f"{m['kiosk_id']} {m['kind']}: {m['reason']}" for m in list(self._malformed)[-5:]
            )
            text += f". Rejected as malformed: {len(self._malformed)} ({shown})"
        return text


def _check_kind_name(kind: str) -> None:
    if kind not in UPLINK_TYPES:
        raise ValueError(f"no uplink kind {kind!r}; one of {', '.join(UPLINK_TYPES)}")


def _describe(record: Record) -> str:
    """A log line's detail: ids, kinds and sizes, never a message body or a picture."""
    kind, p = record.kind, record
    if kind == "status":
        text = f"{p['state']}" + (f" ({p['reason']})" if p.get("reason") else "")
    elif kind == "telemetry":
        text = f"outbox {p.get('outbox_depth', '?')}, session {p.get('session_active', '?')}"
    elif kind == "events":
        text = f"{p['kind']} {p['event_id']}"
    elif kind == "outbox":
        text = f"message {p['message_id']} ({len(p['body'])} chars)"
    elif kind == "captures":
        size = len(p["data_b64"]) * 3 // 4
        text = f"{p['purpose']} {p['capture_id']} (~{size} bytes)"
    elif kind == "cmd-result":
        text = f"{p['command_id']} " + ("ok" if p["ok"] else f"failed: {p.get('error')}")
    elif kind == "applications":
        text = f"application {p['application_number']} ({len(p['capture_ids'])} photos)"
    elif kind == "requests":
        text = f"{p['kind']} {p['request_id']}"  # never a PIN, a name or a number asked about
    else:
        text = f"{p['kind']} {p['visit_id']}"
    flags = " (retained)" if record.retained else ""
    flags += " (duplicate)" if record.duplicate else ""
    return text + flags
