"""The facility cloud's enrollment service, simulated (docs/protocol.md, "Enrollment").

Three parts, as a facility would have them:

- :class:`ClaimTokens`: the one-time claim tokens the admin console issues, one facility each.
- :class:`ClaimGate`: the broker's enrollment listener with its token check. Stock Mosquitto
  cannot check one-time tokens (systemd/mosquitto/kiosk-facility.conf keeps port 8885 shut until
  a plugin does), so the simulator puts this gate in front of it: it reads each client's MQTT
  CONNECT, refuses (CONNACK "Bad user name or password") a login that is not user ``claim``
  with an unspent token and client id ``claim-{uuid}``, records which token logged in under
  which request id (what the plugin must tell the cloud), then hands the connection to the
  broker byte for byte. TLS with the test PKI's server certificate when asked.
- :class:`EnrollmentResponder`: the cloud's worker. It reads ``kiosk/v1/provision/+/up/csr``,
  checks the request with the contract's ``enroll`` model, accepts a CSR on request R only from
  a claimer that logged in as ``claim-R`` with a token still unspent, checks the kiosk id and
  the CSR, signs it with the facility CA, spends the token, and answers on ``…/down/result``
  with the contract's ``enrolled`` model; or answers ``ok: false`` with the reason.

``python -m cloudsim.enroll`` runs all three on a Mosquitto of its own and prints a token.
"""

from __future__ import annotations

import contextlib
import datetime
import re
import secrets
import select
import socket
import ssl
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from paho.mqtt.enums import CallbackAPIVersion

from cloudsim.tls import CLOUD_USER, LEAF_KEY_USAGE
from kiosk.contract import limits
from kiosk.contract.codec import Rejected, build, decode, dump, encode, validate_enrollment
from kiosk.contract.connection import CLAIM_USER, QOS
from kiosk.contract.enrollment import EnrolledPayload
from kiosk.contract.topics import FACILITY_WIDE, PROVISION, csr_topic, result_topic

CSR_FILTER = csr_topic("+")
# Names a kiosk id must never take: levels of the topic tree and users of the broker.
RESERVED_IDS = (FACILITY_WIDE, PROVISION, CLAIM_USER, CLOUD_USER)
CERT_VALID_DAYS = 365
_CLAIM_CLIENT = re.compile(r"claim-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
Log = Callable[[str], Any]


# --- tokens ----------------------------------------------------------------------------------


@dataclass
class _Token:
    facility_id: str
    spent: bool = False


@dataclass
class ClaimTokens:
    """Issued tokens, which request ids logged in with which token, and what is spent."""

    _tokens: dict[str, _Token] = field(default_factory=dict)
    _logins: dict[str, str] = field(default_factory=dict)  # request id -> token
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, facility_id: str) -> str:
        token = secrets.token_urlsafe(18)
        with self._lock:
            self._tokens[token] = _Token(facility_id)
        return token

    def login(self, client_id: str, username: str | None, password: bytes | None) -> int:
        """0 when the login may proceed (and is recorded); else the MQTT 5 reason code."""
        found = _CLAIM_CLIENT.fullmatch(client_id)
        if found is None:
            return 0x85  # client identifier not valid
        token = (password or b"").decode("utf-8", "replace")
        with self._lock:
            entry = self._tokens.get(token)
            if username != CLAIM_USER or entry is None or entry.spent:
                return 0x86  # bad user name or password
            self._logins[found.group(1)] = token
        return 0

    def token_for(self, request_id: str) -> tuple[str | None, str | None]:
        """``(token, facility)`` the claimer of ``request_id`` logged in with, if unspent."""
        with self._lock:
            token = self._logins.get(request_id)
            entry = self._tokens.get(token) if token else None
            if entry is None or entry.spent:
                return None, None
            return token, entry.facility_id

    def spend(self, token: str) -> bool:
        """True if this call spent it (the first valid CSR wins)."""
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None or entry.spent:
                return False
            entry.spent = True
            return True

    def is_spent(self, token: str) -> bool:
        with self._lock:
            entry = self._tokens.get(token)
            return entry is not None and entry.spent


# --- the broker's enrollment listener --------------------------------------------------------


class _Refused(Exception):
    pass


def _read_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise _Refused("closed before its CONNECT was complete")
        data += chunk
    return data


