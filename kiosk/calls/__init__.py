"""Video visits over WebRTC (aiortc): the peer connection, its signalling over the sync layer,
and the media tracks. Runs on the kiosk's event loop; never imports Kivy or the UI.
"""

from kiosk.calls.call import Call
from kiosk.calls.signalling import READY, Bye, Ready, VisitSignalling
from kiosk.calls.tracks import AudioLevelSink, CameraVideoTrack, ToneAudioTrack, VideoSink

__all__ = [
    "READY",
    "AudioLevelSink",
    "Bye",
    "Call",
    "CameraVideoTrack",
    "Ready",
    "ToneAudioTrack",
    "VideoSink",
    "VisitSignalling",
]
