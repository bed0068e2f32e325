"""``kiosk-provision install`` into a scratch root: files in place with their modes, nothing run
on the host."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from provisioning.layout import REPOSITORY
from tests.provisioning.conftest import provision, snapshot

HOST_COMMANDS = ("systemctl", "systemd-sysusers", "systemd-tmpfiles", "udevadm")


@pytest.fixture
def spy_env(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    """The host's systemctl, udevadm... replaced by scripts that only write down their call."""
    bin_dir = tmp_path / "spy-bin"
    bin_dir.mkdir()
    calls = tmp_path / "host-calls"
    for name in HOST_COMMANDS:
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> {calls}\n', encoding="utf-8")
        script.chmod(0o755)
    return {**env, "PATH": f"{bin_dir}:{env['PATH']}"}


def test_installs_units_rules_user_and_folder_into_a_scratch_root(
    tmp_path: Path, root: Path, spy_env: dict[str, str]
) -> None:
    result = provision(["install", "--root", str(root)], spy_env)

    assert result.returncode == 0, result.stderr
    units = sorted((REPOSITORY / "systemd").glob("*.service"))
    assert units, "no units to install"
    for unit in units:
        installed = root / "etc/systemd/system" / unit.name
        assert installed.read_bytes() == unit.read_bytes()
        assert installed.stat().st_mode & 0o777 == 0o644
    rules = root / "etc/udev/rules.d/99-kiosk.rules"
    assert rules.read_bytes() == (REPOSITORY / "hardware/udev/99-kiosk.rules").read_bytes()
    assert rules.stat().st_mode & 0o777 == 0o644
    tmpfiles = (root / "etc/tmpfiles.d/kiosk.conf").read_text()
    assert "d /var/lib/kiosk 0750 kiosk kiosk -" in tmpfiles
    sysusers = (root / "etc/sysusers.d/kiosk.conf").read_text().splitlines()
    assert any(line.startswith("u kiosk - ") for line in sysusers)
    assert {"m kiosk audio", "m kiosk video"} <= set(sysusers)
    assert "m kiosk input" not in sysusers
    # Nothing ran on the host: no systemctl enable, no user made, no udev reload.
    assert not (tmp_path / "host-calls").exists()
    assert "not run under --root: systemctl enable kiosk.service" in result.stdout


def test_the_user_and_folder_entries_are_what_systemd_makes_at_first_boot(
    root: Path, env: dict[str, str]
) -> None:
    """systemd's own tools, on the scratch root, as its first boot would run them (systemd 252
    reads a file named on its command line from the host's path, hence the full paths)."""
    # Missing, they fail the test: a skip would count as a pass.
    for tool in ("systemd-sysusers", "systemd-tmpfiles"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: .ci/system-deps installs Debian's systemd")
    assert provision(["install", "--root", str(root)], env).returncode == 0

    subprocess.run(
        ["systemd-sysusers", f"--root={root}", str(root / "etc/sysusers.d/kiosk.conf")],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        ["systemd-tmpfiles", f"--root={root}", "--create", str(root / "etc/tmpfiles.d/kiosk.conf")],
        check=True, capture_output=True,
    )  # fmt: skip

    passwd = {
        line.split(":")[0]: line.split(":")
        for line in (root / "etc/passwd").read_text().splitlines()
    }
    assert passwd["kiosk"][5:] == ["/var/lib/kiosk", "/usr/sbin/nologin"]
    groups = {
        line.split(":")[0]: line.split(":")[3]
        for line in (root / "etc/group").read_text().splitlines()
    }
    assert {name: groups[name] for name in ("audio", "video")} == dict.fromkeys(
        ("audio", "video"), "kiosk"
    )
    # Not "input": Kivy would read the touchscreen itself too, and every touch come twice.
    assert "kiosk" not in groups.get("input", "").split(",")
    data_dir = (root / "var/lib/kiosk").stat()
    assert data_dir.st_mode & 0o7777 == 0o750
    assert data_dir.st_uid == int(passwd["kiosk"][2])


def test_install_dry_run_changes_nothing(
    tmp_path: Path, root: Path, spy_env: dict[str, str]
) -> None:
    result = provision(["install", "--root", str(root), "--dry-run"], spy_env)

    assert result.returncode == 0, result.stderr
    assert f"Would write {root}/etc/systemd/system/kiosk.service" in result.stdout
    assert "Would run: systemctl enable kiosk.service" in result.stdout
    assert snapshot(root) == {} and list(root.iterdir()) == []
    assert not (tmp_path / "host-calls").exists()


def test_drop_ins_and_files_that_say_where_they_go(
    tmp_path: Path, root: Path, env: dict[str, str]
) -> None:
    source = tmp_path / "source"
    (source / "systemd" / "kiosk.service.d").mkdir(parents=True)
    (source / "systemd" / "mosquitto").mkdir()
    (source / "hardware" / "udev").mkdir(parents=True)
    shutil.copyfile(
        REPOSITORY / "hardware/udev/99-kiosk.rules", source / "hardware/udev/99-kiosk.rules"
    )
    (source / "systemd" / "kiosk.service").write_text("[Service]\nExecStart=/bin/true\n")
    (source / "systemd" / "kiosk.target").write_text("[Unit]\nDescription=kiosk\n")
    (source / "systemd" / "kiosk.service.d" / "10-env.conf").write_text("[Service]\n")
    (source / "systemd" / "journald-kiosk.conf").write_text(
        "# Keeps the journal small. Install as /etc/systemd/journald.conf.d/kiosk.conf.\n"
    )
    (source / "systemd" / "limits.conf").write_text("[Service]\nLimitNOFILE=4096\n")
    (source / "systemd" / "mosquitto" / "acl").write_text("user claim\n")  # the broker's
    (source / "systemd" / "notes.txt").write_text("no place to go\n")

    result = provision(["install", "--root", str(root), "--source", str(source)], env)

    assert result.returncode == 0, result.stderr
    installed = {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}
    assert installed == {
        "etc/systemd/system/kiosk.service",
        "etc/systemd/system/kiosk.target",
        "etc/systemd/system/kiosk.service.d/10-env.conf",
        "etc/systemd/system/kiosk.service.d/limits.conf",
        "etc/systemd/journald.conf.d/kiosk.conf",
        "etc/udev/rules.d/99-kiosk.rules",
        "etc/sysusers.d/kiosk.conf",
        "etc/tmpfiles.d/kiosk.conf",
    }
    assert "not installed: notes.txt" in result.stderr


def test_a_source_without_units_is_named(tmp_path: Path, root: Path, env: dict[str, str]) -> None:
    result = provision(["install", "--root", str(root), "--source", str(tmp_path)], env)

    assert result.returncode == 1
    assert f"under {tmp_path}: give --source DIR" in result.stderr
    assert list(root.iterdir()) == []
