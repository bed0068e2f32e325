"""``kiosk-provision enroll`` asking its questions: on a real pseudo-terminal, as a technician
types, and in-process with rich's prompts reading a stream."""

from __future__ import annotations

import errno
import fcntl
import io
import os
import pty
import re
import select
import struct
import termios
from pathlib import Path

from cloudsim.enroll import EnrollmentService
from provisioning.cli import main
from tests.provisioning.conftest import PROVISION, RETURNED_BROKERS, rooted_config, snapshot
from tests.waiting import wait_until

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


class Terminal:
    """``kiosk-provision`` on a pseudo-terminal of its own (its controlling terminal, so that
    the hidden token prompt reads it as it reads a real one)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: exec at once, and never run the tests' code on
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        self.seen = ""

    def _read(self, timeout: float) -> bool:
        ready, _w, _x = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError as error:  # EIO: the child closed the terminal
            if error.errno != errno.EIO:
                raise
            return False
        if not chunk:
            return False
        self.seen += ANSI.sub("", chunk.decode(errors="replace"))
        return True

    def expect(self, text: str, timeout: float = 30) -> None:
        def shown() -> bool:
            if text in self.seen:
                return True
            assert self._read(0.1), f"ended before {text!r}:\n{self.seen}"
            return text in self.seen

        wait_until(shown, timeout, lambda: f"{text!r} on the terminal:\n{self.seen}", every=0)

    def echo_off(self, timeout: float = 30) -> None:
        """Until the program has turned echo off (getpass): typing earlier would be echoed, and
        then discarded by getpass's TCSAFLUSH."""
        wait_until(
            lambda: not termios.tcgetattr(self.fd)[3] & termios.ECHO,
            timeout,
            lambda: f"echo turned off:\n{self.seen}",
        )

    def type(self, line: str) -> None:
        self.seen = ""  # what follows is the answer to the next question
        os.write(self.fd, line.encode() + b"\r")

    def wait(self, timeout: float = 60) -> tuple[int, str]:
        # What it still prints, until it closes the terminal.
        wait_until(lambda: not self._read(0.1), timeout, lambda: f"the end:\n{self.seen}", every=0)
        _pid, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status), self.seen


def test_a_technician_answers_the_questions_on_a_terminal(
    root: Path, service: EnrollmentService, env: dict[str, str]
) -> None:
    token = service.issue_token()
    terminal = Terminal(
        [*PROVISION, "enroll", "--root", str(root)], {**env, "TERM": "xterm-256color"}
    )
    terminal.expect("Facility id")
    terminal.type("f1")
    terminal.expect("Kiosk id")
    terminal.type("hu-12")
    terminal.expect("Role (housing or lobby) (housing)")
    terminal.type("")  # the default
    terminal.expect("Housing unit")
    terminal.type("C")
    terminal.expect("Broker to enroll at")
    terminal.type(service.url)
    terminal.expect("Claim token (hidden)")
    terminal.echo_off()
    terminal.type(token)
    code, shown = terminal.wait()

    assert code == 0, shown
    assert token not in shown  # not echoed
    assert "Enrolled" in shown
    config, _here = rooted_config(root)
    assert (config.facility_id, config.kiosk_id, config.role, config.housing_unit) == (
        "f1", "hu-12", "housing", "C",
    )  # fmt: skip
    assert list(config.brokers) == RETURNED_BROKERS


def test_a_wrong_answer_is_asked_again_and_the_previous_values_are_the_defaults(
    root: Path, service: EnrollmentService, previous: dict, capsys
) -> None:
    token = service.issue_token()
    answers = io.StringIO(
        "\n"  # facility: the previous f1
        "Hu 01!\n"  # not a kiosk id: asked again
        "\n"  # the previous hu-01
        "lobby\n"  # a lobby: no housing unit asked
        f"{service.url}\n"
        f"{token}\n"
    )

    code = main(["enroll", "--root", str(root)], stream=answers)

    shown = capsys.readouterr()
    assert code == 0, shown.err
    assert "Kiosk id: --kiosk-id: must be 3 to 40 lowercase letters" in shown.err
    # The previous broker's host at the enrollment port was offered as the default.
    assert "(mqtts://old-broker.example:8885)" in shown.out
    config, _here = rooted_config(root)
    assert (config.kiosk_id, config.role, config.housing_unit) == ("hu-01", "lobby", None)
    assert config.kiosk_name == "Unit A kiosk"  # kept from the previous file


def test_input_that_ends_early_changes_nothing(root: Path, previous: dict, capsys) -> None:
    code = main(["enroll", "--root", str(root)], stream=io.StringIO("f1\n"))

    assert code == 2
    assert "no answer for --kiosk-id (the input ended)" in capsys.readouterr().err
    assert snapshot(root) == previous
