"""Device rules and matching: synthetic udev devices and this machine's real ones, one code path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pyudev

from hardware.device_match import (
    DEFAULT_RULES,
    DeviceRule,
    device_links,
    matches,
    rule_for_path,
)

RULES_FILE = Path(__file__).parents[2] / "hardware" / "udev" / "99-kiosk.rules"


@dataclass
class FakeDevice:
    """The read side of pyudev.Device that matching uses."""

    subsystem: str
    device_node: str | None
    properties: Mapping[str, str] = field(default_factory=dict)
    device_links: tuple[str, ...] = ()


def webcam(**props: str) -> FakeDevice:
    """A Logitech C270's picture node, as udev lists it."""
    return FakeDevice(
        subsystem="video4linux",
        device_node="/dev/video0",
        properties={"ID_VENDOR_ID": "046d", "ID_MODEL_ID": "0825", **props},
        device_links=(
            "/dev/v4l/by-id/usb-046d_0825_2F1B3C50-video-index0",
            "/dev/v4l/by-path/pci-0000:00:14.0-usb-0:2:1.0-video-index0",
            "/dev/kiosk-camera",
        ),
    )


def badge_reader(node: str = "/dev/input/event5") -> FakeDevice:
    links = "/dev/input/by-id/usb-RFIDeas_USB_Keyboard-event-kbd /dev/kiosk-badge"
    return FakeDevice(
        subsystem="input",
        device_node=node,
        # Only DEVLINKS, as a monitor event carries them: matching must read the property too.
        properties={"ID_VENDOR_ID": "0C27", "ID_MODEL_ID": "3BFA", "DEVLINKS": links},
    )


# -- matching --------------------------------------------------------------------------------


def test_vendor_and_product_match() -> None:
    rule = DeviceRule("camera", "video4linux", vendor_id="046d", product_id="0825")
    assert matches(rule, webcam())
    assert not matches(rule, webcam(ID_MODEL_ID="082d"))  # a C920, not the configured C270
    assert not matches(rule, webcam(ID_VENDOR_ID="0c45"))


def test_hex_ids_compare_whatever_their_case() -> None:
    upper_rule = DeviceRule("badge_reader", "input", vendor_id="0C27", product_id="3bFA")
    assert upper_rule.vendor_id == "0c27" and upper_rule.product_id == "3bfa"
    assert matches(upper_rule, badge_reader())  # the device reports upper case
    lower_rule = DeviceRule("camera", "video4linux", vendor_id="046d")
    assert matches(lower_rule, webcam(ID_VENDOR_ID="046D"))


def test_a_device_without_usb_ids_does_not_match_an_id_rule() -> None:
    rule = DeviceRule("camera", "video4linux", vendor_id="046d")
    bare = FakeDevice("video4linux", "/dev/video0", properties={})
    assert not matches(rule, bare)


def test_wrong_subsystem_never_matches() -> None:
    # The same USB ids on the camera's microphone (sound) must not count as the camera.
    rule = DeviceRule("camera", "video4linux", vendor_id="046d", product_id="0825")
    mic = FakeDevice("sound", "/dev/snd/pcmC1D0c", {"ID_VENDOR_ID": "046d", "ID_MODEL_ID": "0825"})
    assert not matches(rule, mic)
    assert not matches(DeviceRule("camera", "input", devnode="/dev/kiosk-camera"), webcam())


def test_a_device_without_a_node_never_matches() -> None:
    # input/input7, the parent of event5: same ids, nothing to open.
    parent = FakeDevice("input", None, {"ID_VENDOR_ID": "0c27", "ID_MODEL_ID": "3bfa"})
    assert not matches(DeviceRule("badge_reader", "input", vendor_id="0c27"), parent)


def test_by_id_glob_in_the_by_id_folders() -> None:
    assert matches(DeviceRule("camera", "video4linux", by_id="usb-046d_0825_*-index0"), webcam())
    assert matches(DeviceRule("badge_reader", "input", by_id="usb-RFIDeas_*"), badge_reader())
    assert not matches(DeviceRule("camera", "video4linux", by_id="usb-046d_082d_*"), webcam())


def test_by_id_is_case_sensitive_and_ignores_other_link_folders() -> None:
    assert not matches(DeviceRule("badge_reader", "input", by_id="usb-rfideas_*"), badge_reader())
    # by-path names are not by-id names, even when the glob would fit them.
    assert not matches(DeviceRule("camera", "video4linux", by_id="pci-0000:00:14.0-*"), webcam())


def test_by_id_absolute_glob() -> None:
    rule = DeviceRule("camera", "video4linux", by_id="/dev/v4l/by-id/usb-046d_*")
    assert matches(rule, webcam())


