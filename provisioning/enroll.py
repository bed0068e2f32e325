"""``kiosk-provision enroll``: answers, self-test, key and CSR, the enrollment exchange (or the
technician's certificate files), then the configuration and key material written at once.

Nothing is written until everything else has succeeded: a run that fails or is interrupted
leaves the previous configuration and key as they were.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pwd
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from rich.table import Table
from rich.text import Text

from provisioning import claim, layout
from provisioning.answers import TOKEN_ENV, Asker, claim_token, gather, parse_endpoints
from provisioning.config_file import (
    KEY_BY_PATH,
    MANAGED,
    add_config_flags,
    check,
    flags_given,
    parse_value,
    read_previous,
    render,
)
from provisioning.devices import run_device_selftest, summary
from provisioning.errors import ProvisionError, UsageError
from provisioning.files import PlannedFile, can_write, write_all
from provisioning.install import seal_key
from provisioning.keys import (
    CheckedCertificate,
    check_certificate,
    make_csr,
    new_key,
    private_pem,
    read_pem_files,
)
from provisioning.layout import Root
from provisioning.output import Out

# Never a kiosk's id: the facility-wide topic, the enrollment tree, the claimers' client ids and
# the cloud's broker user (systemd/mosquitto/acl says why each).
RESERVED_IDS = ("all", "provision", "claim", "facility-cloud")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "enroll",
        help="enroll this kiosk with the facility cloud and write its configuration",
        description=(
            "Ask for the facility, kiosk id, role, housing unit, broker and claim token (or take "
            "them from flags), run the self-test, make the kiosk's key and CSR, enroll with the "
            "facility cloud (or take --cert, --key and --ca files instead), then write "
            "/etc/kiosk/kiosk.toml, the certificate and the key, all at the end: a run that fails "
            "changes nothing. --broker is where to enroll (an mqtts:// address without a port "
            "means the enrollment port, 8885); the brokers the kiosk then uses come from the "
            "cloud. With --cert/--key/--ca, --broker is what the kiosk connects to."
        ),
    )
    parser.add_argument(
        "--non-interactive",
        action="store_true",
        help="never ask: every answer comes from a flag or the previous configuration",
    )
    parser.add_argument(
        "--token-file", metavar="FILE", help="the claim token, read from a file (- for stdin)"
    )
    parser.add_argument(
        "--token",
        help="the claim token, as --token=TOKEN (a token may begin with '-'); other users can "
        f"see it in the process list: prefer --token-file or ${TOKEN_ENV}",
    )
    parser.add_argument("--cert", type=Path, help="instead of enrolling: the kiosk's certificate")
    parser.add_argument("--key", type=Path, help="...its private key (PEM, unencrypted)")
    parser.add_argument("--ca", type=Path, help="...and the facility CA that issued it")
    parser.add_argument(
        "--enroll-ca",
        metavar="FILE",
        help="CA that signed the enrollment broker's certificate (default: the system's CAs)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds to wait for the cloud's answer (default 60)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds to wait for the broker (default 10)",
    )
    parser.add_argument(
        "--json", action="store_true", help="a summary as JSON on stdout (progress on stderr)"
    )
    add_config_flags(parser)
    return parser


@dataclass(frozen=True)
class Plan:
    """What the run will write, where, and how."""

    root: Root
    values: dict[str, Any]
    key_owner: tuple[int, int] | None
    key_owner_name: str

    def files(self, config_text: str, cert: bytes, ca: bytes, key: bytes) -> list[PlannedFile]:
        # The key last: until the very end, the kiosk's previous key stays where it was.
        return [
            PlannedFile(self.root(layout.CA), ca, 0o644, label="the facility CA"),
            PlannedFile(self.root(layout.CERT), cert, 0o644, label="the kiosk's certificate"),
            PlannedFile(self.root(layout.CONFIG), config_text.encode(), 0o644, label="the config"),
            PlannedFile(
                self.root(layout.KEY), key, 0o600, self.key_owner, label="the kiosk's private key"
            ),
        ]


def run(args: argparse.Namespace, out: Out, stream: TextIO | None = None) -> int:
    """The ``enroll`` subcommand; ``stream``: answers to read instead of the terminal."""
    root = Root(Path(args.root))
    previous, problem = read_previous(root(layout.CONFIG))
    if problem:
        out.warn(problem)
    with_files = [args.cert, args.key, args.ca]
    files_mode = any(value is not None for value in with_files)
    if files_mode and not all(value is not None for value in with_files):
        raise UsageError("--cert, --key and --ca go together (the certificate, its key, its CA)")
    interactive = stream is not None or (not args.non_interactive and sys.stdin.isatty())
    asker = Asker(out, interactive=interactive, stream=stream)
    given = flags_given(args)
    answers = gather(asker, given, previous, enrolling=not files_mode)
    kiosk_id = answers["kiosk.id"]
    if kiosk_id in RESERVED_IDS or kiosk_id.startswith("claim-"):
        raise UsageError(f"--kiosk-id: {kiosk_id!r} is reserved; choose another kiosk id")

    values = {path: value for path, value in previous.items() if path not in MANAGED}
    for path, value in given.items():
        values[path] = parse_value(path, value, KEY_BY_PATH[path].flag)
    values.update(answers)
    values.update(
        {
            "cloud.ca_file": str(layout.CA),
            "cloud.cert_file": str(layout.CERT),
            "cloud.key_file": str(layout.KEY),
        }
    )
    # Checked now, before any device is touched or the token is spent: a bad flag or a bad
    # key kept from the previous file stops here. The brokers are the cloud's later.
    candidate = check(render(values, written_by="kiosk-provision enroll"))
    plan = _plan(root, values)
    endpoints = parse_endpoints(answers["cloud.brokers"])
    token = None
    if not files_mode and not args.dry_run:
        token = claim_token(asker, args.token, args.token_file, sys.stdin)

    if args.dry_run:
        return _dry_run(args, out, plan, files_mode, endpoints, candidate)

    with out.step("Self-test of the devices") as step:
        report = run_device_selftest(candidate)
        step.detail = summary(report)
    if not report.ok:
        out.warn(
            "some devices failed the self-test (above); enrollment goes on and the cloud "
            "receives the report. `kiosk-provision selftest --interactive` tests them further"
        )

    request_id = None
    if files_mode:
        cert_pem, key_pem, ca_pem, checked = _from_files(args, out, kiosk_id)
    else:
        request_id = str(uuid.uuid4())
        request = claim.EnrollRequest(
            request_id=request_id,
            csr_pem="",
            kiosk_id=kiosk_id,
            role=answers["kiosk.role"],
            housing_unit=answers["kiosk.housing_unit"],
            hardware=report.as_dict()["hardware"],
        )
        cert_pem, key_pem, ca_pem, checked, brokers = _from_cloud(
            args, out, request, endpoints, token or "", answers["facility.id"]
        )
        values["cloud.brokers"] = brokers
    for warning in checked.warnings:
        out.warn(warning)

    config_text = render(values, written_by="kiosk-provision enroll")
    final = check(config_text)
    planned = plan.files(config_text, cert_pem, ca_pem, key_pem)
    with out.step("Writing the configuration, certificate and key") as step:
        write_all(planned)
        step.detail = f"{len(planned)} files in {root(layout.CONFIG_DIR)}"
    if root.live:
        seal_key(out, root)
    else:
        out.skip("the database key is sealed on the kiosk itself (install or enroll there)")

    if args.json:
        print(json.dumps(_summary_json(final, plan, planned, checked, report, request_id, out)))
    else:
        _print_summary(out, final, plan, planned, checked, report)
    return 0


def _from_files(
    args: argparse.Namespace, out: Out, kiosk_id: str
) -> tuple[bytes, bytes, bytes, CheckedCertificate]:
    """The technician's --cert, --key and --ca, checked: ``(cert, key, ca, checked)``."""
    with out.step("Checking the certificate files") as step:
        cert_pem, key, key_pem, ca_pem = read_pem_files(args.cert, args.key, args.ca)
        checked = check_certificate(cert_pem, ca_pem, key, kiosk_id, source=f"--cert {args.cert}")
        step.detail = checked.describe()
    return cert_pem, key_pem, ca_pem, checked


