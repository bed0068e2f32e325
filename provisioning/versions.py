"""The software on the kiosk, read without importing it (Kivy and OpenCV are slow to import
and Kivy writes to the terminal when imported)."""

from __future__ import annotations

import platform
from importlib import metadata

from provisioning.layout import Root

# label -> distribution name
DISTRIBUTIONS = {
    "kivy": "Kivy",
    "opencv": "opencv-python-headless",
    "aiortc": "aiortc",
    "paho-mqtt": "paho-mqtt",
    "cryptography": "cryptography",
    "sqlite-utils": "sqlite-utils",
    "pydantic": "pydantic",
    "rich": "rich",
}


def versions(root: Root) -> dict[str, str]:
    """Each package's version ("not installed" when absent), Python's, and the OS's."""
    from kiosk import __version__

    found = {"kiosk": __version__, "python": platform.python_version()}
    for label, distribution in DISTRIBUTIONS.items():
        try:
            found[label] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            found[label] = "not installed"
    found["os"] = os_name(root)
    # The kernel running now is the host's, not the scratch root's.
    found["kernel"] = platform.release() if root.live else "unknown (under --root)"
    return found


def os_name(root: Root) -> str:
    for candidate in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            text = root(candidate).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    return "unknown"