def test_devnode_as_node_or_as_link() -> None:
    assert matches(DeviceRule("camera", "video4linux", devnode="/dev/video0"), webcam())
    assert matches(DeviceRule("camera", "video4linux", devnode="/dev/kiosk-camera"), webcam())
    assert matches(DeviceRule("badge_reader", "input", devnode="/dev/kiosk-badge"), badge_reader())
    assert not matches(DeviceRule("camera", "video4linux", devnode="/dev/video1"), webcam())
    handset = DeviceRule("handset", "input", devnode="/dev/kiosk-handset")
    assert not matches(handset, badge_reader())


def test_every_criterion_given_must_hold() -> None:
    both = DeviceRule("camera", "video4linux", vendor_id="046d", devnode="/dev/kiosk-camera")
    assert matches(both, webcam())
    unlinked = webcam()
    unlinked.device_links = unlinked.device_links[:2]
    assert not matches(both, unlinked)


def test_device_links_unites_the_attribute_and_the_property() -> None:
    device = FakeDevice("input", "/dev/input/event2", {"DEVLINKS": "/dev/a /dev/b"}, ("/dev/c",))
    assert device_links(device) == {"/dev/a", "/dev/b", "/dev/c"}


def test_default_rules_use_the_udev_rules_stable_names() -> None:
    by_device = {r.device: r for r in DEFAULT_RULES}
    assert by_device["camera"] == DeviceRule("camera", "video4linux", devnode="/dev/kiosk-camera")
    assert by_device["badge_reader"] == DeviceRule(
        "badge_reader", "input", devnode="/dev/kiosk-badge"
    )
    assert by_device["handset"] == DeviceRule("handset", "input", devnode="/dev/kiosk-handset")
    # The names the rules file gives are the names the defaults look for.
    symlinks = set(re.findall(r'SYMLINK\+="([^"]+)"', RULES_FILE.read_text()))
    assert {Path(r.devnode).name for r in DEFAULT_RULES if r.devnode} == symlinks


# -- rule checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["46d", "0x46d", "046g", "046d0", ""])
def test_ids_must_be_four_hex_digits(bad: str) -> None:
    with pytest.raises(ValueError, match=r"camera\.vendor_id: .* is not 4 hex digits"):
        DeviceRule("camera", "video4linux", vendor_id=bad)


def test_a_rule_must_say_something_beyond_its_subsystem() -> None:
    with pytest.raises(ValueError, match="at least one of"):
        DeviceRule("camera", "video4linux")


def test_rule_checks_device_and_devnode() -> None:
    with pytest.raises(ValueError, match="camra"):
        DeviceRule("camra", "video4linux", devnode="/dev/x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"handset\.devnode: .* not an absolute path"):
        DeviceRule("handset", "input", devnode="kiosk-handset")


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("device", "path", "rule"),
    [
        (
            "camera",
            "/dev/kiosk-camera",
            DeviceRule("camera", "video4linux", devnode="/dev/kiosk-camera"),
        ),
        ("camera", "/dev/video2", DeviceRule("camera", "video4linux", devnode="/dev/video2")),
        (
            "camera",
            "/dev/v4l/by-id/usb-046d_C920-video-index0",
            DeviceRule("camera", "video4linux", by_id="/dev/v4l/by-id/usb-046d_C920-video-index0"),
        ),
        (
            "badge_reader",
            "/dev/input/by-id/usb-RFIDeas-event-kbd",
            DeviceRule("badge_reader", "input", by_id="/dev/input/by-id/usb-RFIDeas-event-kbd"),
        ),
        (
            "badge_reader",
            "0C27:3bfa",
            DeviceRule("badge_reader", "input", vendor_id="0c27", product_id="3bfa"),
        ),
        (
            "handset",
            "/dev/kiosk-handset",
            DeviceRule("handset", "input", devnode="/dev/kiosk-handset"),
        ),
        ("camera", "/srv/demo/visit.mp4", None),  # a file: nothing for udev to watch
        ("camera", "rtsp://10.0.0.5/stream", None),
    ],
)
def test_the_hotplug_rule_finds_the_device_where_the_adapter_opens_it(
    device: str, path: str, rule: DeviceRule | None
) -> None:
    assert rule_for_path(device, path) == rule  # type: ignore[arg-type]


def test_a_by_id_rule_matches_the_device_behind_that_link() -> None:
    rule = rule_for_path("camera", "/dev/v4l/by-id/usb-046d_0825_2F1B3C50-video-index0")
    assert rule is not None and matches(rule, webcam())
    other = rule_for_path("camera", "/dev/v4l/by-id/usb-046d_082d_0000-video-index0")
    assert other is not None and not matches(other, webcam())


