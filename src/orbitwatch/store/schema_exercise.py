"""Exercise tables (owned by ``orbitwatch.exercise``): one row set per exercise, everything EXERCISE data.

What players may read carries the marking columns, so the API's one read filter
(:func:`orbitwatch.sharing.authz.readable_by`) applies unchanged: element sets a nation holds, alerts,
messages, deliveries, actions, proposals and votes. The scenario, the detections (the white cell's
truth) and the inject states are exercise-control material and are never served to players; they carry
no marking.

``exercise_elsets.rel_mask`` is the set of nations that currently *hold* that version (observed by
their sensors or released to them); 0 means no nation holds it yet (white cell only): the read filter
then matches no nation, which is the fail-closed answer.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from orbitwatch.store.base import BigId, marking_columns, metadata

exercises = Table(
    "exercises", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("scenario_name", String(200)),
    Column("scenario_text", Text, nullable=False),
    Column("scenario_digest", String(64), nullable=False),
    Column("catalog", Text),  # JSON: source kind, description, digest, object count
    Column("created_at", Float, nullable=False),
    Column("created_by", String(128)),
    Column("start_ts", Float, nullable=False),
    Column("end_ts", Float, nullable=False),
    Column("step_s", Float, nullable=False),
    Column("sim_ts", Float, nullable=False),  # the world has been advanced to here
    Column("clock_mode", String(12), nullable=False, default="paused"),
    Column("clock_rate", Float, nullable=False, default=1.0),
    Column("status", String(12), nullable=False, default="ready"),  # ready | running | ended
    Column("revision", Integer, nullable=False, default=0),
    Column("resolved", Text),  # JSON: roles, assets, notes
    Column("state", Text),  # JSON: detector window, red-cell rules fired, counters
    Column("engines", Text),  # JSON: which engine served which model
    *marking_columns(),  # the exercise banner
)

exercise_objects = Table(
    "exercise_objects", metadata,
    Column("exercise_id", BigId, ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True),
    Column("norad_id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(128)),
    Column("object_id", String(24)),
    Column("object_type", String(16)),
    Column("owner", String(16)),
    Column("mass_kg", Float),
    Column("hbr_m", Float),
    Column("state", String(12), nullable=False, default="active"),
    Column("since", Float),
    Column("fail_at", Float),
    Column("cause", String(80)),
)

exercise_elsets = Table(
    "exercise_elsets", metadata,
    Column("id", BigId, primary_key=True, autoincrement=False),  # the world's version id (per exercise)
    Column("exercise_id", BigId, ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True),
    Column("norad_id", Integer, nullable=False),
    Column("valid_from", Float, nullable=False),
    Column("scheduled", Boolean, nullable=False, default=False),
    Column("cause", String(80), nullable=False),
    Column("dv_mps", Float),
    Column("epoch_ts", Float, nullable=False),
    Column("mean_motion", Float, nullable=False),
    Column("eccentricity", Float, nullable=False),
    Column("inclination", Float, nullable=False),
    Column("raan", Float, nullable=False),
    Column("arg_perigee", Float, nullable=False),
    Column("mean_anomaly", Float, nullable=False),
    Column("bstar", Float, nullable=False),
    Column("mean_motion_dot", Float, nullable=False),
    Column("mean_motion_ddot", Float, nullable=False),
    Column("object_name", String(128)),
    Column("object_id", String(24)),
    Column("original", Text),  # TLE lines of catalogue versions (bit-exact SGP4)
    Column("seen", Text),  # JSON {nation: sim time it holds this version}
    *marking_columns(),
    Index("ix_exercise_elsets_ex_norad", "exercise_id", "norad_id"),
)

exercise_injects = Table(
    "exercise_injects", metadata,
    Column("exercise_id", BigId, ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True),
    Column("inject_id", String(64), primary_key=True),
    Column("status", String(12), nullable=False),  # pending | fired | cancelled | failed
    Column("fired_at", Float),
    Column("result", Text),  # JSON
    Column("error", Text),
)

exercise_detections = Table(
    "exercise_detections", metadata,
    Column("id", BigId, primary_key=True, autoincrement=False),
    Column("exercise_id", BigId, ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(160), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("event_ts", Float, nullable=False),
    Column("found_ts", Float, nullable=False),
    Column("title", Text, nullable=False),
    Column("detail", Text),
    Column("objects", Text),
    Column("causes", Text),
    Column("versions", Text),
    Column("knowable", Text),
    Column("expires", Float),
)

exercise_alerts = Table(
    "exercise_alerts", metadata,
    Column("id", BigId, primary_key=True, autoincrement=False),
    Column("exercise_id", BigId, ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True),
    Column("detection_id", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("sim_ts", Float, nullable=False),
    Column("nation", String(3), nullable=False),  # the nation whose sensors produced it (originator)
    Column("title", Text, nullable=False),
    Column("detail", Text),
    Column("causes", Text),
    *marking_columns(),
    Index("ix_exercise_alerts_ex_ts", "exercise_id", "sim_ts"),
)

exercise_messages = Table(
    "exercise_messages", metadata,
    Column("id", BigId, primary_key=True, autoincrement=False),
    Column("exercise_id", BigId, ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True),
    Column("sim_ts", Float, nullable=False),
    Column("kind", String(24), nullable=False),
    Column("sender", String(24), nullable=False),
    Column("recipients", Text),  # JSON list of nations, or ["PUBLIC"]
    Column("title", Text),
    Column("body", Text),
    Column("ref", String(80)),
    Column("public", Boolean, nullable=False, default=False),
    *marking_columns(),
)

exercise_deliveries = Table(
    "exercise_deliveries", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("exercise_id", BigId, ForeignKey("exercises.id", ondelete="CASCADE"), nullable=False),
    Column("item_type", String(10), nullable=False),  # alert | message | proposal
    Column("item_id", Integer, nullable=False),
    Column("nation", String(3), nullable=False),
    Column("sim_ts", Float, nullable=False),
    Column("via", String(12), nullable=False),  # own | auto-share | release | message | proposal
    Column("by_nation", String(3)),
    *marking_columns(),
    Index("ix_exercise_deliveries_ex_nation", "exercise_id", "nation", "sim_ts"),
)

exercise_actions = Table(
    "exercise_actions", metadata,
    Column("id", BigId, primary_key=True, autoincrement=False),
    Column("exercise_id", BigId, ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True),
    Column("sim_ts", Float, nullable=False),
    Column("wall_ts", Float, nullable=False),
    Column("nation", String(3), nullable=False),
    Column("username", String(128)),
    Column("kind", String(20), nullable=False),
    Column("payload", Text),
    Column("result", Text),
    Column("ok", Boolean, nullable=False, default=True),
    *marking_columns(),
)

exercise_proposals = Table(
    "exercise_proposals", metadata,
    Column("id", BigId, primary_key=True, autoincrement=False),
    Column("exercise_id", BigId, ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True),
    Column("sim_ts", Float, nullable=False),
    Column("proposer", String(3), nullable=False),
    Column("title", Text, nullable=False),
    Column("options", Text, nullable=False),  # JSON list of {id, text}
    Column("rule", String(12), nullable=False),
    Column("deadline_ts", Float, nullable=False),
    Column("members", Text, nullable=False),  # JSON list of nations
    Column("status", String(12), nullable=False),  # open | adopted | rejected | expired
    Column("outcome", String(64)),
    Column("decided_ts", Float),
    Column("votes", Text),  # JSON {nation: {position, option, caveats, sim_ts}}
    *marking_columns(),
)