def _from_cloud(
    args: argparse.Namespace,
    out: Out,
    request: claim.EnrollRequest,
    endpoints: list[Any],
    token: str,
    facility_id: str,
) -> tuple[bytes, bytes, bytes, CheckedCertificate, tuple[str, ...]]:
    """A new key and CSR, enrolled with the cloud: ``(cert, key, ca, checked, brokers)``."""
    with out.step("Making the kiosk's key (EC P-256) and CSR") as step:
        key = new_key()
        request = dataclasses.replace(request, csr_pem=make_csr(key, request.kiosk_id).decode())
        step.detail = f"CN={request.kiosk_id}"
    with out.step("Enrolling with the facility cloud") as step:
        enrolled = claim.enroll(
            endpoints,
            token,
            request,
            ca_file=args.enroll_ca,
            connect_timeout_s=args.connect_timeout,
            answer_timeout_s=args.timeout,
            say=out.info,
        )
        step.detail = f"at {enrolled.endpoint}, certificate from {enrolled.facility_id}"
    cert_pem, ca_pem = enrolled.certificate_pem.encode(), enrolled.ca_pem.encode()
    checked = check_certificate(
        cert_pem, ca_pem, key, request.kiosk_id, source="the cloud's answer"
    )
    if enrolled.facility_id != facility_id:
        raise ProvisionError(
            f"the token is for facility {enrolled.facility_id!r}, not {facility_id!r}: check "
            "the facility id, or ask for a token of this facility (this one is spent)"
        )
    brokers = parse_value("cloud.brokers", list(enrolled.brokers), "the brokers the cloud named")
    return cert_pem, private_pem(key), ca_pem, checked, brokers


