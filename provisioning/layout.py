"""Where ``kiosk-provision`` reads and writes, on the kiosk itself or under ``--root DIR``.

Paths inside the files written (the configuration's key paths) are always the kiosk's own
(``/etc/kiosk/kiosk.key``): a tree written under ``--root`` is a kiosk's file system seen from
outside, as ``systemctl --root`` and ``useradd --root`` see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kiosk.config import DEFAULT_CONFIG_PATH, DEFAULT_DATA_DIR

CONFIG = PurePosixPath(DEFAULT_CONFIG_PATH)
CONFIG_DIR = CONFIG.parent
KEY = CONFIG_DIR / "kiosk.key"
CERT = CONFIG_DIR / "kiosk.pem"
CA = CONFIG_DIR / "ca.pem"
UNIT_DIR = PurePosixPath("/etc/systemd/system")
UDEV_RULES = PurePosixPath("/etc/udev/rules.d/99-kiosk.rules")
TMPFILES = PurePosixPath("/etc/tmpfiles.d/kiosk.conf")
SYSUSERS = PurePosixPath("/etc/sysusers.d/kiosk.conf")
DATA_DIR = PurePosixPath(DEFAULT_DATA_DIR)
SERVICE = "kiosk.service"
USER = "kiosk"
# The kiosk user's extra groups: the handset's sound card (audio) and cameras (video). Not
# "input": with it Kivy would open the touchscreen itself as well as get it from Xwayland, and
# every touch would come twice; the badge reader and hook switch get the "kiosk" group from
# hardware/udev/99-kiosk.rules instead.
EXTRA_GROUPS = ("audio", "video")
# Where a source checkout keeps what install copies, relative to the repository.
REPOSITORY = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Root:
    """The file system being provisioned: ``/`` on the kiosk, a scratch folder otherwise."""

    path: Path = Path("/")

    @property
    def live(self) -> bool:
        """The running system: users, owners and services may be changed."""
        return self.path.resolve() == Path("/")

    def __call__(self, system_path: PurePosixPath | str) -> Path:
        """``system_path`` as seen from here."""
        return self.path / str(system_path).lstrip("/")
