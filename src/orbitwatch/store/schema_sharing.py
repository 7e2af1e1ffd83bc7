"""Sharing tables: users, API tokens, browser sessions, releases and the hash-chained audit log.

Owned by ``orbitwatch.sharing``; defined here on the shared metadata so ``init_schema`` creates them
with the rest of the store. Secrets (tokens, session ids, passwords) are never stored in clear: only
their SHA-256 (tokens, sessions) or scrypt (passwords) digests.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text

from orbitwatch.store.base import BigId, metadata

users = Table(
    "users", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(128), nullable=False, unique=True),
    Column("display_name", String(256)),
    # A national user has a nation; a partner-organisation user (TLP data only) has an organisation.
    Column("nation", String(3)),
    Column("organisation", String(64)),
    Column("clearance", String(32), nullable=False),
    Column("roles", Text, nullable=False, default=""),  # comma-separated: analyst,operator,...
    Column("password_hash", Text),  # scrypt$n$r$p$salt$hash; NULL = token-only account
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),  # a revoked user authenticates no more (tokens and sessions die too)
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 hex of the token
    Column("prefix", String(16), nullable=False),  # first characters, to tell tokens apart in lists
    Column("name", String(128)),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),  # NULL = never
    Column("revoked_at", Float),
    Column("last_used_at", Float),
)

sessions = Table(
    "sessions", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    Column("session_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("revoked_at", Float),
    Column("client", String(64)),  # remote address at login, for the audit trail
)

releases = Table(
    "releases", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("table_name", String(64), nullable=False),
    Column("record_key", String(128), nullable=False),  # primary key of the released row, as text
    Column("norad_id", Integer, index=True),
    Column("releasing_nation", String(3), nullable=False),
    Column("released_by", String(128), nullable=False),
    Column("old_marking", Text, nullable=False),
    Column("new_marking", Text, nullable=False),
    Column("added_nations", Text, nullable=False),  # comma-separated trigraphs
    Column("reason", Text),
    Column("created_at", Float, nullable=False),
    Index("ix_releases_table_key", "table_name", "record_key"),
)

# The audit chain: entry ``seq`` commits to entry ``seq - 1`` through ``prev_hash``. The one-row
# ``audit_head`` holds the last sequence number and hash; appending first takes a write lock on it,
# which serialises writers on both SQLite and PostgreSQL, and lets `verify` notice a truncated tail.
audit_log = Table(
    "audit_log", metadata,
    Column("seq", BigId, primary_key=True, autoincrement=False),
    Column("ts", Float, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("nation", String(3)),
    Column("action", String(32), nullable=False, index=True),
    Column("resource", Text),
    Column("detail", Text, nullable=False),  # canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigId, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("updated_at", Float, nullable=False),
)
