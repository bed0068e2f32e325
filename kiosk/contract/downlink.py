"""A model for every payload the cloud sends a kiosk: config, schedule, residents, message,
message_status, command (one model per command name, with its args), signal and notice."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from kiosk.contract import limits
from kiosk.contract.fields import (
    BadgeKey,
    BadgeLookup,
    Body,
    Count,
    IceSecret,
    IceUrl,
    Id,
    ImageB64,
    Language,
    Name,
    NoticeText,
    Payload,
    PepperKey,
    Reason,
    SignalFields,
    TimeZone,
    Unit,
    UtcTime,
    Verifier,
    Version,
    decode_image,
    each_once,
    rule,
)
from kiosk.contract.front_desk import AnswerPayload, FrontDesk, RosterPayload, SlotsPayload

VisitorCapture = Literal["visitor_id", "visitor_credential", "visitor_face"]


class Technician(Payload):
    technician_id: Id
    display_name: Name
    badge_lookup: BadgeLookup
    pin_verifier: Verifier


class IceServer(Payload):
    """Extension: one of the facility's STUN or TURN servers, as WebRTC's RTCIceServer."""

    urls: list[IceUrl] = Field(min_length=1, max_length=limits.MAX_ICE_URLS)
    username: IceSecret | None = None
    credential: IceSecret | None = None

    @model_validator(mode="after")
    def _turn_has_credentials(self) -> IceServer:
        turn = any(url.startswith("turn") for url in self.urls)
        if turn and (self.username is None or self.credential is None):
            raise rule("a TURN server needs a username and a credential")
        return self


class Retention(Payload):
    """Extension: how many days the kiosk keeps what the cloud also keeps."""

    messages_days: int = Field(default=90, ge=1, le=limits.RETENTION_DAYS_MAX)
    photos_days: int = Field(default=30, ge=1, le=limits.RETENTION_DAYS_MAX)
    events_days: int = Field(default=30, ge=1, le=limits.RETENTION_DAYS_MAX)


class ConfigPayload(Payload):
    v: Literal[1]
    type: Literal["config"]
    facility_name: Name
    kiosk_name: Name
    role: Literal["housing", "lobby"]
    housing_unit: Unit | None = None  # "housing only": optional, ignored on lobby kiosks
    timezone: TimeZone
    languages: list[Language] = Field(
        default=["en", "es"], min_length=1, max_length=limits.MAX_LANGUAGES
    )
    session_idle_s: int = Field(
        default=limits.SESSION_IDLE_S[2], ge=limits.SESSION_IDLE_S[0], le=limits.SESSION_IDLE_S[1]
    )
    session_max_s: int = Field(
        default=limits.SESSION_MAX_S[2], ge=limits.SESSION_MAX_S[0], le=limits.SESSION_MAX_S[1]
    )
    message_max_chars: int = Field(
        default=limits.MESSAGE_MAX_CHARS[2],
        ge=limits.MESSAGE_MAX_CHARS[0],
        le=limits.MESSAGE_MAX_CHARS[1],
    )
    badge_key_b64: BadgeKey
    technicians: list[Technician] = Field(max_length=limits.MAX_TECHNICIANS)
    # Extension: the facility's network for calls (docs/protocol.md, "Extensions").
    ice_servers: list[IceServer] = Field(default=[], max_length=limits.MAX_ICE_SERVERS)
    ice_relay_only: bool = False
    # Extension: how long messages, photos and events stay on the kiosk.
    retention: Retention | None = None
    # Extension: the facility's pepper, that the kiosk keeps its verifiers and badge key under.
    pepper_b64: PepperKey | None = None
    # Extension, lobby kiosks: the front desk's terms and professions.
    front_desk: FrontDesk | None = None

    @field_validator("technicians")
    @classmethod
    def _unique_technicians(cls, technicians: list[Technician]) -> list[Technician]:
        each_once([t.technician_id for t in technicians], "technician_id")
        return technicians


class VisitInmate(Payload):
    inmate_id: Id
    display_name: Name


class Visitor(Payload):
    display_name: Name
    confirmation_code_verifier: Verifier | None = None
    # Extensions ("Lobby check-in"): what the facility asks the lobby to photograph before the
    # visit. A cloud that sends neither gets the kiosk's own rule.
    first_visit: bool = False
    captures: list[VisitorCapture] = Field(
        default_factory=list, max_length=limits.MAX_VISITOR_CAPTURES
    )


class VisitPeer(Payload):
    kiosk_id: Id | None = None


class VisitStation(Payload):
    """Extension: the lobby station a visit is held at, when it is not this one."""

    kiosk_id: Id
    display_name: Name


class Visit(Payload):
    visit_id: Id
    starts_at: UtcTime
    ends_at: UtcTime
    kind: Literal["onsite", "remote", "privileged"]
    status: Literal["scheduled", "cancelled"]
    inmate: VisitInmate
    visitor: Visitor
    peer: VisitPeer
    station: VisitStation | None = None

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, ends_at: datetime, info: ValidationInfo) -> datetime:
        starts_at = info.data.get("starts_at")
        if starts_at is not None and ends_at <= starts_at:
            raise rule("not after starts_at")
        return ends_at


class SchedulePayload(Payload):
    v: Literal[1]
    type: Literal["schedule"]
    version: Version
    visits: list[Visit] = Field(max_length=limits.MAX_VISITS)

    @field_validator("visits")
    @classmethod
    def _unique_visits(cls, visits: list[Visit]) -> list[Visit]:
        each_once([visit.visit_id for visit in visits], "visit_id")
        return visits


class Resident(Payload):
    inmate_id: Id
    booking_number: Id
    display_name: Name
    language: Language
    pin_verifier: Verifier
    badge_lookups: list[BadgeLookup] = Field(max_length=limits.MAX_BADGE_LOOKUPS)
    message_credits: Count


class ResidentsPayload(Payload):
    v: Literal[1]
    type: Literal["residents"]
    version: Version
    residents: list[Resident] = Field(max_length=limits.MAX_RESIDENTS)

    @field_validator("residents")
    @classmethod
    def _unique_residents(cls, residents: list[Resident]) -> list[Resident]:
        each_once([resident.inmate_id for resident in residents], "inmate_id")
        return residents


class Sender(Payload):
    """The message's ``from``."""

    contact_id: Id
    display_name: Name