def test_a_serial_device_is_watched_in_the_tty_subsystem() -> None:
    rule = rule_for_path("badge_reader", "/dev/ttyUSB0", "tty")
    assert rule == DeviceRule("badge_reader", "tty", devnode="/dev/ttyUSB0")
    port = FakeDevice(subsystem="tty", device_node="/dev/ttyUSB0", properties={})
    assert matches(rule, port)
    assert not matches(rule_for_path("badge_reader", "/dev/ttyUSB0"), port)


# -- the udev rules file ---------------------------------------------------------------------

MATCH_KEYS = {"ACTION", "SUBSYSTEM", "SUBSYSTEMS", "KERNEL", "ATTR", "ATTRS", "ENV", "DRIVERS"}
ASSIGN_KEYS = {"SYMLINK", "GROUP", "MODE", "OWNER", "TAG", "ENV"}
# One "KEY{attr}<op>"value"" element; values are double-quoted and hold no quote.
ELEMENT = re.compile(r'\s*([A-Z]+)(?:\{([A-Za-z_]+)\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"\\]*)"\s*')


def rule_lines() -> list[str]:
    """The file's rules, continuation lines joined, comments and blanks left out."""
    logical, pending = [], ""
    for raw in RULES_FILE.read_text().splitlines():
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1]
            continue
        pending = ""
        if line and not line.startswith("#"):
            logical.append(line)
    assert not pending, "the file ends in a continuation"
    return logical


def parse_rule(line: str) -> list[tuple[str, str | None, str, str]]:
    elements, pos = [], 0
    while pos < len(line):
        found = ELEMENT.match(line, pos)
        assert found, f"cannot parse at column {pos}: {line[pos:]!r}"
        elements.append(found.groups())
        pos = found.end()
        if pos < len(line):
            assert line[pos] == ",", f"missing comma at column {pos}: {line!r}"
            pos += 1
    return elements


def test_udev_rules_file_syntax() -> None:
    lines = rule_lines()
    assert len(lines) == 3
    names = []
    for line in lines:
        elements = parse_rule(line)
        for key, _, op, _ in elements:
            if op in ("==", "!="):
                assert key in MATCH_KEYS, f"{key} is not a match key: {line}"
            else:
                assert key in ASSIGN_KEYS, f"{key} is not an assignment key: {line}"
        matched = {(k, a) for k, a, op, _ in elements if op == "=="}
        assert ("ACTION", None) in matched
        assert {("SUBSYSTEM", None), ("SUBSYSTEMS", None)} & matched
        values = {(k, a, op): v for k, a, op, v in elements}
        for attr in ("idVendor", "idProduct"):
            # The placeholder, or an id as sysfs spells it (lower case).
            assert re.fullmatch(r"XXXX|[0-9a-f]{4}", values[("ATTRS", attr, "==")]), line
        names.append(values[("SYMLINK", None, "+=")])
        assert values[("GROUP", None, "=")] == "kiosk"
        assert values[("MODE", None, "=")] == "0660"
    assert sorted(names) == ["kiosk-badge", "kiosk-camera", "kiosk-handset"]


def test_udev_rules_examples_are_real_looking_ids() -> None:
    examples = re.findall(
        r'^#.*ATTRS\{idVendor\}=="(\w+)", ATTRS\{idProduct\}=="(\w+)"',
        RULES_FILE.read_text(),
        re.MULTILINE,
    )
    assert len(examples) >= 3
    assert all(re.fullmatch(r"[0-9a-f]{4}", i) for pair in examples for i in pair)


def test_rule_parser_rejects_bad_quoting() -> None:
    with pytest.raises(AssertionError):
        parse_rule('ACTION=="add", SYMLINK+="kiosk-camera')
    with pytest.raises(AssertionError):
        parse_rule('ACTION=="add" SYMLINK+="kiosk-camera"')


# -- real pyudev devices ---------------------------------------------------------------------


def test_real_pyudev_devices_go_through_the_same_matching() -> None:
    """pyudev reads sysfs even without udevd; its Device objects must suit matches()."""
    context = pyudev.Context()
    devices = list(context.list_devices())
    assert devices, "pyudev listed no device at all from /sys"
    rules = (
        *DEFAULT_RULES,
        DeviceRule("camera", "video4linux", vendor_id="046d", product_id="0825"),
        DeviceRule("badge_reader", "input", by_id="usb-*"),
    )
    for device in devices:  # none of them may make matching raise
        for rule in rules:
            matches(rule, device)
    # A rule built from a real device's own node and subsystem must find that device.
    with_node = [d for d in devices if d.device_node and d.subsystem]
    assert with_node, "no device with a node in /sys"
    target = with_node[0]
    own = DeviceRule("camera", target.subsystem, devnode=target.device_node)
    assert [d for d in devices if matches(own, d)] == [target]
