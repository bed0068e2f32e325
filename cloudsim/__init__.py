"""The facility cloud, simulated: plays the cloud's side of the MQTT contract on a broker.

For the demo and the tests only; the real cloud exists elsewhere. May import kiosk.sync's
topic and payload helpers, kiosk.core.credentials (so verifiers and badge lookups are made
exactly as the kiosk checks them) and kiosk.demo's seed data (cloudsim.demo_data), never the
rest of the kiosk core or the UI.
"""
