"""The kiosk's configuration file as ``kiosk-provision`` writes it: the format kiosk/config.py
reads (systemd/kiosk.toml.example), checked by kiosk/config.py itself before it is written."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

from kiosk.config import KEYS, ConfigError, Key, KioskConfig, load, read_file
from provisioning.errors import UsageError

KEY_BY_PATH: Mapping[str, Key] = {key.path: key for key in KEYS}
# Written by enroll itself, never taken from a flag or the previous file.
MANAGED = ("cloud.ca_file", "cloud.cert_file", "cloud.key_file")


def flag_dest(key: Key) -> str:
    """The argparse destination of a configuration key's flag in kiosk-provision."""
    return "set_" + key.path.replace(".", "__")


def add_config_flags(parser: argparse.ArgumentParser, skip: tuple[str, ...] = MANAGED) -> None:
    """The ``kiosk run`` flags, one per configuration key: each sets that key in the file."""
    group = parser.add_argument_group(
        "settings written to kiosk.toml (the same flags as `kiosk run`; the previous file's "
        "values are kept otherwise)"
    )
    for key in KEYS:
        if key.path in skip:
            continue
        group.add_argument(
            key.flag,
            dest=flag_dest(key),
            metavar="VALUE",
            action="append" if key.repeatable else "store",
            default=None,
            help=f"{key.help} [{key.path}]",
        )


def flags_given(args: argparse.Namespace) -> dict[str, Any]:
    """``{"section.key": value}`` of the configuration flags on the command line."""
    given = {}
    for key in KEYS:
        value = getattr(args, flag_dest(key), None)
        if value is not None:
            given[key.path] = value
    return given


def parse_value(path: str, value: Any, where: str) -> Any:
    """``value`` checked by the key's own rule; a bad one names ``where`` it came from."""
    try:
        return KEY_BY_PATH[path].parse(value)
    except ValueError as error:
        raise UsageError(f"{where}: {error}") from None


def read_previous(path: Path) -> tuple[dict[str, Any], str | None]:
    """The configuration file there now, flattened, or ``{}`` and why it could not be used."""
    if not path.exists():
        return {}, None
    try:
        return read_file(path), None
    except ConfigError as error:
        return {}, f"the previous configuration cannot be used ({error}); it will be replaced"


def render(values: Mapping[str, Any], *, written_by: str) -> str:
    """TOML text of ``values`` (``{"section.key": value}``), sections and keys in the order of
    kiosk/config.py's KEYS; None leaves a key out."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# /etc/kiosk/kiosk.toml, written by {written_by} on {stamp}.",
        "# Every key can also be given as a flag (kiosk run --help); the example with every key",
        "# explained: systemd/kiosk.toml.example in the kiosk's sources.",
    ]
    section = None
    for key in KEYS:
        value = values.get(key.path)
        if value is None:
            continue
        name, field = key.path.split(".", 1)
        if name != section:
            lines += ["", f"[{name}]"]
            section = name
        lines.append(f"{field} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    # A few value kinds only (what kiosk/config.py's parsers return), so a writer of our own
    # rather than another dependency. JSON's string escapes are all valid TOML escapes; TOML also
    # wants DEL escaped, which JSON leaves as it is.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no place in a kiosk configuration")
        return repr(value)
    if isinstance(value, str | PurePath):
        return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def check(text: str) -> KioskConfig:
    """Load ``text`` as the kiosk would at start; its one-line error otherwise."""
    with tempfile.TemporaryDirectory(prefix="kiosk-provision-") as folder:
        path = Path(folder) / "kiosk.toml"
        path.write_text(text, encoding="utf-8")
        try:
            return load(argparse.Namespace(config=str(path), demo=False), environ={})
        except ConfigError as error:
            shown = str(error).replace(str(path), "the new kiosk.toml")
            raise UsageError(shown) from None
