"""Failures of ``kiosk-provision``, phrased for the technician who reads them."""

from __future__ import annotations


class ProvisionError(Exception):
    """What went wrong and what to check, in one sentence; exit status 1."""

    exit_code = 1


class UsageError(ProvisionError):
    """A missing or bad answer or flag; exit status 2, as argparse gives."""

    exit_code = 2
