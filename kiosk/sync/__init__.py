"""MQTT sync with the facility cloud (paho-mqtt): the contract's topics and payloads, a durable
outbox, an inbox applied exactly once, commands. Never imports Kivy.
"""