def _read_packet(sock: socket.socket) -> bytes:
    """One MQTT control packet, whole: fixed header, remaining length, body."""
    header = _read_exact(sock, 1)
    length, multiplier, raw = 0, 1, b""
    for _ in range(4):
        byte = _read_exact(sock, 1)
        raw += byte
        length += (byte[0] & 0x7F) * multiplier
        if not byte[0] & 0x80:
            break
        multiplier *= 128
    else:
        raise _Refused("malformed remaining length")
    return header + raw + _read_exact(sock, length)


@dataclass(frozen=True)
class ConnectFields:
    level: int  # 4: MQTT 3.1.1, 5: MQTT 5
    client_id: str
    username: str | None
    password: bytes | None


def parse_connect(packet: bytes) -> ConnectFields:
    """What the token check needs of a CONNECT packet (MQTT 3.1.1 or 5)."""
    if not packet or packet[0] >> 4 != 1:
        raise _Refused("the first packet is not a CONNECT")
    at = 1
    while packet[at] & 0x80:
        at += 1
    at += 1
    reader = _Reader(packet, at)
    if reader.text() not in ("MQTT", "MQIsdp"):
        raise _Refused("not MQTT")
    level = reader.byte()
    flags = reader.byte()
    reader.skip(2)  # keepalive
    if level == 5:
        reader.skip(reader.varint())  # properties
    client_id = reader.text()
    if flags & 0x04:  # will
        if level == 5:
            reader.skip(reader.varint())
        reader.text()
        reader.binary()
    username = reader.text() if flags & 0x80 else None
    password = reader.binary() if flags & 0x40 else None
    return ConnectFields(level, client_id, username, password)


class _Reader:
    def __init__(self, data: bytes, at: int) -> None:
        self.data, self.at = data, at

    def byte(self) -> int:
        self.at += 1
        return self.data[self.at - 1]

    def skip(self, size: int) -> None:
        self.at += size

    def binary(self) -> bytes:
        size = int.from_bytes(self.data[self.at : self.at + 2], "big")
        self.at += 2 + size
        return self.data[self.at - size : self.at]

    def text(self) -> str:
        return self.binary().decode("utf-8", "replace")

    def varint(self) -> int:
        value, multiplier = 0, 1
        while True:
            byte = self.byte()
            value += (byte & 0x7F) * multiplier
            if not byte & 0x80:
                return value
            multiplier *= 128


def _refusal(level: int, reason: int) -> bytes:
    if level == 5:
        return bytes([0x20, 3, 0, reason, 0])  # CONNACK, no session, reason, no properties
    # MQTT 3.1.1 return codes: 2 identifier rejected, 4 bad user name or password.
    return bytes([0x20, 2, 0, 2 if reason == 0x85 else 4])


class ClaimGate:
    """A listener on loopback that checks claim logins, then joins them to the broker."""

    def __init__(
        self,
        broker_url: str,
        tokens: ClaimTokens,
        *,
        tls: ssl.SSLContext | None = None,
        port: int = 0,
        log: Log = lambda _line: None,
    ) -> None:
        parts = urlparse(broker_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 1883)
        self.tokens = tokens
        self.tls = tls
        self.log = log
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def start(self) -> ClaimGate:
        self._spawn(self._accept, "claim-gate")
        return self

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(5)

    def __enter__(self) -> ClaimGate:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:  # what has ended is forgotten: a long run does not pile them up
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets = [s for s in self._sockets if s.fileno() != -1]
            self._sockets.append(sock)
        return sock

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._spawn(self._serve, "claim-gate-client", self._track(client))

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        try:
            client.settimeout(10)
            if self.tls is not None:
                client = self._track(self.tls.wrap_socket(client, server_side=True))
            packet = _read_packet(client)
            fields = parse_connect(packet)
            reason = self.tokens.login(fields.client_id, fields.username, fields.password)
            if reason:
                self.log(f"enroll: refused login {fields.client_id!r} (reason 0x{reason:02x})")
                client.sendall(_refusal(fields.level, reason))
                return
            upstream = self._track(socket.create_connection(self.upstream, timeout=10))
            upstream.sendall(packet)
            self._pump(client, upstream)
        except (OSError, _Refused, IndexError, ssl.SSLError):
            return
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        """Both ways in one thread: an SSL socket must not be read and written at once."""
        client.settimeout(None)
        upstream.settimeout(None)
        peers = {client: upstream, upstream: client}
        while not self._stop.is_set():
            ready = [s for s in peers if isinstance(s, ssl.SSLSocket) and s.pending()]
            if not ready:
                ready, _w, _x = select.select(list(peers), [], [], 0.2)
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                peers[sock].sendall(data)


