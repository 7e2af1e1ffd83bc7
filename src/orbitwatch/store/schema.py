"""Catalogue tables: space objects, every element set ever ingested, and the ingest batches."""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, LargeBinary, String, Table, Text
from sqlalchemy.types import TypeDecorator

from orbitwatch.store.base import BigId, marking_columns, metadata


class Digest(TypeDecorator):
    """16 raw bytes. Text given by older writers (32 hex digits) is stored as the bytes it spells."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, str):
            try:
                return bytes.fromhex(value)
            except ValueError:
                return value.encode()
        return value


#: The descriptive fields of an object (``formats.satcat.OBJECT_FIELDS``; not imported from there, which
#: would load the SATCAT readers wherever the schema is needed).
DESCRIBED_FIELDS = (
    "object_id", "name", "object_type", "owner", "owner_nation", "launch_date", "launch_site",
    "decay_date", "period_min", "inclination", "apogee_km", "perigee_km", "regime", "rcs_m2", "rcs_size",
    "mass_kg", "hbr_m", "ops_status",
)
#: The ``space_object_times`` column holding when each descriptive field of a base object row was last given.
FIELD_TIME_COLUMNS = {f: f"{f}_at" for f in DESCRIBED_FIELDS}

ingest_batches = Table(
    "ingest_batches", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("file", Text),
    Column("format", String(16)),
    Column("source", String(64), nullable=False),
    Column("nation", String(3)),
    Column("user", String(128)),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("accepted", Integer, default=0),
    Column("duplicates", Integer, default=0),
    Column("rejected", Integer, default=0),
    *marking_columns(),
)

space_objects = Table(
    "space_objects", metadata,
    # One row per object *and per (marking, originating nation)* that described it (``n_sources`` = 1:
    # "base rows"), so that every field a reader sees comes from records released to that reader; plus, for
    # objects described under several markings, composed rows (``n_sources`` >= 2) for the sets of
    # descriptions some reader may read together (``store.ingest.compose_views``). A reader's view of an
    # object is its readable row with the highest ``n_sources`` (``store.queries.readable_objects``), which
    # composed rows hold so that this is the reader's own composition. ``multi`` = 1 on every row of such
    # objects lets the common single-row objects skip that test.
    Column("row_id", BigId, primary_key=True, autoincrement=True),
    Column("norad_id", Integer, nullable=False),
    Column("object_id", String(16)),
    Column("name", String(128)),
    Column("object_type", String(16)),
    Column("owner", String(16)),  # SATCAT owner code
    Column("owner_nation", String(3)),  # partner trigraph, when the owner is a partner
    Column("launch_date", String(10)),
    Column("launch_site", String(16)),
    Column("decay_date", String(10)),
    Column("period_min", Float),
    Column("inclination", Float),
    Column("apogee_km", Float),
    Column("perigee_km", Float),
    Column("regime", String(4)),
    Column("rcs_m2", Float),
    Column("rcs_size", String(8)),
    Column("mass_kg", Float),
    Column("hbr_m", Float),
    Column("ops_status", String(4)),
    Column("source", String(64)),
    Column("nation", String(3)),
    Column("updated_at", Float),
    *marking_columns(),
    Column("n_sources", Integer, nullable=False, default=1, server_default="1"),
    Column("multi", Integer, nullable=False, default=0, server_default="0"),
    # Few, selective indexes: every extra one costs each ingest more than a scan of 60k rows saves.
    Index("ix_space_objects_norad", "norad_id", "n_sources"),
    Index("ix_space_objects_kind", "owner", "object_type", "regime"),
    # Regime pages in catalogue order (the API's "LEO objects, page 7"): without it both databases walk
    # or sort every object of the regime (MEO page: 1-4.5 ms on SQLite, LEO 4-9 ms on PostgreSQL with
    # stale statistics; 0.1-0.3 ms with it). About 10 ms more per full-catalogue ingest.
    Index("ix_space_objects_regime", "regime", "norad_id"),
)

space_object_times = Table(
    "space_object_times", metadata,
    # When each field of a base object row was last given a value, for the composed rows, which take each
    # field from the newest description that gives it: one base row holds every description of its
    # marking, so its ``updated_at`` is the time of the last one, whatever fields that one gave. Only rows
    # of objects described under several markings (``multi``) that were updated since have one; a row
    # without one holds every field since its ``updated_at``. A table of its own, not columns of
    # ``space_objects``: the single-row objects of a catalogue never write it.
    Column("row_id", BigId, ForeignKey("space_objects.row_id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    *(Column(c, Float) for c in FIELD_TIME_COLUMNS.values()),
)

element_sets = Table(
    "element_sets", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("norad_id", Integer, nullable=False),
    Column("epoch_ts", Float, nullable=False),  # UTC seconds since 1970 (float64: 0.2 us resolution)
    Column("epoch", String(32), nullable=False),  # ISO 8601 UTC, microseconds, for people and exports
    Column("mean_motion", Float, nullable=False),
    Column("eccentricity", Float, nullable=False),
    Column("inclination", Float, nullable=False),
    Column("raan", Float, nullable=False),
    Column("arg_perigee", Float, nullable=False),
    Column("mean_anomaly", Float, nullable=False),
    Column("bstar", Float, nullable=False),
    Column("mean_motion_dot", Float, nullable=False),
    Column("mean_motion_ddot", Float, nullable=False),
    Column("classification_type", String(1)),
    Column("ephemeris_type", Integer),
    Column("element_set_no", Integer),
    Column("rev_at_epoch", Integer),
    Column("object_name", String(128)),
    Column("object_id", String(16)),
    Column("semi_major_axis_km", Float),
    Column("perigee_km", Float),
    Column("apogee_km", Float),
    Column("regime", String(4)),
    Column("source", String(64), nullable=False),
    Column("nation", String(3)),
    Column("source_format", String(16)),
    # The ingest batch that brought the set (``ingest_batches.id``), written by the transaction that
    # creates that batch row. No FOREIGN KEY: its per-row check was a third of PostgreSQL's bulk insert,
    # and batches are never deleted.
    Column("batch_id", BigId),
    Column("ingested_at", Float, nullable=False),
    Column("file_line", Integer),
    Column("original", Text),
    Column("digest", Digest, nullable=False),  # BLAKE2b-128 of object, epoch, elements and marking
    *marking_columns(),
    # One index serves history, latest-per-object and idempotence (the digest covers the elements).
    Index("uq_element_sets_norad_epoch_digest", "norad_id", "epoch_ts", "digest", unique=True),
    Index("ix_element_sets_epoch", "epoch_ts"),
)
