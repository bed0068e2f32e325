"""The configuration: a TOML file, one flag per key that wins over it, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import KEYS, ConfigError, KioskConfig, load
from launch.cli import build_parser

GOOD_FILE = """\
[kiosk]
id = "hu-file-01"
role = "housing"
name = "Housing A · Kiosk 3"
housing_unit = "A"

[facility]
id = "file-facility"
name = "File County Jail"
timezone = "America/Chicago"

[display]
fullscreen = true
width = 1280
height = 800
language = "es"
languages = ["en", "es"]

[cloud]
brokers = ["mqtts://file.example:8883"]
ca_file = "/file/ca.pem"
cert_file = "/file/cert.pem"
key_file = "/file/key.pem"
outbox_budget_mb = 256

[session]
login_snapshot = true

[visits]
blur_without_face = true

[hardware]
camera = "simulated"
camera_source = "/dev/video2"
camera_width = 640
camera_height = 480
camera_fps = 15
handset = "simulated"
handset_device = "/dev/input/event7"
handset_mode = "toggle"
handset_codes = ["KEY_MUTE"]
handset_line = "dsr"
handset_closed_means = "on_hook"
handset_audio = "plughw:CARD=Handset"
badge_reader = "simulated"
badge_device = "/dev/ttyUSB0"
badge_baudrate = 19200
badge_format = "h10301"

