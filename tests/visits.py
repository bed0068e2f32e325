"""Schedule rows for tests, in the shape the store keeps them."""

from __future__ import annotations

from datetime import datetime, timedelta

from kiosk.sync.uplink import utc_text as iso  # the format the inbox stores cloud visits in


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
) -> dict[str, object]:
    return {
        "visit_id": visit_id,
        "starts_at": iso(starts_at),
        "ends_at": iso(starts_at + timedelta(minutes=minutes)),
        "kind": kind,
        "status": status,
        "inmate_id": inmate_id or "A" + visit_id,
        "inmate_name": inmate_name,
        "visitor_name": visitor_name,
        "confirmation_code_verifier": None,
        "peer_kiosk_id": peer_kiosk_id,
    }
