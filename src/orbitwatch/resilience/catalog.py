"""Loading the element sets the effects/resilience commands work on (a file or the store).

Files go through ``orbitwatch.formats.read_path`` (every format the project reads); until that reader
exists this module reads the two formats the shared data uses itself: TLE/3LE (through the strict
project reader) and CelesTrak OMM CSV, gzip or not. Bad records are reported, never fatal.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from orbitwatch.errors import NotFound, RecordError, ValidationError
from orbitwatch.formats.records import ElementSet, parse_epoch


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")  # noqa: SIM115 - returned to the caller


def _read_omm_csv(path: Path) -> tuple[list[ElementSet], list[RecordError]]:
    out: list[ElementSet] = []
    errors: list[RecordError] = []
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        for i, row in enumerate(reader, start=2):
            try:
                out.append(ElementSet(
                    norad_id=int(row["NORAD_CAT_ID"]), epoch=parse_epoch(row["EPOCH"]),
                    mean_motion=float(row["MEAN_MOTION"]), eccentricity=float(row["ECCENTRICITY"]),
                    inclination=float(row["INCLINATION"]), raan=float(row["RA_OF_ASC_NODE"]),
                    arg_perigee=float(row["ARG_OF_PERICENTER"]), mean_anomaly=float(row["MEAN_ANOMALY"]),
                    bstar=float(row.get("BSTAR") or 0.0), mean_motion_dot=float(row.get("MEAN_MOTION_DOT") or 0),
                    mean_motion_ddot=float(row.get("MEAN_MOTION_DDOT") or 0),
                    object_name=row.get("OBJECT_NAME"), object_id=row.get("OBJECT_ID"),
                    source_format="omm", file=str(path), line=i))
            except (KeyError, ValueError, TypeError) as exc:
                errors.append(RecordError(str(path), i, None, f"bad OMM CSV row: {exc}"))
    return out, errors


def load_elsets(path: str | Path) -> tuple[list[ElementSet], list[RecordError]]:
    """Element sets of a catalogue file and the per-record errors (latest set per object kept)."""
    p = Path(path)
    if not p.exists():
        raise NotFound(f"catalogue file {p} does not exist")
    try:
        from orbitwatch.formats import read_path  # type: ignore[attr-defined]
    except ImportError:
        read_path = None
    if read_path is not None:
        res = read_path(p)
        recs = [r for r in res.records if isinstance(r, ElementSet)]
        errors = list(res.errors)
    elif ".csv" in p.suffixes:
        recs, errors = _read_omm_csv(p)
    else:
        from orbitwatch.formats.tle import read_tle

        recs, errors = [], []
        with _open_text(p) as fh:
            for item in read_tle(fh, file=str(p)):
                (errors if isinstance(item, RecordError) else recs).append(item)
    if not recs and errors:
        raise ValidationError(f"no element set could be read ({len(errors)} errors; first: {errors[0]})",
                              file=str(p))
    return latest_per_object(recs), errors


def latest_per_object(elsets: list[ElementSet]) -> list[ElementSet]:
    """Keep the newest element set of each catalogue number."""
    best: dict[int, ElementSet] = {}
    for e in elsets:
        cur = best.get(e.norad_id)
        if cur is None or e.epoch > cur.epoch:
            best[e.norad_id] = e
    return list(best.values())


def elsets_from_store(db_url: str | None) -> tuple[list[ElementSet], dict[int, str], dict[int, dict]]:
    """The latest element set of every object in the store, the owner map and object facts.

    Uses the lead's ``store.queries.latest_element_sets``; returns (elsets, {norad: owner_nation},
    {norad: {object_type, mass_kg, hbr_m, name}}).
    """
    from sqlalchemy import select

    from orbitwatch.store.engine import open_engine
    from orbitwatch.store.queries import readable_objects
    from orbitwatch.store.schema import space_objects

    try:
        from orbitwatch.store.queries import element_sets_from_rows, latest_element_sets
    except ImportError as exc:  # pragma: no cover - only before the store query layer existed
        raise NotFound("the store has no query layer (orbitwatch.store.queries); use --catalog FILE") from exc
    from orbitwatch.settings import database_url

    engine = open_engine(database_url(db_url))
    with engine.connect() as conn:
        elsets = element_sets_from_rows(latest_element_sets(conn))
        owners: dict[int, str] = {}
        facts: dict[int, dict] = {}
        for r in conn.execute(select(space_objects.c.norad_id, space_objects.c.owner_nation,
                                     space_objects.c.object_type, space_objects.c.mass_kg,
                                     space_objects.c.hbr_m, space_objects.c.name)
                                     .where(readable_objects(None)(space_objects))):
            if r.owner_nation:
                owners[int(r.norad_id)] = r.owner_nation
            facts[int(r.norad_id)] = {"object_type": r.object_type, "mass_kg": r.mass_kg,
                                      "hbr_m": r.hbr_m, "name": r.name}
    engine.dispose()
    return elsets, owners, facts
