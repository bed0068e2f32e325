"""The family's side of a remote visit, as the cloud simulator plays it: a web page a family
member opens in their own browser, and the media gateway that passes the call's handshake
between that page (a WebSocket) and the kiosk (the contract's signal topics).

Media flows between the browser and the kiosk directly (or through the facility's TURN relay);
a production gateway that records visits sits in the media path instead (docs/remote-visits.md).
"""