def _plan(root: Root, values: dict[str, Any]) -> Plan:
    """Where the files go and who will own the key; fails now if they cannot be written."""
    config_dir = root(layout.CONFIG_DIR)
    if not can_write(config_dir):
        hint = "run it as root (sudo kiosk-provision enroll)" if root.live else "check its owner"
        raise ProvisionError(f"cannot write {config_dir}: {hint}, or give --root DIR")
    owner, name = None, "the user running kiosk-provision"
    if root.live:
        try:
            user = pwd.getpwnam(layout.USER)
        except KeyError:
            name = "root (no kiosk user yet: `kiosk-provision install` gives it the key)"
        else:
            if os.geteuid() != 0:
                raise ProvisionError(
                    "the key must belong to the kiosk user: run it as root "
                    "(sudo kiosk-provision enroll)"
                )
            owner, name = (user.pw_uid, user.pw_gid), layout.USER
    else:
        name = "unchanged (--root)"
    return Plan(root, values, owner, name)


def _dry_run(
    args: argparse.Namespace,
    out: Out,
    plan: Plan,
    files_mode: bool,
    endpoints: list[Any],
    candidate: Any,
) -> int:
    out.info("Dry run: nothing is tested, sent or written.")
    out.info(
        f"Would run the self-test: camera {candidate.camera}, handset {candidate.handset}, "
        f"badge reader {candidate.badge_reader}"
    )
    if files_mode:
        cert_pem, key, _key_pem, ca_pem = read_pem_files(args.cert, args.key, args.ca)
        checked = check_certificate(
            cert_pem, ca_pem, key, candidate.kiosk_id, source=f"--cert {args.cert}"
        )
        out.info(f"Would install the certificate files: {checked.describe()}")
    else:
        out.info(f"Would make an EC P-256 key and a CSR for CN={candidate.kiosk_id}")
        where = " then ".join(str(endpoint) for endpoint in endpoints)
        out.info(
            f"Would enroll at {where} as user claim, client id claim-<new request id>: CSR on "
            f"{claim.PROVISION_ROOT}/<request id>/up/csr, answer on …/down/result"
        )
    for planned in plan.files("", b"", b"", b""):
        owner = plan.key_owner_name if planned.owner is not None or planned.mode == 0o600 else ""
        extra = f", owner {owner}" if owner else ""
        out.info(f"Would write {planned.path} ({planned.label}, mode {planned.mode:04o}{extra})")
    out.info("The configuration (brokers as the cloud will name them):")
    out.info(render(plan.values, written_by="kiosk-provision enroll"))
    return 0


def _files_rows(plan: Plan, planned: list[PlannedFile]) -> list[tuple[str, str, str]]:
    rows = []
    for item in planned:
        owner = plan.key_owner_name if item.mode == 0o600 else "root"
        if not plan.root.live:
            owner = "unchanged (--root)"
        rows.append((str(item.path), f"{item.mode:04o}", owner))
    return rows


def _print_summary(
    out: Out,
    config: Any,
    plan: Plan,
    planned: list[PlannedFile],
    checked: CheckedCertificate,
    report: Any,
) -> None:
    table = Table(title="Enrolled", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    unit = f", unit {config.housing_unit}" if config.housing_unit else ""
    table.add_row("kiosk", Text(f"{config.kiosk_id} ({config.role}{unit})"))
    table.add_row("facility", Text(config.facility_id))
    table.add_row("brokers", Text(", ".join(config.brokers)))
    table.add_row("certificate", Text(checked.describe()))
    verdict = "all devices pass" if report.ok else f"FAILED: {summary(report)}"
    table.add_row("self-test", Text(verdict))
    for path, mode, owner in _files_rows(plan, planned):
        table.add_row("wrote", Text(f"{path} (mode {mode}, owner {owner})"))
    out.console.print(table)
    if plan.root.live:
        out.info("Next: `kiosk-provision install` (once), then `systemctl restart kiosk.service`.")


def _summary_json(
    config: Any,
    plan: Plan,
    planned: list[PlannedFile],
    checked: CheckedCertificate,
    report: Any,
    request_id: str | None,
    out: Out,
) -> dict[str, Any]:
    return {
        "ok": True,
        "kiosk_id": config.kiosk_id,
        "role": config.role,
        "housing_unit": config.housing_unit,
        "facility_id": config.facility_id,
        "brokers": list(config.brokers),
        "request_id": request_id,
        "certificate": checked.describe(),
        "selftest": report.as_dict(),
        "files": [
            {"path": path, "mode": mode, "owner": owner}
            for path, mode, owner in _files_rows(plan, planned)
        ],
        "timings_s": {name: round(seconds, 3) for name, seconds in out.timings.items()},
    }
