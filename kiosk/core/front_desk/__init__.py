"""The lobby's front desk: a visitor registers, finds a resident, applies to visit, checks the
application and books an on-site visit. Rules only; the screens show them, the sync layer
carries what leaves."""
