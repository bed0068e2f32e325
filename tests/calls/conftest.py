"""The calls' fixtures: the facility cloud the kiosks of a visit talk through
(``tests.facility_cloud``)."""

from __future__ import annotations

from tests import facility_cloud

broker = facility_cloud.broker
cloud = facility_cloud.cloud
