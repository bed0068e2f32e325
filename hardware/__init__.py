"""Hardware adapters behind small interfaces; each has a simulated twin chosen by configuration.

This package never imports Kivy or the kiosk core.
"""
