"""Tables of derived products: screening runs and the conjunctions they found.

Every conjunction row carries the marking *derived* from the two element sets it was computed from
(highest classification, intersection of releasability: :func:`orbitwatch.markings.derive`), so the
one authorisation filter of ``orbitwatch.sharing`` applies to it like to any catalogue row.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text

from orbitwatch.store.base import BigId, marking_columns, metadata

screening_runs = Table(
    "screening_runs", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("started_at", Float, nullable=False),  # UTC s since 1970, wall clock of the run
    Column("window_start", Float, nullable=False),  # UTC s since 1970
    Column("window_end", Float, nullable=False),
    Column("threshold_km", Float),
    Column("volume", String(16), nullable=False, default="sphere"),
    Column("rtn_km", String(64)),  # "R,T,N" for RTN volumes
    Column("primaries", Text),  # comma-separated catalogue numbers; NULL = all-vs-all
    Column("objects", Integer),
    Column("events", Integer),
    Column("stage_seconds", Text),  # JSON
    Column("flags", Text),  # JSON {norad: message}
    Column("source", String(64)),  # "catalog files" or "store"
    Column("user", String(128)),
    *marking_columns(),
)

conjunctions = Table(
    "conjunctions", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigId, ForeignKey("screening_runs.id", ondelete="CASCADE"), nullable=False),
    Column("norad1", Integer, nullable=False),
    Column("norad2", Integer, nullable=False),
    Column("tca_ts", Float, nullable=False),  # UTC s since 1970 (unrounded)
    Column("tca", String(32), nullable=False),  # ISO 8601 UTC, milliseconds
    Column("miss_km", Float, nullable=False),
    Column("relative_speed_kms", Float, nullable=False),
    Column("r_km", Float, nullable=False),
    Column("t_km", Float, nullable=False),
    Column("n_km", Float, nullable=False),
    Column("pc", Float),
    Column("pc_max", Float),
    Column("dilution_sigma_km", Float),
    Column("covariance_source", Text),
    Column("hbr_m", Float),  # combined hard-body radius the Pc used (m); NULL in stores made before it was kept
    Column("flags", Text, nullable=False, default=""),  # comma-separated
    Column("state1", Text),  # JSON [x, y, z, vx, vy, vz] TEME km, km/s at TCA
    Column("state2", Text),
    Column("elset1_epoch", Float),  # epochs of the input element sets (UTC s)
    Column("elset2_epoch", Float),
    Column("marking_reasons", Text),  # why the derived marking is what it is
    *marking_columns(),
    Index("ix_conjunctions_tca", "tca_ts"),
    Index("ix_conjunctions_norad1", "norad1", "tca_ts"),
    Index("ix_conjunctions_norad2", "norad2", "tca_ts"),
    Index("ix_conjunctions_run", "run_id"),
    Index("ix_conjunctions_rel", "rel_mask", "class_rank"),
)
