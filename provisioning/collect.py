"""``kiosk-provision collect``: one diagnostic bundle (tar.gz) for the facility's support.

What it holds: the configuration with any secret value removed (the key's path is kept, the
key never), certificate facts (never the private key), the status, the last hour of the kiosk's
journal, the software versions and a fresh self-test report. Never the database: it holds
residents' messages. Every text is also scrubbed of private-key blocks and token values in
case one was logged.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.config import ConfigError, KioskConfig
from provisioning import layout, status
from provisioning.answers import TOKEN_ENV
from provisioning.errors import ProvisionError
from provisioning.files import PlannedFile, write_all
from provisioning.layout import Root
from provisioning.output import Out

REDACTED = "<redacted>"
# A configuration key whose value is a secret: any such name, in case the file grows one.
_SECRET_KEY = re.compile(r"(token|password|passphrase|secret|private)|(^|_)key$", re.IGNORECASE)
_ASSIGNMENT = re.compile(r"^(\s*)([A-Za-z0-9_.\"'-]+)(\s*=\s*)(.*)$")
_SCRUB = (
    (
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----",
            re.DOTALL,
        ),
        "<private key removed>",
    ),
    (re.compile(rf"(--token[= ]|--password[= ]|{re.escape(TOKEN_ENV)}=)\S+"), rf"\1{REDACTED}"),
    (
        re.compile(
            r"""((?:token|password|passwd|secret)["']?\s*[:=]\s*["']?)[^\s"',}]+""", re.IGNORECASE
        ),
        rf"\1{REDACTED}",
    ),
)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "collect",
        help="write one diagnostic bundle (tar.gz) without keys or tokens",
        description=(
            "Collect the configuration without secrets, certificate facts, the status, the last "
            "hour of the kiosk's journal, the versions and a self-test report into one tar.gz "
            "(mode 0600). Key material, tokens and the database are never included."
        ),
    )
    parser.add_argument(
        "--output", type=Path, metavar="PATH", help="the bundle's file or folder (default: here)"
    )
    parser.add_argument("--no-selftest", action="store_true", help="leave the self-test out")
    return parser


def scrub(text: str) -> str:
    """``text`` without private-key blocks and without token or password values."""
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


def redact_config(text: str) -> str:
    """The configuration file's text with the value of every secret-named key replaced; key
    paths (``key_file``) are kept: where the key is, not what it is."""
    lines = []
    for line in text.splitlines():
        found = _ASSIGNMENT.match(line)
        if found and not line.lstrip().startswith("#"):
            name = found.group(2).strip("\"'").rsplit(".", 1)[-1]
            if _SECRET_KEY.search(name) and not name.endswith("_file"):
                line = f'{found.group(1)}{found.group(2)}{found.group(3)}"{REDACTED}"'
        lines.append(line)
    return "\n".join(lines) + "\n"


def _bundle_name(loaded: KioskConfig | ConfigError) -> str:
    kiosk_id = "not-enrolled" if isinstance(loaded, ConfigError) else loaded.kiosk_id
    return f"kiosk-diagnostics-{kiosk_id}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"


def run(args: argparse.Namespace, out: Out) -> int:
    root = Root(Path(args.root))
    loaded = status.try_load_config(root)
    name = _bundle_name(loaded)
    target = args.output or Path.cwd()
    if target.is_dir() or str(target).endswith("/"):
        target = target / f"{name}.tar.gz"
    parts = ["status.json", "versions.json", "config/kiosk.toml", "config/tls.json"]
    parts += ["journal.txt"] + ([] if args.no_selftest else ["selftest.json"])
    if args.dry_run:
        out.info(f"Dry run: would write {target} (mode 0600) holding: {', '.join(parts)}")
        out.info("Never included: private keys, tokens, the database (residents' data).")
        return 0
    if not os.access(target.parent, os.W_OK):
        raise ProvisionError(f"cannot write {target.parent}: give --output PATH")
    items: dict[str, str] = {}
    with out.step("Journal, last hour") as step:
        journal = status.read_journal(root, ["--since", "-1h"])
        items["journal.txt"] = (
            journal
            if journal is not None
            else ("not collected: no journal to read here (journalctl is missing, or --root)\n")
        )
        lines = len(journal.splitlines()) if journal else 0
        step.detail = f"{lines} line{'' if lines == 1 else 's'}" if journal else "none"
    with out.step("Status and versions"):
        report = status.gather(root, journal=journal, loaded=loaded)
        items["status.json"] = json.dumps(report, indent=2, default=str)
        items["versions.json"] = json.dumps(report["versions"], indent=2)
    with out.step("Configuration, without secrets"):
        items.update(_config_items(root, report))
    if not args.no_selftest:
        with out.step("Self-test") as step:
            items["selftest.json"], step.detail = _selftest(loaded)
    items["README.txt"] = _readme(name, items)
    data = _tar(name, {path: scrub(text).encode() for path, text in items.items()})
    _write_private(target, data)
    out.ok(f"bundle written: {target} ({len(data) / 1024:.0f} KiB, mode 0600)")
    return 0


def _config_items(root: Root, report: dict[str, Any]) -> dict[str, str]:
    items = {}
    path = root(layout.CONFIG)
    try:
        items["config/kiosk.toml"] = redact_config(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        items["config/kiosk.toml"] = f"# not readable: {error}\n"
    # Facts about the certificate, CA and key files: paths, modes, owners; never a key.
    items["config/tls.json"] = json.dumps(report.get("certificate", {}), indent=2, default=str)
    return items


def _selftest(config: KioskConfig | ConfigError) -> tuple[str, str]:
    from provisioning.devices import run_device_selftest, summary

    if isinstance(config, ConfigError):
        return json.dumps({"error": f"no configuration to test: {config}"}), "no configuration"
    try:
        report = run_device_selftest(config)
    except ProvisionError as error:
        return json.dumps({"error": str(error)}), "could not run"
    return json.dumps(report.as_dict(), indent=2), summary(report)


def _readme(name: str, items: dict[str, str]) -> str:
    return (
        f"{name}: a kiosk's diagnostic bundle, made by kiosk-provision collect.\n\n"
        "status.json      what `kiosk-provision status --json` shows\n"
        "versions.json    the software versions\n"
        "config/          the configuration without secret values, and certificate facts\n"
        "journal.txt      the kiosk service's journal, last hour\n"
        "selftest.json    a self-test of the devices, run while collecting\n\n"
        "Never included: private keys, claim tokens, the kiosk's database.\n"
        f"Files: {', '.join(sorted(items))}\n"
    )


def _tar(name: str, files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{name}/{path}")
            info.size = len(data)
            info.mtime = int(now)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _write_private(target: Path, data: bytes) -> None:
    """0600 from the start (it names the facility's brokers and devices), complete or absent."""
    write_all([PlannedFile(target, data, 0o600)])
