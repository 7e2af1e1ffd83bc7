"""The catalogue store: SQLAlchemy 2 tables, transactional ingest, history and latest-set queries.

Public face::

    from orbitwatch.store import open_engine, ingest_paths, latest_element_sets, element_set_history
"""

from orbitwatch.store.engine import init_schema, make_engine, open_engine
from orbitwatch.store.ingest import IngestReport, ingest_bytes, ingest_paths, ingest_records
from orbitwatch.store.queries import (
    catalog_summary,
    count_objects,
    element_set_from_row,
    element_set_history,
    element_sets_from_rows,
    get_object,
    latest_element_sets,
    search_objects,
)

__all__ = [
    "IngestReport", "catalog_summary", "count_objects", "element_set_from_row", "element_set_history",
    "element_sets_from_rows", "get_object",
    "ingest_bytes", "ingest_paths", "ingest_records", "init_schema", "latest_element_sets",
    "make_engine", "open_engine", "search_objects",
]
