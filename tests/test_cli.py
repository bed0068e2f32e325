"""The ``kiosk`` and ``kiosk-provision`` commands, run as a technician or systemd runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import kiosk
from kiosk.store.database import connect
from tests.waiting import wait_until

SCRIPTS = Path(sysconfig.get_path("scripts"))


def command(script: str, module: str) -> list[str]:
    """The installed console script, or its module under this interpreter."""
    installed = SCRIPTS / script
    if installed.is_file() and os.access(installed, os.X_OK):
        return [str(installed)]
    return [sys.executable, "-m", module]


KIOSK = command("kiosk", "launch")
PROVISION = command("kiosk-provision", "provisioning.cli")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No display, and the user's folders in the test's scratch space."""
    home = tmp_path / "home"
    home.mkdir()
    environ = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environ.update(
        HOME=str(home),
        XDG_DATA_HOME=str(tmp_path / "xdg"),
        PYTHONUNBUFFERED="1",
        KIVY_NO_ARGS="1",
    )
    return environ


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *names: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {result.stderr!r}"
    assert lines[0].startswith("kiosk: ")
    for name in names:
        assert name in lines[0]
    return lines[0]


def test_version_prints_the_packages_version(env: dict[str, str]) -> None:
    result = run([*KIOSK, "--version"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"kiosk {kiosk.__version__}"


def test_no_command_prints_help_and_fails(env: dict[str, str]) -> None:
    result = run(KIOSK, env)
    assert result.returncode == 2
    assert "run" in result.stdout


def test_a_malformed_config_file(tmp_path: Path, env: dict[str, str]) -> None:
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text('[kiosk\nid = "hu-01"\n', encoding="utf-8")
    result = run([*KIOSK, "run", "--headless", "--config", str(config_file)], env)
    assert "not valid TOML" in assert_one_line_error(result, str(config_file))


def test_a_bad_key_value(tmp_path: Path, env: dict[str, str]) -> None:
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(
        '[kiosk]\nid = "hu-01"\nrole = "warden"\n[facility]\nid = "f1"\n', encoding="utf-8"
    )
    result = run([*KIOSK, "run", "--headless", "--config", str(config_file)], env)
    assert_one_line_error(result, str(config_file), "kiosk.role", '"warden"')


@pytest.mark.parametrize(
    ("lines", "key"),
    [
        ('[kiosk]\nid = "hu-01"\n[facility]\nid = "f1"\n[display]\nwidth = inf\n', "display.width"),
        (
            '[kiosk]\nid = "hu-01"\n[facility]\nid = "f1"\ntimezone = "America"\n',
            "facility.timezone",
        ),
        ('[kiosk]\nid = "hu\\n01"\n[facility]\nid = "f1"\n', "kiosk.id"),
        (
            '[kiosk]\nid = "hu-01"\n[facility]\nid = "f1"\n[storage]\ndata_dir = "~nobody-xyz/d"\n',
            "storage.data_dir",
        ),
    ],
)
def test_odd_values_still_give_one_line(
    lines: str, key: str, tmp_path: Path, env: dict[str, str]
) -> None:
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(lines, encoding="utf-8")
    result = run([*KIOSK, "run", "--headless", "--config", str(config_file)], env)
    assert_one_line_error(result, str(config_file), key)


def test_a_missing_config_file(tmp_path: Path, env: dict[str, str]) -> None:
    missing = tmp_path / "absent.toml"
    result = run([*KIOSK, "run", "--headless", "--config", str(missing)], env)
    assert "no such config file" in assert_one_line_error(result, str(missing))


def test_a_bad_flag_value(env: dict[str, str]) -> None:
    result = run([*KIOSK, "run", "--headless", "--demo", "--width", "wide"], env)
    assert_one_line_error(result, "--width", '"wide"')


def test_a_data_folder_that_is_a_file(tmp_path: Path, env: dict[str, str]) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    result = run([*KIOSK, "run", "--headless", "--demo", "--data-dir", str(blocker)], env)
    assert_one_line_error(result, str(blocker))


class Started:
    """A running ``kiosk`` whose stderr is collected line by line as it comes."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        """Until ``predicate``; fails at once, with what the kiosk said, should it exit first."""

        def seen() -> bool:
            if predicate():
                return True
            if self.process.poll() is not None:
                self._reader.join(5)
                pytest.fail(
                    f"kiosk exited ({self.process.returncode}) before {what}:\n{self.stderr}"
                )
            return False

        wait_until(seen, timeout, lambda: f"{what}; the kiosk said:\n{self.stderr}")

    def stop(self) -> int:
        """SIGTERM, and the exit code within 10 s."""
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"kiosk did not stop within 10 s of SIGTERM:\n{self.stderr}")
        self._reader.join(5)
        return code


@pytest.fixture
def start(env: dict[str, str]) -> Iterator[Callable[[list[str]], Started]]:
    started: list[Started] = []

    def start_kiosk(args: list[str]) -> Started:
        kiosk_process = Started([*KIOSK, *args], env)
        started.append(kiosk_process)
        return kiosk_process

    yield start_kiosk
    for kiosk_process in started:  # a failed test must not leave a kiosk running
        if kiosk_process.process.poll() is None:
            kiosk_process.process.kill()
            kiosk_process.process.wait()


def headless_args(tmp_path: Path, data_dir: Path) -> list[str]:
    config_file = tmp_path / "minimal.toml"
    config_file.write_text('[facility]\nname = "Test Facility"\n', encoding="utf-8")
    return [
        "run", "--headless",
        "--config", str(config_file),
        "--data-dir", str(data_dir),
        "--facility", "f1",
        "--kiosk-id", "hu-test-01",
        "--role", "housing",
    ]  # fmt: skip


def assert_kiosk_database(path: Path) -> None:
    with connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"visits", "residents", "snapshots"} <= tables


def test_headless_stops_cleanly_on_sigterm_as_soon_as_it_has_its_database(
    tmp_path: Path, start: Callable[[list[str]], Started]
) -> None:
    data_dir = tmp_path / "D"
    database = data_dir / "kiosk.sqlite3"
    running = start(headless_args(tmp_path, data_dir))

    running.wait_for(database.exists, "database file")
    code = running.stop()

    assert code == 0, running.stderr
    assert "Traceback" not in running.stderr
    assert_kiosk_database(database)


def test_headless_stops_cleanly_on_sigterm_once_running(
    tmp_path: Path, start: Callable[[list[str]], Started]
) -> None:
    data_dir = tmp_path / "D"
    running = start(headless_args(tmp_path, data_dir))

    running.wait_for(lambda: "running headless" in running.stderr, "'running headless' log line")
    # Every line names the kiosk, so a facility's journals can be read side by side.
    logged = [line for line in running.lines if " INFO " in line or " WARNING " in line]
    assert logged and all("kiosk[hu-test-01]" in line for line in logged), running.stderr
    code = running.stop()

    assert code == 0, running.stderr
    assert "Traceback" not in running.stderr
    assert_kiosk_database(data_dir / "kiosk.sqlite3")


def test_headless_demo_keeps_its_data_under_xdg_data_home(
    tmp_path: Path, env: dict[str, str], start: Callable[[list[str]], Started]
) -> None:
    database = Path(env["XDG_DATA_HOME"]) / "kiosk-demo" / "housing" / "kiosk.sqlite3"
    running = start(["run", "--headless", "--demo"])
    running.wait_for(lambda: "running headless" in running.stderr, "'running headless' log line")
    assert running.stop() == 0, running.stderr
    with connect(database) as connection:
        names = {row[0] for row in connection.execute("SELECT display_name FROM residents")}
    assert names == {"M. Alvarez", "D. Johnson"}


def test_provision_help(env: dict[str, str]) -> None:
    result = run([*PROVISION, "--help"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: kiosk-provision")


def test_provision_selftest_passes_on_the_demo_devices(env: dict[str, str]) -> None:
    result = run([*PROVISION, "selftest", "--demo"], env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok   camera") and "30 frames 640x480" in lines[0]
    assert lines[-1] == "all devices pass"


def test_provision_selftest_names_a_missing_camera_and_fails(
    env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-video.avi"
    result = run(
        [*PROVISION, "selftest", "--demo", "--camera", "file", "--camera-source", str(missing)],
        env,
    )
    assert result.returncode == 1
    assert f"FAIL camera        missing  not found: {missing}" in result.stdout
    report = run(
        [
            *PROVISION,
            "selftest",
            "--demo",
            "--json",
            "--camera",
            "file",
            "--camera-source",
            str(missing),
        ],
        env,
    )
    assert json.loads(report.stdout)["hardware"]["camera"]["state"] == "missing"
