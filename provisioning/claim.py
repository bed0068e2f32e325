"""The enrollment exchange of the contract (docs/protocol.md, "Enrollment"), over paho-mqtt.

The kiosk logs in as ``claim`` with the one-time token as password, client id
``claim-{request_id}``, clean start; subscribes to ``kiosk/v1/provision/{request_id}/down/result``
first (the result is not retained), then publishes its CSR on ``…/up/csr`` and waits.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from kiosk.contract.codec import build, encode
from kiosk.contract.connection import CLAIM_USER, KEEPALIVE_S, QOS, claim_client_id
from kiosk.contract.endpoints import Endpoint
from kiosk.contract.enrollment import EnrollPayload
from kiosk.contract.topics import PROVISION_ROOT, csr_topic, result_topic
from provisioning.errors import ProvisionError

# Reason codes (MQTT 5) a broker uses for a login it refuses.
_REFUSED_LOGIN = {0x86, 0x87, 0x8C}  # bad user name or password, not authorized, bad auth method
_NO_MATCHING_SUBSCRIBERS = 0x10


@dataclass(frozen=True)
class EnrollRequest:
    """The ``enroll`` payload's fields."""

    request_id: str
    csr_pem: str
    kiosk_id: str
    role: str
    housing_unit: str | None
    hardware: dict[str, Any]

    def payload(self) -> bytes:
        """The contract's ``enroll`` payload."""
        try:
            request = build(
                EnrollPayload,
                request_id=self.request_id,
                csr_pem=self.csr_pem,
                kiosk_id=self.kiosk_id,
                role=self.role,
                housing_unit=self.housing_unit,
                hardware=self.hardware,
            )
        except ValueError as error:
            raise ProvisionError(
                f"the enrollment request breaks the contract ({error}): check the answers"
            ) from None
        return encode(request)


@dataclass(frozen=True)
class Enrolled:
    """The cloud's ``ok: true`` answer."""

    certificate_pem: str
    ca_pem: str
    facility_id: str
    brokers: tuple[str, ...]
    endpoint: str  # where the kiosk enrolled


def port_hint(endpoint: Endpoint) -> str:
    return f"check the facility firewall allows {endpoint.port}"


def enroll(
    endpoints: Sequence[Endpoint],
    token: str,
    request: EnrollRequest,
    *,
    ca_file: str | None = None,
    connect_timeout_s: float = 10.0,
    answer_timeout_s: float = 60.0,
    say: Callable[[str], None] = lambda _line: None,
) -> Enrolled:
    """Enroll at the first endpoint that can be reached; the others are tried only when one
    cannot be reached at all (a refusal or an answer is final: the token is the same)."""
    unreachable: list[str] = []
    for number, endpoint in enumerate(endpoints, 1):
        exchange = _Exchange(endpoint, token, request, ca_file, connect_timeout_s, say)
        try:
            exchange.connect()
        except _Unreachable as error:
            unreachable.append(str(error))
            if number < len(endpoints):
                say(f"{error}; trying the next broker")
            continue
        try:
            return exchange.run(answer_timeout_s)
        finally:
            exchange.close()
    if len(unreachable) == 1:
        raise ProvisionError(unreachable[0])
    raise ProvisionError("no broker could be reached: " + "; ".join(unreachable))


class _Unreachable(ProvisionError):
    """This endpoint could not be reached; another may be."""


class _TimedOut(ProvisionError):
    """Nothing came back in time."""


