"""Threat-detection tables (owned by ``orbitwatch.threats``), each marked so the one read filter applies.

* ``alerts`` - every detection becomes an alert: kind, severity, subjects, evidence and the derived
  marking of that evidence. ``dedupe_key`` identifies the thing alerted on (``proximity:25544:49044``)
  so a re-run updates instead of duplicating.
* ``norms_entries`` - the norms-of-behaviour ledger: one row per (rule, actor, event) with the cited
  sources and evidence.
* ``proximity_events`` - the open RPO events, so that later runs can say ``UPDATED`` or ``CLOSED``.
* ``manoeuvres`` - detected manoeuvres, for the API and for RPO evidence.

JSON columns are Text (portable between SQLite and PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

from orbitwatch.store.base import marking_columns, metadata

alerts = Table(
    "alerts", metadata,
    Column("id", String(40), primary_key=True),
    Column("dedupe_key", String(120), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("state", String(10)),
    Column("title", Text, nullable=False),
    Column("created_ts", Float, nullable=False),
    Column("updated_ts", Float, nullable=False),
    Column("event_ts", Float),
    Column("subjects", Text, nullable=False),  # JSON list of NORAD ids
    Column("actor", String(16)),  # SATCAT owner code of the object whose behaviour is alerted on
    Column("releasable_to", Text, nullable=False),  # JSON list of trigraphs (= marking REL TO)
    Column("marking_reasons", Text),  # JSON list of strings
    Column("evidence", Text, nullable=False),  # JSON
    Column("payload", Text, nullable=False),  # JSON: the detection as the CLI prints it
    *marking_columns(),
    Index("ix_alerts_dedupe", "dedupe_key"),
    Index("ix_alerts_created", "created_ts"),
    Index("ix_alerts_rel", "rel_mask", "class_rank"),
)

norms_entries = Table(
    "norms_entries", metadata,
    Column("id", String(40), primary_key=True),
    Column("rule_id", String(40), nullable=False),
    Column("actor", String(16), nullable=False),  # SATCAT owner code
    Column("event_ts", Float),
    Column("created_ts", Float, nullable=False),
    Column("subjects", Text, nullable=False),  # JSON list of NORAD ids
    Column("summary", Text, nullable=False),
    Column("severity", String(10), nullable=False),
    Column("evidence", Text, nullable=False),  # JSON
    Column("sources", Text, nullable=False),  # JSON list of cited sources of the rule
    Column("alert_id", String(40)),
    *marking_columns(),
    Index("ix_norms_actor", "actor"),
    Index("ix_norms_rule", "rule_id"),
)

proximity_events = Table(
    "proximity_events", metadata,
    Column("asset", Integer, primary_key=True, autoincrement=False),
    Column("object", Integer, primary_key=True, autoincrement=False),
    Column("state", String(10), nullable=False),
    Column("open", Boolean, nullable=False, default=True),
    Column("first_seen_ts", Float, nullable=False),
    Column("last_seen_ts", Float, nullable=False),
    Column("closest_km", Float),
    Column("tca_ts", Float),
    Column("sustained", Boolean, nullable=False, default=False),
    Column("payload", Text, nullable=False),
    *marking_columns(),
)

manoeuvres = Table(
    "manoeuvres", metadata,
    Column("norad_id", Integer, primary_key=True, autoincrement=False),
    Column("start_ts", Float, primary_key=True),
    Column("end_ts", Float, nullable=False),
    Column("epoch_ts", Float, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("delta_v_mps", Float, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("payload", Text, nullable=False),
    *marking_columns(),
    Index("ix_manoeuvres_epoch", "epoch_ts"),
)
