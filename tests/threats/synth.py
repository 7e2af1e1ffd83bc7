"""Synthetic element-set histories built from real element sets with SGP4's own mean elements.

``evolve(es, times)`` returns the element sets a perfect tracker would publish for the object of
``es`` at ``times`` (SGP4 mean elements propagated from ``es``); ``burn(es, t, dn)`` the set just after an
impulsive change of mean motion ``dn`` (rev/day) at ``t``. Used to build approaches and drifts whose
truth is known.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

from orbitwatch.formats.records import ElementSet
from orbitwatch.threats.orbits import satrec_of


def at(es: ElementSet, ts: float, **changes) -> ElementSet:
    """The SGP4 mean elements of ``es`` propagated to ``ts`` (unix s), as a new element set."""
    sat = satrec_of(es)
    err, _, _ = sat.sgp4_tsince((ts - es.epoch_unix) / 60.0)
    assert err == 0
    # SGP4 carries the Brouwer ("un-Kozai") mean motion; element sets hold the Kozai one: invert
    # SGP4's conversion by fixed-point iteration so the new set starts on the propagated orbit.
    target = sat.nm
    kozai = target
    d1 = 0.75 * sat.j2 * (3.0 * math.cos(sat.im) ** 2 - 1.0) / (1.0 - sat.em**2) ** 1.5
    for _ in range(8):  # SGP4 initl: no_unkozai = no_kozai / (1 + del), del from the Kozai a
        ak = (sat.xke / kozai) ** (2.0 / 3.0)
        d = d1 / ak**2
        adel = ak * (1.0 - d * d - d * (1.0 / 3.0 + 134.0 * d * d / 81.0))
        kozai = target * (1.0 + d1 / adel**2)
    new = ElementSet(
        norad_id=es.norad_id, epoch=datetime.fromtimestamp(ts, UTC), mean_motion=kozai * 1440.0 / (2 * math.pi),
        eccentricity=sat.em, inclination=math.degrees(sat.im), raan=math.degrees(sat.Om) % 360.0,
        arg_perigee=math.degrees(sat.om) % 360.0, mean_anomaly=math.degrees(sat.mm) % 360.0, bstar=es.bstar,
        object_name=es.object_name, object_id=es.object_id, source_format="omm")
    return replace(new, **changes) if changes else new


def evolve(es: ElementSet, times) -> list[ElementSet]:
    return [at(es, float(t)) for t in times]


def clone(es: ElementSet, norad: int, **changes) -> ElementSet:
    """``es`` as another object (no TLE text: initialised from the elements), with changes."""
    return replace(es, norad_id=norad, original=None, source_format="omm", element_set_no=None, **changes)
