"""launch.notify against a notification socket the test binds, as systemd binds it."""

from __future__ import annotations

import os
import socket
import time

import pytest

from launch.notify import ServiceNotifier
from tests.systemd.supervisor import NotifySocket
from tests.waiting import wait_until


def messages(notify: NotifySocket, count: int) -> list[str]:
    """What the socket heard, once ``count`` messages came (and a moment for one too many)."""
    wait_until(lambda: len(notify.received()) >= count, 5, f"{count} messages on the socket")
    time.sleep(0.05)  # a message too many would come in this: it must not
    return [n.message for n in notify.received()]


def test_ready_watchdog_and_stopping_reach_the_socket_from_this_process(notify):
    environ = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "4000000", "OTHER": "kept"}
    notifier = ServiceNotifier.from_environment(environ)
    assert notifier.enabled
    assert notifier.watchdog_interval_s == 2.0
    notifier.ready("kiosk hu-01 (housing) is showing its screens")
    notifier.watchdog()
    notifier.stopping()
    notifier.stopping()  # said once
    assert messages(notify, 3) == [
        "READY=1\nSTATUS=kiosk hu-01 (housing) is showing its screens",
        "WATCHDOG=1",
        "STOPPING=1",
    ]
    assert {n.pid for n in notify.received()} == {os.getpid()}
    # Nothing the kiosk starts inherits the right to speak for it.
    assert environ == {"OTHER": "kept"}


def test_an_abstract_socket_address_works_too():
    name = f"kiosk-notify-abstract-{os.getpid()}"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind("\0" + name)
    receiver.settimeout(5)
    try:
        ServiceNotifier.from_environment({"NOTIFY_SOCKET": "@" + name}).ready()
        assert receiver.recv(100) == b"READY=1"
    finally:
        receiver.close()


def test_a_watchdog_meant_for_another_process_is_not_pinged(notify):
    environ = {
        "NOTIFY_SOCKET": str(notify.path),
        "WATCHDOG_USEC": "4000000",
        "WATCHDOG_PID": str(os.getpid() + 1),
    }
    notifier = ServiceNotifier.from_environment(environ)
    assert notifier.watchdog_interval_s is None
    notifier.watchdog()
    notifier.ready()
    assert messages(notify, 1) == ["READY=1"]


def test_the_watchdog_pid_of_this_process_keeps_the_watchdog(notify):
    environ = {
        "NOTIFY_SOCKET": str(notify.path),
        "WATCHDOG_USEC": "1000000",
        "WATCHDOG_PID": str(os.getpid()),
    }
    assert ServiceNotifier.from_environment(environ).watchdog_interval_s == 0.5


@pytest.mark.parametrize("usec", ["", "0", "soon"])
def test_no_usable_watchdog_interval_means_no_watchdog(notify, usec):
    environ = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": usec}
    assert ServiceNotifier.from_environment(environ).watchdog_interval_s is None


def test_outside_a_service_manager_every_call_does_nothing():
    notifier = ServiceNotifier.from_environment({"WATCHDOG_USEC": "4000000"})
    assert not notifier.enabled
    assert notifier.watchdog_interval_s is None
    notifier.ready("x")
    notifier.watchdog()
    notifier.status("x")
    notifier.stopping()


def test_a_socket_that_is_gone_is_logged_once_and_ignored(tmp_path, caplog):
    notifier = ServiceNotifier.from_environment({"NOTIFY_SOCKET": str(tmp_path / "absent")})
    assert not notifier.enabled
    assert "notification socket" in caplog.text
    notifier.ready()
