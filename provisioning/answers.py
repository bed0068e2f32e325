"""The technician's answers: from flags, or asked on the terminal with rich's prompts, with the
previous configuration's values as defaults."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any, TextIO
from urllib.parse import urlsplit

from rich.prompt import Prompt
from rich.text import Text

from kiosk.config import KIOSK_ID_PATTERN, ROLES
from kiosk.contract.endpoints import Endpoint, parse_endpoint
from provisioning.config_file import KEY_BY_PATH, parse_value
from provisioning.errors import UsageError
from provisioning.output import Out

TOKEN_ENV = "KIOSK_CLAIM_TOKEN"
# The facility broker's enrollment listener (systemd/mosquitto/kiosk-facility.conf): TLS that
# authenticates the broker only, since a kiosk being enrolled has no certificate yet.
ENROLL_PORT = 8885
MAX_TRIES = 5


class _Lines:
    """A stream of answers for rich's prompts: a line without its newline, EOFError at the end
    (rich reads a stream's lines as they are, so a blank line would not take the default)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def readline(self) -> str:
        line = self.stream.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")


class Asker:
    """Asks on the terminal when ``interactive``; otherwise a missing answer is an error that
    names its flag."""

    def __init__(self, out: Out, *, interactive: bool, stream: TextIO | None = None) -> None:
        self.out = out
        self.interactive = interactive
        self.stream = _Lines(stream) if stream is not None else None

    def ask(
        self,
        label: str,
        flag: str,
        parse: Callable[[str], Any],
        *,
        default: str | None = None,
        secret: bool = False,
    ) -> Any:
        """``parse`` of the answer; it raises ValueError for a wrong one, which is asked again."""
        if not self.interactive:
            if default is None:
                raise UsageError(
                    f"{flag} is needed: there is no terminal to ask on "
                    "(give it as a flag, or run on a terminal without --non-interactive)"
                )
            try:
                return parse(default)
            except ValueError as error:
                raise UsageError(f"{flag}: {error}") from None
        for _ in range(MAX_TRIES):
            try:
                answer = Prompt.ask(
                    Text(label),
                    console=self.out.console,
                    default=default if default is not None else ...,
                    show_default=not secret,
                    # getpass reads the terminal itself; a test's stream is read as it is.
                    password=secret and self.stream is None,
                    stream=self.stream,  # type: ignore[arg-type]
                )
            except EOFError:
                raise UsageError(f"no answer for {flag} (the input ended)") from None
            try:
                return parse(str(answer).strip())
            except (ValueError, UsageError) as error:
                self.out.warn(f"{label}: {error}")
        raise UsageError(f"{flag}: no acceptable answer after {MAX_TRIES} tries")


def _checked(path: str, flag: str) -> Callable[[Any], Any]:
    def parse(text: Any) -> Any:
        value = parse_value(path, text, flag)
        if path == "kiosk.housing_unit" and value is None:
            raise UsageError(f"{flag}: a housing kiosk needs its housing unit")
        return value

    return parse


def endpoints_from(value: Any, *, enrolling: bool, where: str) -> tuple[str, ...]:
    """Broker addresses from a flag, a prompt (comma-separated) or a file. When ``enrolling``,
    an ``mqtts://`` address without a port means the enrollment port."""
    items = value if isinstance(value, list | tuple) else str(value).replace(",", " ").split()
    urls = []
    for item in items:
        parts = urlsplit(item)
        if enrolling and parts.scheme == "mqtts" and parts.hostname and parts.port is None:
            item = f"mqtts://{parts.hostname}:{ENROLL_PORT}"
        urls.append(item)
    if not urls:
        raise UsageError(f"{where}: no broker address")
    return tuple(parse_value("cloud.brokers", urls, where))


def parse_endpoints(urls: tuple[str, ...]) -> list[Endpoint]:
    return [parse_endpoint(url) for url in urls]


def default_kiosk_id() -> str | None:
    """The host's name, when it would do as a kiosk id: terminals are often named after them."""
    name = socket.gethostname().split(".")[0].lower()
    return name if KIOSK_ID_PATTERN.fullmatch(name) else None


def enrollment_defaults(previous_brokers: Any) -> str | None:
    """The previous brokers' hosts at the enrollment port: a kiosk enrolled again."""
    if not previous_brokers:
        return None
    hosts = []
    for url in previous_brokers if isinstance(previous_brokers, list) else [previous_brokers]:
        parts = urlsplit(str(url))
        if parts.hostname:
            scheme = parts.scheme if parts.scheme in ("mqtt", "mqtts") else "mqtts"
            port = ENROLL_PORT if scheme == "mqtts" else parts.port
            hosts.append(f"{scheme}://{parts.hostname}" + (f":{port}" if port else ""))
    return ", ".join(dict.fromkeys(hosts)) or None


def gather(
    asker: Asker,
    given: dict[str, Any],
    previous: dict[str, Any],
    *,
    enrolling: bool,
) -> dict[str, Any]:
    """Facility, kiosk id, role, housing unit and brokers, checked: ``{"section.key": value}``."""
    answers: dict[str, Any] = {}

    def one(path: str, label: str, default: Any) -> Any:
        flag = KEY_BY_PATH[path].flag
        if path in given:
            return _checked(path, flag)(given[path])
        shown = None if default is None else str(default)
        return asker.ask(label, flag, _checked(path, flag), default=shown)

    answers["facility.id"] = one("facility.id", "Facility id", previous.get("facility.id"))
    answers["kiosk.id"] = one(
        "kiosk.id", "Kiosk id", previous.get("kiosk.id") or default_kiosk_id()
    )
    answers["kiosk.role"] = one(
        "kiosk.role", f"Role ({' or '.join(ROLES)})", previous.get("kiosk.role", "housing")
    )
    if answers["kiosk.role"] == "housing":
        answers["kiosk.housing_unit"] = one(
            "kiosk.housing_unit", "Housing unit", previous.get("kiosk.housing_unit")
        )
    else:
        answers["kiosk.housing_unit"] = None  # lobbies belong to no unit
    flag = KEY_BY_PATH["cloud.brokers"].flag
    if "cloud.brokers" in given:
        brokers = endpoints_from(given["cloud.brokers"], enrolling=enrolling, where=flag)
    else:
        default = (
            enrollment_defaults(previous.get("cloud.brokers"))
            if enrolling
            else ", ".join(previous.get("cloud.brokers") or []) or None
        )
        label = (
            "Broker to enroll at (e.g. mqtts://broker.facility.example:8885)"
            if enrolling
            else "Brokers the kiosk connects to (comma-separated)"
        )
        brokers = asker.ask(
            label,
            flag,
            lambda text: endpoints_from(text, enrolling=enrolling, where=flag),
            default=default,
        )
    answers["cloud.brokers"] = brokers
    return answers


def claim_token(
    asker: Asker, token: str | None, token_file: str | None, stdin: TextIO | None
) -> str:
    """The one-time claim token: ``--token-file`` (``-`` reads standard input), ``--token``,
    the environment, or a hidden prompt."""
    if token_file is not None:
        try:
            if token_file == "-":
                text = (stdin.readline() if stdin is not None else "") or ""
            else:
                with open(token_file, encoding="utf-8") as handle:
                    text = handle.read()
        except OSError as error:
            raise UsageError(
                f"--token-file {token_file}: cannot read it ({error.strerror})"
            ) from None
        token = text.strip()
        if not token:
            raise UsageError(f"--token-file {token_file}: empty")
        return token
    token = token or os.environ.get(TOKEN_ENV)
    if token:
        return token.strip()

    def non_empty(text: str) -> str:
        if not text:
            raise ValueError("the token is needed to enroll")
        return text

    return asker.ask("Claim token (hidden)", "--token-file", non_empty, secret=True)
