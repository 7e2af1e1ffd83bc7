"""The SQLAlchemy metadata every table joins, and the marking columns every marked row carries.

Markings are stored denormalised so that the one authorisation filter (``orbitwatch.sharing``) is a
plain indexed SQL predicate on any table: ``rel_mask & :nation_bit <> 0 AND class_rank <= :clearance``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Text

from orbitwatch.markings import DEFAULT_SCHEME, ClassificationScheme, Marking, nations_from_mask

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

# SQLite wants INTEGER PRIMARY KEY for rowid aliasing; PostgreSQL wants BIGINT for long histories.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def marking_columns() -> list[Column]:
    """Fresh marking columns for a table definition (a Column can belong to one table only)."""
    return [
        Column("marking", Text, nullable=False),
        Column("class_rank", Integer, nullable=False),
        Column("rel_mask", Integer, nullable=False),
        Column("data_mode", String(10), nullable=False),
        Column("tlp", String(12), nullable=True),
        Column("orgs", Text, nullable=False, default=""),
    ]


def marking_values(m: Marking, scheme: ClassificationScheme = DEFAULT_SCHEME) -> dict:
    """Column values for a marking, for inserts and updates."""
    return {
        "marking": str(m),
        "class_rank": scheme.rank(m.classification),
        "rel_mask": m.rel_mask,
        "data_mode": m.data_mode,
        "tlp": m.tlp,
        "orgs": ",".join(sorted(m.orgs)),
    }


def marking_from_row(row, scheme: ClassificationScheme = DEFAULT_SCHEME) -> Marking:
    """Rebuild the :class:`Marking` of a row (mapping or Row with the marking columns)."""
    get = row._mapping.get if hasattr(row, "_mapping") else row.get
    orgs = get("orgs") or ""
    return Marking(scheme.levels[get("class_rank")], nations_from_mask(get("rel_mask")),
                   get("data_mode"), get("tlp"), frozenset(o for o in orgs.split(",") if o))
