"""The demo facility, outside the product: its residents, visits and messages (``facility``),
the contract payloads they are sent as (``payloads``), its simulated cloud (``cloud``,
``cloud_cli``), the offline seed (``seed``) and the keys that stand in for hardware (``keys``).

The demo imports the kiosk's contract, its inbox and the cloud simulator; nothing under
kiosk/ or cloudsim/ imports the demo.
"""