# --- the cloud's worker -----------------------------------------------------------------------


@dataclass
class Facility:
    """What the responder signs with and hands out: the facility CA, and the brokers."""

    facility_id: str
    ca_cert: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey
    brokers: Sequence[str]

    @classmethod
    def from_files(
        cls, facility_id: str, ca_file: Path, ca_key_file: Path, brokers: Sequence[str]
    ) -> Facility:
        key = serialization.load_pem_private_key(Path(ca_key_file).read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{ca_key_file}: not an EC private key")
        cert = x509.load_pem_x509_certificate(Path(ca_file).read_bytes())
        return cls(facility_id, cert, key, list(brokers))


class EnrollmentResponder:
    """Answers CSRs on the broker; ``answer = False`` makes it read them and say nothing."""

    def __init__(
        self,
        broker_url: str,
        tokens: ClaimTokens,
        facilities: Sequence[Facility],
        *,
        username: str | None = CLOUD_USER,
        log: Log = lambda _line: None,
    ) -> None:
        parts = urlparse(broker_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 1883
        self.tokens = tokens
        self.facilities = {facility.facility_id: facility for facility in facilities}
        self.log = log
        self.answer = True
        self.requests: list[dict[str, Any]] = []  # every CSR payload seen, for tests
        self.enrolled: dict[str, str] = {}  # kiosk id -> facility id
        self._answered: set[str] = set()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"cloudsim-enroll-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        if username:
            self.client.username_pw_set(username)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_args: self._ready.set()
        self.client.on_message = self._on_message

    def start(self, timeout: float = 10.0) -> EnrollmentResponder:
        self.client.connect(self.host, self.port, 30, clean_start=True)
        self.client.loop_start()
        if not self._ready.wait(timeout):
            self.stop()
            raise TimeoutError(f"enrollment responder: no SUBACK within {timeout} s")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> EnrollmentResponder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        client.subscribe(CSR_FILTER, qos=QOS)

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        request_id = message.topic.split("/")[3]
        try:
            payload: Any = decode(
                message.payload,
                max_bytes=limits.ENROLLMENT_MAX_BYTES,
                max_elements=limits.ENROLLMENT_MAX_ELEMENTS,
            )
        except Rejected:
            payload = None
        if isinstance(payload, dict):
            with self._lock:
                self.requests.append(payload)
        if not self.answer:
            self.log(f"enroll: request {request_id} read, not answered (answer = False)")
            return
        result = self.decide(request_id, payload)
        self.log(f"enroll: request {request_id}: {'ok' if result['ok'] else result['error']}")
        client.publish(result_topic(request_id), encode(result), qos=QOS)

    def decide(self, request_id: str, payload: Any) -> dict[str, Any]:
        """The result for one CSR; spends the token only when it answers ``ok: true``."""

        def refuse(error: str) -> dict[str, Any]:
            return dump(build(EnrolledPayload, request_id=request_id, ok=False, error=error))

        if not isinstance(payload, dict):
            return refuse("not an enroll payload")
        try:
            request = validate_enrollment("csr", payload)
        except Rejected as rejection:
            return refuse(f"not an enroll payload: {rejection.reason}")
        if request.request_id != request_id:
            return refuse("request_id does not match the topic")
        with self._lock:
            if request_id in self._answered:
                return refuse("this request was answered already")
            self._answered.add(request_id)
        token, facility_id = self.tokens.token_for(request_id)
        if token is None or facility_id is None:
            return refuse("no unspent claim token logged in for this request")
        facility = self.facilities.get(facility_id)
        if facility is None:
            return refuse(f"the token's facility {facility_id!r} is not served here")
        kiosk_id = request.kiosk_id  # the contract's kiosk-id pattern, checked by the model
        if kiosk_id in RESERVED_IDS or kiosk_id.startswith("claim-"):
            return refuse(f"kiosk id {kiosk_id!r} is reserved")
        with self._lock:
            if kiosk_id in self.enrolled:
                return refuse(f"kiosk id {kiosk_id!r} is enrolled already")
        try:
            csr = x509.load_pem_x509_csr(request.csr_pem.encode())
        except ValueError:
            return refuse("csr_pem is not a PEM CSR")
        problem = _csr_problem(csr, kiosk_id)
        if problem:
            return refuse(problem)
        if not self.tokens.spend(token):
            return refuse("the claim token was used already")
        with self._lock:
            self.enrolled[kiosk_id] = facility_id
        certificate = sign(csr, facility)
        enrolled = build(
            EnrolledPayload,
            request_id=request_id,
            ok=True,
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
            ca_pem=facility.ca_cert.public_bytes(serialization.Encoding.PEM).decode(),
            facility_id=facility_id,
            brokers=list(facility.brokers),
        )
        return dump(enrolled)


def _csr_problem(csr: x509.CertificateSigningRequest, kiosk_id: str) -> str | None:
    if not csr.is_signature_valid:
        return "the CSR's signature is not valid"
    key = csr.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        return "the CSR's key must be EC P-256"
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or names[0].value != kiosk_id:
        return f"the CSR's CN must be the kiosk id {kiosk_id!r}"
    return None


def sign(
    csr: x509.CertificateSigningRequest, facility: Facility, valid_days: int = CERT_VALID_DAYS
) -> x509.Certificate:
    """A kiosk's client certificate: the CSR's key and CN, issued by the facility CA."""
    now = datetime.datetime.now(datetime.UTC)
    public_key = csr.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(facility.ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))  # clocks a little apart
        .not_valid_after(now + datetime.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            LEAF_KEY_USAGE,
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(facility.ca_key.public_key()),
            critical=False,
        )
        .sign(facility.ca_key, hashes.SHA256())
    )


