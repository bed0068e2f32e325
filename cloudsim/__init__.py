"""The facility cloud, simulated: plays the cloud's side of the MQTT contract on a broker.

For the demo and the tests only; the real cloud exists elsewhere. May import the contract
(kiosk.contract) and kiosk.core.credentials (so verifiers and badge lookups are made exactly
as the kiosk checks them), never the rest of the kiosk core or the UI. It knows no facility of
its own: the demo's is published by demo/ (demo.cloud), which imports the simulator.
"""
