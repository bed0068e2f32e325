"""The self-test of the devices a configuration names, as ``selftest``, ``enroll`` and
``collect`` run it."""

from __future__ import annotations

from collections.abc import Callable

from hardware.selftest import SelfTestReport
from kiosk.config import KioskConfig
from provisioning.errors import UsageError


def run_device_selftest(
    config: KioskConfig,
    *,
    interactive: bool = False,
    say: Callable[[str], None] = lambda _line: None,
) -> SelfTestReport:
    """Build the configured devices, test them, and stop them again."""
    # Imported here: status and install never load OpenCV and the device adapters.
    from hardware.factory import build_devices
    from hardware.selftest import run_selftest
    from kiosk.assembly import device_settings

    try:
        devices = build_devices(config.device_kinds, device_settings(config))
    except ValueError as error:
        raise UsageError(str(error)) from None
    try:
        return run_selftest(devices, interactive=interactive, say=say, **config.camera_expected)
    finally:
        for device in (devices.camera, devices.handset, devices.badge_reader):
            device.stop()


def summary(report: SelfTestReport) -> str:
    """One line: each device's state."""
    return ", ".join(f"{name} {check.state}" for name, check in report.checks.items())
