"""The kiosk's configuration: a TOML file, every key overridable by a command-line flag.

A bad or missing key stops start-up with one line naming the key and where it came from;
the CLI prints that line, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kiosk.contract.endpoints import parse_endpoint

# The adapters a configuration may name for each device, and where each device is found by
# default (the udev rules' stable names). The configuration file's own vocabulary, so that it
# needs no hardware code to be read; tests/hardware/test_factory.py holds hardware.factory to it.
DEVICE_KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "camera": ("simulated", "v4l2", "file"),
        "handset": ("simulated", "evdev", "serial"),
        "badge_reader": ("simulated", "serial", "evdev"),
    }
)
CAMERA_SOURCE = "/dev/kiosk-camera"
HANDSET_DEVICE = "/dev/kiosk-handset"
BADGE_DEVICE = "/dev/kiosk-badge"

DEFAULT_CONFIG_PATH = Path("/etc/kiosk/kiosk.toml")
DEFAULT_DATA_DIR = Path("/var/lib/kiosk")
ROLES = ("housing", "lobby")
LANGUAGES = ("en", "es")
KIOSK_ID_PATTERN = re.compile(r"[a-z0-9-]{3,40}")


class ConfigError(Exception):
    """A configuration problem, already phrased as the one line the technician reads."""


@dataclass(frozen=True)
class Key:
    """One configuration key: where it lives in the TOML file, its flag, how it is checked."""

    path: str  # "section.name" in the TOML file
    flag: str
    help: str
    parse: Callable[[Any], Any]
    default: Any = None
    required: bool = False
    repeatable: bool = False  # a flag given several times builds a list


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty text")
    return value.strip()


def _optional_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return _text(value)


def _kiosk_id(value: Any) -> str:
    if not isinstance(value, str) or not KIOSK_ID_PATTERN.fullmatch(value):
        raise ValueError(f"must be 3 to 40 lowercase letters, digits or '-', got {_shown(value)}")
    return value


def _facility_id(value: Any) -> str:
    text = _text(value)
    if "/" in text or "+" in text or "#" in text or len(text) > 64:
        raise ValueError(f"must be at most 64 chars without '/', '+' or '#', got {_shown(value)}")
    return text


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in options:
            allowed = " or ".join(f'"{o}"' for o in options)
            raise ValueError(f"must be {allowed}, got {_shown(value)}")
        return value

    return parse


def _timezone(value: Any) -> str:
    text = _text(value)
    try:
        zoneinfo.ZoneInfo(text)
    # OSError: a folder of the zone database ("America") or an unreadable file.
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f'must be an IANA time zone such as "America/Chicago", got {_shown(value)}'
        ) from None
    return text


def _languages(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ValueError('must be a list of language codes such as ["en", "es"]')
    result = tuple(str(item).strip() for item in items)
    unknown = [code for code in result if code not in LANGUAGES]
    if unknown:
        raise ValueError(f"knows {', '.join(LANGUAGES)}; not {', '.join(unknown)}")
    return result


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.lower() in ("true", "yes", "1")
    raise ValueError(f"must be true or false, got {_shown(value)}")


def _size(value: Any) -> int:
    # A bool is an int to Python and 1280.5 would be truncated silently; inf overflows int().
    fraction = isinstance(value, float) and not value.is_integer()
    try:
        if isinstance(value, bool) or fraction:
            raise ValueError
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"must be a whole number of pixels, got {_shown(value)}") from None
    if not 320 <= number <= 7680:
        raise ValueError(f"must be between 320 and 7680 pixels, got {number}")
    return number


def _brokers(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError('must be a list of broker addresses such as ["mqtts://broker:8883"]')
    for item in items:
        if not isinstance(item, str) or not re.fullmatch(r"mqtts?://[^\s/:]+(:\d{1,5})?", item):
            raise ValueError(
                "each broker must look like mqtts://host:8883 or mqtt://127.0.0.1:1883, "
                f"got {_shown(item)}"
            )
        # The link's own rules (plain mqtt:// on loopback only, a port in range), checked here
        # so that a bad address stops start-up with one line instead of failing in the link.
        try:
            parse_endpoint(item)
        except ValueError as error:
            # parse_endpoint names the address; urlsplit's "Port out of range" does not.
            detail = str(error) if item in str(error) else f"broker {_shown(item)}: {error}"
            raise ValueError(detail) from None
    return tuple(items)


def _megabytes(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"must be a whole number of MiB, got {_shown(value)}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a whole number of MiB, got {_shown(value)}") from None
    if isinstance(value, float) or not 1 <= number <= 1_000_000:
        raise ValueError(f"must be a whole number of MiB from 1 to 1000000, got {_shown(value)}")
    return number


def _camera_fps(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"must be frames a second from 1 to 120, got {_shown(value)}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"must be frames a second from 1 to 120, got {_shown(value)}") from None
    if not 1 <= number <= 120:
        raise ValueError(f"must be frames a second from 1 to 120, got {_shown(value)}")
    return number


# What serial badge readers speak; anything else is a typo, not a reader.
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


def _baudrate(value: Any) -> int:
    try:
        number = int(value) if not isinstance(value, bool | float) else None
    except (TypeError, ValueError):
        number = None
    if number not in BAUDRATES:
        allowed = ", ".join(str(rate) for rate in BAUDRATES)
        raise ValueError(f"must be one of {allowed}, got {_shown(value)}")
    return number


def _key_names(value: Any) -> tuple[str, ...]:
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"must be key names such as KEY_PHONE, got {_shown(value)}")
    names = tuple(name.strip() for name in names if name.strip())
    bad = [name for name in names if not re.fullmatch(r"(KEY|BTN)_[A-Z0-9_]+", name)]
    if bad:
        raise ValueError(f"must be key names such as KEY_PHONE, got {_shown(bad[0])}")
    return names


def _path(value: Any) -> Path:
    if isinstance(value, Path):
        return value
    text = _text(value)
    if "\0" in text:
        raise ValueError(f"must be a path without NUL characters, got {_shown(value)}")
    try:
        return Path(text).expanduser()
    except RuntimeError:  # "~someone/..." for a user this machine does not know
        raise ValueError(f"names a home folder that does not exist: {_shown(value)}") from None


def _optional_path(value: Any) -> Path | None:
    return None if value in (None, "") else _path(value)


def _shown(value: Any) -> str:
    # JSON-quoted text: a newline or other control character in a value must not break the
    # one-line message in two.
    text = repr(value) if not isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _name(text: str) -> str:
    """A key or section name from the file, quoted if it holds characters that would not print."""
    return text if text.isprintable() else json.dumps(text, ensure_ascii=False)


KEYS: tuple[Key, ...] = (
    Key(
        "kiosk.id",
        "--kiosk-id",
        "this kiosk's id, also its MQTT client id",
        _kiosk_id,
        required=True,
    ),
    Key(
        "kiosk.role", "--role", "housing (residents) or lobby (visitors)", _choice(ROLES), "housing"
    ),
    Key("kiosk.name", "--kiosk-name", "the name shown on screen", _text, "Kiosk"),
    Key(
        "kiosk.housing_unit", "--housing-unit", "the housing unit (housing kiosks)", _optional_text
    ),
    Key("facility.id", "--facility", "the facility's id in the cloud", _facility_id, required=True),
    Key(
        "facility.name", "--facility-name", "the facility's name shown on screen", _text, "Facility"
    ),
    Key("facility.timezone", "--timezone", "the facility's IANA time zone", _timezone, "UTC"),
    Key(
        "display.fullscreen",
        "--fullscreen",
        "fullscreen without decorations (true|false)",
        _flag,
        True,
    ),
    Key("display.width", "--width", "window width in windowed mode", _size, 1280),
    Key("display.height", "--height", "window height in windowed mode", _size, 800),
    Key("display.language", "--language", "the language shown when idle", _choice(LANGUAGES), "en"),
    Key(
        "display.languages",
        "--languages",
        "languages offered, comma separated",
        _languages,
        LANGUAGES,
    ),
    Key(
        "cloud.brokers",
        "--broker",
        "broker address, tried in turn (repeatable)",
        _brokers,
        (),
        repeatable=True,
    ),
    Key("cloud.ca_file", "--ca-file", "CA certificate for mqtts://", _optional_path),
    Key("cloud.cert_file", "--cert-file", "this kiosk's client certificate", _optional_path),
    Key("cloud.key_file", "--key-file", "this kiosk's private key", _optional_path),
    Key(
        "cloud.outbox_budget_mb",
        "--outbox-budget-mb",
        "disk the unsent outbox may take, in MiB",
        _megabytes,
        512,
    ),
    Key(
        "session.login_snapshot",
        "--login-snapshot",
        "photograph each sign-in for the facility (true|false)",
        _flag,
        False,
    ),
    Key(
        "visits.blur_without_face",
        "--blur-without-face",
        "blur the outgoing picture after 5 s without a face (true|false)",
        _flag,
        False,
    ),
    Key(
        "hardware.camera",
        "--camera",
        "camera adapter",
        _choice(DEVICE_KINDS["camera"]),
        "simulated",
    ),
    Key(
        "hardware.camera_source",
        "--camera-source",
        "the camera's V4L2 node, or a video file (file)",
        _text,
        CAMERA_SOURCE,
    ),
    Key("hardware.camera_width", "--camera-width", "picture width asked", _size, 1280),
    Key("hardware.camera_height", "--camera-height", "picture height asked", _size, 720),
    Key("hardware.camera_fps", "--camera-fps", "frames a second asked", _camera_fps, 30.0),
    Key(
        "hardware.handset",
        "--handset",
        "handset adapter",
        _choice(DEVICE_KINDS["handset"]),
        "simulated",
    ),
    Key(
        "hardware.handset_device",
        "--handset-device",
        "the handset's input node (evdev)",
        _text,
        HANDSET_DEVICE,
    ),
    Key(
        "hardware.handset_mode",
        "--handset-mode",
        "how its hook switch reports: level | toggle",
        _choice(("level", "toggle")),
        "level",
    ),
    Key(
        "hardware.handset_codes",
        "--handset-codes",
        "the hook switch's key names, comma separated (evtest shows them)",
        _key_names,
        (),
    ),
    Key(
        "hardware.handset_line",
        "--handset-line",
        "the hook contact's status line (serial): cts | dsr | cd | ri",
        _choice(("cts", "dsr", "cd", "ri")),
        "cts",
    ),
    Key(
        "hardware.handset_closed_means",
        "--handset-closed-means",
        "what the closed hook contact means (serial): off_hook | on_hook",
        _choice(("off_hook", "on_hook")),
        "off_hook",
    ),
    Key(
        "hardware.handset_audio",
        "--handset-audio",
        "the handset's ALSA device for a visit's sound, e.g. \"plughw:CARD=Handset\"; "
        "none: a test tone",
        _optional_text,
        None,
    ),
    Key(
        "hardware.badge_reader",
        "--badge-reader",
        "badge reader adapter",
        _choice(DEVICE_KINDS["badge_reader"]),
        "simulated",
    ),
    Key(
        "hardware.badge_device",
        "--badge-device",
        "the badge reader's node or serial port",
        _text,
        BADGE_DEVICE,
    ),
    Key("hardware.badge_baudrate", "--badge-baudrate", "its speed", _baudrate, 9600),
    Key(
        "hardware.badge_format",
        "--badge-format",
        "what its cards carry: raw | h10301 | auto",
        _choice(("raw", "h10301", "auto")),
        "raw",
    ),
    Key(
        "storage.data_dir",
        "--data-dir",
        "where the kiosk keeps its database",
        _path,
        DEFAULT_DATA_DIR,
    ),
)

# What --demo fills in when neither the file nor a flag says otherwise.
DEMO_VALUES: Mapping[str, Any] = {
    "kiosk.id": "demo-hu-01",
    "kiosk.name": "Housing B · Kiosk 1",
    "kiosk.housing_unit": "B",
    "facility.id": "demo",
    "facility.name": "Riverside County Detention Center",
    "facility.timezone": "America/Chicago",
    "display.fullscreen": False,
}
DEMO_LOBBY_VALUES: Mapping[str, Any] = {
    "kiosk.id": "demo-lobby-01",
    "kiosk.name": "Visitor Lobby · Station 1",
    "kiosk.housing_unit": None,
}


@dataclass(frozen=True)
class KioskConfig:
    """Everything the kiosk was started with, checked."""

    kiosk_id: str
    role: str
    kiosk_name: str
    housing_unit: str | None
    facility_id: str
    facility_name: str
    timezone: str
    fullscreen: bool
    width: int
    height: int
    language: str
    languages: tuple[str, ...]
    brokers: tuple[str, ...]
    ca_file: Path | None
    cert_file: Path | None
    key_file: Path | None
    outbox_budget_mb: int
    login_snapshot: bool
    blur_without_face: bool
    camera: str
    camera_source: str
    camera_width: int
    camera_height: int
    camera_fps: float
    handset: str
    handset_device: str
    handset_mode: str
    handset_codes: tuple[str, ...]
    handset_line: str
    handset_closed_means: str
    handset_audio: str | None
    badge_reader: str
    badge_device: str
    badge_baudrate: int
    badge_format: str
    data_dir: Path
    demo: bool = False
    source: str = "defaults"  # the file read, for messages

    @property
    def database_path(self) -> Path:
        return self.data_dir / "kiosk.sqlite3"

    @property
    def device_kinds(self) -> dict[str, str]:
        """Which adapter each device uses, as ``hardware.factory.build_devices`` takes them."""
        return {"camera": self.camera, "handset": self.handset, "badge_reader": self.badge_reader}

    @property
    def camera_expected(self) -> dict[str, Any]:
        """What the self-test holds the camera to: the size and rate asked of a real one (the
        simulated camera films at its own)."""
        if self.camera == "simulated":
            return {"expected_size": None, "expected_fps": None}
        return {
            "expected_size": (self.camera_width, self.camera_height),
            "expected_fps": self.camera_fps,
        }


_FIELD_OF = {
    "kiosk.id": "kiosk_id",
    "kiosk.role": "role",
    "kiosk.name": "kiosk_name",
    "kiosk.housing_unit": "housing_unit",
    "facility.id": "facility_id",
    "facility.name": "facility_name",
    "facility.timezone": "timezone",
    "display.fullscreen": "fullscreen",
    "display.width": "width",
    "display.height": "height",
    "display.language": "language",
    "display.languages": "languages",
    "cloud.brokers": "brokers",
    "cloud.ca_file": "ca_file",
    "cloud.cert_file": "cert_file",
    "cloud.key_file": "key_file",
    "cloud.outbox_budget_mb": "outbox_budget_mb",
    "session.login_snapshot": "login_snapshot",
    "visits.blur_without_face": "blur_without_face",
    "hardware.camera": "camera",
    "hardware.camera_source": "camera_source",
    "hardware.camera_width": "camera_width",
    "hardware.camera_height": "camera_height",
    "hardware.camera_fps": "camera_fps",
    "hardware.handset": "handset",
    "hardware.handset_device": "handset_device",
    "hardware.handset_mode": "handset_mode",
    "hardware.handset_codes": "handset_codes",
    "hardware.handset_line": "handset_line",
    "hardware.handset_closed_means": "handset_closed_means",
    "hardware.handset_audio": "handset_audio",
    "hardware.badge_reader": "badge_reader",
    "hardware.badge_device": "badge_device",
    "hardware.badge_baudrate": "badge_baudrate",
    "hardware.badge_format": "badge_format",
    "storage.data_dir": "data_dir",
}


def add_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per configuration key; a flag given on the command line wins over the file."""
    group = parser.add_argument_group("configuration (each overrides the key in the file)")
    for key in KEYS:
        group.add_argument(
            key.flag,
            dest=_dest(key),
            metavar="VALUE",
            action="append" if key.repeatable else "store",
            default=None,
            help=f"{key.help} [{key.path}]",
        )


