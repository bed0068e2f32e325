"""The two payloads of enrollment: the kiosk's ``enroll`` request (its CSR) and the cloud's
``enrolled`` answer, a certificate or a refusal."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from kiosk.contract import limits
from kiosk.contract.fields import Error, Id, KioskId, Payload, Unit, rule, text

Pem = text(64 * limits.KiB, 1)
BrokerUrl = text(512, 1)


class EnrollPayload(Payload):
    """A kiosk's request for a certificate; ``hardware`` is its self-test summary."""

    v: Literal[1]
    type: Literal["enroll"]
    request_id: Id  # a random UUID, also in the topic and the client id
    csr_pem: Pem
    kiosk_id: KioskId
    role: Literal["housing", "lobby"]
    housing_unit: Unit | None = None
    hardware: dict[str, Any] = Field(default_factory=dict)


class EnrolledPayload(Payload):
    """The cloud's answer: a certificate and where to connect, or ``ok: false`` and why."""

    v: Literal[1]
    type: Literal["enrolled"]
    request_id: Id | None = None  # a refusal may leave it out
    ok: bool
    certificate_pem: Pem | None = None
    ca_pem: Pem | None = None
    facility_id: Id | None = None
    brokers: Annotated[list[BrokerUrl], Field(min_length=1, max_length=16)] | None = None
    error: Error | None = None

    @model_validator(mode="after")
    def _fields_of_outcome(self) -> EnrolledPayload:
        granted = {
            "certificate_pem": self.certificate_pem,
            "ca_pem": self.ca_pem,
            "facility_id": self.facility_id,
            "brokers": self.brokers,
        }
        if self.ok:
            for name, value in granted.items():
                if value is None:
                    raise rule("required when ok is true", name)
            if self.error is not None:
                raise rule("only when ok is false", "error")
        elif self.error is None:
            raise rule("required when ok is false", "error")
        return self


# Enrollment topic kind -> its model.
ENROLLMENT_MODELS: Mapping[str, type[Payload]] = MappingProxyType(
    {"csr": EnrollPayload, "result": EnrolledPayload}
)
