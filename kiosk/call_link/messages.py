"""What the kiosk and its call's process say to each other over their pipe.

Plain dataclasses of plain values: they cross the pipe pickled, and neither side needs the
other's libraries to read them. Pictures never travel here (see :mod:`frame_slot`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.call_link.frame_slot import FrameSlot


@dataclass(frozen=True)
class CallSpec:
    """What the call's process needs from its start, before it knows its visit."""

    camera: FrameSlot  # the kiosk's camera pictures, written by the kiosk
    remote: FrameSlot  # the other side's picture, written by the call
    sent: FrameSlot  # the picture as sent (blurred when the policy blurred it), for the self-view
    blur_without_face: bool = False
    handset_audio: str | None = None  # the handset's ALSA device; None: a test tone
    fps: float = 30.0
    log_level: int = 20


# --- the kiosk to its call -----------------------------------------------------------------


@dataclass(frozen=True)
class IceServer:
    """A STUN or TURN server, as the call's process hands it to WebRTC."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Start:
    visit_id: str
    kiosk_id: str
    offerer: bool
    ice_servers: tuple[IceServer, ...] = ()  # the facility's (its cloud config); none: host only
    relay_only: bool = False  # only through a TURN relay (no direct path is let out)


@dataclass(frozen=True)
class Restart:
    pass


@dataclass(frozen=True)
class HangUp:
    reason: str  # "peer": the other side said bye, so none is said back


@dataclass(frozen=True)
class Signal:
    payload: dict[str, Any]  # a signal from the cloud, as received


@dataclass(frozen=True)
class DropConnection:
    """Close the current peer connection as a network failure would (tests, a technician)."""


# --- the call to its kiosk -----------------------------------------------------------------


@dataclass(frozen=True)
class State:
    state: str  # connecting, connected, poor, reconnecting, failed, closed


@dataclass(frozen=True)
class Publish:
    payload: dict[str, Any]  # a signal for the cloud


@dataclass(frozen=True)
class CameraFailed:
    failed: bool


@dataclass(frozen=True)
class CallStats:
    """The call as its process sees it, sent every half second and once at the end."""

    state: str = "new"
    restarts: int = 0
    frames_sent: int = 0
    camera_frames_sent: int = 0
    frames_received: int = 0
    audio_frames_sent: int = 0
    audio_frames_received: int = 0
    audio_level: float = 0.0  # RMS of the newest sound frame received, 0..1
    longest_silence_s: float = 0.0  # the longest gap between two audible frames received
    fps_received: float = 0.0
    send_size: tuple[int, int] | None = None  # what the sender chose, after any lowering
    send_fps: float = 0.0  # the frame rate the sender aims at, after any lowering
    send_usage: float = 0.0  # the share of the last second the sender spent on frames
    send_kbit: int = 0  # the rate the picture may take on the line (kiosk.calls.send_rate)
    codec: str | None = None
    consent_expired: int = 0  # peer connections that failed after being connected
    last_media_at: float | None = None  # monotonic: the newest frame heard from the network
    process_cpu_s: float = 0.0  # the call's process, since it started
    stalls: int = 0  # times nothing came for 2 s
    poor_seconds: float = 0.0  # time "poor connection" was shown


@dataclass(frozen=True)
class Loaded:
    """The call's process has loaded what a call needs: a call can start at once."""


@dataclass(frozen=True)
class Finished:
    stats: CallStats
