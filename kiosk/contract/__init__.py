"""The MQTT contract between a kiosk and the facility cloud, written once (docs/protocol.md).

``connection`` and ``topics`` say where and how; ``limits`` every number; ``fields`` the field
types; ``downlink``, ``uplink`` and ``enrollment`` a pydantic model for every payload;
``codec`` the strict decoding, validation and compact encoding; ``builders`` the kiosk's uplink
payloads from plain arguments. The kiosk, the cloud simulator and the provisioning tool share
it, so it imports pydantic and the standard library only.
"""
