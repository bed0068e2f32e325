"""Schedule rows for tests, in the shape the store keeps them."""

from __future__ import annotations

from datetime import datetime, timedelta

from kiosk.contract.times import utc_text as iso  # the format the inbox stores cloud visits in


def visit_row(
    starts_at: datetime,
    minutes: int = 30,
    *,
    visit_id: str = "v-1",
    kind: str = "remote",
    status: str = "scheduled",
    inmate_name: str = "A. Resident",
    visitor_name: str = "B. Visitor",
    inmate_id: str | None = None,
    peer_kiosk_id: str | None = None,
    code_verifier: str | None = None,
    first_visit: bool = False,
    captures: str | None = None,
    station: tuple[str, str] | None = None,
) -> dict[str, object]:
    """``captures``: comma-separated purposes; ``station``: (kiosk_id, name) of another one."""
    return {
        "visit_id": visit_id,
        "starts_at": iso(starts_at),
        "ends_at": iso(starts_at + timedelta(minutes=minutes)),
        "kind": kind,
        "status": status,
        "inmate_id": inmate_id or "A" + visit_id,
        "inmate_name": inmate_name,
        "visitor_name": visitor_name,
        "confirmation_code_verifier": code_verifier,
        "peer_kiosk_id": peer_kiosk_id,
        "visitor_first_visit": int(first_visit),
        "visitor_captures": captures,
        "station_kiosk_id": station[0] if station else None,
        "station_name": station[1] if station else None,
    }