class Photo(Payload):
    """An approved photo; ``data`` holds the decoded image."""

    photo_id: Id
    mime: Literal["image/jpeg", "image/png"]
    data_b64: ImageB64
    _data: bytes = PrivateAttr(default=b"")

    @model_validator(mode="after")
    def _decode(self) -> Photo:
        self._data = decode_image(self.data_b64, self.mime)
        return self

    @property
    def data(self) -> bytes:
        return self._data


class MessagePayload(Payload):
    v: Literal[1]
    type: Literal["message"]
    message_id: Id
    inmate_id: Id
    from_: Sender = Field(alias="from")
    sent_at: UtcTime
    body: Body
    photos: list[Photo] = Field(default=[], max_length=limits.MAX_PHOTOS)

    @field_validator("photos")
    @classmethod
    def _unique_photos(cls, photos: list[Photo]) -> list[Photo]:
        each_once([photo.photo_id for photo in photos], "photo_id")
        return photos


class MessageStatusPayload(Payload):
    v: Literal[1]
    type: Literal["message_status"]
    message_id: Id
    status: Literal["received", "approved", "rejected", "delivered"]
    reason: Reason | None = None
    credits_refunded: Count | None = None
    message_credits: Count | None = None


class NoArgs(Payload):
    """Arguments of logout, unlock, reboot, selftest and resync: none (others ignored)."""


class EndVisitArgs(Payload):
    visit_id: Id
    reason: Reason


class LockArgs(Payload):
    reason: Reason


class CommandPayload(Payload):
    """Common fields; ``codec.parse_downlink`` returns the subclass that matches ``name``."""

    v: Literal[1]
    type: Literal["command"]
    command_id: Id
    name: str
    args: NoArgs = NoArgs()  # "logout {}": an absent args is taken as {}
    issued_at: UtcTime
    expires_at: UtcTime


class EndVisitCommand(CommandPayload):
    name: Literal["end_visit"]
    args: EndVisitArgs


class LockCommand(CommandPayload):
    name: Literal["lock"]
    args: LockArgs


class LogoutCommand(CommandPayload):
    name: Literal["logout"]


class UnlockCommand(CommandPayload):
    name: Literal["unlock"]


class RebootCommand(CommandPayload):
    name: Literal["reboot"]


class SelftestCommand(CommandPayload):
    name: Literal["selftest"]


class ResyncCommand(CommandPayload):
    name: Literal["resync"]


COMMANDS: Mapping[str, type[CommandPayload]] = MappingProxyType(
    {
        "end_visit": EndVisitCommand,
        "logout": LogoutCommand,
        "lock": LockCommand,
        "unlock": UnlockCommand,
        "reboot": RebootCommand,
        "selftest": SelftestCommand,
        "resync": ResyncCommand,
    }
)


class SignalPayload(SignalFields):
    """Signalling relayed by the cloud; fields a kind does not need are accepted and ignored."""

    @model_validator(mode="after")
    def _fields_of_kind(self) -> SignalPayload:
        if self.kind in ("offer", "answer") and not self.sdp:
            raise rule("required for offer and answer", "sdp")
        if self.kind == "candidate" and self.candidate is None:
            raise rule("required for candidate", "candidate")
        return self


class NoticePayload(Payload):
    v: Literal[1]
    type: Literal["notice"]
    notice_id: Id
    text: NoticeText
    severity: Literal["info", "warning", "lockdown"]
    until: UtcTime | None = None


# Downlink topic kind -> its model (for ``cmd``, the common part; COMMANDS has each name's).
DOWNLINK_MODELS: Mapping[str, type[Payload]] = MappingProxyType(
    {
        "roster": RosterPayload,
        "slots": SlotsPayload,
        "answer": AnswerPayload,
        "config": ConfigPayload,
        "schedule": SchedulePayload,
        "residents": ResidentsPayload,
        "inbox": MessagePayload,
        "message-status": MessageStatusPayload,
        "cmd": CommandPayload,
        "signal": SignalPayload,
        "notice": NoticePayload,
    }
)
