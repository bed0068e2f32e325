"""The kiosk's side of a visit's call, which runs in a process of its own.

The call (aiortc: ICE and its consent checks, DTLS, RTP, encoding, decoding) lives in
:mod:`kiosk.calls`, in a child process, where the screen's work cannot take its time. This
package starts that process, speaks to it over a pipe, hands it the camera's pictures and takes
the other side's through shared memory. It never imports aiortc: the kiosk's own process does
not load it.
"""
