"""Synthetic marked records written straight to the store, for authorisation tests and load benchmarks.

The ingest path is tested on its own; the leak tests need full control of each row's marking and
originating nation, so they insert rows here with exactly the marking they draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert

from orbitwatch.markings import DEFAULT_SCHEME, Marking, sort_trigraphs
from orbitwatch.store.base import marking_values
from orbitwatch.store.schema import element_sets, ingest_batches, space_objects


@dataclass(frozen=True)
class MarkedRecord:
    """One object with one element set; object and element set may carry different markings."""

    norad_id: int
    object_marking: Marking
    elset_marking: Marking
    nation: str  # originator
    epoch_ts: float = 1_696_852_800.0  # 2023-10-09T12:00:00Z
    elset_id: int | None = None


def object_row(norad_id: int, marking: Marking, nation: str | None, *, name: str | None = None,
               object_type: str = "PAYLOAD", owner: str = "US", regime: str = "LEO") -> dict:
    return {"norad_id": norad_id, "object_id": f"2000-{norad_id % 1000:03d}A", "name": name or f"SAT {norad_id}",
            "object_type": object_type, "owner": owner, "owner_nation": None, "regime": regime,
            "source": "test", "nation": nation, "updated_at": 0.0, **marking_values(marking, DEFAULT_SCHEME)}


def elset_row(norad_id: int, epoch_ts: float, marking: Marking, nation: str | None, *,
              mean_motion: float = 15.5, eccentricity: float = 0.0005, inclination: float = 51.6,
              raan: float = 100.0, arg_perigee: float = 90.0, mean_anomaly: float = 270.0,
              batch_id: int | None = None, name: str | None = None, elset_id: int | None = None) -> dict:
    n = mean_motion * 2 * math.pi / 86400.0
    sma = (398600.8 / (n * n)) ** (1 / 3)
    epoch = datetime.fromtimestamp(epoch_ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    row = {
        "norad_id": norad_id, "epoch_ts": epoch_ts, "epoch": epoch, "mean_motion": mean_motion,
        "eccentricity": eccentricity, "inclination": inclination, "raan": raan, "arg_perigee": arg_perigee,
        "mean_anomaly": mean_anomaly, "bstar": 1e-4, "mean_motion_dot": 1e-5, "mean_motion_ddot": 0.0,
        "classification_type": "U", "ephemeris_type": 0, "element_set_no": 999, "rev_at_epoch": 1000,
        "object_name": name or f"SAT {norad_id}", "object_id": f"2000-{norad_id % 1000:03d}A",
        "semi_major_axis_km": sma, "perigee_km": sma * (1 - eccentricity) - 6378.135,
        "apogee_km": sma * (1 + eccentricity) - 6378.135, "regime": "LEO", "source": "test",
        "nation": nation, "source_format": "tle", "batch_id": batch_id, "ingested_at": 0.0,
        "digest": f"{norad_id:010d}{int(epoch_ts * 1000):019d}"[:32], **marking_values(marking, DEFAULT_SCHEME),
    }
    if elset_id is not None:
        row["id"] = elset_id
    return row


def clear_catalogue(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(element_sets))
        conn.execute(delete(space_objects))
        conn.execute(delete(ingest_batches))


def insert_records(engine: Engine, records: list[MarkedRecord], *, history: int = 1) -> list[MarkedRecord]:
    """Write objects and ``history`` element sets each (one day apart, the newest at ``epoch_ts``).

    Returns the records with ``elset_id`` of their newest element set filled in.
    """
    out = []
    with engine.begin() as conn:
        conn.execute(insert(space_objects), [object_row(r.norad_id, r.object_marking, r.nation)
                                             for r in records])
        for r in records:
            for k in range(history - 1, -1, -1):
                res = conn.execute(insert(element_sets).values(
                    **elset_row(r.norad_id, r.epoch_ts - 86400.0 * k, r.elset_marking, r.nation,
                                mean_anomaly=(270.0 + k) % 360)))
            out.append(MarkedRecord(r.norad_id, r.object_marking, r.elset_marking, r.nation, r.epoch_ts,
                                    int(res.inserted_primary_key[0])))
    return out


def describe(m: Marking) -> str:
    return f"{m.classification}/{','.join(sort_trigraphs(m.rel_to))}/{m.tlp}/{sorted(m.orgs)}"


ORGANISATIONS = ("ACME", "acme", "Orbital Co", "SATOPS")  # mixed case on purpose: matching is exact


def marking_strategy():
    """A hypothesis strategy of valid markings (hypothesis is imported only when this is called)."""
    from hypothesis import strategies as st

    from orbitwatch.markings import NATIONS, TLP_LEVELS

    return st.builds(
        Marking,
        classification=st.sampled_from(DEFAULT_SCHEME.levels),
        rel_to=st.frozensets(st.sampled_from(NATIONS), min_size=1),
        data_mode=st.sampled_from(("REAL", "EXERCISE", "SIMULATED", "TEST")),
        tlp=st.none() | st.sampled_from(TLP_LEVELS),
        orgs=st.frozensets(st.sampled_from(ORGANISATIONS), max_size=2),
    )


def all_principals(*, organisations: tuple[str, ...] = ORGANISATIONS, include_anonymous: bool = True):
    """Every nation at every clearance, each organisation, and the anonymous public."""
    from orbitwatch.markings import NATIONS
    from orbitwatch.sharing.principal import Principal, anonymous

    out = [Principal(username=f"{n.lower()}-{c.lower()}", nation=n, clearance=c, roles=frozenset({"analyst"}))
           for n in NATIONS for c in DEFAULT_SCHEME.levels]
    out += [Principal(username=f"org-{i}", nation=None, organisation=o, clearance=DEFAULT_SCHEME.lowest,
                      roles=frozenset({"analyst"})) for i, o in enumerate(organisations)]
    if include_anonymous:
        out.append(anonymous())
    return out
