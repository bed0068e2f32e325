"""Builds a kiosk from its configuration: its database, devices, outbox and calls, handed to the
core in its constructor. The one place that knows which adapter serves which port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hardware.factory import DeviceSettings, build_devices
from hardware.interfaces import Devices
from kiosk.config import KioskConfig
from kiosk.contract.topics import Topics
from kiosk.core.clock import Clock, SystemClock
from kiosk.core.kiosk import Kiosk
from kiosk.core.ports import Actions, Outbox
from kiosk.core.visit import CallFactory
from kiosk.store import open_database
from kiosk.store.file_modes import make_private
from kiosk.sync.cloud_outbox import CloudOutbox


class ProcessStop:
    """Ends the kiosk's process (the `reboot` command, the maintenance screen's Restart); the
    service manager starts it again. Whoever runs the loop says how, once it can."""

    def __init__(self) -> None:
        self._stop: Callable[[], Any] | None = None

    def bind(self, stop: Callable[[], Any]) -> None:
        self._stop = stop

    def __call__(self) -> None:
        if self._stop is not None:
            self._stop()


def build_kiosk(
    config: KioskConfig,
    clock: Clock | None = None,
    *,
    database: Any = None,
    devices: Devices | None = None,
    outbox: Outbox | None = None,
    call_factory: CallFactory | None = None,
    actions: Actions | None = None,
) -> Kiosk:
    """A kiosk on its own database and the devices its configuration names; with a broker
    configured, real calls through the cloud. Any collaborator given replaces the built one."""
    clock = clock or SystemClock()
    if database is None:
        # Once, at start: whatever was left readable by others (another umask, a copy) is
        # made the owner's alone before anything is read.
        make_private(config.data_dir)
        database = open_database(config.database_path)
    if devices is None:
        devices = build_devices(config.device_kinds, device_settings(config))
    if outbox is None:
        outbox = CloudOutbox(
            database,
            Topics(config.facility_id, config.kiosk_id),
            clock,
            budget_bytes=config.outbox_budget_mb * 1024 * 1024,
            keep_events=bool(config.brokers),
        )
    if call_factory is None and config.brokers and isinstance(outbox, CloudOutbox):
        call_factory = visit_calls(config, devices, outbox)
    return Kiosk(
        config,
        clock=clock,
        database=database,
        devices=devices,
        outbox=outbox,
        call_factory=call_factory,
        actions=actions,
    )


def device_settings(config: KioskConfig) -> DeviceSettings:
    """What the real adapters need besides their kind, from the configuration."""
    return DeviceSettings(
        camera_source=config.camera_source,
        camera_width=config.camera_width,
        camera_height=config.camera_height,
        camera_fps=config.camera_fps,
        badge_device=config.badge_device,
        badge_baudrate=config.badge_baudrate,
        badge_format=config.badge_format,
        handset_device=config.handset_device,
        handset_mode=config.handset_mode,
        handset_codes=config.handset_codes,
        handset_line=config.handset_line,
        handset_closed_means=config.handset_closed_means,
        handset_audio=config.handset_audio,
    )


def visit_calls(config: KioskConfig, devices: Devices, outbox: CloudOutbox) -> CallFactory:
    """Visits with real WebRTC calls, each in a process of its own (kiosk.call_link)."""
    from kiosk.call_link.process import CallSettings
    from kiosk.call_link.visit_call import VisitCalls

    settings = CallSettings(
        camera_size=(config.camera_width, config.camera_height),
        blur_without_face=config.blur_without_face,
        handset_audio=config.handset_audio,
        fps=float(config.camera_fps),
    )
    return VisitCalls(
        settings, kiosk_id=config.kiosk_id, camera=devices.camera, publish=outbox.publish_signal
    )
