"""Simulated twins of the hardware adapters: what ``--demo`` and most tests run on."""

from hardware.simulated.badge_reader import SimulatedBadgeReader
from hardware.simulated.camera import SimulatedCamera
from hardware.simulated.handset import SimulatedHandset
from hardware.simulated.hotplug import SimulatedHotplug

__all__ = ["SimulatedBadgeReader", "SimulatedCamera", "SimulatedHandset", "SimulatedHotplug"]
