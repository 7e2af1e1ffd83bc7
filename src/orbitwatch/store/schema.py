"""Catalogue tables: space objects, every element set ever ingested, and the ingest batches."""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text

from orbitwatch.store.base import BigId, marking_columns, metadata

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
    Column("norad_id", Integer, primary_key=True, autoincrement=False),
    Column("object_id", String(16), index=True),
    Column("name", String(128)),
    Column("object_type", String(16)),
    Column("owner", String(16)),  # SATCAT owner code
    Column("owner_nation", String(3), index=True),  # partner trigraph, when the owner is a partner
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
    # Few, selective indexes: every extra one costs each ingest more than a scan of 30k rows saves.
    Index("ix_space_objects_kind", "owner", "object_type", "regime"),
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
    Column("batch_id", BigId, ForeignKey("ingest_batches.id")),
    Column("ingested_at", Float, nullable=False),
    Column("file_line", Integer),
    Column("original", Text),
    Column("digest", String(32), nullable=False),
    *marking_columns(),
    # One index serves history, latest-per-object and idempotence (the digest covers the elements).
    Index("uq_element_sets_norad_epoch_digest", "norad_id", "epoch_ts", "digest", unique=True),
    Index("ix_element_sets_epoch", "epoch_ts"),
)
