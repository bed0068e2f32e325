"""What a kiosk's camera, handset and badge reader look like to udev, and the matching.

:func:`matches` reads only what :class:`pyudev.Device` offers (``subsystem``,
``device_node``, ``properties``, ``device_links``), so the same code runs on real udev
devices and on small stand-ins in tests.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

DeviceName = Literal["camera", "handset", "badge_reader"]
DEVICES: tuple[DeviceName, ...] = ("badge_reader", "camera", "handset")

# The persistent-name folders udev's stock rules fill; a relative ``by_id`` is looked up there.
BY_ID_DIRS = ("/dev/input/by-id", "/dev/v4l/by-id")

# The subsystem each device's node lives in, when a configuration does not say.
DEFAULT_SUBSYSTEMS: Mapping[str, str] = {
    "camera": "video4linux",
    "badge_reader": "input",
    "handset": "input",
}

_HEX_ID = re.compile(r"[0-9a-fA-F]{4}")
_USB_PAIR = re.compile(r"[0-9a-fA-F]{4}:[0-9a-fA-F]{4}")


class UdevDeviceLike(Protocol):
    """The read side of :class:`pyudev.Device` that matching uses."""

    @property
    def subsystem(self) -> str | None: ...
    @property
    def device_node(self) -> str | None: ...
    @property
    def properties(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class DeviceRule:
    """How to recognise one kiosk device; every criterion given must hold.

    ``vendor_id``/``product_id`` are USB ids (4 hex digits, any case); ``by_id`` is a name or
    glob in ``/dev/input/by-id`` or ``/dev/v4l/by-id`` (or an absolute path glob); ``devnode``
    is a node or link such as ``/dev/kiosk-camera``.
    """

    device: DeviceName
    subsystem: str
    vendor_id: str | None = None
    product_id: str | None = None
    by_id: str | None = None
    devnode: str | None = None

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r} (known: {', '.join(DEVICES)})")
        if not isinstance(self.subsystem, str) or not self.subsystem:
            raise ValueError(f"{self.device}: subsystem must be a non-empty text")
        for name in ("vendor_id", "product_id"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, str) or not _HEX_ID.fullmatch(value):
                raise ValueError(
                    f'{self.device}.{name}: {value!r} is not 4 hex digits (e.g. "046d")'
                )
            # Lower case once here, so matching compares plain strings.
            object.__setattr__(self, name, value.lower())
        for name in ("by_id", "devnode"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"{self.device}.{name}: must be a non-empty text")
        if self.devnode is not None and not self.devnode.startswith("/"):
            raise ValueError(f"{self.device}.devnode: {self.devnode!r} is not an absolute path")
        # A rule with only a subsystem would take any keyboard or webcam for the kiosk's own.
        if not (self.vendor_id or self.product_id or self.by_id or self.devnode):
            raise ValueError(
                f"{self.device}: give at least one of vendor_id, product_id, by_id, devnode"
            )

    def by_id_globs(self) -> tuple[str, ...]:
        """The absolute path globs ``by_id`` stands for."""
        if self.by_id is None:
            return ()
        if os.path.isabs(self.by_id):
            return (self.by_id,)
        return tuple(os.path.join(folder, self.by_id) for folder in BY_ID_DIRS)


DEFAULT_RULES: tuple[DeviceRule, ...] = (
    # The stable names hardware/udev/99-kiosk.rules gives each device.
    DeviceRule("camera", "video4linux", devnode="/dev/kiosk-camera"),
    DeviceRule("badge_reader", "input", devnode="/dev/kiosk-badge"),
    DeviceRule("handset", "input", devnode="/dev/kiosk-handset"),
)


def device_links(device: UdevDeviceLike) -> frozenset[str]:
    """Every ``/dev`` link of ``device``: its ``device_links`` and its ``DEVLINKS`` property."""
    links = set(getattr(device, "device_links", ()) or ())
    links.update((device.properties.get("DEVLINKS") or "").split())
    return frozenset(links)


def matches(rule: DeviceRule, device: UdevDeviceLike) -> bool:
    """Whether ``device`` is the one ``rule`` describes."""
    if device.subsystem != rule.subsystem:
        return False
    node = device.device_node
    # Parents such as input/input7 have no node: nothing the kiosk could open.
    if not node:
        return False
    props = device.properties
    if rule.vendor_id and (props.get("ID_VENDOR_ID") or "").lower() != rule.vendor_id:
        return False
    if rule.product_id and (props.get("ID_MODEL_ID") or "").lower() != rule.product_id:
        return False
    links = device_links(device)
    if rule.devnode and rule.devnode != node and rule.devnode not in links:
        return False
    if rule.by_id:
        globs = rule.by_id_globs()
        # Case matters in /dev names, so fnmatchcase, not fnmatch.
        if not any(fnmatch.fnmatchcase(link, g) for link in links for g in globs):
            return False
    return True


def rule_for_path(device: DeviceName, path: str, subsystem: str | None = None) -> DeviceRule | None:
    """The rule that finds the device a real adapter opens at ``path``, as configured.

    ``/dev/input/by-id/...`` and ``/dev/v4l/by-id/...`` become ``by_id`` (the link udev keeps);
    another ``/dev`` path (a udev rule's stable name, a plain node) a ``devnode``; an evdev
    reader's ``vvvv:pppp`` its USB ids. Anything else (a video file, a URL) has no device for
    udev to watch: ``None``. ``subsystem``: the device's own default unless given (``tty`` for
    a serial reader or hook contact).
    """
    subsystem = subsystem or DEFAULT_SUBSYSTEMS[device]
    if _USB_PAIR.fullmatch(path):
        vendor, product = path.split(":")
        return DeviceRule(device, subsystem, vendor_id=vendor, product_id=product)
    if any(path.startswith(folder + "/") for folder in BY_ID_DIRS):
        return DeviceRule(device, subsystem, by_id=path)
    if path.startswith("/dev/"):
        return DeviceRule(device, subsystem, devnode=path)
    return None
