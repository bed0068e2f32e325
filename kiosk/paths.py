"""Where the kiosk's shipped files live."""

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
LOCALE_DIR = ASSETS_DIR / "locale"
FONTS_DIR = ASSETS_DIR / "fonts"