# --- all of it, for tests, the bench and by hand ---------------------------------------------


class EnrollmentService:
    """Tokens, gate and responder on one broker: ``url`` is where kiosks enroll."""

    def __init__(
        self,
        broker_url: str,
        facility: Facility,
        *,
        tls: ssl.SSLContext | None = None,
        cloud_username: str | None = CLOUD_USER,
        log: Log = lambda _line: None,
    ) -> None:
        self.tokens = ClaimTokens()
        self.facility = facility
        self.gate = ClaimGate(broker_url, self.tokens, tls=tls, log=log)
        self.responder = EnrollmentResponder(
            broker_url, self.tokens, [facility], username=cloud_username, log=log
        )

    @property
    def url(self) -> str:
        return self.gate.url

    def issue_token(self) -> str:
        return self.tokens.issue(self.facility.facility_id)

    def start(self) -> EnrollmentService:
        self.gate.start()
        try:
            self.responder.start()
        except BaseException:
            self.gate.stop()
            raise
        return self

    def stop(self) -> None:
        self.responder.stop()
        self.gate.stop()

    def __enter__(self) -> EnrollmentService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """TLS for the gate, as the broker's enrollment listener: server authentication only."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context


def main(argv: list[str]) -> int:
    """Run a broker of our own, the gate and the responder until Ctrl-C or SIGTERM; print a
    token for ``kiosk-provision enroll``."""
    import shutil
    import signal
    import tempfile

    from cloudsim.broker import BrokerUnavailable, LocalBroker
    from cloudsim.tls import make_test_pki

    facility_id = argv[0] if argv else "demo"
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    workdir = Path(tempfile.mkdtemp(prefix="kiosk-enroll-"))
    broker = None
    try:
        pki = make_test_pki(workdir / "pki")
        broker = LocalBroker(workdir / "broker").start()
        facility = Facility.from_files(facility_id, pki["ca_file"], pki["ca_key"], [broker.url])
        with EnrollmentService(broker.url, facility, log=print) as service:
            print(f"enroll at {service.url} (test CA {pki['ca_file']}), facility {facility_id}")
            print(f"claim token: {service.issue_token()}", flush=True)
            stop.wait()
    except BrokerUnavailable as error:
        print(f"! {error}")
        return 1
    finally:
        if broker is not None:
            broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
