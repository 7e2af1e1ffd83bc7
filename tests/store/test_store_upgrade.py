"""A store made by the previous version (one object row per NORAD id, hex digests) opens and keeps working:
its object rows become base rows, its digests binary, and re-ingesting its sets adds nothing."""

from __future__ import annotations

import hashlib
import struct

import pytest
from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
)

from orbitwatch.formats.tle import read_tle
from orbitwatch.markings import Marking
from orbitwatch.store import get_object, ingest_records, open_engine
from orbitwatch.store.base import marking_columns, marking_values
from orbitwatch.store.schema import element_sets, space_objects

ISS = ("0 ISS (ZARYA)",
       "1 25544U 98067A   23282.51041667  .00016717  00000-0  30306-3 0  9994",
       "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.49815350420051")


def _old_schema(omit: tuple[str, ...] = ()) -> MetaData:
    """The tables as the previous version created them (store/schema.py before object rows per marking);
    ``omit``: object columns left out, as if added to the schema after that version."""
    md = MetaData(naming_convention={"ix": "ix_%(table_name)s_%(column_0_N_name)s",
                                     "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
                                     "pk": "pk_%(table_name)s"})
    Table("ingest_batches", md, Column("id", Integer, primary_key=True), Column("file", Text),
          Column("format", String(16)), Column("source", String(64), nullable=False), Column("nation", String(3)),
          Column("user", String(128)), Column("started_at", Float, nullable=False), Column("finished_at", Float),
          Column("accepted", Integer), Column("duplicates", Integer), Column("rejected", Integer),
          *marking_columns())
    Table("space_objects", md, Column("norad_id", Integer, primary_key=True, autoincrement=False),
          Column("object_id", String(16), index=True), Column("name", String(128)),
          Column("object_type", String(16)), Column("owner", String(16)),
          Column("owner_nation", String(3), index=True), Column("launch_date", String(10)),
          Column("launch_site", String(16)), Column("decay_date", String(10)), Column("period_min", Float),
          Column("inclination", Float), Column("apogee_km", Float), Column("perigee_km", Float),
          Column("regime", String(4)), Column("rcs_m2", Float), Column("rcs_size", String(8)),
          Column("mass_kg", Float), Column("hbr_m", Float), Column("ops_status", String(4)),
          Column("source", String(64)), Column("nation", String(3)), Column("updated_at", Float),
          *marking_columns(), Index("ix_space_objects_kind", "owner", "object_type", "regime"))
    for name in omit:
        md.tables["space_objects"]._columns.remove(md.tables["space_objects"].c[name])
    cols = [Column(c.name, c.type if c.name != "digest" else String(32), nullable=c.nullable)
            for c in element_sets.columns if c.name not in ("id", "batch_id") and c.name not in
            {m.name for m in marking_columns()}]
    Table("element_sets", md, Column("id", Integer, primary_key=True), *cols,
          Column("batch_id", Integer, ForeignKey("ingest_batches.id")), *marking_columns(),
          Index("uq_element_sets_norad_epoch_digest", "norad_id", "epoch_ts", "digest", unique=True))
    return md


@pytest.mark.parametrize("omit", [(), ("rcs_size", "hbr_m")], ids=["v1", "v1-without-later-columns"])
def test_previous_store_is_upgraded_in_place(db_url, omit):
    es = next(r for r in read_tle(list(ISS)) if hasattr(r, "norad_id"))
    mv = marking_values(Marking())
    packed = struct.pack("<qd8d", es.norad_id, es.epoch_unix, es.mean_motion, es.eccentricity, es.inclination,
                         es.raan, es.arg_perigee, es.mean_anomaly, es.bstar, es.mean_motion_dot)
    hexdigest = hashlib.blake2b(packed + mv["marking"].encode(), digest_size=16).hexdigest()
    old = _old_schema(omit)
    raw = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    old.create_all(raw)
    with raw.begin() as c:
        batch = c.execute(insert(old.tables["ingest_batches"]).values(source="old", started_at=0.0, **mv)
                          ).inserted_primary_key[0]
        c.execute(insert(old.tables["space_objects"]).values(
            norad_id=25544, object_id="1998-067A", name="ISS (ZARYA)", owner="ISS", object_type="PAY", regime="LEO",
            source="old", updated_at=1.0, **mv))
        c.execute(insert(old.tables["element_sets"]).values(
            norad_id=25544, epoch_ts=es.epoch_unix, epoch="2023-10-09T12:15:00.000288", mean_motion=es.mean_motion,
            eccentricity=es.eccentricity, inclination=es.inclination, raan=es.raan, arg_perigee=es.arg_perigee,
            mean_anomaly=es.mean_anomaly, bstar=es.bstar, mean_motion_dot=es.mean_motion_dot,
            mean_motion_ddot=es.mean_motion_ddot, source="old", ingested_at=0.0, digest=hexdigest, batch_id=batch,
            **mv))
    raw.dispose()

    engine = open_engine(db_url)
    with engine.connect() as c:
        row = c.execute(select(space_objects)).one()
        assert (row.norad_id, row.n_sources, row.multi, row.owner, row.name) == (25544, 1, 0, "ISS", "ISS (ZARYA)")
        assert bytes(c.execute(select(element_sets.c.digest)).scalar_one()) == bytes.fromhex(hexdigest)
        assert get_object(c, 25544).object_type == "PAY"
        if omit:  # columns the old table lacked are there, empty
            assert (row.rcs_size, row.hbr_m) == (None, None)
    again = ingest_records(engine, [es], source="new")
    assert (again.accepted, again.duplicates) == (0, 1)
    open_engine(db_url).dispose()  # a second open finds nothing to do
    engine.dispose()


def test_columns_added_since_are_added_in_place(db_url):
    """A conjunctions table from before ``hbr_m`` was kept gets the column (empty) when the store opens;
    its rows stay readable."""
    from orbitwatch.conjunctions.storage import event_from_row, load_events
    from orbitwatch.store.schema_products import conjunctions, screening_runs

    md = MetaData()
    screening_runs.to_metadata(md)
    # the table as it was: every current column but hbr_m (same types, keys and nullability)
    old = Table("conjunctions", md, *(
        Column(c.name, c.type, *([ForeignKey("screening_runs.id")] if c.foreign_keys else []),
               primary_key=c.primary_key, nullable=c.nullable)
        for c in conjunctions.columns if c.name != "hbr_m"))
    raw = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    md.create_all(raw)
    mv = marking_values(Marking())
    with raw.begin() as c:
        run = c.execute(insert(md.tables["screening_runs"]).values(
            started_at=0.0, window_start=0.0, window_end=1.0, volume="sphere", events=1, **mv)
        ).inserted_primary_key[0]
        c.execute(insert(old).values(run_id=run, norad1=1, norad2=2, tca_ts=0.5, tca="1970-01-01T00:00:00.500Z",
                                     miss_km=1.0, relative_speed_kms=10.0, r_km=0.1, t_km=0.2, n_km=0.3,
                                     flags="", **mv))
    raw.dispose()
    engine = open_engine(db_url)
    with engine.connect() as c:
        rows = load_events(c)
    assert len(rows) == 1 and rows[0].hbr_m is None
    assert event_from_row(rows[0]).hbr_m is None
    engine.dispose()
    open_engine(db_url).dispose()  # a second open finds nothing to do