class _Exchange:
    """One login at one endpoint: paho's network thread sets the events, the caller waits."""

    def __init__(
        self,
        endpoint: Endpoint,
        token: str,
        request: EnrollRequest,
        ca_file: str | None,
        connect_timeout_s: float,
        say: Callable[[str], None],
    ) -> None:
        self.endpoint = endpoint
        self.request = request
        self.connect_timeout_s = connect_timeout_s
        self.say = say
        self.connack = _Waiter()
        self.suback = _Waiter()
        self.puback = _Waiter()
        self.answer = _Waiter()
        self.closed = threading.Event()
        self.disconnect_reason: str = ""
        self._started = False
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=claim_client_id(request.request_id),
            protocol=mqtt.MQTTv5,
        )
        client.username_pw_set(CLAIM_USER, token)
        client.connect_timeout = connect_timeout_s
        # One attempt: a refused token must be reported, not retried with paho's backoff.
        client.reconnect_delay_set(min_delay=3600, max_delay=3600)
        if endpoint.tls:
            # The enrollment listener authenticates the broker only: the kiosk has no
            # certificate yet. Its CA: the file given, or the system's trusted CAs.
            context = ssl.create_default_context(cafile=ca_file)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            client.tls_set_context(context)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        self.client = client

    # --- the caller's side -------------------------------------------------------------------

    def connect(self) -> None:
        where = str(self.endpoint)
        try:
            self.client.connect(
                self.endpoint.host, self.endpoint.port, KEEPALIVE_S, clean_start=True
            )
        except ConnectionRefusedError:
            raise _Unreachable(
                f"broker unreachable at {where}: connection refused: check the broker runs "
                f"there and the facility firewall allows {self.endpoint.port}"
            ) from None
        except socket.gaierror as error:
            raise _Unreachable(
                f"broker unreachable at {where}: cannot resolve {self.endpoint.host!r} "
                f"({error.strerror}): check the name and the kiosk's DNS settings"
            ) from None
        except ssl.SSLCertVerificationError as error:
            raise ProvisionError(
                f"the broker at {where} presented a certificate the kiosk does not trust "
                f"({error.verify_message}): check --enroll-ca names the facility's CA and the "
                "address matches the broker's certificate"
            ) from None
        except ssl.SSLError as error:
            raise _Unreachable(
                f"TLS handshake with {where} failed ({error.reason or error}): check it is the "
                "enrollment port (8885 by default), which asks for no client certificate"
            ) from None
        except (TimeoutError, OSError) as error:
            reason = "no answer" if isinstance(error, TimeoutError) else error.strerror or error
            raise _Unreachable(
                f"broker unreachable at {where}: {reason}: {port_hint(self.endpoint)}"
            ) from None
        self.client.loop_start()
        self._started = True
        code = self._wait(self.connack, self.connect_timeout_s, "CONNACK")
        if code.is_failure:
            if code.value in _REFUSED_LOGIN:
                raise ProvisionError(
                    f"the broker at {where} refused the claim token ({code}): check the token "
                    "is typed as issued, is for this facility, and was not used before (each "
                    "token enrolls one kiosk) or expired"
                )
            raise ProvisionError(f"the broker at {where} refused the login ({code})")

    def run(self, answer_timeout_s: float) -> Enrolled:
        where = str(self.endpoint)
        request_id = self.request.request_id
        self.say(f"connected to {where} as claim-{request_id}")
        self.client.subscribe(result_topic(request_id), qos=QOS)
        granted = self._wait(self.suback, self.connect_timeout_s, "SUBACK")
        if granted[0].is_failure:
            raise ProvisionError(
                f"the broker at {where} refused the subscription to the enrollment result "
                f"({granted[0]}): check its ACL lets user claim read "
                f"{PROVISION_ROOT}/+/down/result"
            )
        self.client.publish(csr_topic(request_id), self.request.payload(), qos=QOS)
        acked = self._wait(self.puback, self.connect_timeout_s, "PUBACK")
        if acked.value == _NO_MATCHING_SUBSCRIBERS:
            raise ProvisionError(
                f"nothing at {where} takes enrollment requests (the broker says no subscriber "
                f"reads {PROVISION_ROOT}/+/up/csr): check the facility cloud's enrollment "
                "service is running and connected to this broker; the token was not used"
            )
        if acked.is_failure:
            raise ProvisionError(
                f"the broker at {where} refused the CSR ({acked}): check its ACL lets user "
                f"claim write {PROVISION_ROOT}/+/up/csr"
            )
        self.say(f"CSR sent (request {request_id}); waiting for the cloud's answer")
        try:
            answer = self._wait(self.answer, answer_timeout_s, "answer")
        except _TimedOut:
            raise ProvisionError(
                f"no answer from the facility cloud within {answer_timeout_s:g} s (request "
                f"{request_id} at {where}): check the cloud's enrollment service; ask the "
                "facility whether the token was spent before trying again with it"
            ) from None
        return self._enrolled(answer)

    def close(self) -> None:
        if self._started:
            self.client.disconnect()
            self.client.loop_stop()

    def _wait(self, waiter: _Waiter, timeout_s: float, what: str) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            if waiter.event.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
                return waiter.value
            if self.closed.is_set():
                raise ProvisionError(
                    f"the broker at {self.endpoint} closed the connection before its "
                    f"{what} ({self.disconnect_reason or 'no reason given'}): check the "
                    "broker's log"
                )
            if time.monotonic() >= deadline:
                raise _TimedOut(
                    f"no {what} from {self.endpoint} within {timeout_s:g} s: check it is an "
                    f"MQTT broker's port and {port_hint(self.endpoint).removeprefix('check ')}"
                )

    def _enrolled(self, answer: dict[str, Any]) -> Enrolled:
        if answer.get("ok") is not True:
            error = answer.get("error")
            reason = error if isinstance(error, str) and error else "no reason given"
            raise ProvisionError(
                f"the facility cloud refused the enrollment: {reason}: check the token and the "
                "kiosk id with the facility's admin console"
            )
        fields = {}
        for name in ("certificate_pem", "ca_pem", "facility_id"):
            value = answer.get(name)
            if not isinstance(value, str) or not value:
                raise ProvisionError(f"the cloud's answer lacks {name}: report it to the facility")
            fields[name] = value
        brokers = answer.get("brokers")
        if (
            not isinstance(brokers, list)
            or not brokers
            or not all(isinstance(b, str) for b in brokers)
        ):
            raise ProvisionError("the cloud's answer names no brokers: report it to the facility")
        return Enrolled(
            certificate_pem=fields["certificate_pem"],
            ca_pem=fields["ca_pem"],
            facility_id=fields["facility_id"],
            brokers=tuple(brokers),
            endpoint=str(self.endpoint),
        )

    # --- paho's network thread ---------------------------------------------------------------

    def _on_connect(self, _c: Any, _u: Any, _flags: Any, code: ReasonCode, _p: Any) -> None:
        self.connack.set(code)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, codes: list[ReasonCode], _p: Any) -> None:
        self.suback.set(codes)

    def _on_publish(self, _c: Any, _u: Any, _mid: int, code: ReasonCode, _p: Any) -> None:
        self.puback.set(code)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            payload = json.loads(message.payload)
        except (ValueError, UnicodeDecodeError):
            return
        # Every claimer may read every result (one ACL line for all): only ours counts.
        if (
            isinstance(payload, dict)
            and payload.get("request_id") in (None, self.request.request_id)
            and payload.get("type", "enrolled") == "enrolled"
        ):
            self.answer.set(payload)

    def _on_disconnect(self, _c: Any, _u: Any, _flags: Any, code: ReasonCode, _p: Any) -> None:
        self.disconnect_reason = str(code)
        self.closed.set()


class _Waiter:
    """One value from paho's thread, and an event that says it came."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.value: Any = None

    def set(self, value: Any) -> None:
        if not self.event.is_set():
            self.value = value
            self.event.set()
