"""Element sets built to meet: helpers shared by the conjunction tests."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from orbitwatch.formats.records import ElementSet

EPOCH = datetime(2024, 3, 1, tzinfo=UTC)


def elset(norad: int, *, n: float = 15.2, e: float = 0.0001, i: float = 53.0, raan: float = 0.0,
          argp: float = 0.0, ma: float = 0.0, bstar: float = 0.0, epoch: datetime = EPOCH) -> ElementSet:
    return ElementSet(norad_id=norad, epoch=epoch, mean_motion=n, eccentricity=e, inclination=i, raan=raan,
                      arg_perigee=argp, mean_anomaly=ma % 360.0, bstar=bstar, source_format="omm",
                      object_name=f"TEST {norad}")


def crossing_pair(tau_s: float, *, dnode: float = 60.0, n: float = 15.2, i: float = 53.0,
                  norads: tuple[int, int] = (90001, 90002)) -> tuple[ElementSet, ElementSet]:
    """Two circular orbits of equal size and inclination, nodes ``dnode`` degrees apart, phased so that
    both reach the same intersection of their planes ``tau_s`` seconds after the epoch (and then once
    per revolution, as both share one period and one J2 precession)."""
    ci = math.cos(math.radians(i))
    lam = math.radians(dnode / 2.0 + 90.0)  # the planes cross on the meridian between their nodes
    u_a = math.atan2(math.sin(lam), math.cos(lam) * ci)  # argument of latitude of that point on A
    u_b = math.pi - u_a  # and on B (mirror image)
    turn = math.degrees(n * 2 * math.pi / 86400.0 * tau_s)
    a = elset(norads[0], n=n, i=i, raan=0.0, ma=math.degrees(u_a) - turn)
    b = elset(norads[1], n=n, i=i, raan=dnode, ma=math.degrees(u_b) - turn)
    return a, b