def _dest(key: Key) -> str:
    return "cfg_" + key.path.replace(".", "__")


def read_file(path: Path) -> dict[str, Any]:
    """The TOML file flattened to ``{"section.key": value}``; unknown keys are an error."""
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such config file (give one with --config PATH, or use --demo)"
        ) from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot read the config file (permission denied)") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: the file is not UTF-8 text") from None
    except OSError as error:  # an I/O error, a path too long, a loop of links...
        reason = error.strerror or error
        raise ConfigError(f"{path}: cannot read the config file ({reason})") from None
    known = {key.path for key in KEYS}
    flat: dict[str, Any] = {}
    for section, table in document.items():
        if not isinstance(table, dict):
            shown = _name(section)
            raise ConfigError(f"{path}: {shown}: expected a [{shown}] table, found a plain value")
        for name, value in table.items():
            dotted = f"{section}.{name}"
            if dotted not in known:
                shown = f"{_name(section)}.{_name(name)}"
                siblings = sorted(k.split(".", 1)[1] for k in known if k.startswith(section + "."))
                hint = f" (known in [{section}]: {', '.join(siblings)})" if siblings else ""
                raise ConfigError(f"{path}: {shown}: unknown key{hint}")
            flat[dotted] = value
    return flat


def load(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> KioskConfig:
    """Build the configuration from the file named by ``args.config``, the flags and ``--demo``."""
    demo = bool(getattr(args, "demo", False))
    config_arg = getattr(args, "config", None)
    path = Path(config_arg) if config_arg else DEFAULT_CONFIG_PATH
    # A named file must exist. Without one, the demo and a kiosk given every required key as
    # flags (a headless fleet, the tests) run on flags and defaults alone.
    if config_arg or (not demo and path.exists()):
        from_file, source = read_file(path), str(path)
    else:
        from_file, source = {}, "--demo" if demo else "the flags"

    role_hint = _flag_value(args, "kiosk.role") or from_file.get("kiosk.role", "housing")
    if role_hint not in ROLES:
        role_hint = "housing"  # only names the demo's folder; the key's own check reports it
    defaults: dict[str, Any] = {key.path: key.default for key in KEYS}
    if demo:
        defaults.update(DEMO_VALUES)
        if role_hint == "lobby":
            defaults.update(DEMO_LOBBY_VALUES)
        # One folder per role: a housing and a lobby demo can run side by side.
        defaults["storage.data_dir"] = demo_data_dir(environ) / role_hint
    values: dict[str, Any] = {}
    for key in KEYS:
        flagged = _flag_value(args, key.path)
        if flagged is not None:
            raw, where = flagged, key.flag
        elif key.path == "display.fullscreen" and getattr(args, "windowed", False):
            raw, where = False, "--windowed"
        elif key.path in from_file:
            raw, where = from_file[key.path], f"{path}: {key.path}"
        elif key.required and defaults[key.path] is None:
            if source == str(path):
                raise ConfigError(
                    f"{path}: {key.path}: missing (set it in the file or with {key.flag})"
                )
            raise ConfigError(
                f"{key.path}: missing: no config file at {path} "
                f"(give one with --config PATH, or set {key.flag})"
            )
        else:
            raw, where = defaults[key.path], f"default for {key.path}"
        try:
            values[_FIELD_OF[key.path]] = key.parse(raw)
        except ValueError as error:
            raise ConfigError(f"{where}: {error}") from None

    if values["language"] not in values["languages"]:
        raise ConfigError(
            f'{source}: display.language: "{values["language"]}" is not among display.languages'
        )
    return KioskConfig(**values, demo=demo, source=source)


def check_tls_files(config: KioskConfig) -> None:
    """At start-up, not at parse time: a kiosk that would fail every TLS handshake must not
    start as if all were well."""
    if not any(broker.startswith("mqtts://") for broker in config.brokers):
        return
    source = config.source
    for key, field in (("cloud.ca_file", "ca_file"), ("cloud.cert_file", "cert_file"),
                       ("cloud.key_file", "key_file")):  # fmt: skip
        path = getattr(config, field)
        if path is None:
            raise ConfigError(f"{source}: {key}: missing (mqtts:// brokers need it)")
        if not path.is_file():
            raise ConfigError(f"{source}: {key}: no such file {_shown(str(path))}")
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        certificate = x509.load_pem_x509_certificate(config.cert_file.read_bytes())
    except (ValueError, OSError):
        raise ConfigError(f"{source}: cloud.cert_file: not a PEM certificate") from None
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = names[0].value if names else ""
    # The broker's ACL knows the kiosk by its certificate's CN: another id would publish into
    # a topic the ACL refuses, and the outbox would wait for ever.
    if common_name != config.kiosk_id:
        raise ConfigError(
            f"{source}: cloud.cert_file: the certificate is for {_shown(common_name)}, "
            f"not for kiosk.id {_shown(config.kiosk_id)}"
        )


def _flag_value(args: argparse.Namespace, path: str) -> Any:
    key = next(k for k in KEYS if k.path == path)
    return getattr(args, _dest(key), None)


def demo_data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The demo's data folder: the user's XDG data directory, so no root is needed."""
    base = environ.get("XDG_DATA_HOME") or str(
        Path(environ.get("HOME", "~")).expanduser() / ".local/share"
    )
    return Path(base) / "kiosk-demo"
