"""The kiosk's health: its devices, its link to the cloud, the status file a technician reads,
and the last warnings of its own log."""

from __future__ import annotations

from typing import Any

from hardware.interfaces import DeviceEvent, DeviceState
from kiosk import __version__
from kiosk.core.context import KioskContext
from kiosk.core.recent_problems import RecentProblems
from kiosk.store.residents import ResidentsRepository
from kiosk.store.status_file import STATUS_FILE, WRITE_EVERY_S, write_status

DEVICES = ("camera", "handset", "badge_reader")


class Health:
    """What `kiosk-provision status`, telemetry and the maintenance screen report."""

    def __init__(self, context: KioskContext, session_active: Any) -> None:
        """``session_active``: says whether someone is using the kiosk (no identity)."""
        self._context = context
        self._session_active = session_active
        self._residents = ResidentsRepository(context.database)
        self.problems = RecentProblems(context.config.kiosk_id)
        self.cloud_connected = False
        self._started = context.clock.monotonic()
        self._status_written_at: float | None = None
        self._hardware: dict[str, dict[str, str]] | None = None  # as last reported
        # udev says the camera is gone: while off, "standby" would hide that.
        self._camera_unplugged = False

    @property
    def uptime_s(self) -> int:
        return int(self._context.clock.monotonic() - self._started)

    def hardware_report(self) -> dict[str, dict[str, str]]:
        """Each device's state and, from the real adapters, what it is doing or lacks."""
        devices = self._context.devices
        report = {}
        for name in DEVICES:
            device = getattr(devices, name)
            if name == "camera" and device.latest_frame() is None and not self._camera_unplugged:
                # Off while nothing needs it: not a fault.
                report[name] = {"state": "ok", "detail": "standby"}
            else:
                detail = getattr(device, "detail", "")
                report[name] = {"state": str(device.state), "detail": str(detail)}
        return report

    def check_hardware(self) -> None:
        """A device that came, went or failed: a `hardware_changed` event and fresh telemetry."""
        report = self.hardware_report()
        previous, self._hardware = self._hardware, report
        if previous is None:
            return
        changed = [name for name in report if report[name]["state"] != previous[name]["state"]]
        for name in changed:
            detail = report[name]["detail"]
            self._context.log.warning(
                "%s is now %s%s", name, report[name]["state"], f": {detail}" if detail else ""
            )
            self._context.event(
                "hardware_changed",
                {"device": name, "previous": previous[name]["state"], **report[name]},
            )
        if changed:
            self._context.outbox.health_changed()

    def device_event(self, event: DeviceEvent) -> None:
        """udev saw a device come or go (on the loop's thread)."""
        if event.device == "camera":
            self._camera_unplugged = event.state != DeviceState.OK
        self.check_hardware()

    def cloud_link_changed(self, connected: bool) -> None:
        self.cloud_connected = connected

    def status(self) -> dict[str, Any]:
        """What `kiosk-provision status` shows: the kiosk's health, nothing of a resident."""
        context = self._context
        return {
            "kiosk_id": context.config.kiosk_id,
            "role": context.config.role,
            "version": __version__,
            "at": context.clock.now().isoformat(),
            "uptime_s": self.uptime_s,
            "brokers": list(context.config.brokers),
            "connected": self.cloud_connected,
            "outbox_depth": context.outbox_records.depth(),
            "hardware": self.hardware_report(),
            "schedule_version": context.schedule.version(),
            "residents_version": self._residents.version(),
            "session_active": self._session_active(),
            "errors": list(self.problems.newest_first()[:5]),
        }

    def tick(self) -> None:
        self.write_status()
        self.check_hardware()

    def write_status(self) -> None:
        now = self._context.clock.monotonic()
        if self._status_written_at is not None and now - self._status_written_at < WRITE_EVERY_S:
            return
        self._status_written_at = now
        path = self._context.config.data_dir / STATUS_FILE
        try:
            write_status(path, self.status())
        except OSError as error:  # a full disk must not stop the kiosk
            self._context.log.warning("cannot write %s: %s", path, error)
