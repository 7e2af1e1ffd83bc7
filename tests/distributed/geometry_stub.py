"""Two element sets for tests that need any valid input."""

from datetime import UTC, datetime

from orbitwatch.formats.records import ElementSet


def pair():
    ep = datetime(2024, 3, 1, tzinfo=UTC)
    return [ElementSet(norad_id=n, epoch=ep, mean_motion=15.2, eccentricity=0.0001, inclination=53.0, raan=r,
                       arg_perigee=0.0, mean_anomaly=10.0, source_format="omm") for n, r in ((1, 0.0), (2, 40.0))]
