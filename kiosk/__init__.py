"""The communication kiosk of a correctional facility."""

__version__ = "0.1.0"
