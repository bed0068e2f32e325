"""The composition root: starts a kiosk process (``kiosk run``, ``python -m launch run``).

Reads the configuration, builds the kiosk (kiosk.assembly), starts the window or the headless
loop, the cloud link, and for ``--demo`` the demo facility and its keys. Outside kiosk/, so
that the product's packages never import what runs them, the demo or the simulator.
"""
