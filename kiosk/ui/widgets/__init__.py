"""Widgets shared by the screens: the header and the kiosk's buttons."""