[storage]
data_dir = "/file/data"
"""

# key -> (the line the file holds for it, the flag's value, the field, what the flag gives).
# Each flag gives a value other than the file's, so the configuration shows which one was used.
OVERRIDES = {
    "kiosk.id": ('id = "hu-file-01"', "hu-flag-02", "kiosk_id", "hu-flag-02"),
    "kiosk.role": ('role = "housing"', "lobby", "role", "lobby"),
    "kiosk.name": ('name = "Housing A · Kiosk 3"', "Flag Kiosk", "kiosk_name", "Flag Kiosk"),
    "kiosk.housing_unit": ('housing_unit = "A"', "B", "housing_unit", "B"),
    "facility.id": ('id = "file-facility"', "flag-facility", "facility_id", "flag-facility"),
    "facility.name": ('name = "File County Jail"', "Flag Jail", "facility_name", "Flag Jail"),
    "facility.timezone": (
        'timezone = "America/Chicago"',
        "Europe/Madrid",
        "timezone",
        "Europe/Madrid",
    ),
    "display.fullscreen": ("fullscreen = true", "false", "fullscreen", False),
    "display.width": ("width = 1280", "1024", "width", 1024),
    "display.height": ("height = 800", "600", "height", 600),
    "display.language": ('language = "es"', "en", "language", "en"),
    "display.languages": ('languages = ["en", "es"]', "es,en", "languages", ("es", "en")),
    "cloud.brokers": (
        'brokers = ["mqtts://file.example:8883"]',
        "mqtt://127.0.0.1:1883",
        "brokers",
        ("mqtt://127.0.0.1:1883",),
    ),
    "cloud.ca_file": ('ca_file = "/file/ca.pem"', "/flag/ca.pem", "ca_file", Path("/flag/ca.pem")),
    "cloud.cert_file": (
        'cert_file = "/file/cert.pem"',
        "/flag/cert.pem",
        "cert_file",
        Path("/flag/cert.pem"),
    ),
    "cloud.key_file": (
        'key_file = "/file/key.pem"',
        "/flag/key.pem",
        "key_file",
        Path("/flag/key.pem"),
    ),
    "cloud.outbox_budget_mb": ("outbox_budget_mb = 256", "64", "outbox_budget_mb", 64),
    "session.login_snapshot": ("login_snapshot = true", "false", "login_snapshot", False),
    "visits.blur_without_face": (
        "blur_without_face = true",
        "false",
        "blur_without_face",
        False,
    ),
    "hardware.camera": ('camera = "simulated"', "v4l2", "camera", "v4l2"),
    "hardware.camera_source": (
        'camera_source = "/dev/video2"',
        "/dev/kiosk-camera",
        "camera_source",
        "/dev/kiosk-camera",
    ),
    "hardware.camera_width": ("camera_width = 640", "1920", "camera_width", 1920),
    "hardware.camera_height": ("camera_height = 480", "1080", "camera_height", 1080),
    "hardware.camera_fps": ("camera_fps = 15", "30", "camera_fps", 30.0),
    "hardware.handset": ('handset = "simulated"', "evdev", "handset", "evdev"),
    "hardware.handset_device": (
        'handset_device = "/dev/input/event7"',
        "/dev/kiosk-handset",
        "handset_device",
        "/dev/kiosk-handset",
    ),
    "hardware.handset_mode": ('handset_mode = "toggle"', "level", "handset_mode", "level"),
    "hardware.handset_codes": (
        'handset_codes = ["KEY_MUTE"]',
        "KEY_PHONE,KEY_PICKUP_PHONE",
        "handset_codes",
        ("KEY_PHONE", "KEY_PICKUP_PHONE"),
    ),
    "hardware.handset_line": ('handset_line = "dsr"', "cts", "handset_line", "cts"),
    "hardware.handset_closed_means": (
        'handset_closed_means = "on_hook"',
        "off_hook",
        "handset_closed_means",
        "off_hook",
    ),
    "hardware.handset_audio": (
        'handset_audio = "plughw:CARD=Handset"',
        "default",
        "handset_audio",
        "default",
    ),
    "hardware.badge_reader": ('badge_reader = "simulated"', "serial", "badge_reader", "serial"),
    "hardware.badge_device": (
        'badge_device = "/dev/ttyUSB0"',
        "/dev/kiosk-badge",
        "badge_device",
        "/dev/kiosk-badge",
    ),
    "hardware.badge_baudrate": ("badge_baudrate = 19200", "9600", "badge_baudrate", 9600),
    "hardware.badge_format": ('badge_format = "h10301"', "raw", "badge_format", "raw"),
    "storage.data_dir": ('data_dir = "/file/data"', "/flag/data", "data_dir", Path("/flag/data")),
}
HARDWARE_KEYS = {"hardware.camera", "hardware.handset", "hardware.badge_reader"}
KEY_BY_PATH = {key.path: key for key in KEYS}


def write(tmp_path: Path, text: str | bytes, name: str = "kiosk.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load_args(argv: list[str], tmp_path: Path) -> KioskConfig:
    """Parse ``kiosk run ...`` the way the CLI does and build the configuration."""
    args = build_parser().parse_args(["run", *argv])
    home = tmp_path / "home"
    return load(args, environ={"HOME": str(home), "XDG_DATA_HOME": str(tmp_path / "xdg")})


def config_error(argv: list[str], tmp_path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_args(argv, tmp_path)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    return message


def replace_line(text: str, old: str, new: str) -> str:
    assert text.count(old + "\n") == 1, old
    return text.replace(old + "\n", new + "\n")


def test_a_good_file_loads_every_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_FILE)
    config = load_args(["--config", str(path)], tmp_path)
    assert config == KioskConfig(
        kiosk_id="hu-file-01",
        role="housing",
        kiosk_name="Housing A · Kiosk 3",
        housing_unit="A",
        facility_id="file-facility",
        facility_name="File County Jail",
        timezone="America/Chicago",
        fullscreen=True,
        width=1280,
        height=800,
        language="es",
        languages=("en", "es"),
        brokers=("mqtts://file.example:8883",),
        ca_file=Path("/file/ca.pem"),
        cert_file=Path("/file/cert.pem"),
        key_file=Path("/file/key.pem"),
        outbox_budget_mb=256,
        login_snapshot=True,
        blur_without_face=True,
        camera="simulated",
        camera_source="/dev/video2",
        camera_width=640,
        camera_height=480,
        camera_fps=15.0,
        handset="simulated",
        handset_device="/dev/input/event7",
        handset_mode="toggle",
        handset_codes=("KEY_MUTE",),
        handset_line="dsr",
        handset_closed_means="on_hook",
        handset_audio="plughw:CARD=Handset",
        badge_reader="simulated",
        badge_device="/dev/ttyUSB0",
        badge_baudrate=19200,
        badge_format="h10301",
        data_dir=Path("/file/data"),
        demo=False,
        source=str(path),
    )
    assert config.database_path == Path("/file/data/kiosk.sqlite3")


def test_a_file_with_only_the_required_keys_gets_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, '[kiosk]\nid = "hu-01"\n[facility]\nid = "f1"\n')
    config = load_args(["--config", str(path)], tmp_path)
    assert (config.kiosk_id, config.facility_id) == ("hu-01", "f1")
    assert config.role == "housing"
    assert config.timezone == "UTC"
    assert config.fullscreen is True
    assert config.data_dir == Path("/var/lib/kiosk")
    assert config.brokers == ()


def test_the_override_table_covers_every_key() -> None:
    assert set(OVERRIDES) == set(KEY_BY_PATH)


@pytest.mark.parametrize("path", [key.path for key in KEYS])
def test_every_key_is_overridden_by_its_flag(path: str, tmp_path: Path) -> None:
    line, flag_value, field, expected = OVERRIDES[path]
    text = GOOD_FILE
    if path in HARDWARE_KEYS:
        name = path.split(".", 1)[1]
        text = replace_line(text, line, f'{name} = "no-such-adapter"')
    config_file = write(tmp_path, text)
    flag = KEY_BY_PATH[path].flag

    config = load_args(["--config", str(config_file), flag, flag_value], tmp_path)

    assert getattr(config, field) == expected
    if path not in HARDWARE_KEYS:
        # The file's own value differs: without the flag it is the one used.
        from_file = getattr(load_args(["--config", str(config_file)], tmp_path), field)
        assert from_file != expected


def test_a_bad_hardware_kind_in_the_file_is_refused_without_its_flag(tmp_path: Path) -> None:
    text = replace_line(GOOD_FILE, 'camera = "simulated"', 'camera = "no-such-adapter"')
    config_file = write(tmp_path, text)
    message = config_error(["--config", str(config_file)], tmp_path)
    assert "hardware.camera" in message and str(config_file) in message


def test_flags_can_supply_the_required_keys(tmp_path: Path) -> None:
    config_file = write(tmp_path, '[facility]\nname = "Test Facility"\n')
    config = load_args(
        ["--config", str(config_file), "--kiosk-id", "hu-test-01", "--facility", "f1"], tmp_path
    )
    assert (config.kiosk_id, config.facility_id, config.facility_name) == (
        "hu-test-01",
        "f1",
        "Test Facility",
    )


def test_the_broker_flag_repeats_into_a_list(tmp_path: Path) -> None:
    config_file = write(tmp_path, GOOD_FILE)
    config = load_args(
        [
            "--config",
            str(config_file),
            "--broker",
            "mqtts://a.example:8883",
            "--broker",
            "mqtts://b.example:8883",
        ],
        tmp_path,
    )
    assert config.brokers == ("mqtts://a.example:8883", "mqtts://b.example:8883")


def test_windowed_beats_fullscreen_in_the_file(tmp_path: Path) -> None:
    config_file = write(tmp_path, GOOD_FILE)
    assert "fullscreen = true" in GOOD_FILE
    assert load_args(["--config", str(config_file)], tmp_path).fullscreen is True
    assert load_args(["--config", str(config_file), "--windowed"], tmp_path).fullscreen is False


def test_demo_needs_no_file_and_keeps_its_data_under_xdg_data_home(tmp_path: Path) -> None:
    # No --config: /etc/kiosk/kiosk.toml is not read (it does not exist on the build machine).
    config = load_args(["--demo"], tmp_path)
    assert config.demo is True
    assert config.data_dir == tmp_path / "xdg" / "kiosk-demo" / "housing"
    assert config.kiosk_id == "demo-hu-01"
    assert config.facility_name == "Riverside County Detention Center"
    assert config.timezone == "America/Chicago"
    assert config.fullscreen is False


def test_a_lobby_demo_has_its_own_folder_and_name(tmp_path: Path) -> None:
    config = load_args(["--demo", "--role", "lobby"], tmp_path)
    assert config.data_dir == tmp_path / "xdg" / "kiosk-demo" / "lobby"
    assert config.kiosk_id == "demo-lobby-01"
    assert config.housing_unit is None


def test_demo_without_xdg_data_home_uses_home(tmp_path: Path) -> None:
    args = build_parser().parse_args(["run", "--demo"])
    config = load(args, environ={"HOME": str(tmp_path)})
    assert config.data_dir == tmp_path / ".local/share/kiosk-demo/housing"


def test_demo_flags_and_file_still_win(tmp_path: Path) -> None:
    config_file = write(tmp_path, '[facility]\nname = "File County Jail"\n')
    config = load_args(
        ["--demo", "--config", str(config_file), "--data-dir", str(tmp_path / "d")], tmp_path
    )
    assert config.facility_name == "File County Jail"
    assert config.data_dir == tmp_path / "d"


# --- errors: one line, naming the key (or the problem) and the file ---------------------------


def test_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    message = config_error(["--config", str(missing)], tmp_path)
    assert str(missing) in message
    assert "no such config file" in message


def test_a_folder_instead_of_a_file(tmp_path: Path) -> None:
    message = config_error(["--config", str(tmp_path)], tmp_path)
    assert str(tmp_path) in message and "folder" in message


def test_malformed_toml(tmp_path: Path) -> None:
    config_file = write(tmp_path, '[kiosk\nid = "hu-01"\n')
    message = config_error(["--config", str(config_file)], tmp_path)
    assert str(config_file) in message
    assert "not valid TOML" in message
    assert "line 1" in message


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    config_file = write(tmp_path, b'[kiosk]\nname = "Cocina \xe9"\n')
    message = config_error(["--config", str(config_file)], tmp_path)
    assert str(config_file) in message
    assert "UTF-8" in message


def test_a_plain_value_where_a_table_belongs(tmp_path: Path) -> None:
    config_file = write(tmp_path, 'kiosk = "hu-01"\n')
    message = config_error(["--config", str(config_file)], tmp_path)
    assert str(config_file) in message and "[kiosk]" in message


def test_an_unknown_key_names_it_and_its_known_siblings(tmp_path: Path) -> None:
    config_file = write(tmp_path, GOOD_FILE.replace('role = "housing"', 'colour = "blue"'))
    message = config_error(["--config", str(config_file)], tmp_path)
    assert str(config_file) in message
    assert "kiosk.colour: unknown key" in message
    assert "role" in message  # the hint lists what [kiosk] may hold


def test_an_unknown_section(tmp_path: Path) -> None:
    config_file = write(tmp_path, GOOD_FILE + "\n[printer]\nmodel = 'x'\n")
    message = config_error(["--config", str(config_file)], tmp_path)
    assert str(config_file) in message and "printer.model" in message


def test_an_unknown_key_with_a_newline_in_its_name_stays_on_one_line(tmp_path: Path) -> None:
    config_file = write(tmp_path, '[kiosk]\n"sneaky\\nkey" = 1\n')
    message = config_error(["--config", str(config_file)], tmp_path)
    assert str(config_file) in message and "unknown key" in message
    assert "sneaky\\nkey" in message


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('name = "Housing A · Kiosk 3"', "name = 5", "kiosk.name"),
        ("width = 1280", 'width = "wide"', "display.width"),
        ("width = 1280", "width = 1280.5", "display.width"),
        ("width = 1280", "width = inf", "display.width"),
        ("width = 1280", "width = true", "display.width"),
        ("height = 800", "height = 100", "display.height"),
        ("fullscreen = true", 'fullscreen = "maybe"', "display.fullscreen"),
        ('languages = ["en", "es"]', "languages = 5", "display.languages"),
        ('languages = ["en", "es"]', 'languages = ["en", "fr"]', "display.languages"),
        ('language = "es"', 'language = "fr"', "display.language"),
        ('brokers = ["mqtts://file.example:8883"]', 'brokers = ["http://x"]', "cloud.brokers"),
        ('brokers = ["mqtts://file.example:8883"]', "brokers = 5", "cloud.brokers"),
        ('data_dir = "/file/data"', "data_dir = 5", "storage.data_dir"),
        ('data_dir = "/file/data"', 'data_dir = "~no-such-user-xyz/data"', "storage.data_dir"),
        ('data_dir = "/file/data"', 'data_dir = "/a\\u0000b"', "storage.data_dir"),
        ('ca_file = "/file/ca.pem"', "ca_file = []", "cloud.ca_file"),
        ('housing_unit = "A"', "housing_unit = 7", "kiosk.housing_unit"),
        ("camera_fps = 15", "camera_fps = 0", "hardware.camera_fps"),
        ("camera_fps = 15", "camera_fps = true", "hardware.camera_fps"),
        ("camera_width = 640", "camera_width = 10", "hardware.camera_width"),
        ('camera_source = "/dev/video2"', 'camera_source = ""', "hardware.camera_source"),
        ("badge_baudrate = 19200", "badge_baudrate = 12345", "hardware.badge_baudrate"),
        ("badge_baudrate = 19200", "badge_baudrate = 9600.5", "hardware.badge_baudrate"),
        ('badge_format = "h10301"', 'badge_format = "wiegand37"', "hardware.badge_format"),
        ('badge_reader = "simulated"', 'badge_reader = "usb"', "hardware.badge_reader"),
        ('handset_mode = "toggle"', 'handset_mode = "press"', "hardware.handset_mode"),
        ('handset_codes = ["KEY_MUTE"]', 'handset_codes = ["mute"]', "hardware.handset_codes"),
        ('handset_codes = ["KEY_MUTE"]', "handset_codes = 5", "hardware.handset_codes"),
    ],
)
def test_a_wrong_value_names_the_key_and_the_file(
    old: str, new: str, key: str, tmp_path: Path
) -> None:
    config_file = write(tmp_path, replace_line(GOOD_FILE, old, new))
    message = config_error(["--config", str(config_file)], tmp_path)
    assert f"{config_file}: {key}:" in message


def test_a_language_not_offered(tmp_path: Path) -> None:
    text = replace_line(GOOD_FILE, 'languages = ["en", "es"]', 'languages = ["en"]')
    config_file = write(tmp_path, text)
    message = config_error(["--config", str(config_file)], tmp_path)
    assert str(config_file) in message and "display.language" in message


@pytest.mark.parametrize("role", ['"warden"', '"Housing"', "5", '["lobby"]'])
def test_a_bad_role(role: str, tmp_path: Path) -> None:
    config_file = write(tmp_path, replace_line(GOOD_FILE, 'role = "housing"', f"role = {role}"))
    message = config_error(["--config", str(config_file)], tmp_path)
    assert f"{config_file}: kiosk.role:" in message
    assert '"housing" or "lobby"' in message


@pytest.mark.parametrize("role", ["5", '"../../etc"'])
def test_a_bad_role_in_a_demo_file_is_a_config_error(role: str, tmp_path: Path) -> None:
    config_file = write(tmp_path, f"[kiosk]\nrole = {role}\n")
    message = config_error(["--demo", "--config", str(config_file)], tmp_path)
    assert "kiosk.role" in message


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "America", "../etc/passwd", "Central Standard Time"]
)
def test_a_bad_timezone(zone: str, tmp_path: Path) -> None:
    text = replace_line(GOOD_FILE, 'timezone = "America/Chicago"', f'timezone = "{zone}"')
    config_file = write(tmp_path, text)
    message = config_error(["--config", str(config_file)], tmp_path)
    assert f"{config_file}: facility.timezone:" in message
    assert "IANA time zone" in message


@pytest.mark.parametrize(
    "kiosk_id", ['"HU-01"', '"hu 01"', '"hu"', f'"{"h" * 41}"', '"hu_01"', "101", '"hu-01\\n"']
)
def test_a_bad_kiosk_id(kiosk_id: str, tmp_path: Path) -> None:
    text = replace_line(GOOD_FILE, 'id = "hu-file-01"', f"id = {kiosk_id}")
    config_file = write(tmp_path, text)
    message = config_error(["--config", str(config_file)], tmp_path)
    assert f"{config_file}: kiosk.id:" in message


@pytest.mark.parametrize("facility_id", ['"a/b"', '"a+b"', '"#"', f'"{"f" * 65}"', '""'])
def test_a_bad_facility_id(facility_id: str, tmp_path: Path) -> None:
    text = replace_line(GOOD_FILE, 'id = "file-facility"', f"id = {facility_id}")
    config_file = write(tmp_path, text)
    message = config_error(["--config", str(config_file)], tmp_path)
    assert f"{config_file}: facility.id:" in message


@pytest.mark.parametrize(
    ("line", "key", "flag"),
    [
        ('id = "hu-file-01"', "kiosk.id", "--kiosk-id"),
        ('id = "file-facility"', "facility.id", "--facility"),
    ],
)
def test_a_missing_required_key(line: str, key: str, flag: str, tmp_path: Path) -> None:
    config_file = write(tmp_path, replace_line(GOOD_FILE, line, ""))
    message = config_error(["--config", str(config_file)], tmp_path)
    assert f"{config_file}: {key}: missing" in message
    assert flag in message  # says how to give it


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--width", "abc"),
        ("--fullscreen", "maybe"),
        ("--role", "warden"),
        ("--timezone", "Nowhere/City"),
        ("--kiosk-id", "Bad Id"),
        ("--broker", "mqtts://x:1883/path"),
        ("--languages", "en,de"),
    ],
)
def test_a_bad_flag_value_names_the_flag(flag: str, value: str, tmp_path: Path) -> None:
    config_file = write(tmp_path, GOOD_FILE)
    message = config_error(["--config", str(config_file), flag, value], tmp_path)
    assert message.startswith(f"{flag}: ")
