"""Where the threat detectors get their inputs: catalogue files or the store, as one :class:`Catalog`.

The detectors themselves take plain lists of :class:`~orbitwatch.formats.records.ElementSet`; this
module only gathers them (newest set per object, histories, SATCAT facts, and the marking of every
element set used, so alerts can derive theirs).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from orbitwatch.errors import RecordError
from orbitwatch.formats.records import ElementSet, SatcatRecord, owner_trigraph
from orbitwatch.markings import Marking
from orbitwatch.threats.orbits import iso, sort_unique


@dataclass
class Catalog:
    latest: dict[int, ElementSet] = field(default_factory=dict)
    histories: dict[int, list[ElementSet]] = field(default_factory=dict)
    satcat: dict[int, dict] = field(default_factory=dict)
    markings: dict[int, list[tuple[str, Marking]]] = field(default_factory=dict)
    errors: list[RecordError] = field(default_factory=list)
    first_seen: dict[int, float] | None = None

    def owner(self, norad: int) -> str | None:
        return (self.satcat.get(norad) or {}).get("owner")

    def owner_nation(self, norad: int) -> str | None:
        info = self.satcat.get(norad) or {}
        return info.get("owner_nation") or owner_trigraph(info.get("owner"))

    def marking_of(self, norad: int) -> list[tuple[str, Marking]]:
        return self.markings.get(norad, [])

    def object_marking(self, norad: int) -> Marking | None:
        """The combined marking of the element sets held for one object (None when unknown)."""
        from orbitwatch.markings import derive

        got = self.markings.get(norad)
        return derive(got).marking if got else None

    @property
    def newest_epoch(self) -> float | None:
        return max((es.epoch_unix for es in self.latest.values()), default=None)


def _satcat_dict(r: SatcatRecord) -> dict:
    return {"norad_id": r.norad_id, "object_id": r.object_id, "name": r.object_name, "object_type": r.object_type,
            "owner": r.owner, "owner_nation": owner_trigraph(r.owner), "launch_date": r.launch_date,
            "decay_date": r.decay_date}


def catalog_from_files(paths: Iterable[str | Path], *, marking: Marking | None = None,
                       satcat_paths: Iterable[str | Path] = ()) -> Catalog:
    """Element sets and SATCAT records from files (any format ``orbitwatch.formats.read_path`` reads).

    Several sets of one object make its history; every set carries ``marking`` (default UNCLASSIFIED).
    """
    from orbitwatch.formats import read_path

    cat = Catalog()
    mk = marking or Marking()
    sets: dict[int, list[ElementSet]] = {}
    for p in list(paths) + list(satcat_paths):
        res = read_path(p)
        cat.errors.extend(res.errors)
        for r in res.records:
            if isinstance(r, ElementSet):
                sets.setdefault(r.norad_id, []).append(r)
            elif isinstance(r, SatcatRecord):
                cat.satcat[r.norad_id] = _satcat_dict(r)
    for nid, lst in sets.items():
        hist = sort_unique(lst)
        cat.latest[nid] = hist[-1]
        if len(hist) > 1:
            cat.histories[nid] = hist
        cat.markings[nid] = [(f"{nid} element sets from files", mk)]
        if nid not in cat.satcat and hist[-1].object_id:
            cat.satcat[nid] = {"norad_id": nid, "object_id": hist[-1].object_id, "name": hist[-1].object_name}
    return cat


def catalog_from_store(engine, *, norad_ids: Sequence[int] | None = None, history_from: float | None = None,
                       history_to: float | None = None, with_history: bool = False, where=None,
                       first_seen: bool = False) -> Catalog:
    """Newest set per object (optionally only ``norad_ids``), SATCAT facts from ``space_objects``, and
    with ``with_history`` every set in ``[history_from, history_to]``. ``where`` is the reader filter."""
    from sqlalchemy import func, select

    from orbitwatch.store.base import marking_from_row
    from orbitwatch.store.queries import (
        element_set_from_row,
        element_set_history,
        latest_element_sets,
        readable_objects,
    )
    from orbitwatch.store.schema import element_sets, space_objects

    cat = Catalog()
    with engine.connect() as conn:
        for row in latest_element_sets(conn, where=where, norad_ids=norad_ids):
            es = element_set_from_row(row)
            cat.latest[es.norad_id] = es
            cat.markings[es.norad_id] = [(f"elset {es.norad_id} @ {iso(es.epoch_unix)}", marking_from_row(row))]
        # one row per object: the reader's view of its descriptions (only fields released to the reader)
        q = select(space_objects).where(readable_objects(where)(space_objects))
        if norad_ids:
            q = q.where(space_objects.c.norad_id.in_(list(norad_ids)))
        for r in conn.execute(q):
            cat.satcat[r.norad_id] = {"norad_id": r.norad_id, "object_id": r.object_id, "name": r.name,
                                      "object_type": r.object_type, "owner": r.owner, "owner_nation": r.owner_nation,
                                      "launch_date": r.launch_date, "decay_date": r.decay_date}
        if with_history:
            for nid in list(cat.latest):
                rows = element_set_history(conn, nid, where=where, start=history_from, end=history_to)
                hist = sort_unique([element_set_from_row(r) for r in rows])
                if len(hist) > 1:
                    cat.histories[nid] = hist
                    cat.markings[nid] = [(f"elset {nid} @ {iso(r.epoch_ts)}", marking_from_row(r)) for r in rows]
        if first_seen:
            e = element_sets
            q = select(e.c.norad_id, func.min(e.c.epoch_ts)).group_by(e.c.norad_id)
            if where is not None:
                q = q.where(where(e))
            cat.first_seen = {int(n): float(t) for n, t in conn.execute(q)}
    return cat


def histories_from_store(engine, norad_ids: Iterable[int], *, start: float | None = None, end: float | None = None,
                         where=None) -> dict[int, list[ElementSet]]:
    from orbitwatch.store.queries import element_set_from_row, element_set_history

    out = {}
    with engine.connect() as conn:
        for nid in norad_ids:
            rows = element_set_history(conn, nid, where=where, start=start, end=end)
            if rows:
                out[nid] = sort_unique([element_set_from_row(r) for r in rows])
    return out
