"""The one authorisation filter: which rows of any marked table a principal may read, as SQL.

Every marked table carries the denormalised marking columns of :func:`orbitwatch.store.base.
marking_columns`, so releasability is one indexed predicate::

    national user:   rel_mask & :nation_bit <> 0  AND  class_rank <= :clearance_rank
    organisation:    class_rank = 0  AND  (tlp IN (CLEAR, GREEN)
                                           OR tlp IN (AMBER, AMBER+STRICT, RED) AND :org IN orgs)
    anonymous:       class_rank = 0  AND  tlp = CLEAR          (only when the node enables it)

:func:`readable_by` is the only place this is written. Store and product queries take it as
``where=`` so rows leave the database already filtered; nothing downstream filters by hand. The
Python rule :func:`orbitwatch.markings.can_read` is the specification; a property test checks that both
agree for random markings on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from sqlalchemy import Integer, Table, and_, false, literal, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from orbitwatch.markings import ALL_NATIONS, DEFAULT_SCHEME, ClassificationScheme, Marking, nation_bit
from orbitwatch.sharing.principal import Principal

Where = Callable[[Table], ColumnElement[bool]]

_ALL_MASK = sum(nation_bit(n) for n in ALL_NATIONS)


class _position(FunctionElement):
    """Case-sensitive substring position (1-based, 0 when absent).

    ``LIKE`` is case-insensitive on SQLite, which would let organisation ``acme`` read ``ACME``'s data;
    ``instr``/``strpos`` compare exactly on both databases.
    """

    type = Integer()
    inherit_cache = True


@compiles(_position)
def _position_default(element, compiler, **kw):
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_position, "postgresql")
def _position_pg(element, compiler, **kw):
    return f"strpos({compiler.process(element.clauses, **kw)})"


def readable_by(principal: Principal, scheme: ClassificationScheme = DEFAULT_SCHEME) -> Where:
    """A ``where=`` callable: given a marked table, the SQL condition for rows ``principal`` may read."""
    if principal.is_anonymous:
        return _public_where()
    rank = scheme.rank(principal.clearance)
    if principal.nation is not None:
        return _national_where(nation_bit(principal.nation), rank)
    if not principal.organisation:
        # Neither a nation nor an organisation: reads nothing (fail closed).
        return lambda t: false()
    return _organisation_where(principal.organisation)


class _TableCache:
    """A ``where`` callable that builds its clause once per table: SQL expressions are immutable, and
    building them costs more than the query they filter (this runs on every API request)."""

    __slots__ = ("_build", "_by_table")

    def __init__(self, build: Callable[[Table], ColumnElement[bool]]):
        self._build = build
        self._by_table: dict[Table, ColumnElement[bool]] = {}

    def __call__(self, t: Table) -> ColumnElement[bool]:
        clause = self._by_table.get(t)
        if clause is None:
            clause = self._by_table[t] = self._build(t)
        return clause


@lru_cache(maxsize=256)
def _national_where(bit: int, rank: int) -> Where:
    return _TableCache(lambda t: and_(t.c.rel_mask.op("&", return_type=Integer)(bit) != 0,
                                      t.c.class_rank <= rank))


@lru_cache(maxsize=1)
def _public_where() -> Where:
    return _TableCache(lambda t: and_(t.c.class_rank == 0, t.c.tlp == "CLEAR"))


@lru_cache(maxsize=256)
def _organisation_where(org: str) -> Where:
    def build(t: Table) -> ColumnElement[bool]:
        named = _position(literal(",") + t.c.orgs + literal(","), literal(f",{org},")) > 0
        return and_(
            t.c.class_rank == 0,
            or_(t.c.tlp.in_(("CLEAR", "GREEN")),
                and_(t.c.tlp.in_(("AMBER", "AMBER+STRICT", "RED")), named)),
        )
    return _TableCache(build)


def is_restricted(marking: Marking) -> bool:
    """Restricted data is anything above the lowest level or not releasable to every partner: reads of
    it are written to the audit chain."""
    return marking.classification != DEFAULT_SCHEME.lowest or marking.rel_mask != _ALL_MASK


def restricted_row(row, lowest_rank: int = 0) -> bool:
    """:func:`is_restricted` straight from a row's marking columns (no Marking built)."""
    m = row._mapping if hasattr(row, "_mapping") else row
    return m["class_rank"] != lowest_rank or m["rel_mask"] != _ALL_MASK
